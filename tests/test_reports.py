"""Reports against a small hand-computed data set (times in UTC; periods in Athens time).

The data (period 2026-01-01 .. 2026-03-31 Athens, now 2026-04-01 10:00 UTC):

=====  ================  ======  =====  ========  ===  ===  ====  ====  ====================
 tkt   created (UTC)     school  level  status    frb  rb   frm   rm    stays (level: hours)
=====  ================  ======  =====  ========  ===  ===  ====  ====  ====================
 t1    01-10 09:00       a       1      closed    F    F    30    120   A1 3 (resolved)
 t2    01-20 09:00       a       2      resolved  F    T    60    900   A1 24 esc, A2 48
 t3    01-31 21:30 (*)   b       1      open      T    -    600   -     A1 → now
 t4    02-05 08:00       a       1      closed    F    F    90    1500  A1 12 esc, A2 12 ret, A1 24
 t5    02-12 10:00       b       1      resolved  F    F    18    240   A1 72; reopened once
 t6    02-28 22:30 (**)  a       3      open      T    -    1200  -     A1 24 esc, A2 48 esc, L3 → now
 t7    03-10 08:00       far     1      new       -    -    -     -     F1 → now
 t8    03-15 08:00       far     2      resolved  F    T    48    2000  F1 6 esc, F2 24
 t9    03-20 08:00       b       1      waiting   F    -    20    -     A1 → now; category "=SUM(A1)"
 t11   03-31 20:00       a       2      new       -    -    -     -     A2 → now
 t10   2025-12-31 21:30  a       1      closed    T    T    99    999   A1 (outside the period)
=====  ================  ======  =====  ========  ===  ===  ====  ====  ====================

(*) 23:30 on 31 January in Athens: January. (**) 00:30 on 1 March in Athens: March.
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from helpdesk.core.errors import PermissionDenied
from helpdesk.extensions import db as _db
from helpdesk.org.models import Category
from helpdesk.reports import queries
from helpdesk.reports.exports import neutralise
from helpdesk.reports.filters import ReportFilters, period_buckets
from helpdesk.tickets.models import Ticket, TicketEvent, TicketStay
from tests.factories import World, category, unit_at
from tests.web import login

NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
PERIOD = {"from": "2026-01-01", "to": "2026-03-31"}


def utc(month, day, hour=0, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def filters(**kw) -> ReportFilters:
    return ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 3, 31), **kw)


class Data:
    """The tickets of the table above, written straight to the tables."""

    def __init__(self):
        w = self.world = World()
        self.a1, self.a2, self.l3 = (unit_at(w.school_a, lv) for lv in (1, 2, 3))
        self.f1, self.f2 = unit_at(w.school_far, 1), unit_at(w.school_far, 2)
        self.evil = Category(code="RPT-EVIL", name_el="=SUM(A1)", name_en="=SUM(A1)")
        _db.session.add(self.evil)
        _db.session.flush()
        s = {"a": w.school_a, "b": w.school_b, "far": w.school_far}
        h = lambda t, n: t + timedelta(hours=n)  # noqa: E731
        self.t = {}
        self.add("t1", utc(1, 10, 9), s["a"], self.a1, "closed", False, False, 30, 120,
                 [(self.a1, 3, None)], resolved=3, closed=72)
        self.add("t2", utc(1, 20, 9), s["a"], self.a2, "resolved", False, True, 60, 900,
                 [(self.a1, 24, "escalated"), (self.a2, 48, None)], resolved=72)
        self.add("t3", utc(1, 31, 21, 30), s["b"], self.a1, "open", True, None, 600, None,
                 [(self.a1, None, None)])
        self.add("t4", utc(2, 5, 8), s["a"], self.a1, "closed", False, False, 90, 1500,
                 [(self.a1, 12, "escalated"), (self.a2, 12, "returned"), (self.a1, 24, None)],
                 resolved=48, closed=120)
        self.add("t5", utc(2, 12, 10), s["b"], self.a1, "resolved", False, False, 18, 240,
                 [(self.a1, 72, None)], resolved=72, reopened_after=48)
        self.add("t6", utc(2, 28, 22, 30), s["a"], self.l3, "open", True, None, 1200, None,
                 [(self.a1, 24, "escalated"), (self.a2, 48, "escalated"), (self.l3, None, None)])
        self.add("t7", utc(3, 10, 8), s["far"], self.f1, "new", None, None, None, None,
                 [(self.f1, None, None)])
        self.add("t8", utc(3, 15, 8), s["far"], self.f2, "resolved", False, True, 48, 2000,
                 [(self.f1, 6, "escalated"), (self.f2, 24, None)], resolved=30)
        self.add("t9", utc(3, 20, 8), s["b"], self.a1, "waiting", False, None, 20, None,
                 [(self.a1, None, None)], cat=self.evil)
        self.add("t11", utc(3, 31, 20), s["a"], self.a2, "new", None, None, None, None,
                 [(self.a2, None, None)])
        self.add("t10", utc(12, 31, 21, 30, year=2025), s["a"], self.a1, "closed", True, True, 99,
                 999, [(self.a1, 5, None)], resolved=5 * 24, closed=8 * 24)
        _db.session.flush()
        del h

    def add(self, name, created, school, unit, status, frb, rb, frm, rm, stays, *, resolved=None,
            closed=None, reopened_after=None, cat=None):
        t = Ticket(school_id=school.id, category_id=(cat or category("HW-PRN")).id,
                   subject=name, description=name, priority=2, status=status, level=unit.level,
                   unit_id=unit.id, created_at=created, updated_at=created,
                   resolved_at=created + timedelta(hours=resolved) if resolved is not None else None,
                   closed_at=created + timedelta(hours=closed) if closed is not None else None,
                   first_response_breached=frb, resolution_breached=rb,
                   first_response_minutes=frm, resolution_minutes=rm, search_text=name)
        _db.session.add(t)
        _db.session.flush()
        arrived = created
        for stay_unit, hours, how in stays:
            left = arrived + timedelta(hours=hours) if how else None
            _db.session.add(TicketStay(ticket_id=t.id, unit_id=stay_unit.id, level=stay_unit.level,
                                       arrived_at=arrived, left_at=left, left_how=how))
            arrived = left or arrived
        if reopened_after is not None:
            _db.session.add(TicketEvent(ticket_id=t.id, at=created + timedelta(hours=reopened_after),
                                        kind="reopen"))
        self.t[name] = t


@pytest.fixture
def data(db):
    return Data()


def rows(table, *cols):
    return {r["key"]: tuple(r[c] for c in cols) for r in table.rows}


# --- filters ---------------------------------------------------------------------------------

def test_buckets_follow_athens_time_and_clip_to_the_period():
    f = ReportFilters(date_from=date(2025, 10, 15), date_to=date(2026, 3, 31), grouping="quarter")
    assert [(b.key, b.start_at) for b in period_buckets(f)] == [
        ("2025-Q4", datetime(2025, 10, 14, 21, 0, tzinfo=UTC)),  # summer time: UTC+3
        ("2026-Q1", datetime(2025, 12, 31, 22, 0, tzinfo=UTC)),  # winter time: UTC+2
    ]
    f = f.with_(grouping="school_year", date_from=date(2025, 6, 1))
    assert [b.key for b in period_buckets(f)] == ["2024–25", "2025–26"]
    assert period_buckets(f)[-1].end_at == datetime(2026, 3, 31, 21, 0, tzinfo=UTC)


def test_filters_from_args_fall_back_on_bad_input():
    f = ReportFilters.from_args({"from": "2026-03-31", "to": "2026-01-01", "group": "nope",
                                 "level": "7", "unit": "x", "priority": "3"}, date(2026, 4, 1))
    assert (f.date_from, f.date_to, f.grouping, f.level, f.unit, f.priority) == (
        date(2026, 1, 1), date(2026, 3, 31), "month", None, None, 3)
    d = ReportFilters.from_args({}, date(2026, 4, 15))
    assert (d.date_from, d.date_to) == (date(2025, 5, 1), date(2026, 4, 15))


# --- SLA compliance --------------------------------------------------------------------------

COMPLIANCE = ("tickets", "fr_targets", "fr_met", "fr_rate", "fr_median_h", "fr_p90_h",
              "res_targets", "res_met", "res_rate", "res_median_h", "res_p90_h")


def test_compliance_by_month(data):
    table = queries.sla_compliance(data.world.admin, filters(grouping="month"))
    assert rows(table, *COMPLIANCE) == {
        # frm 30, 60, 600: median 60; p90 60 + .8·540 = 492. rm 120, 900: 510; 822.
        "2026-01": (3, 3, 2, 66.7, 1.0, 8.2, 2, 1, 50.0, 8.5, 13.7),
        # frm 18, 90: 54; 18 + .9·72 = 82.8. rm 240, 1500: 870; 240 + .9·1260 = 1374.
        "2026-02": (2, 2, 2, 100.0, 0.9, 1.38, 2, 2, 100.0, 14.5, 22.9),
        # frm 20, 48, 1200: 48; 48 + .8·1152 = 969.6. rm 2000.
        "2026-03": (5, 3, 2, 66.7, 0.8, 16.16, 1, 0, 0.0, 33.33, 33.33),
    }


def test_compliance_by_level(data):
    table = queries.sla_compliance(data.world.admin, filters(grouping="level"))
    assert rows(table, *COMPLIANCE) == {
        # frm 18, 20, 30, 90, 600: 30; 90 + .6·510 = 396. rm 120, 240, 1500: 240; 1248.
        1: (6, 5, 4, 80.0, 0.5, 6.6, 3, 3, 100.0, 4.0, 20.8),
        # frm 48, 60: 54; 58.8. rm 900, 2000: 1450; 1890.
        2: (3, 2, 2, 100.0, 0.9, 0.98, 2, 0, 0.0, 24.17, 31.5),
        3: (1, 1, 0, 0.0, 20.0, 20.0, 0, 0, None, None, None),
    }
    assert [r["group"] for r in table.rows] == ["1ο επίπεδο", "2ο επίπεδο", "3ο επίπεδο"]


def test_compliance_by_quarter_school_year_unit_region_and_category(data):
    admin = data.world.admin
    q = queries.sla_compliance(admin, filters(grouping="quarter"))
    assert rows(q, "tickets", "fr_targets", "fr_met", "res_targets", "res_met") == {
        "2026-Q1": (10, 8, 6, 5, 3)}
    sy = queries.sla_compliance(admin, filters(grouping="school_year"))
    assert rows(sy, "tickets", "fr_median_h") == {"2025–26": (10, 0.9)}  # 18,20,30,48,60,90,…: (48+60)/2
    by_unit = queries.sla_compliance(admin, filters(grouping="unit"))
    assert rows(by_unit, "tickets", "fr_met", "res_met") == {
        data.a1.id: (5, 4, 3), data.a2.id: (2, 1, 0), data.l3.id: (1, 0, 0), data.f1.id: (1, 0, 0),
        data.f2.id: (1, 1, 0)}
    by_region = queries.sla_compliance(admin, filters(grouping="region"))
    far_region = data.world.school_far.directorate.region_id
    assert sorted(rows(by_region, "tickets").items()) == sorted({
        data.world.school_a.directorate.region_id: (8,), far_region: (2,)}.items())
    by_cat = queries.sla_compliance(admin, filters(grouping="category"))
    assert rows(by_cat, "group", "tickets")[data.evil.id] == ("=SUM(A1)", 1)


def test_compliance_filters_narrow_the_tickets(data):
    admin = data.world.admin
    only_far = queries.sla_compliance(admin, filters(grouping="quarter",
                                                     directorate=data.world.school_far.directorate_id))
    assert rows(only_far, "tickets", "fr_met") == {"2026-Q1": (2, 1)}
    at_a2 = queries.sla_compliance(admin, filters(grouping="quarter", unit=data.a2.id))
    assert rows(at_a2, "tickets") == {"2026-Q1": (4,)}  # t2, t4, t6, t11 were at A2
    level3 = queries.sla_compliance(admin, filters(grouping="month", level=3))
    assert rows(level3, "tickets") == {"2026-03": (1,)}
    urgent = queries.sla_compliance(admin, filters(grouping="month", priority=4))
    assert urgent.rows == []


# --- tiered support health -------------------------------------------------------------------

HEALTH = ("tickets", "resolved", "resolved_l1", "resolved_l1_rate", "at_l1", "escalated_1_2",
          "escalation_1_2_rate", "at_l2", "escalated_2_3", "escalation_2_3_rate", "returned",
          "return_rate", "ever_resolved", "reopened", "reopen_rate", "hours_l1", "hours_l2",
          "hours_l3")


def test_tier_health_by_month(data):
    table = queries.tier_health(data.world.admin, filters(grouping="month"), NOW)
    assert rows(table, *HEALTH) == {
        # L1 hours: t1 3, t2 24, t3 1428.5 (to now) → 485.17; L2: t2 48.
        "2026-01": (3, 2, 1, 50.0, 3, 1, 33.3, 1, 0, 0.0, 0, 0.0, 2, 0, 0.0, 485.17, 48.0, None),
        # L1: t4 12 + 24, t5 72 → 36; L2: t4 12.
        "2026-02": (2, 2, 1, 50.0, 2, 1, 50.0, 1, 0, 0.0, 1, 50.0, 2, 1, 50.0, 36.0, 12.0, None),
        # L1: t6 24, t7 530, t8 6, t9 290 → 212.5; L2: t6 48, t8 24, t11 14 → 28.67; L3: t6 683.5.
        "2026-03": (5, 1, 0, 0.0, 4, 2, 50.0, 3, 1, 33.3, 0, 0.0, 1, 0, 0.0, 212.5, 28.67, 683.5),
    }


def test_tier_health_by_level(data):
    table = queries.tier_health(data.world.admin, filters(grouping="level"), NOW)
    assert rows(table, "tickets", "resolved", "resolved_l1", "escalated_1_2", "returned",
                "reopened") == {1: (6, 3, 2, 1, 1, 1), 2: (3, 2, 0, 2, 0, 0), 3: (1, 0, 0, 1, 0, 0)}


# --- backlog and ageing ----------------------------------------------------------------------

def test_backlog_ageing_by_level(data):
    table = queries.backlog_ageing(data.world.admin, filters(), NOW)
    assert rows(table, "level_1", "level_2", "level_3", "total") == {
        "lt1": (0, 1, 0, 1), "1-3": (0, 0, 0, 0), "3-7": (0, 0, 0, 0),
        "7-30": (2, 0, 0, 2), "gt30": (1, 0, 1, 2)}
    assert table.total["total"] == 5


def test_backlog_trend_by_month_and_week(data):
    table = queries.backlog_trend(data.world.admin, filters(step="month"), NOW)
    assert [(r["period_end"], r["open"]) for r in table.rows] == [
        ("2026-01-31", 1), ("2026-02-28", 1), ("2026-03-31", 5)]
    weekly = queries.backlog_trend(data.world.admin, filters(step="week"), NOW)
    by_end = {r["period_end"]: r["open"] for r in weekly.rows}
    assert by_end["2026-01-04"] == 1  # t10 until its resolution on 5 January
    assert by_end["2026-01-11"] == 0
    assert by_end["2026-01-25"] == 0  # t2 resolved on the 23rd; t3 not filed yet
    assert by_end["2026-02-01"] == 1  # t3
    assert by_end["2026-03-15"] == 4  # t3, t6, t7, t8 (resolved the 16th)
    assert by_end["2026-03-31"] == 5


# --- scope -----------------------------------------------------------------------------------

def test_manager_sees_only_tickets_that_were_at_their_units(data):
    table = queries.sla_compliance(data.world.manager, filters(grouping="month"))
    assert rows(table, "tickets", "fr_met") == {
        "2026-01": (3, 2), "2026-02": (2, 2), "2026-03": (2, 1)}  # March: t6, t9


def test_technician_of_another_region_sees_none_of_them(data):
    table = queries.sla_compliance(data.world.l1_far, filters(grouping="month"))
    assert rows(table, "tickets") == {"2026-03": (2,)}  # only t7 and t8, from their own unit
    ageing = queries.backlog_ageing(data.world.l1_far, filters(), NOW)
    assert ageing.total["total"] == 1  # t7


def test_school_has_no_reports(data):
    with pytest.raises(PermissionDenied):
        queries.report_scope(data.world.user_a)


def test_web_scope(client, data):
    assert client.get("/reports/compliance").status_code == 302  # anonymous → log in
    login(client, data.world.user_a)
    for url in ("/reports/", "/reports/compliance", "/reports/health.csv"):
        assert client.get(url).status_code == 403


def test_report_pages_render_for_staff(client, data):
    login(client, data.world.manager)
    index = client.get("/reports/")
    assert index.status_code == 200
    for name in ("compliance", "health", "backlog"):
        page = client.get(f"/reports/{name}", query_string=PERIOD)
        assert page.status_code == 200, name
        html = page.get_data(as_text=True)
        assert "<svg" in html and "<table" in html
        assert "csv" in html and "xlsx" in html


# --- exports ---------------------------------------------------------------------------------

def test_neutralise():
    assert [neutralise(v) for v in ("=1+1", "+3", "-2", "@x", "ok", 5, -2, None)] == [
        "'=1+1", "'+3", "'-2", "'@x", "ok", 5, -2, None]


def test_csv_export_has_the_numbers_and_no_formulas(client, data):
    login(client, data.world.admin)
    response = client.get("/reports/compliance.csv", query_string={**PERIOD, "group": "category"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]
    reader = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    evil = next(r for r in reader if r[0].endswith("=SUM(A1)"))
    assert evil[0] == "'=SUM(A1)"
    assert evil[1:5] == ["1", "1", "1", "100.0"]
    month = client.get("/reports/compliance.csv", query_string=PERIOD).get_data(as_text=True)
    assert "2026-01,3,3,2,66.7,1.0,8.2,2,1,50.0,8.5,13.7" in month


def test_xlsx_export_has_the_numbers_and_no_formulas(client, data):
    login(client, data.world.admin)
    response = client.get("/reports/compliance.xlsx", query_string={**PERIOD, "group": "category"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    evil = next(r for r in values if str(r[0]).endswith("=SUM(A1)"))
    assert evil[0] == "'=SUM(A1)" and evil[1:5] == [1, 1, 1, 100.0]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    health = client.get("/reports/health.xlsx", query_string=PERIOD)
    rows_ = [[c.value for c in r] for r in load_workbook(io.BytesIO(health.data)).active.iter_rows()]
    assert rows_[1][:4] == ["2026-01", 3, 2, 1]
    trend = client.get("/reports/trend.csv", query_string=PERIOD).get_data(as_text=True)
    assert "2026-03-31,5" in trend


def test_every_csv_download_names_its_charset_once(client, data):
    """Werkzeug appends "; charset=utf-8" to a text mimetype, so a mimetype that already
    has one said it twice; the downloads set the whole Content-Type instead."""
    login(client, data.world.admin)
    response = client.get(f"/equipment/school/{data.world.school_a.code}/export.csv")
    assert response.status_code == 200
    assert response.headers.get("Content-Type") == "text/csv; charset=utf-8"


# --- query count -----------------------------------------------------------------------------

def test_report_page_query_count_does_not_grow_with_the_data(client, data, query_counter):
    login(client, data.world.admin)
    counts = []
    for extra in (0, 1):
        if extra:
            for i in range(5):
                data.add(f"x{i}", utc(2, 2 + i, 9), data.world.school_b, data.f1, "open", False,
                         None, 10, None, [(data.f1, None, None)])
            _db.session.flush()
        for name in ("compliance", "health", "backlog"):
            with query_counter() as q:
                assert client.get(f"/reports/{name}", query_string={**PERIOD, "group": "unit"}
                                  ).status_code == 200
            counts.append(q.count)
    assert counts[:3] == counts[3:]
    assert max(counts) <= 12


# --- numbers and charts as a Greek reader sees them ------------------------------------------

def test_chart_ticks_are_whole_numbers_for_counts():
    from helpdesk.reports.charts import ticks

    for top in (0, 1, 2, 3, 5, 7, 9, 13, 37, 101, 4999):
        scale = ticks(top, integer=True)
        assert scale[0] == 0 and scale[-1] >= top and len(scale) <= 6, (top, scale)
        assert all(float(v).is_integer() for v in scale), (top, scale)
    assert ticks(100, integer=False) == [0, 25, 50, 75, 100]
    assert ticks(1, integer=True) == [0, 1]


def _svg_texts(svg: str) -> list[tuple[float, float, str]]:
    import re

    return [(float(x), float(y), text) for x, y, text in
            re.findall(r'<text class="(?:legend|axis)" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)', svg)]


def test_charts_use_greek_numbers_and_keep_labels_and_legends_inside(app):
    import re

    from helpdesk.reports import charts

    long_names = ["Πρώτη απόκριση εγκαίρως (%)", "Επίλυση εγκαίρως (%)",
                  "Κλιμάκωση 1→2 (%)", "Ποσοστό επανανοίγματος (%)"]
    labels = ["Διεύθυνση Πρωτοβάθμιας Εκπαίδευσης Ανατολικής Θεσσαλονίκης", "Β", "Γ"]
    with app.test_request_context(headers={"Accept-Language": "el"}):
        svg = str(charts.bar_chart("Υγεία", labels, [(n, [66.7, 12.5, None]) for n in long_names],
                                   y_max=100, unit="%"))
        counts = str(charts.bar_chart("Ηλικία", ["α", "β"], [("Επίπεδο 1", [1, 3])], integer=True))
    width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    legend = re.findall(r'<text class="legend" x="([\d.]+)" y="[\d.]+">([^<]*)</text>', svg)
    assert [name for _x, name in legend] == long_names
    for x, name in legend:  # every legend entry ends inside the drawing
        assert float(x) + len(name) * charts.CHAR_W <= width, name
    assert all(y <= height for _x, y, _t in _svg_texts(svg))
    first_label = re.search(r'text-anchor="end" transform="rotate\(-30 ([\d.]+) [\d.]+\)">([^<]*)<', svg)
    x, short = float(first_label.group(1)), first_label.group(2)
    assert len(short) * charts.CHAR_W * 0.87 <= x  # the slanted label does not run off the left
    assert "66,7%" in svg and "66.7" not in svg  # decimal comma in the tooltips
    axis = [t for _x, _y, t in _svg_texts(counts) if t and t[0].isdigit()]
    assert axis == ["0", "1", "2", "3"]  # whole-number ticks for counts


def test_report_tables_use_the_greek_number_format(client, data):
    login(client, data.world.manager)
    html = client.get("/reports/compliance", query_string=PERIOD).get_data(as_text=True)
    assert "66,7%" in html and "66.7" not in html
    assert "8,20" in html or "8,2" in html
