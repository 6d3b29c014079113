"""``helpdesk kb …``: import a folder of guides, export the library."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.kb import transfer


@click.group("kb")
def cli():
    """The library of guides (Βιβλιοθήκη)."""


@cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def import_command(directory: Path):
    """Import the Markdown/HTML guides under DIRECTORY (again: only what changed)."""
    report = transfer.import_folder(directory, now=utcnow())
    db.session.commit()
    for key, reason in report.failed:
        click.echo(f"failed: {key}: {reason}", err=True)
    click.echo(f"created {len(report.created)}, updated {len(report.updated)}, "
               f"unchanged {len(report.unchanged)}, failed {len(report.failed)}")
    if report.failed:
        raise SystemExit(1)


@cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def export_command(directory: Path):
    """Write every article and its files under DIRECTORY, in the layout import reads."""
    directory.mkdir(parents=True, exist_ok=True)
    written = transfer.export_folder(directory)
    click.echo(f"wrote {len(written)} files to {directory}")
