"""Stored message -> ticket, reply, quarantine or ignore; exactly once.

``run`` is the entry point the RQ job (and the CLI, and the admin pages) call: it
owns the transactions. The attempt is counted and committed first, so a message that
kills its worker every time ends in quarantine instead of looping. The processing
itself is one transaction that starts by taking the row's write lock with a
conditional UPDATE on ``status = 'received'``: a concurrent or repeated run finds
nothing to do, and a crash rolls everything back to "received" for the sweep.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from helpdesk.core.errors import Conflict, DomainError, ValidationFailed
from helpdesk.extensions import db
from helpdesk.mail import classify as machine
from helpdesk.mail import parse as parsing
from helpdesk.mail import queries
from helpdesk.mail.ids import find_thread, verify_message_id
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.threading import Action, decide, clean_subject, subject_refs
from helpdesk.org.models import Category, School
from helpdesk.tickets import attachments as files
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

NO_SUBJECT = "Αίτημα μέσω ηλεκτρονικού ταχυδρομείου"
NO_TEXT = "(χωρίς κείμενο)"


def run(inbound_id: int, *, now: datetime) -> str | None:
    """Process one stored message if it still waits; returns its status afterwards."""
    if not _count_attempt(inbound_id):
        row = db.session.get(InboundMessage, inbound_id)
        return row.status if row else None
    row = db.session.get(InboundMessage, inbound_id)
    if row.attempts > current_app.config["MAIL_MAX_ATTEMPTS"]:
        _finish(row, InboundStatus.QUARANTINED, "too_many_attempts", now,
                detail="processing failed or was interrupted too many times")
        db.session.commit()
        return row.status
    try:
        if not _lock(inbound_id):
            db.session.rollback()
            return db.session.get(InboundMessage, inbound_id).status
        row = db.session.get(InboundMessage, inbound_id)
        handle(row, now=now)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _quarantine_after_failure(inbound_id, _reason(exc), str(exc), now)
    except Exception as exc:
        db.session.rollback()
        log.exception("processing inbound message %s failed", inbound_id)
        final = db.session.get(InboundMessage, inbound_id).attempts >= \
            current_app.config["MAIL_MAX_ATTEMPTS"]
        _quarantine_after_failure(inbound_id, "error", repr(exc)[:2000], now, final=final)
    return db.session.get(InboundMessage, inbound_id).status


def _count_attempt(inbound_id: int) -> bool:
    result = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id,
                                     InboundMessage.status == InboundStatus.RECEIVED)
        .values(attempts=InboundMessage.attempts + 1))
    db.session.commit()
    return result.rowcount == 1


def _lock(inbound_id: int) -> bool:
    """Take the row's write lock while it is still "received" (the exactly-once guard)."""
    result = db.session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id,
                                     InboundMessage.status == InboundStatus.RECEIVED)
        .values(status=InboundStatus.RECEIVED))
    db.session.expire_all()
    return result.rowcount == 1


