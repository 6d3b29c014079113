"""``helpdesk token create EMAIL``: an administrator makes a token for a user."""
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.api.tokens import create_token
from helpdesk.core.types import utcnow
from helpdesk.extensions import db


@click.group("token", help="API tokens.")
def cli():
    pass


@cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--read-only", is_flag=True)
@click.option("--expires-days", type=click.IntRange(1, 3650))
@with_appcontext
def create(email, name, read_only, expires_days):
    """Create a token for EMAIL and print its secret (shown once)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        raise click.UsageError(f"no active user {email}")
    now = utcnow()
    _token, secret = create_token(user, name, now=now, read_only=read_only,
                                  expires_at=now + timedelta(days=expires_days) if expires_days else None)
    db.session.commit()
    click.echo(secret)
