"""Stored message -> ticket, reply, quarantine or ignore; exactly once.

``run`` (the CLI, the admin pages) processes one message; ``run_job`` (the RQ job)
processes its message and the other waiting messages that no worker has started yet,
up to ``MAIL_PROCESS_BATCH`` in one transaction, so a backlog costs two commits per
batch instead of two per message (and, with ``store.enqueue_processing``, one job per
burst instead of one per message). Both own their transactions:

- the attempt is counted and committed first, so a message that kills its worker every
  time ends in quarantine instead of looping;
- the processing is one transaction that starts by taking the rows' write locks with a
  conditional UPDATE on ``status = 'received'``: a concurrent or repeated run finds
  nothing to do, and a crash rolls everything back to "received" for the sweep. The
  ticket, its notifications and the message's new status commit together;
- a message that fails inside a batch rolls the batch back; the messages before it are
  done again as a batch, it is done alone (and quarantined as ``run`` would), and the
  batch goes on after it. A message on its second attempt (its worker died) is always
  done alone, so one poison message cannot take others down with it.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import undefer

from helpdesk import bus
from helpdesk.core.errors import Conflict, DomainError, ValidationFailed
from helpdesk.core.filestore import StorageFailed
from helpdesk.core.types import utcnow
from helpdesk.events import UnknownSenderQuarantined
from helpdesk.extensions import db
from helpdesk.mail import authresults, queries
from helpdesk.mail import classify as machine
from helpdesk.mail import parse as parsing
from helpdesk.mail.ids import find_thread, verify_message_id
from helpdesk.mail.meaning import read_reply
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.services import record_bounces
from helpdesk.mail.store import enqueue_job
from helpdesk.mail.threading import Action, clean_subject, decide, subject_refs
from helpdesk.org.models import School
from helpdesk.outbox.message import site_id
from helpdesk.tickets import attachments as files
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

NO_SUBJECT = "Αίτημα μέσω ηλεκτρονικού ταχυδρομείου"
NO_TEXT = "(χωρίς κείμενο)"
#: Messages processed in one transaction (MAIL_PROCESS_BATCH overrides it).
BATCH = 50
#: About how long one job goes on taking batches before it hands over to a new job.
DRAIN_SECONDS = 30.0

Clock = Callable[[], datetime]


def run(inbound_id: int, *, now: datetime) -> str | None:
    """Process one stored message if it still waits; returns its status afterwards."""
    attempts = _count_attempt(inbound_id)
    if attempts is None:
        return _status(inbound_id)
    return _run_counted(inbound_id, attempts, now)


def run_job(inbound_id: int | None, *, clock: Clock = utcnow, limit: int | None = None,
            seconds: float = DRAIN_SECONDS) -> str | None:
    """Process ``inbound_id`` (if given and still waiting) and the waiting messages nobody
    has started, oldest first, ``limit`` (MAIL_PROCESS_BATCH) per transaction, for about
    ``seconds``; then, if more wait, queue a job to go on. Returns the status of
    ``inbound_id`` afterwards.

    Rows another worker holds are skipped, not waited for: that worker processes them,
    or, if it dies, the periodic sweep queues them again."""
    if limit is None:
        limit = current_app.config.get("MAIL_PROCESS_BATCH", BATCH)
    limit = max(1, limit)
    deadline = time.monotonic() + seconds
    counted, more = _count_attempts(inbound_id, limit)
    statuses = process_counted(counted, clock)
    while more and time.monotonic() < deadline:
        counted, more = _count_attempts(None, limit)
        statuses.update(process_counted(counted, clock))
    if more:
        enqueue_job(None)
    if inbound_id is None:
        return None
    return statuses[inbound_id] if inbound_id in statuses else _status(inbound_id)


def process_counted(counted: dict[int, int], clock: Clock) -> dict[int, str]:
    """Process messages whose attempt is counted (id -> attempts): the first attempts
    together, the others one by one after them. Returns id -> status."""
    allowed = current_app.config["MAIL_MAX_ATTEMPTS"]
    # A first attempt goes in the batch (unless no attempt is allowed at all).
    fresh = sorted(i for i, n in counted.items() if n == 1 and allowed >= 1)
    statuses = _run_together(fresh, clock)
    for inbound_id in sorted(set(counted) - set(fresh)):
        statuses[inbound_id] = _run_counted(inbound_id, counted[inbound_id], clock())
    return statuses


# --- counting and claiming ---------------------------------------------------------------

def _count_attempt(inbound_id: int) -> int | None:
    """Count an attempt at ``inbound_id`` and commit; its attempts, None if not waiting."""
    attempts = db.session.scalar(
        update(InboundMessage).where(InboundMessage.id == inbound_id,
                                     InboundMessage.status == InboundStatus.RECEIVED)
        .values(attempts=InboundMessage.attempts + 1).returning(InboundMessage.attempts))
    db.session.commit()
    return attempts


def _count_attempts(inbound_id: int | None, limit: int) -> tuple[dict[int, int], bool]:
    """Count an attempt at ``inbound_id`` (if waiting) and at waiting messages never
    attempted, oldest first, ``limit`` in all; commit. Rows another transaction holds
    are left alone. Returns (id -> attempts, whether a full batch was found)."""
    waiting = InboundMessage.status == InboundStatus.RECEIVED
    own = select(InboundMessage.id).where(InboundMessage.id == inbound_id, waiting)
    others = (select(InboundMessage.id)  # along ix_inbound_messages_status_received
              .where(waiting, InboundMessage.attempts == 0)
              .order_by(InboundMessage.received_at, InboundMessage.id))
    if inbound_id is not None:
        others = others.where(InboundMessage.id != inbound_id)
    chosen = [others.limit(limit).with_for_update(skip_locked=True)]
    if inbound_id is not None:
        chosen = [own.with_for_update(skip_locked=True)]
        if limit > 1:
            chosen.append(others.limit(limit - 1).with_for_update(skip_locked=True))
    try:
        counted = dict(db.session.execute(
            update(InboundMessage)
            .where(or_(*(InboundMessage.id.in_(ids) for ids in chosen)))
            .values(attempts=InboundMessage.attempts + 1)
            .returning(InboundMessage.id, InboundMessage.attempts)
            .execution_options(synchronize_session=False)).all())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counted, len(counted) >= limit


def _lock(inbound_id: int) -> bool:
    """Take the row's write lock while it is still "received" (the exactly-once guard)."""
    result = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id,
                                     InboundMessage.status == InboundStatus.RECEIVED)
        .values(status=InboundStatus.RECEIVED))
    db.session.expire_all()
    return result.rowcount == 1


