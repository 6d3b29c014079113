"""Benchmark the reports on a large generated data set (a script, not a test).

    .venv/bin/python bench/reports.py                      # SQLite, 200,000 tickets
    .venv/bin/python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/helpdesk_bench_reports \
        --tickets 1000000                                  # PostgreSQL (create the database first)

Without --database-url it uses its own SQLite file (instance/bench_reports.db), never the
development database. The database is migrated to the heads and filled with bulk inserts
(COPY on PostgreSQL, executemany on SQLite) unless it already holds at least --tickets
tickets (--refill to start over). Then each report is timed for twelve months, grouped by
month and by unit, as an administrator and as the manager of one level-1 unit.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from helpdesk import ROOT, create_app  # noqa: E402
from helpdesk.accounts.models import Role, UnitMembership, User  # noqa: E402
from helpdesk.extensions import db  # noqa: E402

END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN_DAYS = 540  # tickets are filed over the 18 months before END
TICKET_COLS = ("id", "school_id", "category_id", "subject", "description", "priority", "status",
               "level", "unit_id", "channel", "created_at", "updated_at", "first_response_at",
               "resolved_at", "closed_at", "search_text", "sla_state", "first_response_minutes",
               "resolution_minutes", "first_response_breached", "resolution_breached")
STAY_COLS = ("ticket_id", "unit_id", "level", "arrived_at", "left_at", "left_how")
EVENT_COLS = ("ticket_id", "at", "kind", "is_internal")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url")
    p.add_argument("--tickets", type=int)
    p.add_argument("--refill", action="store_true", help="delete generated tickets first")
    p.add_argument("--repeat", type=int, default=3, help="runs per report (best is shown)")
    return p.parse_args()


# --- the data ---------------------------------------------------------------------------------

def _org():
    from helpdesk.org.models import Category, PartnerArea, School, SupportUnit

    units = db.session.execute(select(SupportUnit.id, SupportUnit.level, SupportUnit.directorate_id)).all()
    l1_by_dir = {d: u for u, lv, d in units if lv == 1 and d}
    l2_by_dir = dict(db.session.execute(select(PartnerArea.directorate_id, PartnerArea.unit_id)).all())
    l3 = next(u for u, lv, _d in units if lv == 3)
    schools = db.session.execute(select(School.id, School.directorate_id)).all()
    categories = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
    return schools, l1_by_dir, l2_by_dir, l3, categories


def _ensure_schools(n: int = 3000) -> None:
    """Enough schools to spread tickets over (bulk insert, once)."""
    from helpdesk.org.models import Directorate, School

    have = db.session.scalar(select(func.count()).select_from(School))
    if have >= n:
        return
    dirs = db.session.execute(select(Directorate.id, Directorate.sch_domain)).all()
    rows = []
    for i in range(n - have):
        d_id, dom = dirs[i % len(dirs)]
        rows.append({"code": f"9{i:06d}", "name": f"Σχολείο δοκιμής {i}", "name_folded": f"σχολειο δοκιμης {i}",
                     "school_type": "GYM", "email": f"mail@bench{i}.{dom}.sch.gr", "directorate_id": d_id,
                     "is_active": True, "source": "bench"})
    db.session.execute(School.__table__.insert(), rows)
    db.session.commit()


def generate(n: int, start_id: int, seed: int = 7):
    """Yield (ticket, stays, events) tuples of plain values."""
    rnd = random.Random(seed)
    schools, l1_by_dir, l2_by_dir, l3, categories = _org()
    schools = [(s, d) for s, d in schools if d in l1_by_dir]
    # Filed in time order, as in production (ids grow with created_at).
    offsets = sorted((rnd.randrange(SPAN_DAYS * 86400) for _ in range(n)), reverse=True)
    for i in range(n):
        school_id, d = schools[rnd.randrange(len(schools))]
        created = END - timedelta(seconds=offsets[i])
        chain = [(l1_by_dir[d], 1), (l2_by_dir.get(d, l3), 2), (l3, 3)]
        r = rnd.random()
        hops = 0 if r < 0.72 else 1 if r < 0.93 else 2
        stays, at = [], created
        for h in range(hops + 1):
            length = timedelta(hours=rnd.expovariate(1 / 20))
            unit, level = chain[h]
            left = at + length if h < hops else None
            stays.append((unit, level, at, left, "escalated" if h < hops else None))
            at = left or at
        age = (END - created).days
        status = ("closed" if age > 20 and rnd.random() < 0.9 else
                  rnd.choice(("new", "open", "waiting", "resolved", "closed")))
        done = status in ("resolved", "closed")
        frm = int(rnd.expovariate(1 / 120))
        rm = int(rnd.expovariate(1 / 1500)) if done else None
        first = created + timedelta(minutes=frm) if status != "new" else None
        resolved = at + timedelta(hours=rnd.expovariate(1 / 10)) if done else None
        if resolved and resolved > END:
            resolved = END
        closed = resolved + timedelta(days=3) if status == "closed" else None
        unit, level = stays[-1][0], stays[-1][1]
        tid = start_id + i
        ticket = (tid, school_id, rnd.choice(categories), "Δοκιμή", "Δοκιμή", rnd.choice((1, 2, 2, 2, 3, 4)),
                  status, level, unit, "web", created, resolved or created, first, resolved, closed,
                  "δοκιμη", "ok", frm if first else None, rm, (frm > 240) if first else None,
                  (rm > 2400) if rm is not None else None)
        events = [(tid, resolved - timedelta(hours=1), "reopen", False)] if done and rnd.random() < 0.04 else []
        yield ticket, [(tid, *s) for s in stays], events


def fill(n: int) -> None:
    dialect = db.engine.dialect.name
    start_id = (db.session.scalar(select(func.max(text("id"))).select_from(text("tickets"))) or 0) + 1
    t0 = time.perf_counter()
    tickets, stays, events = [], [], []
    for t, s, e in generate(n, start_id):
        tickets.append(t)
        stays.extend(s)
        events.extend(e)
    print(f"generated {len(tickets):,} tickets, {len(stays):,} stays, {len(events):,} events "
          f"in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "postgresql":
            for table, cols, rows in (("tickets", TICKET_COLS, tickets), ("ticket_stays", STAY_COLS, stays),
                                      ("ticket_events", EVENT_COLS, events)):
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cur.execute("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
            raw.commit()
            cur.execute("ANALYZE")
        else:
            def fmt(row):
                return tuple(v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                             if isinstance(v, datetime) else v for v in row)
            cur.execute("BEGIN")
            for table, cols, rows in (("tickets", TICKET_COLS, tickets), ("ticket_stays", STAY_COLS, stays),
                                      ("ticket_events", EVENT_COLS, events)):
                cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                (fmt(r) for r in rows))
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    print(f"inserted in {time.perf_counter() - t0:.1f}s", flush=True)


def refill() -> None:
    for table in ("ticket_events", "ticket_stays", "messages", "attachments", "tickets"):
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


# --- the timings ------------------------------------------------------------------------------

def actors():
    admin = User(id=-1, email="bench-admin", name="bench", role=Role.ADMIN, is_active_account=True)
    unit_id = db.session.scalar(text(
        "SELECT unit_id FROM ticket_stays WHERE level = 1 GROUP BY unit_id ORDER BY count(*) DESC LIMIT 1"))
    manager = User(id=-2, email="bench-manager", name="bench", role=Role.MANAGER, is_active_account=True)
    manager.memberships = [UnitMembership(unit_id=unit_id, is_manager=True)]
    return {"admin": admin, "manager": manager}


def time_reports(repeat: int) -> None:
    from helpdesk.reports import queries
    from helpdesk.reports.filters import ReportFilters

    now = END
    cases = []
    for grouping in ("month", "unit"):
        f = ReportFilters(date_from=date(2025, 11, 1), date_to=date(2026, 10, 31), grouping=grouping)
        cases.append((f"compliance by {grouping}", lambda a, f=f: queries.sla_compliance(a, f)))
        cases.append((f"health by {grouping}", lambda a, f=f: queries.tier_health(a, f, now)))
    f = ReportFilters(date_from=date(2025, 11, 1), date_to=date(2026, 10, 31))
    cases.append(("backlog ageing", lambda a: queries.backlog_ageing(a, f, now)))
    cases.append(("backlog trend by month", lambda a: queries.backlog_trend(a, f, now)))
    cases.append(("backlog trend by week", lambda a: queries.backlog_trend(a, f.with_(step="week"), now)))
    print(f"{'report':28} {'actor':8} {'best s':>8} {'rows':>5}")
    for who, actor in actors().items():
        for name, run in cases:
            best, rows = None, 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                table = run(actor)
                elapsed = time.perf_counter() - t0
                best = elapsed if best is None else min(best, elapsed)
                rows = len(table.rows)
                db.session.rollback()
            print(f"{name:28} {who:8} {best:8.3f} {rows:5}", flush=True)


def main() -> None:
    args = parse_args()
    url = args.database_url or f"sqlite:///{ROOT / 'instance' / 'bench_reports.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "", "RATELIMIT_ENABLED": False})
    n = args.tickets or (1_000_000 if url.startswith("postgres") else 200_000)
    with app.app_context():
        from flask_migrate import upgrade

        from helpdesk.org.services import load_reference_data

        os.environ.setdefault("FLASK_APP", "helpdesk")
        upgrade(revision="heads")
        load_reference_data()
        db.session.commit()
        _ensure_schools()
        if args.refill:
            refill()
        have = db.session.scalar(text("SELECT count(*) FROM tickets"))
        if have < n:
            db.session.commit()
            fill(n - have)
        db.session.commit()  # a fresh snapshot after the bulk load
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}; "
              f"tickets: {db.session.scalar(text('SELECT count(*) FROM tickets')):,}; "
              f"stays: {db.session.scalar(text('SELECT count(*) FROM ticket_stays')):,}", flush=True)
        time_reports(args.repeat)


if __name__ == "__main__":
    main()
