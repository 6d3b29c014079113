"""inbound mail: stored raw messages, and the ticket a mailed reply follows up

Revision ID: g9mailin0001
Revises: fba9c46ce7d0
Create Date: 2026-11-23 21:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "g9mailin0001"
down_revision = "fba9c46ce7d0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("from_addr", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("quoted_text", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_inbound_messages_school_id_schools")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_inbound_messages_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_inbound_messages_message_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_inbound_messages_key")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_messages_status_received", ["status", "received_at"])
        batch_op.create_index("ix_inbound_messages_from_received", ["from_addr", "received_at"])
        batch_op.create_index(batch_op.f("ix_inbound_messages_ticket_id"), ["ticket_id"])
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("related_ticket_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_tickets_related_ticket_id_tickets"),
                                    "tickets", ["related_ticket_id"], ["id"])


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tickets_related_ticket_id_tickets"),
                                 type_="foreignkey")
        batch_op.drop_column("related_ticket_id")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_messages_ticket_id"))
        batch_op.drop_index("ix_inbound_messages_from_received")
        batch_op.drop_index("ix_inbound_messages_status_received")
    op.drop_table("inbound_messages")
