"""The mail every event causes: the bus's mail handlers (helpdesk.handlers.HANDLERS).

Each takes a list of events, writes outbox rows (one per recipient, once per dedupe key;
helpdesk.outbox.services hands them to the mail queue after the commit) and returns how
many it wrote.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from helpdesk import events
from helpdesk.census.models import Census, CensusReminder
from helpdesk.census.services import reminder_text
from helpdesk.extensions import db
from helpdesk.mail.queries import notifications_to
from helpdesk.notify.services import notify_events
from helpdesk.org.models import School
from helpdesk.outbox.services import queue_notification
from helpdesk.sla.notify import managers_by_unit
from helpdesk.sla.wording import time_left_text

log = logging.getLogger(__name__)


# --- tickets ---------------------------------------------------------------------------------

def ticket_mail(found: list[events.TicketEvent]) -> int:
    """The notifications of the ticket changes (helpdesk.notify.rules decides who is told
    what from all the rows of one change)."""
    return len(notify_events([e.row for e in found]))


# --- SLA -------------------------------------------------------------------------------------

def sla_mail(found: list[events.SlaEvent]) -> int:
    """Tell the assignee and the unit's managers that the level's time runs out, or ran
    out: once per ticket, level stay, kind and recipient."""
    count = 0
    for event in found:
        ticket = event.ticket
        managers = event.managers
        if managers is None:
            managers = managers_by_unit({ticket.unit_id})
        subject, body = _sla_text(event)
        for email in sla_recipients(ticket, managers):
            if queue_notification(kind=event.kind, recipient_email=email, subject=subject,
                                  body=body, dedupe_key=f"{event.key}:{email}", now=event.at,
                                  ticket_id=ticket.id) is not None:
                count += 1
    return count


def sla_recipients(ticket, managers) -> list[str]:
    """The managers of the ticket's unit and its assignee, if active."""
    emails = list(managers.get(ticket.unit_id, []))
    if ticket.assignee is not None and ticket.assignee.is_active_account:
        emails.append(ticket.assignee.email)
    return sorted(set(emails))


def _sla_text(event: events.SlaEvent) -> tuple[str, str]:
    ticket = event.ticket
    if isinstance(event, events.SlaWarning):
        remaining = time_left_text(event.remaining_minutes or 0)
        return (f"[{ticket.ref}] Πλησιάζει η λήξη του χρόνου επιπέδου {event.level}",
                f"Απομένουν {remaining} για το αίτημα {ticket.ref}: {ticket.subject}")
    return (f"[{ticket.ref}] Έληξε ο χρόνος επιπέδου {event.level}",
            f"Το αίτημα {ticket.ref} ({ticket.subject}) ξεπέρασε τον χρόνο του "
            f"επιπέδου {event.level}.")


# --- census ----------------------------------------------------------------------------------

def census_reminder_mail(found: list[events.CensusReminderDue]) -> int:
    """Remind each school, at its official address, and remember the reminder was sent."""
    count = 0
    for event in found:
        census = db.session.get(Census, event.census_id)
        school = db.session.get(School, event.school_id)
        subject, body = reminder_text(census, school, event.days_left)
        note = queue_notification(
            kind="census_reminder", recipient_email=school.email, subject=subject, body=body,
            now=event.at, locale="el",
            dedupe_key=f"census_reminder:{census.id}:{school.id}:{event.days_before}")
        if note is None:
            continue
        db.session.add(CensusReminder(census_id=census.id, school_id=school.id,
                                      days_before=event.days_before, sent_at=event.at,
                                      notification_id=note.id))
        count += 1
    return count


# --- mail from strangers ---------------------------------------------------------------------

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


def unknown_sender_answer(found: list[events.UnknownSenderQuarantined]) -> int:
    """One polite answer per address per day, within the per-recipient cap."""
    cap = current_app.config["MAIL_AUTOREPLY_CAP_PER_DAY"]
    count = 0
    for event in found:
        if notifications_to(event.address, event.at - timedelta(days=1)) >= cap:
            log.info("auto-reply cap reached for %s", event.address)
            continue
        if queue_notification(
                kind="mail_unknown_sender", recipient_email=event.address,
                subject=UNKNOWN_SENDER_SUBJECT, body=UNKNOWN_SENDER_BODY, now=event.at,
                dedupe_key=f"mail-unknown-sender:{event.address}:{event.at.date().isoformat()}"
        ) is not None:
            count += 1
    return count
