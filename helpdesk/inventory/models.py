"""The equipment registry (Κτηματολόγιο): categories, items, their history and tickets."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import School


class ItemStatus(StrEnum):
    IN_USE = "in_use"
    FAULTY = "faulty"
    IN_REPAIR = "in_repair"
    WITHDRAWN = "withdrawn"
    #: "Not in the registry": described by the school when filing, to be completed.
    PENDING = "pending"


#: Statuses an item counts as part of the school's current equipment.
ACTIVE_STATUSES = (ItemStatus.IN_USE, ItemStatus.FAULTY, ItemStatus.IN_REPAIR, ItemStatus.PENDING)


class EquipmentCategory(db.Model):
    """A kind of equipment (equipment_categories.csv)."""

    __tablename__ = "equipment_categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Latin code, e.g. PC-DESKTOP, PRINTER.
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_el: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    #: Greek group name (``group_el``), e.g. «Η/Υ», «Δικτυακός εξοπλισμός».
    group: Mapped[str] = mapped_column(String(100), default="")
    #: equipment / part / bundle / group (free text from the CSV).
    inventory_kind: Mapped[str] = mapped_column(String(100), default="equipment")
    #: yes / optional: whether items of this kind carry a serial number.
    has_serial: Mapped[str] = mapped_column(String(10), default="yes")
    is_active: Mapped[bool] = mapped_column(default=True)


class EquipmentItem(db.Model):
    """One registered device of a school."""

    __tablename__ = "equipment_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("equipment_categories.id"))
    manufacturer: Mapped[str] = mapped_column(String(120), default="")
    #: Folded manufacturer: with serial_key, unique across the registry.
    manufacturer_folded: Mapped[str] = mapped_column(String(120), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    serial_number: Mapped[str | None] = mapped_column(String(120))
    #: Upper-cased serial without spaces; None when there is no serial.
    serial_key: Mapped[str | None] = mapped_column(String(120))
    #: The school's own inventory number (αριθμός παγίου).
    registry_number: Mapped[str] = mapped_column(String(60), default="")
    #: A lab type code (lab_types.csv, e.g. SEPEHY) or free text (a classroom, an office).
    location: Mapped[str] = mapped_column(String(120), default="")
    acquisition_date: Mapped[date | None] = mapped_column(Date)
    #: A funding_programmes.csv code, or "".
    funding_programme: Mapped[str] = mapped_column(String(30), default="")
    #: ItemStatus.
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.IN_USE)
    #: Category-specific fields, e.g. {"cpu": "...", "ram_gb": 8, "disk_gb": 256}.
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: inventory.sch.gr item id (``cpe_id`` of its report); set by imports.
    external_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    #: Created at filing as "not in the registry"; the school completes it later.
    is_pending: Mapped[bool] = mapped_column(default=False)
    #: Folded category, manufacturer, model, serial, registry no., location for search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()
    category: Mapped[EquipmentCategory] = relationship()

    __table_args__ = (
        Index("uq_equipment_items_manufacturer_serial", "manufacturer_folded", "serial_key",
              unique=True),
        Index("ix_equipment_items_school_status", "school_id", "status"),
        Index("ix_equipment_items_school_category", "school_id", "category_id"),
        Index("ix_equipment_items_school_location", "school_id", "location"),
        Index("ix_equipment_items_school_registry", "school_id", "registry_number"),
        Index("ix_equipment_items_category_model", "category_id", "model"),
    )

    @property
    def label(self) -> str:
        """Short human label: manufacturer model (serial)."""
        name = " ".join(p for p in (self.manufacturer, self.model) if p)
        if self.serial_number:
            name = f"{name} ({self.serial_number})" if name else self.serial_number
        return name or f"#{self.id}"


class EquipmentHistory(db.Model):
    """One recorded change of an item: who, when, which field, from, to."""

    __tablename__ = "equipment_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("equipment_items.id"))
    #: None for the system (imports run without a user).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A column name, or created / withdrawn / linked / unlinked / imported.
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_equipment_history_item_at", "item_id", "at"),)


class TicketEquipment(db.Model):
    """A ticket is about an item."""

    __tablename__ = "ticket_equipment"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("equipment_items.id"), primary_key=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[EquipmentItem] = relationship()

    __table_args__ = (Index("ix_ticket_equipment_item_linked", "item_id", "linked_at"),)


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportRun(db.Model):
    """One upload of an inventory file and the progress of its import."""

    __tablename__ = "inventory_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Set when the import is restricted to one school (a school's own upload).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    #: The uploader's file name (shown only).
    filename: Mapped[str] = mapped_column(String(200))
    #: Generated name under instance/inventory_imports/.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    #: ImportStatus.
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.QUEUED)
    #: sch (inventory.sch.gr report) or full (our export format), once detected.
    file_format: Mapped[str] = mapped_column(String(10), default="")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    #: [{"row": 12, "errors": ["..."]}, ...], the first few hundred.
    errors: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_inventory_imports_creator_created", "created_by_id", "created_at"),)
