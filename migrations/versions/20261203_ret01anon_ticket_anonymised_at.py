"""tickets.anonymised_at: closed tickets' personal data removed after the retention years

Revision ID: ret01anon
Revises: cas01psd
Create Date: 2026-12-03 12:45:00

``helpdesk retention`` (helpdesk/ops/retention.py) anonymises tickets closed more than
RETENTION_YEARS ago and stamps them; the index finds the next batch. Added in place
(SQLite's ALTER TABLE ADD COLUMN): rebuilding ``tickets`` would trip the foreign keys of
the rows that point at it.
"""
import sqlalchemy as sa
from alembic import op

revision = "ret01anon"
down_revision = "cas01psd"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tickets", sa.Column("anonymised_at", sa.DateTime(timezone=True)))
    op.create_index("ix_tickets_status_closed", "tickets", ["status", "closed_at"])


def downgrade():
    op.drop_index("ix_tickets_status_closed", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("anonymised_at")
