"""Store first: every door calls ``accept`` and answers "safe" only after it returns.

``store_raw`` writes without committing (a service); ``accept`` is the doors' entry
point: it stores, commits, then asks RQ to process. When Redis is down the message is
still stored and the periodic sweep queues it later.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from helpdesk.core import aftercommit, metrics
from helpdesk.core.redisconn import get_redis
from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.parse import message_id_of, one_line, parse_headers

log = logging.getLogger(__name__)


def _key(message_id: str | None, raw: bytes) -> str:
    if message_id:
        return message_id if len(message_id) <= 200 else \
            "id-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _key_and_summary(raw: bytes) -> tuple[str, str | None, str | None]:
    """(key, sender, subject) from one parse of the header block; never raises."""
    try:
        msg = parse_headers(raw)
    except Exception:  # noqa: BLE001 - no usable header at all: the hash, no summary
        return _key(None, raw), None, None
    key = _key(message_id_of(msg), raw)
    try:
        sender = parseaddr(one_line(str(msg.get("From") or "")))[1].lower()[:200] or None
        return key, sender, one_line(str(msg.get("Subject") or ""))[:300] or None
    except Exception:  # noqa: BLE001 - the summary is a convenience
        return key, None, None


def _insert(dialect: str):
    """INSERT … ON CONFLICT (key) DO NOTHING: a duplicate is no error and needs no SAVEPOINT."""
    module = postgresql if dialect == "postgresql" else sqlite if dialect == "sqlite" else None
    if module is None:
        return None
    return module.insert(InboundMessage.__table__).on_conflict_do_nothing(index_elements=["key"])


def store_raw(raw: bytes, *, source: str, now: datetime) -> tuple[int, bool]:
    """The id of the stored message for ``raw`` and whether it is new (a duplicate is not).

    One statement: the insert skips a key already stored (also one a concurrent door is
    committing: PostgreSQL waits for it), and only then is the existing id looked up."""
    key, sender, subject = _key_and_summary(raw)
    values = dict(key=key, raw=raw, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                  source=source[:80], received_at=now, status=InboundStatus.RECEIVED,
                  from_addr=sender, subject=subject, attempts=0)
    stmt = _insert(db.session.get_bind().dialect.name)
    if stmt is None:  # another database: look first, insert in a SAVEPOINT
        return _store_portable(key, values)
    new_id = db.session.scalar(stmt.values(**values).returning(InboundMessage.__table__.c.id))
    if new_id is not None:
        return new_id, True
    return db.session.scalar(select(InboundMessage.id).where(InboundMessage.key == key)), False


def _store_portable(key: str, values: dict) -> tuple[int, bool]:
    existing = db.session.scalar(select(InboundMessage.id).where(InboundMessage.key == key))
    if existing is not None:
        return existing, False
    row = InboundMessage(**values)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same message arriving through two doors at once
        return db.session.scalar(select(InboundMessage.id).where(InboundMessage.key == key)), False
    return row.id, True


def accept(raw: bytes, *, source: str, now: datetime) -> tuple[int, bool]:
    """Store and commit ``raw``, then queue its processing. Raises when it is not stored."""
    try:
        inbound_id, created = store_raw(raw, source=source, now=now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if created:
        metrics.MAILS_RECEIVED.inc()
        enqueue_processing(inbound_id)
    log.info("stored inbound message %s from %s (%s)", inbound_id, source,
             "new" if created else "duplicate")
    return inbound_id, created


#: Set while a processing job is queued and has not started yet; its value is that job's
#: message. Doors queue no other job meanwhile: that one processes every waiting message.
JOB_QUEUED_KEY = "arogi:mail:inbound-job-queued"
#: Seconds after which the mark lapses anyway (a queued job that was lost).
JOB_QUEUED_TTL = 300


def enqueue_processing(inbound_id: int | None) -> bool:
    """Make sure a processing job will see ``inbound_id`` (call after the commit); False
    when Redis is unavailable (the periodic sweep queues it later).

    A job takes every waiting message (``process.run_job``), so a door queues one only
    when none is queued and not yet started: a burst of mail becomes a few jobs of many
    messages, not one job each. The job clears the mark before it looks for messages
    (``job_started``), so a message committed later than that queues the next job."""
    try:
        redis = get_redis()
        if not redis.set(JOB_QUEUED_KEY, inbound_id or 0, nx=True, ex=JOB_QUEUED_TTL):
            return True  # the queued job will see it
    except Exception as exc:  # noqa: BLE001 - the sweep picks it up later
        log.warning("could not queue inbound message %s (%s); the sweep will", inbound_id, exc)
        return False
    if enqueue_job(inbound_id):
        return True
    try:
        redis.delete(JOB_QUEUED_KEY)
    except Exception:  # noqa: BLE001 - it lapses by itself
        pass
    return False


def enqueue_job(inbound_id: int | None) -> bool:
    """Queue a processing job for ``inbound_id`` (None: for whatever waits) whatever else
    is queued (the sweep does, for messages a job may have missed); False without Redis."""
    return aftercommit.enqueue(aftercommit.Job(
        "mail", "workers.mail_jobs.process_inbound", (inbound_id,),
        job_id=f"mail-inbound-{inbound_id or 'next-' + _token()}", timeout=600,
        owner=__name__, what=f"inbound message {inbound_id}", fallback="the sweep will"))


def job_started() -> None:
    """Called by a processing job before it looks for messages: from now on a stored
    message queues a new job (see ``enqueue_processing``)."""
    try:
        get_redis().delete(JOB_QUEUED_KEY)
    except Exception as exc:  # noqa: BLE001 - the mark lapses by itself
        log.warning("could not clear the queued-job mark (%s)", exc)


def _token() -> str:
    return secrets.token_hex(6)
