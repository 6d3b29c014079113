"""Web door to the reports: pages with filters, a chart and a table; CSV and XLSX downloads."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.core.display import CHANNEL_LABELS, LEVEL_LABELS, PRIORITY_LABELS
from helpdesk.core.localtime import zone
from helpdesk.core.text import by_label, sort_key
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.org.models import Category, Directorate, Region, SupportUnit
from helpdesk.permissions import can_view_reports
from helpdesk.reports import charts, exports, library, queries
from helpdesk.reports.filters import GROUPINGS, ReportFilters

bp = Blueprint("reports", __name__, url_prefix="/reports")

GROUPING_LABELS = {
    "month": _l("Month"), "quarter": _l("Quarter"), "school_year": _l("School year"),
    "level": _l("Level"), "unit": _l("Support unit"), "region": _l("Region"),
    "directorate": _l("Directorate"), "category": _l("Category"), "priority": _l("Priority"),
    "channel": _l("Channel"),
}
AGE_LABELS = {"lt1": _l("Under 1 day"), "1-3": _l("1–3 days"), "3-7": _l("3–7 days"),
              "7-30": _l("7–30 days"), "gt30": _l("Over 30 days"), "total": _l("Total")}
HEADERS = {
    "group": _l("Group"), "tickets": _l("Requests"),
    "fr_targets": _l("With a first-response target"), "fr_met": _l("First response in time"),
    "fr_rate": _l("First response in time (%)"),
    "fr_median_h": _l("First response, median (working hours)"),
    "fr_p90_h": _l("First response, 90th percentile (working hours)"),
    "res_targets": _l("With a resolution target"), "res_met": _l("Resolved in time"),
    "res_rate": _l("Resolved in time (%)"),
    "res_median_h": _l("Resolution, median (working hours)"),
    "res_p90_h": _l("Resolution, 90th percentile (working hours)"),
    "resolved": _l("Resolved"), "resolved_l1": _l("Resolved at level 1"),
    "resolved_l1_rate": _l("Resolved at level 1 (%)"), "at_l1": _l("Were at level 1"),
    "escalated_1_2": _l("Escalated 1→2"), "escalation_1_2_rate": _l("Escalation 1→2 (%)"),
    "at_l2": _l("Were at level 2"), "escalated_2_3": _l("Escalated 2→3"),
    "escalation_2_3_rate": _l("Escalation 2→3 (%)"), "returned": _l("Returned to a lower level"),
    "return_rate": _l("Returned (%)"), "ever_resolved": _l("Were resolved"),
    "reopened": _l("Reopened"), "reopen_rate": _l("Reopen rate (%)"),
    "hours_l1": _l("Average hours at level 1"), "hours_l2": _l("Average hours at level 2"),
    "hours_l3": _l("Average hours at level 3"),
    "age": _l("Age"), "level_1": _l("Level 1"), "level_2": _l("Level 2"), "level_3": _l("Level 3"),
    "total": _l("Total"), "period_end": _l("At the end of"), "open": _l("Open requests"),
    "confirmed": _l("Confirmed by the school"), "confirmed_rate": _l("Confirmed (%)"),
    "rated": _l("Rated"), "avg_rating": _l("Average rating (1–5)"),
}
TITLES = {"compliance": _l("SLA compliance"), "health": _l("Tiered support health"),
          "backlog": _l("Backlog and ageing"), "ageing": _l("Open requests by age"),
          "trend": _l("Open requests over time"), "satisfaction": _l("School satisfaction")}


def _require_reports() -> None:
    if not can_view_reports(current_user):
        abort(403)


def _filters() -> ReportFilters:
    return ReportFilters.from_args(request.args, utcnow().astimezone(zone()).date())


def _locale() -> str:
    return str(get_locale())


def _tables(name: str, f: ReportFilters) -> dict[str, queries.ReportTable]:
    """The tables of one report (backlog has two)."""
    now, locale = utcnow(), _locale()
    if name == "compliance":
        return {"compliance": queries.sla_compliance(current_user, f, locale)}
    if name == "health":
        return {"health": queries.tier_health(current_user, f, now, locale)}
    if name == "satisfaction":
        return {"satisfaction": queries.satisfaction(current_user, f, locale)}
    ageing = queries.backlog_ageing(current_user, f, now)
    for row in [*ageing.rows, ageing.total]:
        row["age"] = str(AGE_LABELS[row["key"]])
    return {"ageing": ageing, "trend": queries.backlog_trend(current_user, f, now)}


def _chart(name: str, table: queries.ReportTable):
    labels = [str(r.get("group", r.get("age", r.get("period_end")))) for r in table.rows]
    col = lambda key: [r[key] for r in table.rows]  # noqa: E731
    if name == "compliance":
        return charts.bar_chart(str(TITLES[name]), labels, [
            (str(HEADERS["fr_rate"]), col("fr_rate")), (str(HEADERS["res_rate"]), col("res_rate"))],
            y_max=100, unit="%")
    if name == "health":
        return charts.bar_chart(str(TITLES[name]), labels, [
            (str(HEADERS["resolved_l1_rate"]), col("resolved_l1_rate")),
            (str(HEADERS["escalation_1_2_rate"]), col("escalation_1_2_rate")),
            (str(HEADERS["escalation_2_3_rate"]), col("escalation_2_3_rate")),
            (str(HEADERS["reopen_rate"]), col("reopen_rate"))], y_max=100, unit="%")
    if name == "satisfaction":
        return charts.bar_chart(str(TITLES[name]), labels, [
            (str(HEADERS["confirmed_rate"]), col("confirmed_rate")),
            (str(HEADERS["reopen_rate"]), col("reopen_rate"))], y_max=100, unit="%")
    if name == "ageing":
        return charts.bar_chart(str(TITLES[name]), labels, [
            (str(LEVEL_LABELS[lv]), col(f"level_{lv}")) for lv in (1, 2, 3)], integer=True)
    return charts.line_chart(str(TITLES[name]), [r["period_end"] for r in table.rows], col("open"),
                             integer=True)


def _choices() -> dict:
    """The filter lists (four small queries, whatever the data)."""
    def rows(stmt):
        return db.session.execute(stmt).all()

    en = _locale() == "en"
    name = lambda m: m.name_en if en else m.name_el  # noqa: E731
    units = sorted(rows(select(SupportUnit.id, name(SupportUnit), SupportUnit.level)),
                   key=lambda r: (r[2], sort_key(r[1])))
    return {
        "units": [(id_, label) for id_, label, _level in units],
        "regions": by_label(rows(select(Region.id, name(Region)))),
        "directorates": by_label(rows(select(Directorate.id, Directorate.short_name_el))),
        "categories": by_label(rows(select(Category.id, name(Category))
                                    .where(Category.is_active.is_(True)))),
        "groupings": [(g, GROUPING_LABELS[g]) for g in GROUPINGS],
        "levels": LEVEL_LABELS, "priorities": PRIORITY_LABELS, "channels": CHANNEL_LABELS,
    }


@bp.route("/")
@login_required
def index():
    _require_reports()
    return render_template("reports/index.html", titles=TITLES)


@bp.route("/library")
@login_required
def library_report():
    """Guides at work: requests a guide made unnecessary, and guides used in tickets."""
    _require_reports()
    f = _filters()
    return render_template("reports/library.html", filters=f, args=f.to_args(),
                           report=library.library(current_user, f, _locale()))


@bp.route("/<any(compliance, health, backlog, satisfaction):name>")
@login_required
def report(name: str):
    _require_reports()
    f = _filters()
    tables = _tables(name, f)
    return render_template(
        "reports/report.html", name=name, title=TITLES[name], filters=f, tables=tables,
        charts={key: _chart(key, table) for key, table in tables.items()},
        headers=HEADERS, titles=TITLES, choices=_choices(), args=f.to_args(),
        grouping_label=GROUPING_LABELS[f.grouping])


@bp.route("/<any(compliance, health, ageing, trend, satisfaction):name>.<any(csv, xlsx):fmt>")
@login_required
def export(name: str, fmt: str):
    _require_reports()
    f = _filters()
    report_name = "backlog" if name in ("ageing", "trend") else name
    table = _tables(report_name, f)[name]
    headers = {**HEADERS, "group": GROUPING_LABELS[f.grouping]}
    filename = f"{name}-{f.date_from.isoformat()}-{f.date_to.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = exports.to_csv(table, headers), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(table, headers, title=str(TITLES[name])), exports.XLSX_MIMETYPE
    return Response(body, content_type=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
