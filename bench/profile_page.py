"""Where a page's time goes: EXPLAIN ANALYZE of every statement it sends, and a pyinstrument
profile of the request in-process (Flask test client, the bench app).

    .venv/bin/python bench/profile_page.py --database-url postgresql://postgres@127.0.0.1:5432/arogi_bench_1m \
        --as l1 --path '/tickets?queue=open'
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--database-url", required=True)
    p.add_argument("--as", dest="who", default="l1", help="l1, l2, school, admin or an e-mail")
    p.add_argument("--path", default="/tickets?queue=open")
    p.add_argument("--explain", action="store_true", default=True)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    url = args.database_url
    os.environ.update(DATABASE_URL=url, HELPDESK_DATABASE_URL=url,
                      HELPDESK_RATELIMIT_ENABLED="false", BENCH_SQL_COUNT="1")
    from sqlalchemy import event

    from bench import http_load, wsgi
    from helpdesk.extensions import db

    actors = http_load.pick_actors(url)
    email = {"l1": actors["l1"][1], "l2": actors["l2"][1], "school": actors["school"][0],
             "admin": actors["admin"]}.get(args.who, args.who)
    app = wsgi.make_app()
    app.config.update(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": http_load.PASSWORD}
                       ).status_code == 302
    captured = []
    with app.app_context():
        engine = db.engine

    def grab(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters, time.perf_counter()))

    client.get(args.path)  # warm
    event.listen(engine, "before_cursor_execute", grab)
    r = client.get(args.path)
    event.remove(engine, "before_cursor_execute", grab)
    print(f"{args.path} as {email}: {r.status_code}, {r.headers.get('X-SQL-Queries')} statements, "
          f"{r.headers.get('X-SQL-Ms')} ms in SQL")
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        client.get(args.path)
        times.append((time.perf_counter() - t) * 1000)
    print(f"in-process: median {sorted(times)[len(times) // 2]:.1f} ms over {args.repeat}")
    if url.startswith("postgres") and args.explain:
        raw = engine.raw_connection()
        cur = raw.cursor()
        for statement, params, _t in captured:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = [row[0] for row in cur.fetchall()]
            print("\n--- " + " ".join(statement.split())[:300])
            print("\n".join(plan[:25]))
        raw.rollback()
        raw.close()
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument not installed (pip install -e '.[bench]')")
        return
    prof = Profiler(interval=0.0005)
    prof.start()
    for _ in range(args.repeat):
        client.get(args.path)
    prof.stop()
    print(prof.output_text(unicode=True, color=False, show_all=False)[:12000])


if __name__ == "__main__":
    main()
