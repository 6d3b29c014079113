"""Where a page's time goes: EXPLAIN ANALYZE of every statement it sends, and a pyinstrument
profile of the request in-process (Flask test client, the bench app).

    .venv/bin/python bench/profile_page.py --database-url postgresql://postgres@127.0.0.1:5432/arogi_bench_1m \
        --as l1 --path '/tickets?queue=open'

``--post filing``: the school files a request as bench/http_load.py's ``file_ticket`` does
(no EXPLAIN: the statements write). It prints the worker's CPU time per filing
(``time.process_time`` over ``--repeat`` filings, enqueues included: Redis must be up) and
then a pyinstrument profile of ``--repeat`` more filings.
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
    p.add_argument("--post", choices=("filing",), help="profile a write instead of --path")
    args = p.parse_args(argv)
    if args.post:
        args.who, args.path, args.explain = "school", "/tickets/new", False
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

    if args.post:
        form = http_load.filing_form(actors["category"])
        logged_in = client.get_cookie("session").value

        def request():
            r = client.post(args.path, data=form)
            assert r.status_code == 302, r.status_code
            # as a browser that follows the redirect, which shows (and drops) the flash: a
            # session cookie left to collect hundreds of flashes costs ms to sign and read
            client.set_cookie("session", logged_in)
            return r
    else:
        def request():
            return client.get(args.path)

    request()  # warm
    event.listen(engine, "before_cursor_execute", grab)
    r = request()
    event.remove(engine, "before_cursor_execute", grab)
    print(f"{args.post or args.path} as {email}: {r.status_code}, "
          f"{r.headers.get('X-SQL-Queries')} statements, {r.headers.get('X-SQL-Ms')} ms in SQL")
    times = []
    cpu = time.process_time()
    for _ in range(args.repeat):
        t = time.perf_counter()
        request()
        times.append((time.perf_counter() - t) * 1000)
    cpu = (time.process_time() - cpu) * 1000 / args.repeat
    print(f"in-process: median {sorted(times)[len(times) // 2]:.1f} ms, CPU {cpu:.2f} ms per "
          f"request over {args.repeat}")
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
        request()
    prof.stop()
    print(prof.output_text(unicode=True, color=False, show_all=False)[:12000])


if __name__ == "__main__":
    main()