def _claim(ids: list[int]) -> list[InboundMessage]:
    """The write locks of those of ``ids`` still "received" that no one else holds (the
    exactly-once guard, for a batch), then those rows with their raw bytes, oldest first."""
    held = select(InboundMessage.id).where(InboundMessage.id.in_(ids),
                                           InboundMessage.status == InboundStatus.RECEIVED)
    claimed = list(db.session.scalars(
        update(InboundMessage)
        .where(InboundMessage.id.in_(held.with_for_update(skip_locked=True)),
               InboundMessage.status == InboundStatus.RECEIVED)
        .values(status=InboundStatus.RECEIVED).returning(InboundMessage.id)))
    if not claimed:
        return []
    return list(db.session.scalars(
        select(InboundMessage).options(undefer(InboundMessage.raw))
        .where(InboundMessage.id.in_(claimed)).order_by(InboundMessage.id)
        .execution_options(populate_existing=True)))


def _status(inbound_id: int) -> str | None:
    return db.session.scalar(select(InboundMessage.status).where(InboundMessage.id == inbound_id))


# --- one message in its own transaction ------------------------------------------------------

def _run_counted(inbound_id: int, attempts: int, now: datetime) -> str | None:
    """Process one message whose attempt is counted (``attempts`` so far), alone."""
    if attempts > current_app.config["MAIL_MAX_ATTEMPTS"]:
        row = db.session.get(InboundMessage, inbound_id)
        _finish(row, InboundStatus.QUARANTINED, "too_many_attempts", now,
                detail="processing failed or was interrupted too many times")
        db.session.commit()
        return InboundStatus.QUARANTINED
    try:
        if not _lock(inbound_id):
            db.session.rollback()
            return _status(inbound_id)
        row = db.session.get(InboundMessage, inbound_id)
        handle(row, now=now)
        status = row.status
        db.session.commit()
        return status
    except DomainError as exc:
        db.session.rollback()
        if isinstance(exc, StorageFailed):  # a full disk passes: try again, as for errors
            final = attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
            return _quarantine_after_failure(inbound_id, "error", str(exc), now, final=final)
        return _quarantine_after_failure(inbound_id, _reason(exc), str(exc), now)
    except Exception as exc:
        db.session.rollback()
        log.exception("processing inbound message %s failed", inbound_id)
        final = attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
        return _quarantine_after_failure(inbound_id, "error", repr(exc)[:2000], now, final=final)


