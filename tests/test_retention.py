"""Retention: tickets closed more than RETENTION_YEARS ago lose their personal data (texts,
addresses, files, mails), keep what the reports count, and a dry run changes nothing."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select, update

from helpdesk.api import webhooks
from helpdesk.api.webhook_models import WebhookDelivery
from helpdesk.extensions import db as _db
from helpdesk.mail.models import InboundMessage
from helpdesk.ops import retention
from helpdesk.outbox.models import Notification
from helpdesk.tickets import services
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketEvent
from tests.factories import World, at, make_ticket, resolution


def closed_ticket(w, subject, minutes):
    t = make_ticket(w.user_a, subject=subject, minutes=minutes,
                    description="Τηλέφωνο διευθυντή 2310-123456, κ. Νικολάου.",
                    attachments=[Upload("οθόνη.png", b"\x89PNG\r\n\x1a\nxx")])
    services.reply(w.l1, t, "Καλέστε με στο 6944-000000.", now=at(minutes + 1))
    services.resolve(w.l1, t, resolution("REMOTE"), "Λύθηκε.", now=at(minutes + 2))
    services.close_resolved(now=at(minutes + 2) + timedelta(days=30), older_than=timedelta(days=10))
    return t


def test_old_closed_tickets_are_anonymised_and_still_counted(app, db):
    w = World()
    old = closed_ticket(w, "Παλιό αίτημα του κ. Νικολάου", 0)
    recent = closed_ticket(w, "Πρόσφατο αίτημα", 6 * 365 * 24 * 60)
    still_open = make_ticket(w.user_a, subject="Ανοιχτό από παλιά")
    _db.session.commit()
    directory = services.attachments_directory()
    old_files = list(_db.session.scalars(select(Attachment.stored_name)
                                         .where(Attachment.ticket_id == old.id)))
    assert old_files and all((directory / n).exists() for n in old_files)
    now = at(6 * 365 * 24 * 60 + 60 * 24 * 40)
    before = retention.cutoff(now, 5)
    counted = retention.count_due(before)
    assert counted.tickets == 1 and counted.attachments == 1 and counted.messages >= 2

    done = retention.run(before, now, commit=_db.session.commit)
    assert done.tickets == 1 and done.attachments == 1
    _db.session.expire_all()
    t = _db.session.get(Ticket, old.id)
    assert t.subject == t.description == retention.REMOVED and t.anonymised_at == now
    assert (t.school_id, t.category_id, t.status) == (w.user_a.school_id, old.category_id, "closed")
    bodies = set(_db.session.scalars(select(Message.body).where(Message.ticket_id == old.id)))
    assert bodies == {retention.REMOVED}
    assert not _db.session.scalar(select(func.count()).select_from(Attachment)
                                  .where(Attachment.ticket_id == old.id))
    assert not any((directory / n).exists() for n in old_files)
    mails = _db.session.execute(select(Notification.recipient_email, Notification.body)
                                .where(Notification.ticket_id == old.id)).all()
    assert mails and all(m == ("", "") for m in mails)
    assert not any(_db.session.scalars(select(TicketEvent.reason)
                                       .where(TicketEvent.ticket_id == old.id)))
    # the others keep everything
    for kept in (recent, still_open):
        assert _db.session.get(Ticket, kept.id).anonymised_at is None
    assert "Πρόσφατο" in _db.session.get(Ticket, recent.id).subject
    # idempotent
    assert retention.run(before, now, commit=_db.session.commit).tickets == 0


def test_dry_run_changes_nothing(app, db):
    w = World()
    old = closed_ticket(w, "Παλιό αίτημα", -2 * 365 * 24 * 60)
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["retention", "--dry-run", "--years", "1"])
    assert result.exit_code == 0, result.output
    assert "dry run: 1 tickets" in result.output and "nothing was changed" in result.output
    _db.session.expire_all()
    assert _db.session.get(Ticket, old.id).subject == "Παλιό αίτημα"


def test_retention_off():
    assert retention.cutoff(at(0), 0) is None


def test_webhook_payloads_mails_and_their_errors_lose_personal_data_too(app, db):
    """Beyond the ticket's own rows: the payloads of its webhook deliveries (registered with
    retention by helpdesk.api, above it), the delivery errors of its mails and the quoted
    text of the mails received for it; the dry run counts the deliveries."""
    w = World()
    webhooks.subscribe(w.admin, "http://127.0.0.1:9/hook", ["ticket.created", "ticket.escalated"],
                       now=at(-10), allow_private=True)
    old = make_ticket(w.user_a, subject="Αίτημα του κ. Νικολάου", minutes=-3 * 365 * 24 * 60)
    services.escalate(w.l1, old, "Ο κ. Νικολάου (6944-000000) θέλει ΠΣΔ",
                      now=at(-3 * 365 * 24 * 60 + 1))
    services.resolve(w.l2, old, resolution("REMOTE"), "Λύθηκε.", now=at(-3 * 365 * 24 * 60 + 2))
    services.close_resolved(now=at(-3 * 365 * 24 * 60 + 2) + timedelta(days=30),
                            older_than=timedelta(days=10))
    recent = make_ticket(w.user_a, subject="Πρόσφατο")
    services.escalate(w.l1, recent, "Η κ. Παππά ζητά ΠΣΔ", now=at(1))
    # a mail about the old ticket that bounced, and a mail received for it, quoting an older one
    _db.session.execute(update(Notification).where(Notification.ticket_id == old.id).values(
        last_error="550 5.1.1 <nikolaou@sch.gr>: user unknown"))
    _db.session.add(InboundMessage(key="m1@sch.gr", raw=b"From: nikolaou@sch.gr\r\n\r\nx", size=1,
                                   sha256="0" * 64, source="cli", status="processed",
                                   ticket_id=old.id, from_addr="nikolaou@sch.gr", subject="Re",
                                   quoted_text="> Ο κ. Νικολάου έγραψε", detail="ok"))
    _db.session.commit()
    assert _db.session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.ticket_id == old.id))
    deliveries = {d.ticket_id: d for d in _db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.event == "ticket.escalated"))}
    assert "Νικολάου" in deliveries[old.id].payload["change"]["reason"]
    now = at(60 * 24 * 30)
    before = retention.cutoff(now, 1)

    dry = app.test_cli_runner().invoke(args=["retention", "--dry-run", "--years", "1"])
    assert "2 webhook deliveries" in dry.output, dry.output  # ticket.created and escalated
    assert retention.count_due(before).parts == {"webhook deliveries": 2}

    done = retention.run(before, now, commit=_db.session.commit)
    assert done.tickets == 1 and done.parts == {"webhook deliveries": 2}
    _db.session.expire_all()
    payloads = list(_db.session.scalars(select(WebhookDelivery.payload)
                                        .where(WebhookDelivery.ticket_id == old.id)))
    assert len(payloads) == 2 and "Νικολάου" not in json.dumps(payloads, ensure_ascii=False)
    escalated = next(p for p in payloads if p["event"] == "ticket.escalated")
    assert escalated["change"] == {"from_level": "1", "to_level": "2", "reason": retention.REMOVED}
    assert escalated["ticket"]["ref"] == old.ref  # what reports and receivers count stays
    assert "Παππά" in deliveries[recent.id].payload["change"]["reason"]  # not due: kept
    assert not any(_db.session.scalars(select(Notification.last_error)
                                       .where(Notification.ticket_id == old.id)))
    inbound = _db.session.scalars(select(InboundMessage).where(InboundMessage.ticket_id == old.id)).one()
    assert (inbound.raw, inbound.from_addr, inbound.quoted_text, inbound.detail) == (b"", None, None, None)


def test_scrub_keeps_codes_and_removes_text():
    payload = {"event": "x", "ticket": {"ref": "ΑΡ-1", "level": 2, "school_email": "a@sch.gr",
                                        "subject": "Νικολάου"}, "names": ["Α", "Β"]}
    assert webhooks.scrub(payload) == {"event": "x", "ticket": {
        "ref": "ΑΡ-1", "level": 2, "school_email": None, "subject": retention.REMOVED},
        "names": [retention.REMOVED, retention.REMOVED]}
