"""Benchmark the SLA escalation sweep on generated open tickets (a script, not a test).

    .venv/bin/python bench/sla_sweep.py                       # SQLite, 20,000 tickets
    .venv/bin/python bench/sla_sweep.py --tickets 100000 \
        --database-url postgresql://postgres@127.0.0.1:5432/helpdesk_bench_sla

Without --database-url it uses its own SQLite file (instance/bench_sla.db, recreated each
run), never the development database. Tickets are filed over the ten working days before
NOW with bulk inserts, their SLA computed by the pure clock; then the sweep runs twice
(the second run must escalate nothing) and the figures are printed.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from helpdesk import ROOT, create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # a Friday, 12:00 Athens


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url")
    p.add_argument("--tickets", type=int, default=20_000)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--days", type=float, default=3,
                   help="tickets are filed over this many days before NOW")
    return p.parse_args()


def prepare(url: str | None):
    if url is None:
        path = ROOT / "instance" / "bench_sla.db"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": ""})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        from helpdesk.org.models import SupportUnit
        from helpdesk.org.services import load_reference_data

        if not db.session.scalar(select(func.count(SupportUnit.id))):
            load_reference_data()
        db.session.commit()
    return app


def generate(n: int, days: float) -> int:
    from helpdesk.org.models import Category, PartnerArea, School, SupportUnit
    from helpdesk.sla import clock
    from helpdesk.sla.calendar import default_calendar
    from helpdesk.sla.services import default_policy, to_clock_policy
    from helpdesk.tickets.models import Ticket, TicketEvent, TicketStay

    started = time.perf_counter()
    rng = random.Random(5)
    units = db.session.execute(select(SupportUnit.id, SupportUnit.level,
                                      SupportUnit.directorate_id)).all()
    l1 = {d: u for u, lv, d in units if lv == 1 and d}
    l2 = dict(db.session.execute(select(PartnerArea.directorate_id, PartnerArea.unit_id)).all())
    schools = [(s, d) for s, d in db.session.execute(select(School.id, School.directorate_id))
               if d in l1 and d in l2]
    if not schools:
        from helpdesk.org.models import Directorate

        d = next(d for d in db.session.scalars(select(Directorate)) if d.id in l1 and d.id in l2)
        for i in range(200):
            db.session.add(School(code=f"9{i:06d}", name=f"Σχολείο {i}", name_folded=f"σχολειο {i}",
                                  school_type="GYM", email=f"mail@b{i}.{d.sch_domain}.sch.gr",
                                  directorate_id=d.id))
        db.session.flush()
        schools = [(s, d) for s, d in db.session.execute(select(School.id, School.directorate_id))]
    category = db.session.scalar(select(Category.id).where(Category.first_level == 1))
    calendar = default_calendar()
    policies = {p: to_clock_policy(default_policy(p)) for p in (1, 2, 3, 4)}
    first_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    tickets, events, stays = [], [], []
    for i in range(n):
        tid = first_id + i
        school, directorate = rng.choice(schools)
        created = NOW - timedelta(minutes=rng.randint(10, int(days * 24 * 60)))
        priority = rng.choice((1, 2, 2, 2, 3, 4))
        unit = l1[directorate]
        history = [clock.Event(created, "status", None, "new"), clock.Event(created, "level", None, "1")]
        sla = clock.compute(NOW, history, calendar, policies[priority])
        tickets.append(dict(
            id=tid, ref=f"ΑΡ-2026-{tid:06d}", school_id=school, category_id=category,
            subject="Δοκιμαστικό αίτημα", description="Παράγεται για το benchmark.",
            priority=priority, status="new", level=1, unit_id=unit, channel="web",
            created_at=created, updated_at=created, search_text="", sla_state=sla.state,
            first_response_due_at=sla.first_response.due_at,
            resolution_due_at=sla.resolution.due_at, level_due_at=sla.level_due_at))
        events.append(dict(ticket_id=tid, at=created, kind="created", field="status",
                           new_value="new", is_internal=False))
        stays.append(dict(ticket_id=tid, unit_id=unit, level=1, arrived_at=created))
    for model, rows in ((Ticket, tickets), (TicketEvent, events), (TicketStay, stays)):
        for k in range(0, len(rows), 5000):
            db.session.execute(insert(model), rows[k:k + 5000])
    db.session.commit()
    overdue = sum(1 for t in tickets if t["level_due_at"] <= NOW)
    print(f"generated {n} open tickets in {time.perf_counter() - started:.1f} s; "
          f"{overdue} past their level time at {NOW.isoformat()}")
    return overdue


def main():
    args = parse_args()
    app = prepare(args.database_url)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        overdue = generate(args.tickets, args.days)
        from helpdesk.sla.sweep import sweep

        for run in (1, 2):
            started = time.perf_counter()
            result = sweep(now=NOW, batch_size=args.batch_size, on_batch=db.session.commit)
            db.session.commit()
            took = time.perf_counter() - started
            print(f"sweep {run}: {took:.2f} s; checked {result.checked}, escalated "
                  f"{len(result.escalated)}, warned {len(result.warned)}, "
                  f"notifications {result.notifications}")
            if run == 1:
                assert len(result.escalated) == overdue, (len(result.escalated), overdue)
            else:
                assert not result.escalated


if __name__ == "__main__":
    main()
