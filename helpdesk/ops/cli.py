"""``helpdesk check``: the production settings check, and the node's readiness."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from helpdesk.ops import readiness
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
