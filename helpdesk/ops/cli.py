"""``helpdesk check``: the production settings check, and the node's readiness."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from helpdesk.core import filestore
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.ops import readiness
from helpdesk.ops import retention as retention_rules
from helpdesk.ops import storage_move as storage_move_rules
from helpdesk.ops.settings import production_problems


@click.command("check")
@click.option("--settings-only", is_flag=True,
              help="Only the settings; do not contact the database or Redis.")
@with_appcontext
def cli(settings_only: bool) -> None:
    """Refuse (exit 1) when a setting is unsafe for production or a dependency is down."""
    problems = production_problems(current_app.config)
    for line in problems:
        click.echo(f"setting  {line}")
    failed = []
    if not settings_only:
        checks = readiness.all_checks(current_app._get_current_object())
        for check in checks:
            click.echo(f"ready    {check.name}: {'ok' if check.ok else check.detail}")
        failed = [c for c in checks if not c.ok]
    if problems or failed:
        click.echo(f"{len(problems)} setting(s) to fix, {len(failed)} check(s) failed",
                   err=True)
        sys.exit(1)
    click.echo("production settings: ok")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what would be anonymised; change nothing.")
@click.option("--years", type=click.IntRange(min=1), default=None,
              help="Years after closing (default: RETENTION_YEARS).")
@with_appcontext
def retention(dry_run: bool, years: int | None) -> None:
    """Anonymise tickets closed more than RETENTION_YEARS ago (GDPR storage limitation)."""
    years = years or current_app.config.get("RETENTION_YEARS", 0)
    now = utcnow()
    before = retention_rules.cutoff(now, years)
    if before is None:
        click.echo("retention is off (RETENTION_YEARS = 0)")
        return
    if dry_run:
        found = retention_rules.count_due(before)
        click.echo(f"dry run: {found.tickets} tickets closed before {before.date()} would be "
                   f"anonymised ({found.describe()}); nothing was changed")
        return
    done = retention_rules.run(before, now, commit=db.session.commit)
    click.echo(f"anonymised {done.tickets} tickets closed before {before.date()} "
               f"({done.describe()})")


@click.group("storage")
def storage() -> None:
    """The file store (STORAGE_BACKEND): attachments, library files, statements, imports."""


@storage.command("move")
@click.option("--to", "target", type=click.Choice(filestore.BACKENDS), required=True,
              help="The backend to move every stored file to.")
@click.option("--dry-run", is_flag=True, help="Count what would move; change nothing.")
@with_appcontext
def storage_move(target: str, dry_run: bool) -> None:
    """Move the stored files to TARGET: copy, compare sha256, then remove the source.

    Idempotent and resumable: a file already at the target with the same checksum is
    only removed from the source. Set STORAGE_BACKEND to TARGET on every node as well."""
    done = storage_move_rules.move(target, dry_run=dry_run)
    source = storage_move_rules.other(target)
    for line in done.failures:
        click.echo(f"failed   {line}", err=True)
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb} {done.moved} file(s) ({done.bytes} bytes) from {source} to {target}; "
               f"{done.already} already there; {done.failed} failed"
               + ("; nothing was changed" if dry_run else ""))
    if done.failed:
        sys.exit(1)


commands = [cli, retention, storage]
