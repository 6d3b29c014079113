"""merge the feature branches (census, inbound mail, outbox delivery, API)

Revision ID: j3merge00001
Revises: f8census0001, g9mailin0001, h1mailout001, i2apitok0001
Create Date: 2026-11-23 20:00:00

The features were built in parallel, each on its own branch from fba9c46ce7d0; this
revision joins them so the history has one head again. It changes no schema.
"""

revision = "j3merge00001"
down_revision = ("f8census0001", "g9mailin0001", "h1mailout001", "i2apitok0001")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
