"""SLA notifications through the outbox: once per ticket, level stay, kind and recipient."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.extensions import db
from helpdesk.outbox.services import queue_notification
from helpdesk.sla.clock import SlaResult
from helpdesk.tickets.models import Ticket


def managers_by_unit(unit_ids) -> dict[int, list[str]]:
    """The active managers' e-mail addresses of each unit, in one query."""
    rows = db.session.execute(
        select(UnitMembership.unit_id, User.email).join(User, User.id == UnitMembership.user_id)
        .where(UnitMembership.unit_id.in_(list(unit_ids)), UnitMembership.is_manager.is_(True),
               User.is_active_account.is_(True))).all()
    out: dict[int, list[str]] = {}
    for unit_id, email in rows:
        out.setdefault(unit_id, []).append(email)
    return out


def _recipients(ticket: Ticket, managers: dict[int, list[str]]) -> list[str]:
    emails = list(managers.get(ticket.unit_id, []))
    if ticket.assignee is not None and ticket.assignee.is_active_account:
        emails.append(ticket.assignee.email)
    return sorted(set(emails))


def _queue(kind: str, ticket: Ticket, sla: SlaResult, managers, now: datetime,
           subject: str, body: str) -> int:
    stay = sla.level_clock.started_at.strftime("%Y%m%dT%H%M%S")
    count = 0
    for email in _recipients(ticket, managers):
        key = f"{kind}:{ticket.id}:L{sla.level}:{stay}:{email}"
        if queue_notification(kind=kind, recipient_email=email, subject=subject, body=body,
                              dedupe_key=key, now=now, ticket_id=ticket.id) is not None:
            count += 1
    return count


def level_warning(ticket: Ticket, sla: SlaResult, managers, *, now: datetime) -> int:
    """Tell the assignee and the unit's managers that the level's time is running out."""
    from helpdesk.sla.wording import time_left_text

    remaining = time_left_text(sla.level_clock.remaining_minutes or 0)
    return _queue("sla_warning", ticket, sla, managers, now,
                  f"[{ticket.ref}] Πλησιάζει η λήξη του χρόνου επιπέδου {sla.level}",
                  f"Απομένουν {remaining} για το αίτημα {ticket.ref}: "
                  f"{ticket.subject}", )


def level_breach(ticket: Ticket, sla: SlaResult, managers, *, now: datetime) -> int:
    """Tell the assignee and the unit's managers that the level's time has run out."""
    return _queue("sla_breach", ticket, sla, managers, now,
                  f"[{ticket.ref}] Έληξε ο χρόνος επιπέδου {sla.level}",
                  f"Το αίτημα {ticket.ref} ({ticket.subject}) ξεπέρασε τον χρόνο του "
                  f"επιπέδου {sla.level}.")
