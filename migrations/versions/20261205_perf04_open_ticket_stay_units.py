"""ix_tickets_open_stay_units: the open tickets by the units they stayed at (PostgreSQL)

Revision ID: perf04openunits
Revises: perf03stayunits
Create Date: 2026-12-05 12:00:00

Every staff queue page counts the open tickets its units escalated (the "escalated"
queue). That count read every open ticket of the country (22,700 at 1M tickets) to
join them with the unit's escalated stays (7,500 for the busiest level-1 unit): ≈7 ms of
each page. A partial GIN index on the open tickets' stay_units finds the unit's open
tickets (≈1,700) first: ≈3 ms. Read through the condition stay_units && ARRAY[…], which
an escalation from the unit implies (helpdesk.tickets.queries).
"""
from alembic import op

revision = "perf04openunits"
down_revision = "perf03stayunits"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_tickets_open_stay_units ON tickets USING gin (stay_units) "
               "WHERE status IN ('new', 'open', 'waiting')")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_tickets_open_stay_units")
