"""Canned replies and saved views (issue 15)

Revision ID: mine01cvw
Revises: cas01psd
Create Date: 2026-12-03 12:30:00

canned_replies: a unit's texts to insert in a reply (unit_id NULL: shared by every unit).
saved_views: a person's named queue filters (the queue page's query string).
"""
import sqlalchemy as sa
from alembic import op

revision = "mine01cvw"
down_revision = "cas01psd"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("support_units.id"), nullable=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_canned_replies_unit_title", "canned_replies", ["unit_id", "title"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("query", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),
    )


def downgrade():
    op.drop_table("saved_views")
    op.drop_index("ix_canned_replies_unit_title", "canned_replies")
    op.drop_table("canned_replies")
