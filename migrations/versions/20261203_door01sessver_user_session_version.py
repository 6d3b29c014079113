"""users.session_version: log-out and a password change end every session of the user

Revision ID: door01sessver
Revises: n7merge0002
Create Date: 2026-12-03 08:00:00

The session cookie carries "<user id>:<session version>"; the user loader accepts it only
while the version matches. Log-out and a password change add one, so a copied cookie stops
working everywhere (Flask's sessions are signed cookies, kept by the client).
"""
import sqlalchemy as sa
from alembic import op

revision = "door01sessver"
down_revision = "n7merge0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="1"))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
