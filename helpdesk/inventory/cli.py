"""``helpdesk inventory …``: import files, load the categories."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.inventory.importer import ImportContext, ImportFileError, error_text, import_file
from helpdesk.inventory.importer import school_code as parse_code
from helpdesk.inventory.services import load_categories
from helpdesk.org.models import School


@click.group("inventory")
def cli():
    """The equipment registry (Κτηματολόγιο)."""


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", "school_code", default=None,
              help="Only rows of the school with this 7-digit code are imported.")
@click.option("--quiet", is_flag=True, help="No progress line.")
@with_appcontext
def import_command(file: Path, school_code: str | None, quiet: bool):
    """Import FILE (CSV or XLSX; inventory.sch.gr report or our export): an upsert."""
    only = None
    if school_code:
        code = parse_code(school_code)
        if not code:
            raise click.ClickException(f"malformed school code {school_code}: a ministry code "
                                       "has 7 digits")
        only = db.session.scalar(select(School.id).where(School.code == code))
        if only is None:
            raise click.ClickException(f"unknown school code {school_code}")
    started = time.monotonic()

    def progress(r):
        if not quiet:
            rate = r.processed / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r{r.processed}/{r.total} rows · new {r.created} · changed {r.updated}"
                             f" · unchanged {r.unchanged} · errors {r.error_count} · {rate:,.0f} rows/s")
            sys.stderr.flush()

    try:
        result = import_file(file.read_bytes(), file.name,
                             ImportContext(only_school_id=only, source=file.name),
                             progress=progress, checkpoint=lambda r: db.session.commit())
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    elapsed = time.monotonic() - started
    if not quiet:
        sys.stderr.write("\n")
    for entry in result.errors[:50]:
        click.echo(f"row {entry['row']}: " + "; ".join(error_text(e) for e in entry["errors"]))
    if result.error_count > 50:
        click.echo(f"… and {result.error_count - 50} more rows with errors")
    click.echo(f"{result.file_format}: {result.processed} rows in {elapsed:.1f}s: "
               f"{result.created} new, {result.updated} changed, {result.unchanged} unchanged, "
               f"{result.error_count} with errors")


@cli.command("load-categories")
@with_appcontext
def load_categories_command():
    """Insert or refresh the equipment categories from equipment_categories.csv."""
    n = load_categories()
    db.session.commit()
    click.echo(f"{n} equipment categories")
