"""tickets: the school's confirmation of a resolution, its rating and comment

Revision ID: loop01conf
Revises: ret01anon
Create Date: 2026-12-03 12:30:00

A resolved request waits for the school's answer: "it works" closes it with an optional
1–5 rating and comment (helpdesk.tickets.services.confirm); "it does not" reopens it.
The satisfaction report reads these columns of the tickets created in its period, so
they need no index of their own.
"""
import sqlalchemy as sa
from alembic import op

revision = "loop01conf"
down_revision = "ret01anon"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("confirmed_via", sa.String(10), nullable=True))
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("rating_comment")
        batch.drop_column("rating")
        batch.drop_column("confirmed_via")
        batch.drop_column("confirmed_at")
