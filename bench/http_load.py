"""HTTP measurements: the app under gunicorn on 127.0.0.1, a closed-loop client on loopback.

    .venv/bin/python bench/http_load.py --database-url postgresql://postgres@127.0.0.1:5432/arogi_bench_100k

gunicorn runs ``bench.wsgi:app`` with 2 **sync** workers (like the peer), with the bench-only
SQL counter (X-SQL-Queries) and the floor endpoint switched on. For every operation the
client runs 1 thread, then 4 threads, each with its own logged-in ``requests.Session``,
back to back; no request starts after ``--secs`` seconds unless fewer than ``--min``
completed, and never more than ``--max`` in all, and every in-flight request is awaited.
p50 is the median, p95 the nearest rank, throughput completed requests over wall time.
Peak memory is the highest VmHWM (peak RSS) of the gunicorn workers at the end.
Prints one ``HTTP`` line per measurement and writes them as JSON with --json.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.sinks import read_facts  # noqa: E402

PASSWORD = "arogi-demo-2026"
CSRF = re.compile(r'name="((?:[\w]+-)?csrf_token)"[^>]*value="([^"]+)"')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--port", type=int, default=8766)
    p.add_argument("--secs", type=float, default=6.0, help="time per cell")
    p.add_argument("--min", type=int, default=5, dest="min_n")
    p.add_argument("--max", type=int, default=300, dest="max_n")
    p.add_argument("--concurrency", default="1,4")
    p.add_argument("--only", default="", help="comma-separated operation names")
    p.add_argument("--json", default="")
    return p.parse_args(argv)


# --- who and what to ask for ------------------------------------------------------------------

def _db_rows(url: str, sql: str, params=()):
    if url.startswith("sqlite"):
        import sqlite3

        c = sqlite3.connect(url.split(":///", 1)[1])
        rows = c.execute(sql.replace("%s", "?"), params).fetchall()
        c.close()
        return rows
    import psycopg

    from bench.sinks import _plain_pg

    with psycopg.connect(_plain_pg(url)) as c:
        return c.execute(sql, params).fetchall()


def pick_actors(url: str) -> dict:
    """The busiest level-1 and level-2 units' technicians, a busy school, ticket pools."""
    open_ = "('new', 'open', 'waiting')"

    def busiest(level):
        return _db_rows(url, f"""SELECT u.id FROM support_units u
            LEFT JOIN tickets t ON t.unit_id = u.id AND t.status IN {open_}
            WHERE u.level = %s AND EXISTS (SELECT 1 FROM unit_memberships m
                                           WHERE m.unit_id = u.id)
            GROUP BY u.id ORDER BY count(t.id) DESC, u.id LIMIT 1""", (level,))[0][0]

    def tech(unit):
        return _db_rows(url, """SELECT u.id, u.email FROM users u JOIN unit_memberships m
            ON m.user_id = u.id WHERE m.unit_id = %s ORDER BY m.is_manager, u.id LIMIT 1""",
                        (unit,))[0]

    l1, l2 = busiest(1), busiest(2)
    school = _db_rows(url, """SELECT u.email, s.id FROM users u JOIN schools s ON s.id = u.school_id
        WHERE s.id = (SELECT school_id FROM tickets GROUP BY school_id ORDER BY count(*) DESC
        LIMIT 1)""")[0]
    pool = [r[0] for r in _db_rows(url, f"""SELECT ref FROM tickets WHERE unit_id = %s
        AND level = 1 AND status IN {open_} ORDER BY id DESC LIMIT 400""", (l1,))]
    facts = read_facts(url)
    long_t = next((t for t in facts["long_tickets"] if t["entries"] >= 28),
                  facts["long_tickets"][0] if facts["long_tickets"] else None)
    if long_t is None:  # tiny data sets: the ticket with most messages
        ref, unit = _db_rows(url, """SELECT t.ref, t.unit_id FROM tickets t JOIN messages m
            ON m.ticket_id = t.id GROUP BY t.id, t.ref, t.unit_id ORDER BY count(*) DESC
            LIMIT 1""")[0]
        long_t = {"ref": ref, "unit": unit, "entries": None}
    cat = _db_rows(url, "SELECT id FROM categories WHERE code = 'HW-PRN'")[0][0]
    half = len(pool) // 2
    return {
        "l1_unit": l1, "l1": tech(l1), "l2_unit": l2, "l2": tech(l2),
        "school": school, "long": long_t, "long_tech": tech(long_t["unit"]),
        "reply_pool": pool[:min(half, 40)], "escalate_pool": pool[half:],
        "category": cat, "admin": "arogi-admin@sch.gr", "facts": facts,
    }


