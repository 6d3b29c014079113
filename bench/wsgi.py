"""The app as the benchmark serves it: create_app() plus two opt-in, bench-only hooks.

    gunicorn -w 2 -k sync -b 127.0.0.1:8766 'bench.wsgi:app'

- ``BENCH_SQL_COUNT=1``: every response carries ``X-SQL-Queries`` (statements the request
  ran) and ``X-SQL-Ms`` (time in ``cursor.execute``), counted by a SQLAlchemy
  ``before/after_cursor_execute`` listener. The product code is untouched.
- ``/__bench/floor?user=<id>&queue=<name>``: the floor. It runs only the SQL the queue page
  runs for its list (the statements ``helpdesk.tickets.queries.list_queue`` issues, captured
  once per worker and user, then replayed on a raw DB-API cursor) and returns the rows as
  JSON: no login, no ORM objects, no template. Registered only with ``BENCH_FLOOR=1``.
"""
from __future__ import annotations

import json
import os
import threading
import time

from flask import Response, g, request
from sqlalchemy import event

from helpdesk import create_app


def _count_queries(app) -> None:
    from helpdesk.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        try:
            g.bench_sql = g.get("bench_sql", 0) + 1
            g.bench_sql_ms = g.get("bench_sql_ms", 0.0) + (
                time.perf_counter() - conn.info.get("bench_t", time.perf_counter())) * 1000
        except RuntimeError:  # outside a request
            pass

    @app.after_request
    def _header(response):
        response.headers["X-SQL-Queries"] = str(g.get("bench_sql", 0))
        response.headers["X-SQL-Ms"] = f"{g.get('bench_sql_ms', 0.0):.2f}"
        return response


_floor_cache: dict[tuple, list] = {}
_floor_lock = threading.Lock()


def _capture(app, user_id: int, queue: str) -> list[tuple[str, object]]:
    """The (statement, parameters) list_queue sends for this user and queue."""
    from helpdesk.accounts.models import User
    from helpdesk.extensions import db
    from helpdesk.tickets import queries

    captured: list = []
    with app.test_request_context("/tickets"):
        engine = db.engine
        user = db.session.get(User, user_id)
        _ = user.unit_ids  # memberships loaded before capturing

        def grab(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", grab)
        try:
            queries.list_queue(user, queue, queries.Filters(), app.config["PAGE_SIZE"])
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        db.session.remove()
    return captured


def _add_floor(app) -> None:
    from helpdesk.extensions import csrf, db

    def floor():
        user_id = int(request.args.get("user", "0"))
        queue = request.args.get("queue", "open")
        key = (user_id, queue)
        with _floor_lock:
            statements = _floor_cache.get(key)
        if statements is None:
            statements = _capture(app, user_id, queue)
            with _floor_lock:
                _floor_cache[key] = statements
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            out = []
            for statement, params in statements:
                cur.execute(statement, params)
                out.append(cur.fetchall())
            raw.commit()
        finally:
            raw.close()
        total = out[0][0][0] if out and out[0] else 0
        rows = out[-1] if len(out) > 1 else []
        body = json.dumps({"total": total, "rows": rows}, default=str, ensure_ascii=False)
        g.bench_sql = len(statements)
        return Response(body, mimetype="application/json")

    app.add_url_rule("/__bench/floor", "bench_floor", floor)
    csrf.exempt(floor)


def make_app():
    app = create_app()
    if os.environ.get("BENCH_SQL_COUNT") == "1":
        _count_queries(app)
    if os.environ.get("BENCH_FLOOR") == "1":
        _add_floor(app)
    return app


app = make_app()
