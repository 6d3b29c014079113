"""audit_log: who changed which setting, when, from what to what

Revision ID: audit01log
Revises: door01sessver
Create Date: 2026-12-03 09:00:00

Every change an administrator makes to the service levels (policies, overrides, working
hours, closures) writes one row: the actor (NULL for the system), the action, the object
and its fields before and after as JSON. Written by helpdesk.audit.services.record.
"""
import sqlalchemy as sa
from alembic import op

revision = "audit01log"
down_revision = "door01sessver"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_audit_log_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])


def downgrade():
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_table("audit_log")
