"""ΠΣΔ sign-in: users.psd_uid and the used service tickets

Revision ID: cas01psd
Revises: people01fold
Create Date: 2026-12-03 09:30:00

users.psd_uid binds an account to its ΠΣΔ (sso.sch.gr) user name. cas_tickets keeps the
SHA-256 of every service ticket that signed someone in: a ticket is used once, and the
CAS server's single log-out ends the session the ticket opened.
"""
import sqlalchemy as sa
from alembic import op

revision = "cas01psd"
down_revision = "people01fold"
branch_labels = None
depends_on = None


def upgrade():
    # In place on SQLite (no rebuild of users, which other tables' foreign keys point to).
    op.add_column("users", sa.Column("psd_uid", sa.String(100), nullable=True))
    op.create_index("uq_users_psd_uid", "users", ["psd_uid"], unique=True)
    op.create_table(
        "cas_tickets",
        sa.Column("ticket_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logged_out_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_cas_tickets_user_id", "cas_tickets", ["user_id"])
    op.create_index("ix_cas_tickets_expires_at", "cas_tickets", ["expires_at"])


def downgrade():
    op.drop_index("ix_cas_tickets_expires_at", "cas_tickets")
    op.drop_index("ix_cas_tickets_user_id", "cas_tickets")
    op.drop_table("cas_tickets")
    op.drop_index("uq_users_psd_uid", "users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("psd_uid")
