"""/api/v1 equipment, reports and census status: the same services, queries and
permission checks as the web pages."""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from helpdesk.api.core import actor, endpoint
from helpdesk.api.org import get_school_row
from helpdesk.api.registry import Param
from helpdesk.api.schemas import (
    CensusStatusOut,
    CompletionOut,
    EquipmentCreate,
    EquipmentList,
    EquipmentOut,
    EquipmentPatch,
    ReportColumn,
    ReportOut,
    TicketList,
)
from helpdesk.api.tickets import ticket_out
from helpdesk.census import queries as cq
from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.core.localtime import default_locale, languages
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.inventory import queries as inv_queries
from helpdesk.inventory import services as inv_services
from helpdesk.inventory.models import EquipmentCategory, EquipmentItem
from helpdesk.permissions import can_view_census_reports, can_view_reports
from helpdesk.reports import queries as rq
from helpdesk.reports.filters import ReportFilters

ITEM = Param("id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, "Equipment item id.",
             where="path")
CODE = Param("code", {"type": "string"}, "7-digit school code", where="path")


def item_out(item: EquipmentItem) -> EquipmentOut:
    return EquipmentOut(
        id=item.id, school_code=item.school.code, category=item.category.code,
        manufacturer=item.manufacturer, model=item.model, serial_number=item.serial_number,
        registry_number=item.registry_number, location=item.location,
        acquisition_date=item.acquisition_date, funding_programme=item.funding_programme,
        status=item.status, attributes=item.attributes or {}, notes=item.notes,
        updated_at=item.updated_at)


def _values(body, *, partial: bool) -> dict:
    data = body.model_dump(exclude_unset=partial)
    code = data.pop("category", None)
    if code is not None:
        category = db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == code))
        if category is None:
            raise ValidationFailed("category", "Unknown equipment category.")
        data["category_id"] = category.id
    return data


def _item(item_id: int) -> EquipmentItem:
    item = inv_queries.get_visible_item(actor(), item_id)
    if item is None:
        raise NotFound()
    return item


@endpoint("GET", "/schools/{code}/equipment", "A school's registered equipment",
          response=EquipmentList, tag="equipment", params=[
              CODE, Param("category", {"type": "string", "maxLength": 30}),
              Param("status", {"type": "string", "enum": ["in_use", "faulty", "in_repair",
                                                          "withdrawn", "pending"]}),
              Param("q", {"type": "string", "maxLength": 100}, "Serial, registry no., model…"),
              Param("page", {"type": "integer", "minimum": 1, "maximum": 100000})])
def list_equipment(code: str):
    school = get_school_row(code)
    f = inv_queries.ItemFilters.from_args(request.args)
    items, total = inv_queries.list_items(actor(), school.id, f, per_page=100)
    return EquipmentList(items=[item_out(i) for i in items], total=total, page=f.page)


@endpoint("POST", "/schools/{code}/equipment", "Register a device of a school",
          response=EquipmentOut, body=EquipmentCreate, params=[CODE], status=201, tag="equipment")
def create_equipment(body: EquipmentCreate, code: str):
    school = get_school_row(code)
    item = inv_services.add_item(actor(), school, now=utcnow(), **_values(body, partial=False))
    db.session.flush()
    return item_out(_item(item.id))


@endpoint("GET", "/equipment/{id}", "One equipment item", response=EquipmentOut, params=[ITEM],
          tag="equipment")
def get_equipment(id: int):  # noqa: A002 (the path parameter's name)
    return item_out(_item(id))


@endpoint("PATCH", "/equipment/{id}", "Change some fields of an item (kept in its history)",
          response=EquipmentOut, body=EquipmentPatch, params=[ITEM], tag="equipment")
def patch_equipment(body: EquipmentPatch, id: int):  # noqa: A002
    item = _item(id)
    inv_services.edit_item(actor(), item, now=utcnow(), **_values(body, partial=True))
    db.session.flush()
    db.session.expire(item, ["category"])
    return item_out(item)


@endpoint("GET", "/equipment/{id}/tickets", "The tickets about an item that you may see",
          response=TicketList, params=[ITEM], tag="equipment")
def equipment_tickets(id: int):  # noqa: A002
    rows = inv_queries.item_tickets(actor(), _item(id))
    return TicketList(items=[ticket_out(t) for t, _link in rows], next_cursor=None)


# --- reports -------------------------------------------------------------------------------

REPORT_PARAMS = [
    Param("from", {"type": "string", "format": "date"}, "First day (Athens), YYYY-MM-DD."),
    Param("to", {"type": "string", "format": "date"}, "Last day (Athens), inclusive."),
    Param("group", {"type": "string", "enum": ["month", "quarter", "school_year", "level", "unit",
                                               "region", "directorate", "category", "priority"]}),
    Param("step", {"type": "string", "enum": ["week", "month"]}, "Backlog trend step."),
    Param("level", {"type": "integer", "minimum": 1, "maximum": 3}),
    *[Param(name, {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, f"{name.capitalize()} id.")
      for name in ("unit", "region", "directorate", "category")],
    Param("priority", {"type": "integer", "minimum": 1, "maximum": 4}),
]


def _report(kind: str) -> ReportOut:
    if not can_view_reports(actor()):
        raise PermissionDenied()
    now = utcnow()
    f = ReportFilters.from_args(request.args, now.date())
    locale = request.accept_languages.best_match(languages()) or default_locale()
    table = {"sla": lambda: rq.sla_compliance(actor(), f, locale),
             "health": lambda: rq.tier_health(actor(), f, now, locale),
             "backlog": lambda: rq.backlog_ageing(actor(), f, now),
             "trend": lambda: rq.backlog_trend(actor(), f, now)}[kind]()
    return ReportOut(columns=[ReportColumn(key=k, kind=c) for k, c in table.columns],
                     rows=[_plain(r) for r in table.rows],
                     total=_plain(table.total) if table.total else None)


def _plain(row: dict) -> dict:
    return {str(k): (v if isinstance(v, (int, float)) or v is None else str(v)) for k, v in row.items()}


@endpoint("GET", "/reports/sla", "SLA compliance", response=ReportOut, params=REPORT_PARAMS,
          tag="reports")
def report_sla():
    return _report("sla")


@endpoint("GET", "/reports/health", "Tiered support health", response=ReportOut,
          params=REPORT_PARAMS, tag="reports")
def report_health():
    return _report("health")


@endpoint("GET", "/reports/backlog", "Open tickets by age and level", response=ReportOut,
          params=REPORT_PARAMS, tag="reports")
def report_backlog():
    return _report("backlog")


@endpoint("GET", "/reports/backlog-trend", "Open tickets over time", response=ReportOut,
          params=REPORT_PARAMS, tag="reports")
def report_trend():
    return _report("trend")


# --- census ----------------------------------------------------------------------------------

@endpoint("GET", "/census/{id}/status", "Completion of a census campaign", response=CensusStatusOut,
          params=[Param("id", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, "Census id.",
                        where="path")],
          tag="census")
def census_status(id: int):  # noqa: A002

    census = cq.get_census(id)
    if census is None:
        raise NotFound()
    if not can_view_census_reports(actor()):
        raise PermissionDenied()
    total, regions = cq.completion(actor(), census)
    out = lambda c: CompletionOut(name=c.name or "", targeted=c.targeted, on_time=c.on_time,  # noqa: E731
                                  late=c.late, missing=c.missing)
    return CensusStatusOut(id=census.id, title=census.title, deadline=census.deadline,
                           total=out(total), regions=[out(r) for r in regions])
