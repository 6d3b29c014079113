"""Merge the mail round trip and event visibility branches.

Revision ID: n7merge0002
Revises: mail01bounce, visibility01
Create Date: 2026-12-03
"""
revision = "n7merge0002"
down_revision = ("mail01bounce", "visibility01")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
