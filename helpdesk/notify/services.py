"""Ticket notifications in the transaction of the change they report (the outbox).

``notify_events`` is the work of the bus's ticket handler (helpdesk.notify.handlers):
the new TicketEvent rows of a transaction are grouped into changes (one ticket, one
actor, one moment), ``rules.decide`` says what to tell whom, and a Notification row per
recipient joins the same transaction; the outbox writer hands each row to the "mail"
queue after the commit (helpdesk.core.aftercommit).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.bus import paused  # noqa: F401 (re-exported: helpdesk.demo.cli)
from helpdesk.extensions import db
from helpdesk.mail.ids import make_message_id
from helpdesk.notify import recipients, rules
from helpdesk.notify.render import Rendered, render
from helpdesk.outbox.message import mail_domain
from helpdesk.outbox.models import Notification
from helpdesk.outbox.services import queue_notifications
from helpdesk.permissions import acts_for_school, sees_staff_text
from helpdesk.tickets import confirm_links, reasons
from helpdesk.tickets.models import Message, Ticket, TicketEvent

log = logging.getLogger(__name__)


# --- writing -------------------------------------------------------------------------------

def notify_events(events: list[TicketEvent]) -> list[int]:
    """Queue the notifications that ``events`` call for; returns the ids of the rows added
    (one INSERT for all of them; a dedupe key already queued is skipped)."""
    rows = []
    rendered: dict[tuple, Rendered | None] = {}  # each distinct text once per commit
    for (ticket_id, actor_id, at), group in rules.group_events(events):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        actor = db.session.get(User, actor_id) if actor_id else _address_actor(ticket, group)
        change = _change(ticket, actor, at, group)
        for intent, recipient in recipients.resolve(rules.decide(change), ticket, actor):
            row = _row(intent, recipient, ticket, actor, group, rendered)
            if row is not None:
                rows.append(row)
    return queue_notifications(rows)


@dataclass(frozen=True)
class AddressActor:
    """A school that acted by its official address (TicketEvent.actor_email): the actor
    of the change, so the unit is told and the school gets no echo of its own words."""

    email: str
    school_name: str
    id: None = None
    is_school: bool = True

    @property
    def name(self) -> str:
        return f"{self.school_name} <{self.email}>" if self.school_name else self.email


def _address_actor(ticket: Ticket, group: list[TicketEvent]) -> AddressActor | None:
    email = next((e.actor_email for e in group if e.actor_email), None)
    return AddressActor(email, ticket.school.name if ticket.school else "") if email else None


def _change(ticket: Ticket, actor, at, group: list[TicketEvent]) -> rules.Change:
    message_ids = [int(e.new_value) for e in group
                   if e.kind == "reply" and e.field == "message" and (e.new_value or "").isdigit()]
    # The messages were written in this transaction and are still in the identity map
    # (helpdesk.bus holds them), so these look-ups need no query.
    messages = [db.session.get(Message, i) for i in message_ids]
    public = frozenset(m.id for m in messages if m is not None and not m.is_internal)
    return rules.Change(
        ticket_id=ticket.id, unit_id=ticket.unit_id, assignee_id=ticket.assignee_id,
        actor_id=actor.id if actor else None, actor_is_school=acts_for_school(actor),
        at=at, public_message_ids=public,
        events=tuple(rules.Event(id=e.id, kind=e.kind, field=e.field, old=e.old_value,
                                 new=e.new_value, reason=e.reason, is_internal=e.is_internal,
                                 is_shared=e.is_shared_with_school, reason_code=e.reason_code,
                                 reason_params=tuple(sorted((e.reason_params or {}).items())))
                     for e in group))


def _row(intent: rules.Intent, recipient: recipients.Recipient, ticket: Ticket,
         actor, group: list[TicketEvent], rendered: dict) -> dict | None:
    """The notification row for one recipient (see outbox.services.queue_notifications);
    ``rendered``: the texts rendered so far in this commit, by what they are made of."""
    mail = _mail(intent, recipient, ticket, actor, group, rendered)
    if mail is None:
        return None
    cfg = current_app.config
    first = min(e.id for e in group)
    address = hashlib.sha256(recipient.email.lower().encode()).hexdigest()[:16]
    return dict(
        kind=str(intent.kind), recipient_email=recipient.email, ticket_id=ticket.id,
        subject=mail.subject, body=mail.text, body_html=mail.html, locale=recipient.locale,
        recipient_user_id=recipient.user_id, is_automatic=intent.is_automatic,
        message_id=make_message_id(cfg["SECRET_KEY"], ticket.id, recipient.user_id,
                                   mail_domain(cfg)),
        dedupe_key=f"ticket:{ticket.id}:e{first}:{intent.kind}:{address}", now=group[0].at)


def _mail(intent: rules.Intent, recipient: recipients.Recipient, ticket: Ticket,
          actor, group: list[TicketEvent], rendered: dict) -> Rendered | None:
    """The mail of ``intent`` in the recipient's language; None when it cannot be rendered.

    Recipients that read the same words (a unit's managers in one language) share one
    rendering: the text depends only on the kind, the language, the ticket as the commit
    leaves it and the per-recipient values below, which make up the key."""
    message = db.session.get(Message, intent.message_id) if intent.message_id else None
    if message is not None and message.is_internal:  # belt and braces: notes stay inside
        message = None
    values = dict(body=message.body if message else "",
                  reason=_reason(intent, recipient, ticket),
                  actor_name=actor.name if actor else "",
                  on_behalf=_on_behalf(intent, recipient, group),
                  confirm_urls=_confirm_urls(intent, ticket))
    key = (str(intent.kind), recipient.locale, ticket.id,
           *((k, tuple(sorted(v.items())) if isinstance(v, dict) else v)
             for k, v in values.items()))
    if key not in rendered:
        try:
            rendered[key] = render(
                intent.kind, recipient.locale, ref=ticket.ref, subject=ticket.subject,
                school_name=ticket.school.name, unit=ticket.unit, category=ticket.category,
                status=ticket.status, description=ticket.description, **values)
        except Exception:  # a template bug must not stop the ticket change itself
            log.exception("could not render %s for ticket %s", intent.kind, ticket.id)
            rendered[key] = None
    return rendered[key]


def _reason(intent: rules.Intent, recipient: recipients.Recipient, ticket: Ticket) -> str:
    """The intent's reason in the recipient's language, if the recipient may read it: staff
    text goes only to readers permissions.sees_staff_text allows (an address with no user
    is staff unless the intent is for the school)."""
    if not (intent.reason or intent.reason_code):
        return ""
    if not intent.reason_is_shared:
        user = db.session.get(User, recipient.user_id) if recipient.user_id else None
        staff = (sees_staff_text(user, ticket) if user is not None
                 else intent.audience != rules.Audience.SCHOOL)
        if not staff:
            return ""
    with force_locale(recipient.locale):
        return reasons.render(intent.reason_code, dict(intent.reason_params)) or intent.reason or ""


def _confirm_urls(intent: rules.Intent, ticket: Ticket) -> dict[str, str]:
    """The school's one-click "it works" / "it does not" links of a resolution mail."""
    if intent.kind != rules.Kind.RESOLVED or intent.audience != rules.Audience.SCHOOL:
        return {}
    return confirm_links.link_urls(ticket.id, ticket.school_id, ticket.resolved_at)


def _on_behalf(intent: rules.Intent, recipient: recipients.Recipient,
               group: list[TicketEvent]) -> str:
    """For the acknowledgement of a request support staff filed for the school: who filed
    it and how, in the recipient's language; "" otherwise."""
    if intent.kind != rules.Kind.ACK:
        return ""
    filed = next((e for e in group if e.kind == "created" and e.reason_code), None)
    if filed is None:
        return ""
    with force_locale(recipient.locale):
        return reasons.render(filed.reason_code, filed.reason_params) or filed.reason or ""


def list_failed(ticket_id: int) -> list:
    """The ticket's notifications that could not be delivered (failed, bounced or not sent
    to a suppressed address), newest first (one query)."""
    return list(db.session.scalars(
        select(Notification).where(Notification.ticket_id == ticket_id,
                                   Notification.status.in_(("failed", "suppressed")))
        .order_by(Notification.id.desc()).limit(20)))