# --- gunicorn ---------------------------------------------------------------------------------

class Server:
    def __init__(self, url: str, port: int, workers: int = 2):
        self.base = f"http://127.0.0.1:{port}"
        instance = Path(os.environ.get("BENCH_INSTANCE", "/tmp/arogi-bench/instance"))
        instance.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, DATABASE_URL=url, HELPDESK_DATABASE_URL=url,
                   HELPDESK_INSTANCE_PATH=str(instance), HELPDESK_RATELIMIT_ENABLED="false",
                   BENCH_SQL_COUNT="1", BENCH_FLOOR="1", PYTHONPATH=str(ROOT))
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = open(instance / "gunicorn.log", "w")
        self.proc = subprocess.Popen(
            [str(gunicorn), "-w", str(workers), "-k", "sync", "--timeout", "300",
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench.wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if requests.get(self.base + "/login", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not come up; see {instance / 'gunicorn.log'}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def peak_rss_mb(self) -> float:
        peak = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return round(peak / 1024, 1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def login(base: str, email: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    page = s.get(base + "/login", timeout=60).text
    token = CSRF.search(page).group(2)
    r = s.post(base + "/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
               allow_redirects=False, timeout=60)
    if r.status_code != 302:
        raise RuntimeError(f"log-in as {email} failed: {r.status_code}")
    return s, token


# --- the closed loop --------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def run_cell(make_session, request_fn, threads: int, secs: float, min_n: int, max_n: int,
             supply=None) -> dict:
    """``threads`` clients back to back; bounded by time, count and (optionally) a supply."""
    sessions = [make_session() for _ in range(threads)]
    lock = threading.Lock()
    lat, sqls, sql_ms, bad = [], [], [], []
    started = time.perf_counter()

    def client(sess):
        while True:
            with lock:
                n = len(lat) + len(bad)
                elapsed = time.perf_counter() - started
                if n >= max_n or (elapsed >= secs and n >= min_n):
                    return
                item = None
                if supply is not None:
                    item = next(supply, None)
                    if item is None:
                        return
                lat.append(None)  # reserve a slot so the count bound holds
            t = time.perf_counter()
            try:
                r = request_fn(sess, item)
                ok = r.status_code in (200, 302)
            except requests.RequestException:
                r, ok = None, False
            dt = (time.perf_counter() - t) * 1000
            with lock:
                lat.remove(None)
                if ok:
                    lat.append(dt)
                    if "X-SQL-Queries" in r.headers:
                        sqls.append(int(r.headers["X-SQL-Queries"]))
                        sql_ms.append(float(r.headers.get("X-SQL-Ms", "nan")))
                else:
                    bad.append(r.status_code if r is not None else "error")

    workers = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    return {"n": len(lat), "p50": round(statistics.median(lat), 1) if lat else None,
            "p95": round(percentile(lat, 95), 1) if lat else None,
            "rps": round(len(lat) / wall, 1) if wall else None,
            "sql": int(statistics.median(sqls)) if sqls else None,
            "sql_max": max(sqls) if sqls else None,
            "sql_ms": round(statistics.median(sql_ms), 1) if sql_ms else None,
            "errors": len(bad), "error_codes": sorted({str(b) for b in bad})[:5]}


def filing_form(category: int) -> dict:
    """The form a school posts to /tickets/new (csrf token aside; bench/profile_page.py too)."""
    return {"category": category, "priority": "2",
            "subject": "Ο εκτυπωτής του γραφείου δεν τυπώνει",
            "description": "Από σήμερα το πρωί ο εκτυπωτής εμφανίζει σφάλμα χαρτιού."}


def operations(base: str, a: dict) -> list[tuple]:
    """(name, who, request(session, item), supply factory or None)."""
    today = date.today()
    year_ago = today - timedelta(days=365)
    cat = a["category"]

    def get(path):
        return lambda s, _i: s.get(base + path, allow_redirects=False, timeout=300)

    def file_ticket(s, _i):
        r = s.post(base + "/tickets/new", allow_redirects=False, timeout=300,
                   data={"csrf_token": s.bench_token, **filing_form(cat)})
        # A browser follows the redirect and the ticket page shows (and drops) the
        # "filed" message; without it every filing's message piled up in the session
        # cookie (hundreds of them: a request read and signed again a growing cookie).
        s.cookies = s.bench_cookies.copy()
        return r

    def reply(s, ref):
        return s.post(f"{base}/tickets/{ref}/reply", allow_redirects=False, timeout=300,
                      data={"reply-csrf_token": s.bench_token,
                            "reply-body": "Παρακαλούμε δοκιμάστε ξανά μετά την επανεκκίνηση."})

    def escalate(s, ref):
        return s.post(f"{base}/tickets/{ref}/escalate", allow_redirects=False, timeout=300,
                      data={"escalate-csrf_token": s.bench_token,
                            "escalate-reason": "Χρειάζεται έλεγχος από τον φορέα ΠΣΔ."})

    l1 = a["l1"][1]
    reply_pool = a["reply_pool"] or ["ΑΡ-0000-000000"]
    return [
        ("dashboard (/tickets, default)", l1, get("/tickets"), None),
        ("queue L1 (open)", l1, get("/tickets?queue=open"), None),
        ("floor L1 (open)", None, get(f"/__bench/floor?user={a['l1'][0]}&queue=open"), None),
        ("queue L2 (open)", a["l2"][1], get("/tickets?queue=open"), None),
        ("school list (all)", a["school"][0], get("/tickets?queue=all"), None),
        ("ticket page (30 entries)", a["long_tech"][1], get(f"/tickets/{a['long']['ref']}"),
         None),
        ("search 'εκτυπωτης'", l1, get("/tickets?queue=all&q=%CE%B5%CE%BA%CF%84%CF%85%CF%80%CF%89"
                                       "%CF%84%CE%B7%CF%82"), None),
        ("file ticket (POST)", a["school"][0], file_ticket, None),
        ("reply (POST)", l1, reply, lambda: itertools.cycle(reply_pool)),
        ("escalate (POST)", l1, escalate, lambda: iter(list(a["escalate_pool"]))),
        ("SLA report 12 months", a["admin"],
         get(f"/reports/compliance?from={year_ago.isoformat()}&to={today.isoformat()}"
             "&group=month"), None),
    ]


def _split_supply(supply, parts: int) -> list:
    """Each concurrency level its own share of a one-use pool (tickets to escalate); a
    cycling pool (replies) is shared as it is."""
    if supply is None:
        return [None] * parts
    items = supply()
    if isinstance(items, itertools.cycle):
        return [items] * parts
    pool = list(items)
    return [iter(pool[i::parts]) for i in range(parts)]


def measure(url: str, args) -> dict:
    actors = pick_actors(url)
    server = Server(url, args.port)
    results = {"actors": {k: v for k, v in actors.items() if k != "facts"}, "cells": {}}
    only = {o.strip() for o in args.only.split(",") if o.strip()}
    try:
        def session_for(email):
            def make():
                if email is None:
                    s = requests.Session()
                    s.bench_token = ""
                    return s
                s, token = login(server.base, email)
                page = s.get(server.base + "/tickets", timeout=300).text
                m = CSRF.search(page)
                s.bench_token = m.group(2) if m else token
                s.bench_cookies = s.cookies.copy()  # signed in, no message waiting
                return s
            return make

        have_reports = requests.get(server.base + "/reports/", allow_redirects=False,
                                    timeout=60).status_code != 404
        for name, who, fn, supply in operations(server.base, actors):
            if only and not any(o in name for o in only):
                continue
            if name.startswith("SLA report") and not have_reports:
                print(f"HTTP {name}: /reports does not exist; skipped", flush=True)
                continue
            make = session_for(who)
            warm = make()
            for _ in range(2 if supply is None else 0):
                fn(warm, None)
            levels = [int(x) for x in args.concurrency.split(",")]
            slices = _split_supply(supply, len(levels))  # an escalated ticket is used up
            for c, items in zip(levels, slices, strict=True):
                max_n = args.max_n if supply is None else min(args.max_n, 400)
                cell = run_cell(make, fn, c, args.secs, args.min_n, max_n, items)
                results["cells"][f"{name}|c{c}"] = cell
                print(f"HTTP {name:<30} c{c} n={cell['n']:<4} p50={cell['p50']} ms "
                      f"p95={cell['p95']} ms rps={cell['rps']} sql={cell['sql']} "
                      f"(max {cell['sql_max']}, {cell['sql_ms']} ms) errors={cell['errors']}"
                      f"{' ' + ','.join(cell['error_codes']) if cell['errors'] else ''}",
                      flush=True)
        results["peak_rss_mb"] = server.peak_rss_mb()
        print(f"HTTP peak worker RSS {results['peak_rss_mb']} MB", flush=True)
    finally:
        server.stop()
    return results


def main(argv=None):
    args = parse_args(argv)
    results = measure(args.database_url, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
