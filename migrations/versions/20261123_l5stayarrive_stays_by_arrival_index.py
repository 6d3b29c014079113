"""an index of ticket stays by arrival, for the tier-health report

Revision ID: l5stayarrive
Revises: k4opencount1
Create Date: 2026-11-23 20:45:00

The report groups the stays that began in its period by ticket; with this index it
reads them without touching the table. At a million tickets on PostgreSQL
(bench/reports.py): health by month 2.07 s -> 1.57 s for an administrator.
"""
from alembic import op

revision = "l5stayarrive"
down_revision = "k4opencount1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ticket_stays_arrived", "ticket_stays",
                    ["arrived_at", "ticket_id", "level", "left_how"])


def downgrade():
    op.drop_index("ix_ticket_stays_arrived", table_name="ticket_stays")
