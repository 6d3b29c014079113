"""/api/v1/schools and /api/v1/units."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.api.core import actor, bp, endpoint
from helpdesk.api.registry import Param, openapi_document
from helpdesk.api.schemas import SchoolList, SchoolOut, UnitList, UnitOut
from helpdesk.core.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit
from helpdesk.permissions import school_scope


def _school_out(s: School) -> SchoolOut:
    return SchoolOut(code=s.code, name=s.name, email=s.email, school_type=s.school_type,
                     directorate_code=s.directorate.code, directorate_name=s.directorate.short_name_el)


@endpoint("GET", "/schools", "Schools you may see", response=SchoolList, tag="organisation",
          params=[Param("cursor", {"type": "string", "pattern": r"^\d{7}$"}, "Last code of the previous page."),
                  Param("limit", {"type": "integer", "minimum": 1, "maximum": 500})])
def list_schools():
    limit = request.args.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise ValidationFailed("limit", "Must be a whole number from %(low)s to %(high)s.", low=1, high=500)
    stmt = select(School).options(joinedload(School.directorate)).order_by(School.code)
    scope = school_scope(actor())
    if scope is not None:
        stmt = stmt.where(scope)
    if request.args.get("cursor"):
        stmt = stmt.where(School.code > request.args["cursor"])
    rows = db.session.scalars(stmt.limit(int(limit) + 1)).all()
    more = len(rows) > int(limit)
    rows = rows[: int(limit)]
    return SchoolList(items=[_school_out(s) for s in rows], next_cursor=rows[-1].code if more else None)


@endpoint("GET", "/schools/{code}", "One school", response=SchoolOut, tag="organisation",
          params=[Param("code", {"type": "string"}, "7-digit code", where="path")])
def get_school(code: str):
    return _school_out(get_school_row(code))


def get_school_row(code: str) -> School:
    """The school with this code if the actor may see it, else NotFound."""
    stmt = select(School).where(School.code == code).options(joinedload(School.directorate))
    scope = school_scope(actor())
    if scope is not None:
        stmt = stmt.where(scope)
    school = db.session.scalar(stmt)
    if school is None:
        raise NotFound()
    return school


@endpoint("GET", "/units", "Support units at every level", response=UnitList, tag="organisation")
def list_units():
    rows = db.session.scalars(select(SupportUnit).order_by(SupportUnit.level, SupportUnit.code))
    return UnitList(items=[UnitOut(code=u.code, level=u.level, name_el=u.name_el, name_en=u.name_en,
                                   email=u.email) for u in rows])


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document(request.script_root + "/api/v1"))


@bp.get("/docs")
def docs():
    """Browsable documentation, rendered on the server (works offline)."""
    return render_template("api/docs.html", doc=openapi_document(), config=current_app.config)
