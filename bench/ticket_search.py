"""Ticket search before and after issue 17 (a script, not a test): the queue's search for
a few words, as the old ``search_text LIKE '%…%'`` filter and as the ranked full text.

    .venv/bin/python bench/ticket_search.py \
        --database-url postgresql://postgres@127.0.0.1:5432/helpdesk_bench_speed

Run it on a database filled by bench/generate.py (it only reads). For each query and
actor (an administrator: the whole country; a level-1 technician: his units), the page the
queue shows (the count, at most SEARCH_COUNT_LIMIT + 1, and 50 rows) is read ``--repeat``
times; printed: the median time of each way and the matches counted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from helpdesk import create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url",
                   default="postgresql://postgres@127.0.0.1:5432/helpdesk_bench_speed")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--query", action="append",
                   default=None, help="a query (repeatable); default: a few Greek ones")
    args = p.parse_args()
    queries_ = args.query or ["εκτυπωτης", "Εκτυπωτές", "δεν τυπώνει", "διαδίκτυο σύνδεση"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "RATELIMIT_ENABLED": False})
    from helpdesk.accounts.models import Role, UnitMembership, User
    from helpdesk.core.text import like_pattern
    from helpdesk.tickets import queries
    from helpdesk.tickets.models import Ticket

    def old_way(actor, q):
        f = queries.Filters(q="", sort="")
        stmt = queries.queue_statement(actor, "all", f).where(
            Ticket.search_text.like(like_pattern(q), escape="\\"))
        total = queries._count(stmt, queries.SEARCH_COUNT_LIMIT + 1)
        ids = stmt.with_only_columns(Ticket.id).order_by(Ticket.updated_at.desc(),
                                                         Ticket.id.desc()).limit(50)
        db.session.scalars(ids).all()
        return total

    def new_way(actor, q):
        return queries.list_queue(actor, "all", queries.Filters(q=q, sort=""), 50).total

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).limit(1))
        tech = db.session.scalar(select(User).join(
            UnitMembership, UnitMembership.user_id == User.id).where(
            User.role == Role.TECHNICIAN).order_by(User.id).limit(1))
        n = db.session.scalar(select(func.count(Ticket.id)))
        print(f"{n} tickets ({db.engine.dialect.name}); median of {args.repeat} runs")
        print(f"{'actor':<6} {'query':<20} {'LIKE ms':>8} {'n':>5} {'FTS ms':>8} {'n':>5}")
        for who, actor in (("admin", admin), ("l1", tech)):
            if actor is None:
                continue
            for q in queries_:
                row = [who, q]
                for way in (old_way, new_way):
                    times = []
                    for _ in range(args.repeat):
                        started = time.perf_counter()
                        total = way(actor, q)
                        times.append((time.perf_counter() - started) * 1000)
                        db.session.rollback()
                    row += [statistics.median(times), total]
                print(f"{row[0]:<6} {row[1]:<20} {row[2]:>8.1f} {row[3]:>5} {row[4]:>8.1f} "
                      f"{row[5]:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
