"""The satisfaction report: confirmed, reopened and rated resolutions, by group (SQL
aggregates over tests/test_reports.py's hand-computed data set, plus the schools' answers)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.extensions import db as _db
from helpdesk.reports import queries
from tests.test_reports import PERIOD, Data, filters, rows
from tests.web import login


@pytest.fixture
def data(db):
    d = Data()
    for name, rating in (("t1", 5), ("t4", 3)):  # closed by the school's confirmation
        t = d.t[name]
        t.confirmed_at, t.confirmed_via, t.rating = t.closed_at, "web", rating
    d.t["t2"].confirmed_at = None  # resolved, no answer yet
    d.t["t8"].confirmed_at, d.t["t8"].confirmed_via = (d.t["t8"].resolved_at
                                                       + timedelta(hours=1)), "email"
    _db.session.flush()
    return d


COLS = ("ever_resolved", "confirmed", "confirmed_rate", "reopened", "reopen_rate", "rated",
        "avg_rating")


def test_satisfaction_by_level(data):
    table = queries.satisfaction(data.world.admin, filters(grouping="level"))
    assert rows(table, *COLS) == {
        1: (3, 2, 66.7, 1, 33.3, 2, 4.0),   # t1 (5), t4 (3) confirmed; t5 reopened
        2: (2, 1, 50.0, 0, 0.0, 0, None),  # t2 waits; t8 confirmed by mail, no rating
        3: (0, 0, None, 0, None, 0, None),  # t6 still open
    }


def test_satisfaction_by_unit_and_category(data):
    by_unit = queries.satisfaction(data.world.admin, filters(grouping="unit"))
    assert rows(by_unit, "ever_resolved", "confirmed", "avg_rating")[data.a1.id] == (3, 2, 4.0)
    by_category = queries.satisfaction(data.world.admin, filters(grouping="category"))
    assert sum(r["rated"] for r in by_category.rows) == 2


def test_satisfaction_is_scoped_like_every_report(data):
    far = queries.satisfaction(data.world.l1_far, filters(grouping="level"))
    assert rows(far, "ever_resolved", "confirmed") == {2: (1, 1), 1: (0, 0)}


def test_satisfaction_page_and_exports(client, data):
    login(client, data.world.manager)
    assert "satisfaction" in client.get("/reports/").get_data(as_text=True)
    page = client.get("/reports/satisfaction", query_string={**PERIOD, "group": "level"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Μέση βαθμολογία (1–5)" in html and "4,00" in html and "66,7" in html
    csv = client.get("/reports/satisfaction.csv", query_string={**PERIOD, "group": "level"})
    assert csv.status_code == 200 and "66.7" in csv.get_data(as_text=True)
    xlsx = client.get("/reports/satisfaction.xlsx", query_string=PERIOD)
    assert xlsx.status_code == 200


def test_satisfaction_page_query_count_does_not_grow(client, data, query_counter):
    login(client, data.world.admin)
    counts = []
    for extra in (0, 5):
        for i in range(extra):
            data.add(f"s{i}", data.t["t1"].created_at + timedelta(days=1 + i), data.world.school_b,
                     data.a1, "closed", False, False, 10, 10, [(data.a1, 3, None)], resolved=3,
                     closed=4)
        _db.session.flush()
        with query_counter() as q:
            assert client.get("/reports/satisfaction",
                              query_string={**PERIOD, "group": "unit"}).status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1] <= 12
