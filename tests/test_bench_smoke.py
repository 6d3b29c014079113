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
