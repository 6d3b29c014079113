"""Deliver one notification with Flask-Mail, and hand notifications to the "mail" queue.

A delivery is claimed first (``claim``: pending → sending, one UPDATE, committed by the
job), so two workers given the same id never both send it; claiming, leases, back-off
and giving up are the outbox family's (helpdesk.outbox.family), shared with webhooks. Then ``attempt`` sends it:
sent; or, on a temporary failure (SMTP 4xx, the server unreachable), back to pending with
``next_attempt_at`` doubling each time; or, on a permanent one (SMTP 5xx), failed with
the server's answer, which the ticket page shows to staff.

Headers: our signed Message-ID (helpdesk.mail.ids), In-Reply-To/References naming the
ticket's thread root, Reply-To the helpdesk address, a plain From (no List-Id), and
``Auto-Submitted: auto-generated`` on automatic mail, ``X-Arogi-Loop: <site id>`` on
every mail (the classifier knows it when it comes back). No user text reaches a header
without ``header_text`` (no CR/LF, no control characters).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

from flask import current_app
from flask_mail import BadHeaderError, Connection

from helpdesk.core import aftercommit, metrics
from helpdesk.extensions import db
from helpdesk.mail import ids
from helpdesk.outbox import family
from helpdesk.outbox.family import Outcome
from helpdesk.outbox.message import OutgoingMessage, header_text, mail_domain, site_id
from helpdesk.outbox.models import Notification
from helpdesk.outbox.services import JOB, delivery_job  # noqa: F401 (JOB: re-exported)
from helpdesk.outbox.suppressions import is_suppressed

log = logging.getLogger(__name__)



class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


# --- claiming (the outbox family's, helpdesk.outbox.family) -------------------------------

def claim(note_id: int, now: datetime) -> bool:
    """pending and due → sending, for this caller only (the caller commits)."""
    return family.claim(Notification, note_id, now)


def release_stale(now: datetime, lease: timedelta) -> int:
    """Rows left in sending by a worker that died go back to pending (the caller commits)."""
    return family.release_stale(Notification, now, lease)


def due_ids(now: datetime, limit: int = 500) -> list[int]:
    """Pending notifications whose time has come, oldest first."""
    return family.due_ids(Notification, now, limit)


# --- sending -------------------------------------------------------------------------------

def attempt(note_id: int, now: datetime) -> Outcome:
    """Send a claimed notification and record the outcome (the caller commits)."""
    note = db.session.get(Notification, note_id, populate_existing=True)
    if note is None or note.status != "sending":
        return Outcome.SKIPPED
    cfg = current_app.config
    if is_suppressed(note.recipient_email):
        note.status, note.claimed_at = "suppressed", None
        note.last_error = "not sent: the address bounced repeatedly (suppressed)"
        log.info("notification %s to %s suppressed", note.id, note.recipient_email)
        return Outcome.SUPPRESSED
    try:
        send(note)
    except PermanentFailure as exc:
        return _failed(note, now, str(exc))
    except TemporaryFailure as exc:
        if note.attempts >= cfg["MAIL_SEND_MAX_ATTEMPTS"]:
            return _failed(note, now, f"{exc} (gave up after {note.attempts} attempts)")
        outcome = family.retry_or_fail(note, now, str(exc), backoff(
            note.attempts, cfg["MAIL_SEND_RETRY_BASE_SECONDS"], cfg["MAIL_SEND_RETRY_MAX_SECONDS"]))
        log.warning("notification %s to %s: %s; retry at %s", note.id, note.recipient_email,
                    exc, note.next_attempt_at.isoformat())
        return outcome
    return family.mark_sent(note, now)


def _failed(note: Notification, now: datetime, error: str) -> Outcome:
    log.error("notification %s to %s failed: %s", note.id, note.recipient_email, error)
    return family.retry_or_fail(note, now, error, None)


#: The mail family's back-off (MAIL_SEND_RETRY_BASE_SECONDS doubling up to _MAX_SECONDS).
backoff = family.exponential


def send(note: Notification) -> None:
    """Send ``note`` now; raises TemporaryFailure or PermanentFailure."""
    try:
        _send(note)
    except TemporaryFailure:
        metrics.MAILS_SENT.labels("deferred").inc()
        raise
    except PermanentFailure:
        metrics.MAILS_SENT.labels("failed").inc()
        raise
    metrics.MAILS_SENT.labels("sent").inc()


def _send(note: Notification) -> None:
    message = build_message(note)
    state = current_app.extensions["mail"]
    try:
        with _Connection(state, current_app.config.get("MAIL_SEND_TIMEOUT", 30)) as connection:
            connection.send(message)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (451, b"recipient refused"))
        raise _classify(code, text) from exc
    except smtplib.SMTPAuthenticationError as exc:  # our configuration, not the recipient
        raise TemporaryFailure(_answer(exc.smtp_code, exc.smtp_error)) from exc
    except smtplib.SMTPResponseException as exc:
        raise _classify(exc.smtp_code, exc.smtp_error) from exc
    except BadHeaderError as exc:
        raise PermanentFailure("a header contained a line break") from exc
    except (smtplib.SMTPException, OSError) as exc:  # unreachable, disconnected, timed out
        raise TemporaryFailure(f"SMTP server unavailable: {exc!r}"[:500]) from exc


def _answer(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return header_text(f"{code} {text}", 500)


def _classify(code: int, text) -> Exception:
    answer = _answer(code, text)
    return PermanentFailure(answer) if 500 <= code < 600 else TemporaryFailure(answer)


class _Connection(Connection):
    """Flask-Mail's connection with a socket timeout (a stuck server must not hang a worker)."""

    def __init__(self, mail, timeout: float):
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self):
        mail = self.mail
        cls = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = cls(mail.server, mail.port, timeout=self.timeout)
        host.set_debuglevel(int(mail.debug))
        if mail.use_tls:
            host.starttls()
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


