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
import itertools
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
    p.add_argument("--post", choices=("filing", "reply", "escalate"),
                   help="profile a write instead of --path (reply and escalate: the level-1 "
                        "technician, on the benchmark's pools of open level-1 tickets)")
    p.add_argument("--summary", action="store_true",
                   help="no EXPLAIN; the profile as the time of each layer (for the results)")
    p.add_argument("--top", type=int, default=0,
                   help="no EXPLAIN; the N functions of any library with most own time")
    args = p.parse_args(argv)
    if args.summary or args.top:
        args.explain = False
    if args.post:
        args.who = "school" if args.post == "filing" else "l1"
        args.path, args.explain = "/tickets/new" if args.post == "filing" else args.post, False
    url = args.database_url
    os.environ.update(DATABASE_URL=url, HELPDESK_DATABASE_URL=url,
                      HELPDESK_RATELIMIT_ENABLED="false", BENCH_SQL_COUNT="1")
    from sqlalchemy import event

    from bench import http_load, wsgi
    from helpdesk.extensions import db

    actors = http_load.pick_actors(url)
    email = {"l1": actors["l1"][1], "l2": actors["l2"][1], "school": actors["school"][0],
             "admin": actors["admin"], "long": actors["long_tech"][1]}.get(args.who, args.who)
    if args.path == "long":  # the benchmark's ticket page: its longest ticket
        args.path = f"/tickets/{actors['long']['ref']}"
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
        logged_in = client.get_cookie("session").value
        if args.post == "filing":
            form, refs = http_load.filing_form(actors["category"]), itertools.repeat(None)
        elif args.post == "reply":
            form = {"reply-body": "Παρακαλούμε δοκιμάστε ξανά μετά την επανεκκίνηση."}
            refs = itertools.cycle(actors["reply_pool"])
        else:  # each ticket escalates once: the pool bounds the requests
            form = {"escalate-reason": "Χρειάζεται έλεγχος από τον φορέα ΠΣΔ."}
            refs = iter(actors["escalate_pool"])
            args.repeat = min(args.repeat, (len(actors["escalate_pool"]) - 2) // 2)
            if args.repeat < 1:
                print(f"escalate: only {len(actors['escalate_pool'])} open level-1 tickets "
                      "left to escalate at the busiest unit; not profiled")
                return

        def request():
            ref = next(refs)
            path = args.path if ref is None else f"/tickets/{ref}/{args.post}"
            r = client.post(path, data=form)
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
            keep = int(os.environ.get("PLAN_LINES", 25))
            print("\n".join(plan[:keep] + (["  …", *plan[-2:]] if len(plan) > keep + 2
                                             else plan[keep:])))
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
    if args.summary:
        print(layer_summary(prof.last_session.root_frame(), args.repeat))
        return
    if args.top:
        print(top_functions(prof.last_session.root_frame(), args.repeat, args.top))
        return
    print(prof.output_text(unicode=True, color=False, show_all=False)[:12000])


#: Where a frame's own time goes, by the first pattern found in its file's path.
LAYERS = (
    ("psycopg", "database: the driver sending and waiting for the statements"),
    ("sqlalchemy/orm", "ORM: building objects and statements, the unit of work"),
    ("sqlalchemy", "SQLAlchemy Core: compiling statements, the engine, results"),
    ("jinja2", "templates: Jinja2 itself"),
    ("templates/", "templates: the pages' own code"),
    ("/babel/", "translation and formatting (Babel)"),
    ("flask_babel", "translation and formatting (Babel)"),
    ("wtforms", "forms (WTForms, CSRF)"),
    ("flask_wtf", "forms (WTForms, CSRF)"),
    ("werkzeug", "WSGI, Flask and sessions"),
    ("flask", "WSGI, Flask and sessions"),
    ("itsdangerous", "WSGI, Flask and sessions"),
    ("/email/", "mail parsing (the standard library's email package)"),
    ("redis", "Redis and RQ"),
    ("/rq/", "Redis and RQ"),
    ("helpdesk/", "the application's own code"),
    ("bench/", "the bench app's hooks (statement counting)"),
)


def layer_summary(root, requests: int) -> str:
    """Each layer's own time per request (ms, share), from a pyinstrument frame tree, and
    the application functions that spend most in their own lines."""
    from collections import Counter

    by_layer, by_function = Counter(), Counter()
    stack = [(root, "other Python")]
    while stack:
        frame, parent_layer = stack.pop()
        path = (frame.file_path or "").replace("\\", "/")
        # a built-in (a socket's wait, str.join) counts in the layer that called it
        layer = (parent_layer if not path or path.startswith("<") else
                 next((name for pattern, name in LAYERS if pattern in path), "other Python"))
        stack.extend((child, layer) for child in frame.children)
        if frame.is_synthetic:  # "[self]": its time is its parent's own, counted there
            continue
        own = frame.total_self_time
        by_layer[layer] += own
        if "helpdesk/" in path:
            by_function[f"{frame.function} ({frame.file_path_short}:{frame.line_no})"] += own
    total = sum(by_layer.values()) or 1
    lines = [f"{ms * 1000 / requests:7.2f} ms {ms / total:5.0%}  {name}"
             for name, ms in by_layer.most_common()]
    lines.append("  the application's functions with most time in their own lines:")
    lines += [f"  {ms * 1000 / requests:7.2f} ms  {name}"
              for name, ms in by_function.most_common(6)]
    return "\n".join(lines)


def top_functions(root, requests: int, n: int) -> str:
    """The ``n`` functions (any library's) with most time in their own lines, per request;
    a built-in's time counts in its caller."""
    from collections import Counter

    own = Counter()
    stack = [(root, "?")]
    while stack:
        frame, caller = stack.pop()
        path = frame.file_path or ""
        name = (caller if not path or path.startswith("<") or frame.is_synthetic else
                f"{frame.function} ({frame.file_path_short}:{frame.line_no})")
        stack.extend((child, name) for child in frame.children)
        own[name] += frame.total_self_time
    return "\n".join(f"{ms * 1000 / requests:7.2f} ms  {name}" for name, ms in own.most_common(n))


if __name__ == "__main__":
    main()
