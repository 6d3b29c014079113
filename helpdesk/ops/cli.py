"""``helpdesk check``: the production settings check, and the node's readiness."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.ops import readiness
from helpdesk.ops import retention as retention_rules
from helpdesk.ops.settings import production_problems
from helpdesk.tickets.services import attachments_directory


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
        checks = readiness.all_checks(current_app._get_current_object(),
                                      attachments_directory())
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
                   f"anonymised ({found.messages} messages, {found.attachments} files, "
                   f"{found.notifications} mails sent, {found.inbound} mails received); "
                   "nothing was changed")
        return
    done = retention_rules.run(before, now, attachments_directory(), commit=db.session.commit)
    click.echo(f"anonymised {done.tickets} tickets closed before {before.date()} "
               f"({done.messages} messages, {done.attachments} files, {done.notifications} "
               f"mails sent, {done.inbound} mails received)")


commands = [cli, retention]
