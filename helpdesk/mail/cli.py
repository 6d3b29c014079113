"""``helpdesk mail …``: the MTA pipe door, the LMTP/SMTP listener, polling and processing."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.core import logs
from helpdesk.core.errors import DomainError
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.mail import process, queries
from helpdesk.mail.imap import poll_all
from helpdesk.mail.lmtp import make_controller
from helpdesk.outbox.suppressions import clear, list_suppressions

#: sysexits.h: the MTA keeps the message and tries again.
EX_TEMPFAIL = 75

log = logging.getLogger(__name__)


@click.group("mail")
def cli():
    """Inbound e-mail: ingest, serve, poll, process."""


@cli.command("ingest")
@click.option("--source", default="cli", show_default=True, help="Recorded as the door.")
@with_appcontext
def ingest(source):
    """Store one message read from standard input (exit 0 stored, 75 try again)."""
    try:
        # Inside the try: any failure, this import's too, answers 75 (try again) to the MTA.
        from helpdesk.mail.store import accept

        raw = sys.stdin.buffer.read()
        inbound_id, created = accept(raw, source=source, now=utcnow())
    except Exception as exc:  # noqa: BLE001 - not stored: the MTA must retry
        click.echo(f"mail ingest: not stored ({exc.__class__.__name__}: {exc})", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(f"stored {inbound_id}" + ("" if created else " (duplicate)"))


@cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (MAIL_LISTEN_HOST).")
@click.option("--port", default=None, type=int, help="Port (MAIL_LISTEN_PORT).")
@click.option("--protocol", type=click.Choice(["lmtp", "smtp"]), default=None,
              help="MAIL_LISTEN_PROTOCOL by default.")
@with_appcontext
def serve(host, port, protocol):
    """Listen for LMTP/SMTP; answer 250 only once a message is stored."""
    logs.configure(current_app.config.get("LOG_FORMAT", "text"))
    controller = make_controller(current_app._get_current_object(), host=host, port=port,
                                 protocol=protocol)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    controller.start()
    click.echo(f"mail serve: {controller.protocol} on {controller.hostname}:{controller.port}")
    try:
        stop.wait()
    finally:
        controller.stop()


@cli.command("poll")
@with_appcontext
def poll():
    """Fetch the configured IMAP mailboxes once."""
    for name, counts in poll_all(now=utcnow()).items():
        click.echo(f"{name}: {counts}")


@cli.command("process")
@click.argument("ids", nargs=-1, type=int)
@click.option("--pending", is_flag=True, help="Every stored message not processed yet.")
@with_appcontext
def process_cmd(ids, pending):
    """Process stored messages now, in this process."""
    for inbound_id in ids:
        click.echo(f"{inbound_id}: {process.run(inbound_id, now=utcnow())}")
    if pending:  # as the worker does: in batches of MAIL_PROCESS_BATCH
        for inbound_id in queries.stale_received(utcnow(), timedelta(0), limit=100000):
            click.echo(f"{inbound_id}: {process.run_job(inbound_id)}")


@cli.command("suppressions")
@click.option("--all", "show_all", is_flag=True,
              help="Also addresses that only soft-bounced or were cleared.")
@with_appcontext
def suppressions(show_all):
    """List the addresses no longer mailed (hard bounces)."""
    rows = list_suppressions(only_active=not show_all)
    for row in rows:
        state = "suppressed" if row.is_suppressed else (
            f"cleared {row.cleared_at:%Y-%m-%d %H:%M}" if row.cleared_at else "counted")
        click.echo(f"{row.address}\t{state}\thard={row.hard_count}\tsoft={row.soft_count}\t"
                   f"{row.last_status or ''}\t{row.last_at:%Y-%m-%d %H:%M}\t{row.reason or ''}")
    if not rows:
        click.echo("no suppressed address")


@cli.command("unsuppress")
@click.argument("address")
@click.option("--by", "by_email", default=None,
              help="E-mail of the administrator clearing it (recorded with the time).")
@with_appcontext
def unsuppress(address, by_email):
    """Mail ADDRESS again (after it was fixed); recorded as cleared by --by, now."""
    actor = None
    if by_email:
        actor = db.session.scalar(select(User).where(User.email == by_email.lower()))
        if actor is None:
            raise click.ClickException(f"no user {by_email}")
    try:
        row = clear(actor, address, now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"{address}: {exc.__class__.__name__}") from exc
    db.session.commit()
    click.echo(f"{row.address}: cleared")
