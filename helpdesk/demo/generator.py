"""Build the demo data set: schools, accounts and tickets. Flushes; the CLI commits.

The same seed on the same database gives the same schools, people and ticket
stories; ticket times are relative to ``now``.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from helpdesk.accounts.passwords import hash_password
from helpdesk.demo.accounts import DEMO_PASSWORD, create_accounts
from helpdesk.demo.schools import create_schools
from helpdesk.demo.tickets import load_cast, play_ticket, schedule
from helpdesk.extensions import db
from helpdesk.org.services import read_csv
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket

#: Simulated days between two runs of the automatic close while tickets are played.
SWEEP_EVERY = timedelta(days=3)


def create_population(schools: int, seed: int) -> tuple[int, int]:
    """Create the demo schools and their accounts; return (schools, accounts)."""
    rng = random.Random(seed)
    demo_schools = create_schools(schools, rng)
    params = tuple(current_app.config["PASSWORD_HASH_PARAMS"])
    accounts = create_accounts(demo_schools, rng, hash_password(DEMO_PASSWORD, params))
    return len(demo_schools), accounts


def generate_tickets(count: int, seed: int, now: datetime) -> Iterator[int]:
    """Play ``count`` tickets in time order; yield how many are done after each one."""
    existing = db.session.scalar(select(func.count(Ticket.id))) or 0
    rng = random.Random(seed * 1_000_003 + existing)
    favourite = read_csv("sample_schools.csv")[0]["official_email"].strip().lower()
    cast = load_cast(rng, favourite)
    if not cast.schools or count <= 0:
        return
    older_than = timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])
    last_sweep = None
    for done, (created_at, target) in enumerate(schedule(count, now, rng), 1):
        play_ticket(cast, rng, created_at, now, target)
        if last_sweep is None or created_at - last_sweep >= SWEEP_EVERY:
            _close_resolved(created_at, older_than)
            last_sweep = created_at
        yield done
    _close_resolved(now, older_than)


def _close_resolved(now: datetime, older_than: timedelta) -> None:
    """Run the automatic close as it would have run at ``now``, until nothing is left."""
    while services.close_resolved(now=now, older_than=older_than):
        pass


def status_counts() -> dict[str, int]:
    """Count the tickets in each status."""
    rows = db.session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
    return {status: n for status, n in rows}
