"""census: campaigns, submissions with frozen snapshots, snapshot items, reminders

Revision ID: f8census0001
Revises: e7invent0001
Create Date: 2026-11-23 22:00:00

Hand-written. No data to move: four new tables.
"""
import sqlalchemy as sa
from alembic import op

revision = "f8census0001"
down_revision = "e7invent0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "censuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("target_edu_level", sa.String(length=2), nullable=False),
        sa.Column("target_school_types", sa.JSON(), nullable=False),
        sa.Column("target_region_ids", sa.JSON(), nullable=False),
        sa.Column("target_directorate_ids", sa.JSON(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("reminder_days", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_censuses_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_censuses")),
    )
    op.create_index("ix_censuses_deadline", "censuses", ["deadline"])
    op.create_table(
        "census_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("census_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("is_late", sa.Boolean(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("signed_stored_name", sa.String(length=64), nullable=True),
        sa.Column("signed_filename", sa.String(length=200), nullable=True),
        sa.Column("signed_uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["census_id"], ["censuses.id"],
                                name=op.f("fk_census_submissions_census_id_censuses")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_census_submissions_school_id_schools")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_census_submissions_submitted_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_census_submissions")),
        sa.UniqueConstraint("census_id", "school_id",
                            name="uq_census_submissions_census_id_school_id"),
    )
    op.create_index("ix_census_submissions_school_id", "census_submissions", ["school_id"])
    op.create_table(
        "census_snapshot_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("manufacturer", sa.String(length=120), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("acquisition_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["equipment_categories.id"],
                                name=op.f("fk_census_snapshot_items_category_id_equipment_categories")),
        sa.ForeignKeyConstraint(["submission_id"], ["census_submissions.id"], ondelete="CASCADE",
                                name=op.f("fk_census_snapshot_items_submission_id_census_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_census_snapshot_items")),
    )
    op.create_index("ix_census_snapshot_items_item_id", "census_snapshot_items", ["item_id"])
    op.create_index("ix_census_snapshot_items_submission", "census_snapshot_items",
                    ["submission_id"])
    op.create_table(
        "census_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("census_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["census_id"], ["censuses.id"],
                                name=op.f("fk_census_reminders_census_id_censuses")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_census_reminders_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_census_reminders")),
        sa.UniqueConstraint("census_id", "school_id", "days_before",
                            name="uq_census_reminders_census_id_school_id_days_before"),
    )


def downgrade():
    op.drop_table("census_reminders")
    op.drop_index("ix_census_snapshot_items_submission", table_name="census_snapshot_items")
    op.drop_index("ix_census_snapshot_items_item_id", table_name="census_snapshot_items")
    op.drop_table("census_snapshot_items")
    op.drop_index("ix_census_submissions_school_id", table_name="census_submissions")
    op.drop_table("census_submissions")
    op.drop_index("ix_censuses_deadline", table_name="censuses")
    op.drop_table("censuses")
