"""mail round trip: a school address as actor, bounces and suppressions, authentication results

Revision ID: mail01bounce
Revises: m6schoolupd
Create Date: 2026-12-03 08:00:00

Hand-written.

- ``ticket_events.actor_email``: a school acting by its official address (no account) is
  recorded as that address, so the timeline and the notification rules know who acted;
- ``notifications.bounce_status`` / ``bounced_at`` and an index on ``message_id``: a
  delivery status notification is matched to the row by our Message-ID;
- ``mail_suppressions``: addresses that hard-bounced repeatedly and are no longer mailed;
- ``inbound_messages.auth_results``: the receiving MTA's SPF/DKIM/DMARC verdicts.
"""
import sqlalchemy as sa
from alembic import op

revision = "mail01bounce"
down_revision = "m6schoolupd"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_email", sa.String(length=200), nullable=True))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounce_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_notifications_message_id", ["message_id"], unique=False)
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_results", sa.JSON(), nullable=True))
    op.create_table(
        "mail_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("last_status", sa.String(length=12), nullable=True),
        sa.Column("hard_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("soft_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_suppressed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_by_id", sa.Integer(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["cleared_by_id"], ["users.id"],
                                name=op.f("fk_mail_suppressions_cleared_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_suppressions")),
        sa.UniqueConstraint("address", name=op.f("uq_mail_suppressions_address")),
    )


def downgrade():
    op.drop_table("mail_suppressions")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("auth_results")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_message_id")
        batch_op.drop_column("bounced_at")
        batch_op.drop_column("bounce_status")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_column("actor_email")