def _reason(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return "invalid"
    if isinstance(exc, Conflict):
        return "conflict"
    return "not_allowed"


def _quarantine_after_failure(inbound_id, reason, detail, now, *, final=True) -> None:
    row = db.session.get(InboundMessage, inbound_id)
    if final:
        _finish(row, InboundStatus.QUARANTINED, reason, now, detail=detail)
    else:
        row.detail = detail
    db.session.commit()


def _finish(row, status, reason, now, *, detail=None, ticket_id=None, message_id=None) -> None:
    row.status, row.reason, row.processed_at = status, reason, now
    row.ticket_id, row.message_id = ticket_id, message_id
    if detail is not None:
        row.detail = detail


# --- one message ---------------------------------------------------------------------------

def _own_addresses() -> list[str]:
    cfg = current_app.config
    return [parsing.own_address(cfg.get("MAIL_DEFAULT_SENDER") or ""),
            *[a.lower() for a in cfg.get("MAIL_OWN_ADDRESSES", [])]]


def handle(row: InboundMessage, *, now: datetime) -> None:
    """Decide and act on one locked message (flushes; the caller commits)."""
    cfg = current_app.config
    secret = cfg["SECRET_KEY"]
    mail = parsing.parse(row.raw)
    row.from_addr, row.subject = mail.from_addr or row.from_addr, mail.subject[:300] or row.subject
    kind = machine.classify(
        mail.headers, from_addr=mail.from_addr, content_type=mail.content_type,
        report_type=mail.report_type, own_addresses=_own_addresses(),
        is_our_message_id=lambda value: verify_message_id(secret, value) is not None)
    if kind != machine.Kind.HUMAN:
        return _finish(row, InboundStatus.IGNORED, kind.value, now)
    if row.school_id is None and mail.from_addr and queries.recent_from(
            mail.from_addr, now - timedelta(hours=1), row.id) >= cfg["MAIL_INBOUND_MAX_PER_HOUR"]:
        return _finish(row, InboundStatus.QUARANTINED, "rate_limited", now)
    sender, actor = queries.identify(mail.from_addr, school_id=row.school_id)
    signed = find_thread(secret, mail.header("in-reply-to"), mail.header("references"))
    signed_ticket = db.session.get(Ticket, signed.ticket_id) if signed else None
    subject_ticket = next((t for t in (queries.ticket_by_ref(y, n)
                                       for y, n in subject_refs(mail.subject)) if t), None)
    decision = decide(sender, signed=signed, signed_ticket=queries.ticket_facts(signed_ticket, actor),
                      subject_ticket=queries.ticket_facts(subject_ticket, actor), now=now,
                      reopen_window=timedelta(days=cfg["REOPEN_WINDOW_DAYS"]))
    if decision.action == Action.QUARANTINE:
        _finish(row, InboundStatus.QUARANTINED, decision.reason, now)
        if decision.reason == "unknown_sender" and machine.may_answer(kind, mail.from_addr,
                                                                      mail.headers):
            _answer_unknown_sender(mail.from_addr, now)
        return None
    body, quoted = parsing.split_quote(mail.text)
    row.quoted_text = quoted or None
    uploads, refused = _attachments(mail.attachments)
    body = _body(body, refused)
    ticket = db.session.get(Ticket, decision.ticket_id) if decision.ticket_id else None
    if decision.action in (Action.NEW_TICKET, Action.FOLLOW_UP):
        created = _open(actor, sender.school_id, mail.subject, body, uploads, now)
        if ticket is not None:
            created.related_ticket_id = ticket.id
        return _finish(row, InboundStatus.PROCESSED, None, now, ticket_id=created.id)
    if decision.action == Action.REOPEN:
        services.reopen(actor, ticket, body, now=now)
        message = _last_message(ticket)
        _attach(ticket, message, actor, uploads, now)
    else:  # REPLY, STAFF_REPLY
        message = services.reply(actor, ticket, body, now=now, attachments=uploads,
                                 channel="email")
    message.channel = "email"
    if message.author_id is None:
        message.author_email = mail.from_addr
    db.session.flush()
    return _finish(row, InboundStatus.PROCESSED, None, now, ticket_id=ticket.id,
                   message_id=message.id)


def _open(actor, school_id, subject, body, uploads, now) -> Ticket:
    code = current_app.config["MAIL_DEFAULT_CATEGORY"]
    category = db.session.scalar(select(Category).where(Category.code == code))
    subject = clean_subject(subject)
    subject = (subject if len(subject) >= 3 else NO_SUBJECT)[:services.SUBJECT_MAX]
    return services.open_ticket(actor, school=db.session.get(School, school_id),
                                category=category, subject=subject, description=body,
                                now=now, attachments=uploads, channel="email")


def _last_message(ticket):
    from helpdesk.tickets.models import Message

    return db.session.scalar(select(Message).where(Message.ticket_id == ticket.id)
                             .order_by(Message.id.desc()).limit(1))


def _attach(ticket, message, actor, uploads, now) -> None:
    # reopen() takes no attachments; the same writer reply() and open_ticket() use.
    services._store_attachments(ticket, message, actor, uploads, now)


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


def _body(text: str, refused) -> str:
    text = text.strip() or NO_TEXT
    if refused:
        lines = "\n".join(f"- {name}: {why}" for name, why in refused)
        text += f"\n\n[Συνημμένα που δεν έγιναν δεκτά]\n{lines}"
    if len(text) < 5:
        text = f"{text} {NO_TEXT}"
    limit = services.BODY_MAX
    return text if len(text) <= limit else text[:limit - 40] + "\n[… το κείμενο περικόπηκε]"


# --- the one automatic answer to strangers ------------------------------------------------------

UNKNOWN_SENDER_SUBJECT = "Αρωγή: πώς υποβάλλεται αίτημα τεχνικής υποστήριξης"
UNKNOWN_SENDER_BODY = """Καλησπέρα σας,

Λάβαμε το μήνυμά σας, αλλά η διεύθυνση από την οποία γράψατε δεν αντιστοιχεί σε
σχολική μονάδα ή σε εγγεγραμμένο χρήστη της Αρωγής. Το μήνυμα φυλάσσεται και θα το
εξετάσει διαχειριστής.

Για να υποβάλετε αίτημα, γράψτε από την επίσημη διεύθυνση ΠΣΔ του σχολείου σας
(π.χ. mail@σχολείο.σχολ.sch.gr) ή συνδεθείτε στην Αρωγή με τον λογαριασμό του σχολείου.

Με εκτίμηση,
Αρωγή — Τεχνική υποστήριξη σχολικών μονάδων

(Αυτόματο μήνυμα· δεν χρειάζεται να απαντήσετε.)
"""


def _answer_unknown_sender(address: str, now: datetime) -> None:
    """One polite answer per address per day, within the per-recipient cap."""
    try:
        from helpdesk.outbox.services import queue_notification
    except ImportError:
        return
    cap = current_app.config["MAIL_AUTOREPLY_CAP_PER_DAY"]
    if queries.notifications_to(address, now - timedelta(days=1)) >= cap:
        log.info("auto-reply cap reached for %s", address)
        return
    queue_notification(kind="mail_unknown_sender", recipient_email=address,
                       subject=UNKNOWN_SENDER_SUBJECT, body=UNKNOWN_SENDER_BODY,
                       dedupe_key=f"mail-unknown-sender:{address}:{now.date().isoformat()}",
                       now=now)
