"""ix_ticket_stays_escalated: the stays a unit ended by escalating, in a partial index

Revision ID: perf01escidx
Revises: ret02hook
Create Date: 2026-12-04 12:00:00

The "escalated" queue and its count in every staff queue page read the unit's escalated
stays; through ix_ticket_stays_unit_ticket they read all of the unit's stays and dropped
nine in ten (issue 17, measured at 1M tickets: 6.4 ms of index scan down to 1.2 ms).
"""
import sqlalchemy as sa
from alembic import op

revision = "perf01escidx"
down_revision = "ret02hook"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ticket_stays_escalated", "ticket_stays", ["unit_id", "ticket_id"],
                    postgresql_where=sa.text("left_how = 'escalated'"),
                    sqlite_where=sa.text("left_how = 'escalated'"))


def downgrade():
    op.drop_index("ix_ticket_stays_escalated", table_name="ticket_stays")
