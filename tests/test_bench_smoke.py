"""The scale benchmark runs: the generator at a tiny size, then a few measured requests.

On PostgreSQL (TEST_DATABASE_URL's server, database ``arogi_bench_smoke_test``) when the
suite runs there, else on a SQLite file; skipped only when neither can run.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from urllib.parse import urlsplit, urlunsplit

import pytest

TICKETS = 300


def _target(tmp_path) -> str:
    pg = os.environ.get("TEST_DATABASE_URL")
    if pg:
        parts = urlsplit(pg.replace("postgresql+psycopg://", "postgresql://"))
        url = urlunsplit(parts._replace(path="/arogi_bench_smoke_test"))
        try:
            import psycopg

            with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), connect_timeout=3):
                return url
        except Exception as exc:  # noqa: BLE001
            print(f"PostgreSQL unreachable ({exc}); trying SQLite")
    if not sqlite3.sqlite_version:
        pytest.skip("neither PostgreSQL nor SQLite can run")
    return f"sqlite:///{tmp_path / 'bench.db'}"


@pytest.fixture(scope="module")
def bench_db(tmp_path_factory):
    from bench import generate

    url = _target(tmp_path_factory.mktemp("bench"))
    started = time.perf_counter()
    counts = generate.generate(generate.parse_args(
        ["--database-url", url, "--tickets", str(TICKETS), "--seed", "7"]))
    return url, counts, time.perf_counter() - started


def test_generator_fills_every_table(bench_db):
    url, counts, seconds = bench_db
    assert counts["tickets"] == TICKETS
    assert counts["messages"] >= 3 * TICKETS
    assert counts["events"] >= 5 * TICKETS
    assert counts["stays"] >= TICKETS
    assert seconds < 45
    if url.startswith("postgres"):  # the load runs with triggers off: it writes stay_units
        from bench.http_load import _db_rows

        assert _db_rows(url, """SELECT count(*) FROM tickets t WHERE t.stay_units <> ARRAY(
            SELECT DISTINCT s.unit_id FROM ticket_stays s WHERE s.ticket_id = t.id
             ORDER BY s.unit_id)""")[0][0] == 0


def test_search_text_matches_the_service(bench_db):
    """The generator folds search_text exactly as helpdesk.tickets.services does."""
    from bench.http_load import _db_rows
    from helpdesk.core.text import fold

    rows = _db_rows(bench_db[0], """SELECT t.ref, t.subject, t.description, s.code, s.name,
        t.search_text FROM tickets t JOIN schools s ON s.id = t.school_id ORDER BY t.id LIMIT 20""")
    for ref, subject, description, code, name, stored in rows:
        assert stored == fold(" ".join([ref, subject, description, code, name]))


def test_measured_requests(bench_db, monkeypatch):
    """The bench app answers the queue, ticket and search pages with few, counted queries."""
    url = bench_db[0]
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
    monkeypatch.setenv("HELPDESK_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("BENCH_SQL_COUNT", "1")
    monkeypatch.setenv("BENCH_FLOOR", "1")
    from bench import http_load, wsgi

    app = wsgi.make_app()
    app.config.update(WTF_CSRF_ENABLED=False)
    actors = http_load.pick_actors(url)
    client = app.test_client()
    r = client.post("/login", data={"email": actors["l1"][1], "password": http_load.PASSWORD})
    assert r.status_code == 302
    reader = app.test_client()
    assert reader.post("/login", data={"email": actors["long_tech"][1],
                                       "password": http_load.PASSWORD}).status_code == 302
    for who, path in ((client, "/tickets"), (client, "/tickets?queue=open"),
                      (reader, f"/tickets/{actors['long']['ref']}"),
                      (client, "/tickets?queue=all&q=ΕΚΤΥΠΩΤΗΣ")):
        r = who.get(path)
        assert r.status_code == 200, path
        assert int(r.headers["X-SQL-Queries"]) <= 15, (path, r.headers["X-SQL-Queries"])
    floor = client.get(f"/__bench/floor?user={actors['l1'][0]}&queue=open")
    assert floor.status_code == 200 and "rows" in floor.get_json()
    if actors["reply_pool"]:
        ref = actors["reply_pool"][0]
        r = client.post(f"/tickets/{ref}/reply", data={"reply-body": "Δοκιμή απάντησης."})
        assert r.status_code == 302
        assert re.search(r"/tickets/", r.headers["Location"])


def test_results_table_judges_the_targets():
    """bench/run.py's table: medians across runs, targets judged at the largest size,
    the queue / floor ratio, the page statement bound and the side figures."""
    from bench import run

    def one(p95_queue, floor, rps, sql):
        cells = {f"{op}|c1": {"n": 10, "p50": p95_queue / 2, "p95": p95_queue, "rps": 5.0,
                              "sql": sql, "sql_max": sql, "sql_ms": 1.0, "errors": 0}
                 for op, *_ in run.ROWS}
        cells["floor L1 (open)|c1"].update(p50=floor, p95=floor)
        cells["file ticket (POST)|c4"] = {"n": 40, "p50": 20.0, "p95": 30.0, "rps": rps,
                                          "sql": 12, "sql_ms": 2.0, "errors": 0}
        return {"cells": cells, "peak_rss_mb": 150.0}

    merged = run.merge_runs([one(40, 10, 160, 8), one(60, 10, 100, 8), one(44, 10, 170, 8)])
    assert merged["cells"]["queue L1 (open)|c1"]["p95"] == 44
    assert merged["cells"]["file ticket (POST)|c4"]["rps"] == 160
    results = {100000: one(20, 10, 200, 8), 1_000_000: merged}
    side = {"mail_ingest": "store: 400 msg/s | raw bytes to ticket, 1 worker: 180.5 msg/s",
            "inventory_import": "first import: 75.2 s (incl. start-up)"}
    lines = run.table(results, {"http_staff_create_post_c4_rps": 9.4}, [100000, 1_000_000],
                      run.side_table(side, {"ingest_messages_per_s": 3.0}, {1_000_000: 259.5}))
    text = "\n".join(lines)
    queue = next(ln for ln in lines if ln.startswith("| queue L1 (open)"))
    assert "met (≤ 50)" in queue
    filing = next(ln for ln in lines if ln.startswith("| file ticket"))
    assert "met (≥ 150)" in filing and "9.4/s c4" in filing and "21.3×" in filing
    assert "| queue / floor at 1M (p50, c1) | 2.20× | | | | missed (≤ 1.5) |" in text
    assert "SQL statements per page at 1M (most of any page) | 8 |" in text
    assert "180.5 msg/s | | 3 msg/s | | met (≥ 150)" in text
    assert "75.2 s | | — | | missed (≤ 60)" in text
    assert "generate 1M tickets (COPY) | 260 s" in text
    # One data set (make bench-smoke): one column of ours, judged at that size.
    single = run.table({10000: one(40, 10, 160, 8)}, {}, [10000])
    assert single[0].startswith("| operation | ours 10k (c1 p50 / p95 · c4) | ours — |")
    assert "target at 10k" in single[0]
    assert any(ln.startswith("| queue L1 (open)") and "| — |" in ln and "met (≤ 50)" in ln
               for ln in single)


def test_ratios_and_the_regression_check():
    """A page's ratio is its time over its own SQL's; the smoke run fails only on a growth
    of more than a quarter over the committed figure."""
    from bench import run

    res = {"cells": {
        "queue L1 (open)|c1": {"p50": 30.0, "sql_ms": 20.0},
        "floor L1 (open)|c1": {"p50": 15.0, "sql_ms": 14.0},
        "ticket page (30 entries)|c1": {"p50": 12.0, "sql_ms": None},
    }}
    got = run.ratios(res)
    assert got["queue L1 (open)"] == 1.5
    assert got["queue L1 / floor"] == 2.0
    assert "ticket page (30 entries)" not in got  # no SQL time, no ratio
    assert run.regressions(got, {"queue L1 (open)": 1.25}) == []  # 1.5 is not above 1.5625
    worse = run.regressions(got, {"queue L1 (open)": 1.1, "queue L1 / floor": 2.0})
    assert len(worse) == 1 and worse[0].startswith("queue L1 (open): 1.50×")
    table = run.ratio_table({10000: res})
    assert table[0].startswith("| operation | 10k: time / own SQL")
    assert any(line.startswith("| queue L1 / floor | 2.00×") for line in table)
