"""The API's own schemas: validation of input and the source of the OpenAPI document."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StatusName = Literal["new", "open", "waiting", "resolved", "closed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] = []


class SchoolRef(BaseModel):
    code: str
    name: str


class UnitOut(BaseModel):
    code: str
    level: int
    name_el: str
    name_en: str
    email: str


class UnitList(BaseModel):
    items: list[UnitOut]


class SchoolOut(BaseModel):
    code: str
    name: str
    email: str
    school_type: str
    directorate_code: str
    directorate_name: str


class SchoolList(BaseModel):
    items: list[SchoolOut]
    next_cursor: str | None = None


class TicketOut(BaseModel):
    ref: str
    subject: str
    description: str
    status: StatusName
    priority: int = Field(ge=1, le=4)
    level: int = Field(ge=1, le=3)
    category: str
    school: SchoolRef
    unit: str
    assignee: str | None = None
    channel: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None


class TicketList(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class TicketCreate(Strict):
    school_code: str = Field(pattern=r"^\d{7}$", description="The school's 7-digit code.")
    category: str = Field(min_length=1, max_length=30, description="Category code, e.g. HW-PRN.")
    subject: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=5, max_length=20000)
    priority: int = Field(2, ge=1, le=4)
    channel: Literal["api", "phone", "visit", "other"] = Field(
        "api", description="How the school asked: `phone`, `visit` or `other` when support "
        "staff file for a school of their area (a school's own token files as `api`).")


class CategoryIn(Strict):
    category: str = Field(min_length=1, max_length=30, description="The new category's code, "
                          "e.g. HW-PRN. The ticket stays at its level and unit.")
    reason: str | None = Field(None, max_length=500, description="Why (support staff only).")


class MessageOut(BaseModel):
    id: int
    author: str | None
    body: str
    is_internal: bool
    channel: str
    created_at: datetime


class MessageList(BaseModel):
    items: list[MessageOut]


class MessageCreate(Strict):
    body: str = Field(min_length=1, max_length=20000)
    internal: bool = Field(False, description="An internal note (technicians only).")
    await_school: bool = Field(False, description="Wait for the school's answer.")


class EventOut(BaseModel):
    id: int
    at: datetime
    actor: str | None
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None = Field(description="Why, in the caller's language; null when there is "
                               "none or the caller may not read it (a school reads escalation "
                               "reasons and return instructions only when shared with it).")
    reason_code: str | None = Field(None, description="Set when the system wrote the reason, "
                                    "e.g. `sla.level_time_out`.")
    shared_with_school: bool = Field(False, description="The school reads the reason too.")


class EventList(BaseModel):
    items: list[EventOut]


class Empty(Strict):
    pass


class AssignIn(Strict):
    assignee_email: str = Field(min_length=3, max_length=200)


class ReasonIn(Strict):
    reason: str = Field(min_length=5, max_length=5000)


class MoveIn(Strict):
    reason: str = Field(min_length=5, max_length=5000,
                        description="Escalation reason or return instructions; only support "
                        "staff read it unless `tell_school` is true.")
    tell_school: bool = Field(False, description="Let the school read the reason too (it "
                              "always sees that its request moved).")


class ResolveIn(Strict):
    resolution: str = Field(min_length=1, max_length=20, description="Resolution type code.")
    text: str = Field(min_length=5, max_length=20000)
    guide_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1,
        description="With resolution GUIDE: the library article that solved it (else the first "
                    "one the text links to; one of the two is required).")


# --- equipment -----------------------------------------------------------------------------

EquipmentStatus = Literal["in_use", "faulty", "in_repair", "withdrawn", "pending"]


class EquipmentOut(BaseModel):
    id: int
    school_code: str
    category: str
    manufacturer: str
    model: str
    serial_number: str | None
    registry_number: str
    location: str
    acquisition_date: date | None
    funding_programme: str
    status: EquipmentStatus
    attributes: dict
    notes: str
    updated_at: datetime


class EquipmentList(BaseModel):
    items: list[EquipmentOut]
    total: int
    page: int


class EquipmentCreate(Strict):
    category: str = Field(min_length=1, max_length=30, description="Equipment category code, e.g. PRINTER.")
    manufacturer: str = Field("", max_length=120)
    model: str = Field("", max_length=200)
    serial_number: str | None = Field(None, max_length=120)
    registry_number: str = Field("", max_length=60)
    location: str = Field("", max_length=120)
    acquisition_date: date | None = None
    funding_programme: str = Field("", max_length=30)
    status: EquipmentStatus = "in_use"
    attributes: dict[str, str | int | float | bool | None] = {}
    notes: str = Field("", max_length=5000)


class EquipmentPatch(Strict):
    category: str | None = Field(None, min_length=1, max_length=30)
    manufacturer: str | None = Field(None, max_length=120)
    model: str | None = Field(None, max_length=200)
    serial_number: str | None = Field(None, max_length=120)
    registry_number: str | None = Field(None, max_length=60)
    location: str | None = Field(None, max_length=120)
    acquisition_date: date | None = None
    funding_programme: str | None = Field(None, max_length=30)
    status: EquipmentStatus | None = None
    attributes: dict[str, str | int | float | bool | None] | None = None
    notes: str | None = Field(None, max_length=5000)


# --- reports and census ----------------------------------------------------------------------

class ReportColumn(BaseModel):
    key: str
    kind: str


class ReportOut(BaseModel):
    columns: list[ReportColumn]
    rows: list[dict[str, str | int | float | None]]
    total: dict[str, str | int | float | None] | None = None


class CompletionOut(BaseModel):
    name: str
    targeted: int
    on_time: int
    late: int
    missing: int


class CensusStatusOut(BaseModel):
    id: int
    title: str
    deadline: date
    total: CompletionOut
    regions: list[CompletionOut]


IncidentStatusName = Literal["investigating", "identified", "monitoring", "resolved"]


class IncidentUpdateOut(BaseModel):
    id: int
    status: IncidentStatusName
    text: str
    at: datetime


class IncidentOut(BaseModel):
    id: int
    title: str
    status: IncidentStatusName
    scope: Literal["country", "regions", "directorates", "partners", "schools"]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    linked_tickets: int = 0
    schools_affected: int = 0
    updates: list[IncidentUpdateOut] = []


class IncidentList(BaseModel):
    items: list[IncidentOut]
    next_page: int | None = None
