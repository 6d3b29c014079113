"""outbox delivery: language, HTML, signed Message-ID, back-off and claiming

Revision ID: h1mailout001
Revises: c5slapol0001
Create Date: 2026-11-23 20:00:00

Hand-written. Existing rows keep working: they are plain-text, Greek, automatic mail
whose Message-ID is made on the first attempt.
"""
import sqlalchemy as sa
from alembic import op

revision = "h1mailout001"
down_revision = "c5slapol0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(length=5), server_default="el",
                                      nullable=False))
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column("is_automatic", sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_notifications_recipient_user_id_users"),
                                    "users", ["recipient_user_id"], ["id"])
        batch_op.create_index("ix_notifications_status_next_attempt",
                              ["status", "next_attempt_at"], unique=False)


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_status_next_attempt")
        batch_op.drop_constraint(batch_op.f("fk_notifications_recipient_user_id_users"),
                                 type_="foreignkey")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("is_automatic")
        batch_op.drop_column("message_id")
        batch_op.drop_column("body_html")
        batch_op.drop_column("locale")
        batch_op.drop_column("recipient_user_id")
