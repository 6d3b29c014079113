"""merge the heads of issue 15 (outages, library, canned replies/views, closing the loop) and 16 (retention)

Revision ID: m15merge
Revises: inc01outage,kb01library,loop01conf,mine01cvw
Create Date: 2026-12-03 13:00:00
"""
revision = "m15merge"
down_revision = ('inc01outage', 'kb01library', 'loop01conf', 'mine01cvw')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