# --- the message ---------------------------------------------------------------------------

def build_message(note: Notification) -> OutgoingMessage:
    """The Flask-Mail message of ``note``, headers included."""
    cfg = current_app.config
    recipient = _address(note.recipient_email)
    sender = header_text(str(cfg["MAIL_DEFAULT_SENDER"]), 300)
    headers = {"Content-Language": note.locale or "el", "X-Arogi-Loop": site_id(cfg)}
    if note.is_automatic:
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    if note.ticket_id:
        root = thread_root(cfg["SECRET_KEY"], note.ticket_id, mail_domain(cfg))
        headers["In-Reply-To"] = root
        headers["References"] = root
    message = OutgoingMessage(subject=header_text(note.subject), recipients=[recipient],
                      body=note.body or "", html=note.body_html or None, sender=sender,
                      reply_to=reply_to_address(cfg), extra_headers=headers, charset="utf-8")
    message.msgId = note.message_id or make_msgid(domain=mail_domain(cfg))
    return message


def _address(value: str) -> str:
    """A bare, single address; anything else is a permanent failure."""
    cleaned = (value or "").strip()
    name, address = parseaddr(cleaned)
    if (not address or address != cleaned or "@" not in address
            or any(c.isspace() or ord(c) < 32 or c in "<>,;\"" for c in address)):
        raise PermanentFailure(f"invalid recipient address {header_text(value, 200)!r}")
    return address


def reply_to_address(config) -> str:
    """Replies come back to the helpdesk: MAIL_REPLY_TO, else the From address."""
    return header_text(str(config.get("MAIL_REPLY_TO") or config["MAIL_DEFAULT_SENDER"]), 300)


def thread_root(secret: str, ticket_id: int, domain: str) -> str:
    """The ticket's thread root: a fixed Message-ID that helpdesk.mail.ids verifies."""
    nonce = hmac.new(secret.encode(), f"thread.{ticket_id}".encode(),
                     hashlib.sha256).hexdigest()[:12]
    return f"<arogi.t{ticket_id}.u0.{nonce}.{ids.sign(secret, ticket_id, 0, nonce)}@{domain}>"


def ensure_message_id(note_id: int) -> None:
    """Give a row written without one (e.g. an SLA warning) its Message-ID (signed when
    it is about a ticket)."""
    note = db.session.get(Notification, note_id)
    if note is not None and not note.message_id:  # fixed now, so a bounce can name it
        cfg = current_app.config
        note.message_id = (ids.make_message_id(cfg["SECRET_KEY"], note.ticket_id,
                                               note.recipient_user_id, mail_domain(cfg))
                           if note.ticket_id else make_msgid(domain=mail_domain(cfg)))


# --- the queue -----------------------------------------------------------------------------

def enqueue(note_ids: list[int], *, fresh: bool = False) -> int:
    """Hand notifications to the "mail" queue now; returns how many. Never raises: with
    Redis down the rows stay pending and the periodic sweep queues them later.

    ``fresh``: rows just committed, which no job can name yet; they are queued without
    first looking for a job of theirs."""
    return aftercommit.enqueue_many([delivery_job(i) for i in note_ids], skip_busy=not fresh)
