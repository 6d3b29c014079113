"""Fill a database with the national data set for the scale benchmark, fast.

    .venv/bin/python bench/generate.py --database-url postgresql://postgres@127.0.0.1:5432/arogi_bench \
        --tickets 1000000            # ~15,000 schools, 300,000 items, 1M tickets over ten years
    .venv/bin/python bench/generate.py --database-url sqlite:////tmp/arogi-bench.db --tickets 10000

The database is dropped and created (PostgreSQL: from a migrated template that is built
once per schema version; SQLite: a fresh file), migrated with the app's own migrations
(``helpdesk db upgrade heads``) and given the reference data (``helpdesk org load``).
Rows are generated in Python from precomputed pools and written with COPY (psycopg 3,
text format, secondary indexes and foreign-key triggers off during the load, indexes
recreated from their exact definitions afterwards), or executemany on SQLite. Then
ANALYZE and the sequences are reset. Prints one ``GEN`` line per phase and a summary.
"""
from __future__ import annotations

import argparse
import os
import queue
import random
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench import datagen  # noqa: E402
from bench.sinks import open_sink  # noqa: E402


@dataclass
class Sizes:
    tickets: int
    schools: int = 15000
    items: int = 300000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/arogi_bench"))
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--schools", type=int, default=None,
                   help="default 15,000 (fewer below 10k tickets)")
    p.add_argument("--items", type=int, default=None,
                   help="equipment items (default 300,000; scaled down below 10k tickets)")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--now", default=None, help="ISO time the data ends at (default: now)")
    p.add_argument("--keep", action="store_true", help="reuse the database if it already "
                   "holds this many tickets (compares a marker row)")
    return p.parse_args(argv)


def default_sizes(args) -> Sizes:
    schools = args.schools or (15000 if args.tickets >= 10000 else max(60, args.tickets // 5))
    items = args.items if args.items is not None else (
        300000 if args.tickets >= 10000 else schools * 5)
    return Sizes(args.tickets, schools, items)


def log(phase: str, started: float, **figures) -> None:
    extra = " ".join(f"{k}={v}" for k, v in figures.items())
    print(f"GEN {phase:<22} {time.perf_counter() - started:8.1f} s  {extra}", flush=True)


def migrate_in_process(url: str) -> None:
    """What ``helpdesk db upgrade heads`` and ``helpdesk org load`` do, without two start-ups."""
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.org.services import load_reference_data

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        load_reference_data()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def generate(args) -> dict:
    """Build the database; returns the counts written."""
    t0 = time.perf_counter()
    sizes = default_sizes(args)
    now = (datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)).replace(
        minute=0, second=0, microsecond=0)
    sink = open_sink(args.database_url)
    if args.keep and sink.has_marker(sizes.tickets, args.seed):
        print(f"GEN reuse {sink.safe_url} (already {sizes.tickets} tickets)", flush=True)
        sink.close()
        # A data set kept from an earlier schema gets this code's migrations (a page that
        # reads a newer table would answer 500 on it).
        migrate_in_process(args.database_url)
        log("reuse: migrated to heads", t0)
        return {"reused": True}
    sink.recreate(migrate_in_process)
    log("migrate+org", t0)
    rng = random.Random(args.seed)
    org = datagen.read_org(sink)
    bulk = ["schools", "users", "unit_memberships", "tickets", "ticket_stays", "messages",
            "ticket_events", "attachments", "equipment_items", "ticket_equipment"]
    sink.before_bulk([t for t in bulk if sink.has_table(t)])
    schools = datagen.plan_schools(org, sizes.schools, rng)
    sink.copy("schools", datagen.SCHOOL_COLS, (s.row for s in schools if s.is_new))
    users = datagen.plan_users(org, schools, rng)
    sink.copy("users", datagen.USER_COLS, users.rows)
    sink.copy("unit_memberships", datagen.MEMBER_COLS, users.memberships)
    log("schools+users", t0, schools=len(schools), users=len(users.rows))
    counts = {"schools": len(schools), "users": len(users.rows)}
    has_inventory = sink.has_table("equipment_items")
    items = None
    if has_inventory and sizes.items:
        items = datagen.plan_items(sink, schools, sizes.items, rng, now)
        counts["equipment_items"] = items.count
        log("equipment", t0, items=items.count)
    gen = datagen.TicketGenerator(org, schools, users, items, now, rng,
                                  stay_units="stay_units" in sink.columns("tickets"))
    # Python generates the next batch while the server digests the previous one, on two
    # connections (messages and events on one, the rest on the other): two cores.
    lanes = [queue.Queue(maxsize=2), queue.Queue(maxsize=2)]
    heavy = {"messages", "ticket_events"}
    sinks = [sink, sink.fork()] if sink.kind == "postgresql" else [sink, sink]
    failed: list[BaseException] = []

    def writer(lane: queue.Queue, target):
        while (part := lane.get()) is not None:
            try:
                if not failed:
                    for table, cols, rows in part:
                        target.copy(table, cols, rows)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                failed.append(exc)
    if sink.kind == "postgresql":
        threads = [threading.Thread(target=writer, args=(lanes[i], sinks[i])) for i in (0, 1)]
    else:
        threads = [threading.Thread(target=writer, args=(lanes[0], sink))]
        lanes[1] = lanes[0]
    for t in threads:
        t.start()
    try:
        for batch in gen.batches(sizes.tickets):
            if failed:
                break
            lanes[0].put([b for b in batch if b[0] not in heavy])
            lanes[1].put([b for b in batch if b[0] in heavy])
            if gen.done % max(1, sizes.tickets // 10) < gen.batch_size:
                log("tickets", t0, done=gen.done, **gen.counts)
    finally:
        for lane in {id(q): q for q in lanes}.values():
            lane.put(None)
        for t in threads:
            t.join()
        if sinks[1] is not sink:
            sinks[1].close()
    if failed:
        raise failed[0]
    counts.update(gen.counts)
    log("tickets loaded", t0, **gen.counts)
    sink.after_bulk(log=lambda what: log(what, t0))
    facts = gen.bench_facts()
    facts["generated_seconds"] = round(time.perf_counter() - t0, 1)  # shown when reused
    facts["generated_on"] = datetime.now(UTC).isoformat(timespec="seconds")
    sink.write_marker(sizes.tickets, args.seed, facts)
    sink.close()
    log("done", t0, **counts)
    return counts


def main(argv=None) -> None:
    args = parse_args(argv)
    generate(args)


if __name__ == "__main__":
    main()
