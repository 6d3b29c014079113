"""inventory: equipment registry, history, ticket links, import runs

Revision ID: e7invent0001
Revises: fba9c46ce7d0
Create Date: 2026-11-23 21:00:00

Hand-written. Seeds equipment_categories from helpdesk/inventory/data/equipment_categories.csv
(the codes are the reference; names may be refreshed by ``helpdesk inventory load-categories``).
"""
import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "e7invent0001"
down_revision = "fba9c46ce7d0"
branch_labels = None
depends_on = None

_CSV = Path(__file__).resolve().parents[2] / "helpdesk" / "inventory" / "data" / "equipment_categories.csv"


def _categories():
    with _CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield {"code": row["code"], "name_el": row["name_el"], "name_en": row["name_en"],
                   "group": row["group_el"], "inventory_kind": row["inventory_kind"][:100],
                   "has_serial": row["has_serial"], "is_active": True}


def upgrade():
    categories = op.create_table(
        "equipment_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name_el", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("group", sa.String(length=100), nullable=False),
        sa.Column("inventory_kind", sa.String(length=100), nullable=False),
        sa.Column("has_serial", sa.String(length=10), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_equipment_categories_code")),
    )
    op.create_table(
        "equipment_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("manufacturer", sa.String(length=120), nullable=False),
        sa.Column("manufacturer_folded", sa.String(length=120), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("serial_number", sa.String(length=120), nullable=True),
        sa.Column("serial_key", sa.String(length=120), nullable=True),
        sa.Column("registry_number", sa.String(length=60), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("acquisition_date", sa.Date(), nullable=True),
        sa.Column("funding_programme", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("external_id", sa.String(length=40), nullable=True),
        sa.Column("is_pending", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["equipment_categories.id"],
                                name=op.f("fk_equipment_items_category_id_equipment_categories")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_equipment_items_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_items")),
        sa.UniqueConstraint("external_id", name=op.f("uq_equipment_items_external_id")),
    )
    with op.batch_alter_table("equipment_items") as batch_op:
        batch_op.create_index("uq_equipment_items_manufacturer_serial",
                              ["manufacturer_folded", "serial_key"], unique=True)
        batch_op.create_index("ix_equipment_items_school_status", ["school_id", "status"])
        batch_op.create_index("ix_equipment_items_school_category", ["school_id", "category_id"])
        batch_op.create_index("ix_equipment_items_school_location", ["school_id", "location"])
        batch_op.create_index("ix_equipment_items_school_registry", ["school_id", "registry_number"])
        batch_op.create_index("ix_equipment_items_category_model", ["category_id", "model"])

    op.create_table(
        "equipment_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_equipment_history_actor_id_users")),
        sa.ForeignKeyConstraint(["item_id"], ["equipment_items.id"],
                                name=op.f("fk_equipment_history_item_id_equipment_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_history")),
    )
    with op.batch_alter_table("equipment_history") as batch_op:
        batch_op.create_index("ix_equipment_history_item_at", ["item_id", "at"])

    op.create_table(
        "ticket_equipment",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["equipment_items.id"],
                                name=op.f("fk_ticket_equipment_item_id_equipment_items")),
        sa.ForeignKeyConstraint(["linked_by_id"], ["users.id"],
                                name=op.f("fk_ticket_equipment_linked_by_id_users")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_ticket_equipment_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("ticket_id", "item_id", name=op.f("pk_ticket_equipment")),
    )
    with op.batch_alter_table("ticket_equipment") as batch_op:
        batch_op.create_index("ix_ticket_equipment_item_linked", ["item_id", "linked_at"])

    op.create_table(
        "inventory_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_inventory_imports_created_by_id_users")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_inventory_imports_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_imports")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_inventory_imports_stored_name")),
    )
    with op.batch_alter_table("inventory_imports") as batch_op:
        batch_op.create_index("ix_inventory_imports_creator_created", ["created_by_id", "created_at"])

    op.bulk_insert(categories, list(_categories()))


def downgrade():
    op.drop_table("inventory_imports")
    op.drop_table("ticket_equipment")
    op.drop_table("equipment_history")
    op.drop_table("equipment_items")
    op.drop_table("equipment_categories")
