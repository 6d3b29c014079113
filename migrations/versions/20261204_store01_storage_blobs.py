"""storage_blobs: stored files in the database (STORAGE_BACKEND = database)

Revision ID: store01blobs
Revises: m15merge
Create Date: 2026-12-04 10:00:00

One row per chunk (helpdesk/core/filestore.py, CHUNK bytes) of a file of an area
(attachments, kb, census_signed, inventory_imports), so a download reads one chunk at a
time and every node sees the same files.
"""
import sqlalchemy as sa
from alembic import op

revision = "store01blobs"
down_revision = "m15merge"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "storage_blobs",
        sa.Column("area", sa.String(32), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("area", "name", "seq", name="pk_storage_blobs"),
    )


def downgrade():
    op.drop_table("storage_blobs")
