"""``helpdesk demo load``: fill the database with a realistic demo data set."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.accounts.models import Role, User
from helpdesk.core.types import utcnow
from helpdesk.demo.accounts import demo_loaded, logins
from helpdesk.demo.equipment import create_equipment
from helpdesk.demo.generator import create_population, generate_tickets, status_counts
from helpdesk.extensions import db
from helpdesk.inventory.services import load_categories
from helpdesk.kb.transfer import import_folder
from helpdesk.notify.services import paused
from helpdesk.org.models import School
from helpdesk.org.services import load_reference_data
from helpdesk.sla.services import seed_default_policies

cli = AppGroup("demo", help="Demo data: schools, accounts and tickets.")

#: The library's demo guides (Markdown with front matter, and their files).
GUIDES = Path(__file__).resolve().parent / "guides"
#: Tickets per transaction.
BATCH = 200


@cli.command("load")
@click.option("--schools", default=300, show_default=True, type=click.IntRange(1, 50_000),
              help="Demo schools: the real sample schools first, then generated ones.")
@click.option("--tickets", default=2000, show_default=True, type=click.IntRange(0, 5_000_000),
              help="Tickets to create over the last ~18 months.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--add", is_flag=True,
              help="If demo data exists, add --tickets more tickets to the existing demo "
                   "schools (no new schools or accounts). Without it an existing demo is "
                   "left as is.")
def load_command(schools: int, tickets: int, seed: int, add: bool) -> None:
    """Load the reference organisation, demo schools, accounts and tickets."""
    started = time.monotonic()
    load_reference_data()

    seed_default_policies()
    db.session.commit()
    if demo_loaded() and not add:
        click.echo("Demo data is already loaded: nothing added (use --add for more tickets).")
        _load_equipment(seed)
        _load_guides()
        _echo_logins()
        return
    if not demo_loaded():
        made_schools, made_accounts = create_population(schools, seed)
        db.session.commit()
        click.echo(f"{made_schools} schools, {made_accounts} accounts "
                   f"({time.monotonic() - started:.1f} s)")
    _load_equipment(seed)
    _load_guides()
    _load_tickets(tickets, seed, started)
    _echo_logins()


def _load_equipment(seed: int) -> None:
    """Equipment categories, and a registry for every demo school that has none yet."""
    load_categories()
    schools = list(db.session.scalars(select(School).where(School.id.in_(
        select(User.school_id).where(User.role == Role.SCHOOL))).order_by(School.id)))
    made = create_equipment(schools, seed)
    db.session.commit()
    if made:
        click.echo(f"{made} equipment items for {len(schools)} schools")


def _load_guides() -> None:
    """The library's demo guides (helpdesk/demo/guides), imported as ``helpdesk kb import``
    would: again only what changed."""
    report = import_folder(GUIDES, now=utcnow())
    db.session.commit()
    for key, reason in report.failed:
        click.echo(f"guide {key} not imported: {reason}", err=True)
    if report.created or report.updated:
        click.echo(f"library: {len(report.created)} guides added, "
                   f"{len(report.updated)} updated")


def _load_tickets(count: int, seed: int, started: float) -> None:
    """Play the tickets, committing every BATCH, and print progress and totals."""
    done = 0
    with paused():  # made-up history: nobody is notified of it
        for done in generate_tickets(count, seed, utcnow()):
            if done % BATCH == 0:
                db.session.commit()
                click.echo(f"  {done}/{count} tickets ({time.monotonic() - started:.1f} s)")
        db.session.commit()
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(status_counts().items()))
    click.echo(f"{done} tickets added in {time.monotonic() - started:.1f} s; now: {by_status}")


def _echo_logins() -> None:
    """Print the demo log-ins."""
    rows = logins()
    width = max((len(label) for label, _, _ in rows), default=0)
    for label, email, password in rows:
        click.echo(f"  {label:<{width}}  {email:<32}  {password}")
