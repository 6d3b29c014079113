"""webhook_deliveries.ticket_id: retention finds the deliveries of an anonymised ticket

Revision ID: ret02hook
Revises: store01blobs
Create Date: 2026-12-05 10:00:00

A delivery's payload may carry a ticket's personal data (an escalation's reason); the
retention run (helpdesk/ops/retention.py, with the part helpdesk.api.webhooks registers)
scrubs the payloads of the tickets it anonymises, found by this indexed column. Existing
rows are filled from the payload's ticket ref.
"""
import sqlalchemy as sa
from alembic import op

revision = "ret02hook"
down_revision = "store01blobs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_webhook_deliveries_ticket_id_tickets", "tickets",
                                 ["ticket_id"], ["id"])
        batch.create_index("ix_webhook_deliveries_ticket_id", ["ticket_id"])
    if op.get_bind().dialect.name == "postgresql":
        ref = "webhook_deliveries.payload -> 'ticket' ->> 'ref'"
    else:
        ref = "json_extract(webhook_deliveries.payload, '$.ticket.ref')"
    op.execute(f"UPDATE webhook_deliveries SET ticket_id = "
               f"(SELECT tickets.id FROM tickets WHERE tickets.ref = {ref}) "
               f"WHERE {ref} IS NOT NULL")


def downgrade():
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index("ix_webhook_deliveries_ticket_id")
        batch.drop_constraint("fk_webhook_deliveries_ticket_id_tickets", type_="foreignkey")
        batch.drop_column("ticket_id")