def _reason(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return "invalid"
    if isinstance(exc, Conflict):
        return "conflict"
    return "not_allowed"


def _quarantine_after_failure(inbound_id, reason, detail, now, *, final=True) -> str:
    row = db.session.get(InboundMessage, inbound_id)
    if final:
        _finish(row, InboundStatus.QUARANTINED, reason, now, detail=detail)
    else:
        row.detail = detail
    status = row.status
    db.session.commit()
    return status


def _finish(row, status, reason, now, *, detail=None, ticket_id=None, message_id=None) -> None:
    row.status, row.reason, row.processed_at = status, reason, now
    row.ticket_id, row.message_id = ticket_id, message_id
    if detail is not None:
        row.detail = detail


# --- several messages in one transaction -----------------------------------------------------

def _run_together(ids: list[int], clock: Clock) -> dict[int, str]:
    """Process first attempts in one transaction (see the module's docstring)."""
    if len(ids) <= 1:
        return {i: _run_counted(i, 1, clock()) for i in ids}
    statuses: dict[int, str] = {}
    rows: list[InboundMessage] = []
    current = None
    try:
        rows = _claim(ids)
        if rows:
            now = clock()
            lookups = _prepare(rows, now)
            for current, row in enumerate(rows):
                handle(row, now=now if current == 0 else clock(), lookups=lookups)
                statuses[row.id] = row.status
            current = None
        db.session.commit()
        return statuses
    except Exception:  # noqa: BLE001 - done again below, one by one where it failed
        db.session.rollback()
        if current is None:  # not in one message's handling: each alone, as run() would
            log.warning("a batch of %d inbound messages failed; processing them one by one",
                        len(ids), exc_info=True)
            return {i: _run_counted(i, 1, clock()) for i in ids}
        done = [r.id for r in rows]
        return {**_run_together(done[:current], clock),
                done[current]: _run_counted(done[current], 1, clock()),
                **_run_together(done[current + 1:], clock)}


def _prepare(rows: list[InboundMessage], now: datetime) -> queries.Lookups:
    """The senders of ``rows``, looked up together (the From header read at storing, which
    is what processing reads too; any other address is looked up when met)."""
    hour = timedelta(hours=1) + timedelta(minutes=1)  # a clock that steps back a little
    return queries.Lookups().prepare([r.from_addr for r in rows if r.from_addr],
                                     since=now - hour)


# --- one message ---------------------------------------------------------------------------

def _own_addresses() -> list[str]:
    cfg = current_app.config
    return [parsing.own_address(cfg.get("MAIL_DEFAULT_SENDER") or ""),
            *[a.lower() for a in cfg.get("MAIL_OWN_ADDRESSES", [])]]


def handle(row: InboundMessage, *, now: datetime, lookups: queries.Lookups | None = None) -> None:
    """Decide and act on one locked message (flushes; the caller commits)."""
    cfg = current_app.config
    secret = cfg["SECRET_KEY"]
    lookups = lookups or queries.Lookups()
    mail = parsing.parse(row.raw)
    row.auth_results = authresults.read(mail.headers.get("authentication-results") or [],
                                        cfg.get("MAIL_AUTHSERV_ID") or None)
    row.from_addr = mail.from_addr or (parsing.one_line(mail.header("from"))[:200]
                                       if mail.from_problem else row.from_addr)
    row.subject = mail.subject[:300] or row.subject
    kind = machine.classify(
        mail.headers, from_addr=mail.from_addr, content_type=mail.content_type,
        report_type=mail.report_type, own_addresses=_own_addresses(),
        is_our_message_id=lambda value: verify_message_id(secret, value) is not None,
        loop_ids=[site_id(cfg)])
    if kind == machine.Kind.BOUNCE:
        return _finish(row, InboundStatus.IGNORED, kind.value, now, detail=record_bounces(row, now=now))
    if kind != machine.Kind.HUMAN:
        return _finish(row, InboundStatus.IGNORED, kind.value, now)
    if mail.from_problem and row.school_id is None:  # never credited to anyone
        return _finish(row, InboundStatus.QUARANTINED, "malformed_from", now,
                       detail=f"From: {mail.from_problem}")
    if row.school_id is None and mail.from_addr and lookups.over_rate(
            mail.from_addr, now - timedelta(hours=1), row.id, cfg["MAIL_INBOUND_MAX_PER_HOUR"]):
        return _finish(row, InboundStatus.QUARANTINED, "rate_limited", now)
    sender, actor = queries.identify(mail.from_addr, school_id=row.school_id, lookups=lookups)
    if _unauthenticated(sender, row, mail.from_addr):
        return _finish(row, InboundStatus.QUARANTINED, "auth_failed", now,
                       detail=f"Authentication-Results: {row.auth_results}")
    signed = find_thread(secret, mail.header("in-reply-to"), mail.header("references"))
    signed_ticket = db.session.get(Ticket, signed.ticket_id) if signed else None
    subject_ticket = next((t for t in (queries.ticket_by_ref(y, n)
                                       for y, n in subject_refs(mail.subject)) if t), None)
    body, quoted = parsing.split_quote(mail.text)
    decision = decide(sender, signed=signed, signed_ticket=queries.ticket_facts(signed_ticket, actor),
                      subject_ticket=queries.ticket_facts(subject_ticket, actor), now=now,
                      reopen_window=timedelta(days=cfg["REOPEN_WINDOW_DAYS"]),
                      meaning=read_reply(body, has_attachments=bool(mail.attachments
                                                                    or mail.forwarded)))
    if decision.action == Action.QUARANTINE:
        _finish(row, InboundStatus.QUARANTINED, decision.reason, now)
        if decision.reason == "unknown_sender" and machine.may_answer(kind, mail.from_addr,
                                                                      mail.headers):
            bus.handle(UnknownSenderQuarantined(mail.from_addr, now))
        return None
    if decision.action == Action.THANKS:  # a thank-you for a closed request: kept, no ticket
        row.quoted_text = quoted or None
        return _finish(row, InboundStatus.PROCESSED, "thanks", now, ticket_id=decision.ticket_id)
    uploads, refused = _attachments(mail.attachments)
    body = _body(_with_forwarded(body, mail.forwarded), refused)
    ticket = db.session.get(Ticket, decision.ticket_id) if decision.ticket_id else None
    if decision.action in (Action.NEW_TICKET, Action.FOLLOW_UP):
        created = _open(actor, sender.school_id, mail.subject, body, uploads, now, lookups)
        if ticket is not None:
            created.related_ticket_id = ticket.id
        lookups.hold(created)  # the notifications read it again at the commit
        row.quoted_text = quoted or None  # set last: the row is written once
        return _finish(row, InboundStatus.PROCESSED, None, now, ticket_id=created.id)
    if decision.action == Action.CONFIRM:  # "thank you, it works": confirmed, not reopened
        message = services.confirm(actor, ticket, now=now, via="email", body=body)
    elif decision.action == Action.REOPEN:
        message = services.reopen(actor, ticket, body, now=now, attachments=uploads,
                                  channel="email")
    else:  # REPLY, STAFF_REPLY
        message = services.reply(actor, ticket, body, now=now, attachments=uploads,
                                 channel="email")
    message.channel = "email"
    if message.author_id is None:
        message.author_email = mail.from_addr
    db.session.flush()
    lookups.hold(ticket)
    row.quoted_text = quoted or None
    return _finish(row, InboundStatus.PROCESSED, None, now, ticket_id=ticket.id,
                   message_id=message.id)


def _unauthenticated(sender, row: InboundMessage, address: str) -> bool:
    """The receiving MTA says the sender's domain did not send it (MAIL_AUTH_QUARANTINE):
    a known sender's address is then not believed. An administrator's assignment is."""
    known = sender.school_id is not None or sender.user_id is not None
    return (known and row.school_id is None
            and current_app.config.get("MAIL_AUTH_QUARANTINE", True)
            and authresults.fails_for(row.auth_results, address.rpartition("@")[2]))


def _open(actor, school_id, subject, body, uploads, now, lookups) -> Ticket:
    category = lookups.category(current_app.config["MAIL_DEFAULT_CATEGORY"])
    subject = clean_subject(subject)
    subject = (subject if len(subject) >= 3 else NO_SUBJECT)[:services.SUBJECT_MAX]
    return services.open_ticket(actor, school=db.session.get(School, school_id),
                                category=category, subject=subject, description=body,
                                now=now, attachments=uploads, channel="email")


def _attachments(parts: list[tuple[str, bytes]]):
    """(uploads to keep, [(name, why) refused]): a bad file never loses the message."""
    cfg = current_app.config
    kept, refused = [], []
    for name, data in parts:
        upload = files.Upload(name, data)
        if len(kept) >= cfg["ATTACHMENT_MAX_COUNT"]:
            refused.append((files.clean_filename(name), "too many attachments"))
            continue
        try:
            files.check_uploads([upload], max_bytes=cfg["ATTACHMENT_MAX_BYTES"], max_count=1,
                                extensions=cfg["ATTACHMENT_EXTENSIONS"])
        except ValidationFailed as exc:
            refused.append((files.clean_filename(name), str(exc)))
            continue
        kept.append(upload)
    return kept, refused


def _with_forwarded(text: str, subjects: list[str]) -> str:
    """A line per forwarded message kept as an .eml attachment (in the site's language)."""
    if not subjects:
        return text

    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "el")):
        notes = [_("Forwarded message attached: %(subject)s", subject=s or _("(no subject)"))
                 for s in subjects]
    return "\n\n".join(p for p in (text.strip(), *notes) if p)


def _body(text: str, refused) -> str:
    text = text.strip() or NO_TEXT
    if refused:
        lines = "\n".join(f"- {name}: {why}" for name, why in refused)
        text += f"\n\n[Συνημμένα που δεν έγιναν δεκτά]\n{lines}"
    if len(text) < 5:
        text = f"{text} {NO_TEXT}"
    limit = services.BODY_MAX
    return text if len(text) <= limit else text[:limit - 40] + "\n[… το κείμενο περικόπηκε]"
