"""ix_tickets_updated: tickets by last change, for a text search's latest matches

Revision ID: perf02updidx
Revises: tix01fts
Create Date: 2026-12-04 16:00:00

A text search with no sort chosen ranks the latest matches (RANK_WINDOW) best first
(helpdesk.tickets.queries.list_queue). A common word matches a tenth of a million tickets;
ranking them all read the whole table (≈500–700 ms at 1M tickets). Walking this index
newest first and keeping the matches takes ≈30 ms; a rare word still goes through the
full-text index.
"""
from alembic import op

revision = "perf02updidx"
down_revision = "tix01fts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tickets_updated", "tickets", ["updated_at", "id"])


def downgrade():
    op.drop_index("ix_tickets_updated", table_name="tickets")
