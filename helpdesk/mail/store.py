"""Store first: every door calls ``accept`` and answers "safe" only after it returns.

``store_raw`` flushes (a service); ``accept`` is the doors' entry point: it stores,
commits, then asks RQ to process. When Redis is down the message is still stored and
the periodic sweep queues it later.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.parse import one_line, parse_key

log = logging.getLogger(__name__)


def message_key(raw: bytes) -> str:
    """The Message-ID, or the hash of the bytes when there is none."""
    message_id = parse_key(raw)
    if message_id:
        return message_id if len(message_id) <= 200 else \
            "id-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _summary(raw: bytes) -> tuple[str | None, str | None]:
    from email import policy
    from email.parser import BytesParser
    from email.utils import parseaddr

    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        sender = parseaddr(one_line(str(msg.get("From") or "")))[1].lower()[:200] or None
        return sender, one_line(str(msg.get("Subject") or ""))[:300] or None
    except Exception:  # noqa: BLE001 - the summary is a convenience
        return None, None


def store_raw(raw: bytes, *, source: str, now: datetime) -> tuple[InboundMessage, bool]:
    """The stored message for ``raw`` and whether it is new (a duplicate is not)."""
    key = message_key(raw)
    existing = db.session.scalar(select(InboundMessage).where(InboundMessage.key == key))
    if existing is not None:
        return existing, False
    sender, subject = _summary(raw)
    row = InboundMessage(key=key, raw=raw, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                         source=source[:80], received_at=now, status=InboundStatus.RECEIVED,
                         from_addr=sender, subject=subject, attempts=0)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # the same message arriving through two doors at once
        return db.session.scalar(select(InboundMessage).where(InboundMessage.key == key)), False
    return row, True


def accept(raw: bytes, *, source: str, now: datetime) -> tuple[int, bool]:
    """Store and commit ``raw``, then queue its processing. Raises when it is not stored."""
    try:
        row, created = store_raw(raw, source=source, now=now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if created:
        enqueue_processing(row.id)
    log.info("stored inbound message %s from %s (%s)", row.id, source,
             "new" if created else "duplicate")
    return row.id, created


def enqueue_processing(inbound_id: int) -> bool:
    """Hand processing to RQ (after commit); False when Redis is unavailable."""
    try:
        from helpdesk.core.redisconn import get_queue

        get_queue("mail").enqueue("workers.mail_jobs.process_inbound", inbound_id,
                                  job_id=f"mail-inbound-{inbound_id}", job_timeout=600)
        return True
    except Exception as exc:  # noqa: BLE001 - the sweep picks it up later
        log.warning("could not queue inbound message %s (%s); the sweep will", inbound_id, exc)
        return False
