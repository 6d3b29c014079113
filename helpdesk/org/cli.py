"""``helpdesk org …``: load the reference organisation and show a school's chain."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.org.models import School, SupportUnit
from helpdesk.org.queries import chain_for_school
from helpdesk.org.services import has_changes, load_reference_data

cli = AppGroup("org", help="The organisation: regions, directorates, units, schools.")


@cli.command("load")
def load_command() -> None:
    """Load regions, directorates, units, categories and sample schools (idempotent)."""
    counts = load_reference_data()
    db.session.commit()
    if not has_changes(counts):
        click.echo("Reference data already up to date: nothing changed.")
        return
    for table in _tables(counts):
        click.echo(f"{table:<18} created {counts[f'{table}.created']:>4}"
                   f"   updated {counts[f'{table}.updated']:>4}")


def _tables(counts: dict[str, int]) -> list[str]:
    """List the table names in the order the loader reported them."""
    return list(dict.fromkeys(key.rsplit(".", 1)[0] for key in counts))


@cli.command("show")
@click.argument("school_code")
def show_command(school_code: str) -> None:
    """Print a school's escalation chain (level 1 → 2 → 3)."""
    school = db.session.scalar(select(School).where(School.code == school_code.strip()))
    if school is None:
        raise click.ClickException(f"No school with code {school_code}.")
    chain = chain_for_school(school)
    ids = [unit_id for unit_id in (chain.l1, chain.l2, chain.l3) if unit_id is not None]
    rows = db.session.scalars(select(SupportUnit).where(SupportUnit.id.in_(ids)))
    units = {u.id: u for u in rows}
    click.echo(f"{school.code}  {school.name}  <{school.email}>")
    click.echo(f"  {school.directorate.name_el} ({school.directorate.code})")
    for level in (1, 2, 3):
        unit = units.get(chain.unit_at(level))
        text = f"{unit.name_el} [{unit.code}] {unit.email}".rstrip() if unit else "—"
        click.echo(f"  level {level}: {text}")
