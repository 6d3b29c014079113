"""The mail every event causes: the bus's mail handlers (helpdesk.handlers.HANDLERS).

Each takes a list of events, writes outbox rows (one per recipient, once per dedupe key;
helpdesk.outbox.services hands them to the mail queue after the commit) and returns how
many it wrote.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from helpdesk import events
from helpdesk.accounts import reset
from helpdesk.accounts.models import User
from helpdesk.census.models import Census, CensusReminder
from helpdesk.core.display import INCIDENT_STATUS_LABELS
from helpdesk.extensions import db
from helpdesk.incidents.models import Incident, IncidentUpdate
from helpdesk.mail.queries import notifications_to
from helpdesk.notify.recipients import locale_of, pick_locale, school_locales
from helpdesk.notify.render import Rendered, render
from helpdesk.notify.rules import Kind
from helpdesk.notify.services import notify_events
from helpdesk.org.models import School
from helpdesk.outbox.services import queue_notification, queue_notifications
from helpdesk.sla.notify import managers_by_unit
from helpdesk.sla.wording import working_duration

log = logging.getLogger(__name__)


# --- tickets ---------------------------------------------------------------------------------

def ticket_mail(found: list[events.TicketEvent]) -> int:
    """The notifications of the ticket changes (helpdesk.notify.rules decides who is told
    what from all the rows of one change)."""
    return len(notify_events([e.row for e in found]))


# --- SLA -------------------------------------------------------------------------------------

def sla_mail(found: list[events.SlaEvent]) -> int:
    """Tell the assignee and the unit's managers, each in their language, that the level's
    time runs out, or ran out: once per ticket, level stay, kind and recipient."""
    count = 0
    for event in found:
        ticket = event.ticket
        managers = event.managers
        if managers is None:
            managers = managers_by_unit({ticket.unit_id})
        for email, locale in sla_recipients(ticket, managers):
            mail = _sla_mail(event, locale)
            if queue_notification(kind=event.kind, recipient_email=email, subject=mail.subject,
                                  body=mail.text, locale=locale, dedupe_key=f"{event.key}:{email}",
                                  now=event.at, ticket_id=ticket.id) is not None:
                count += 1
    return count


def sla_recipients(ticket, managers) -> list[tuple[str, str]]:
    """(address, language) of the managers of the ticket's unit and of its assignee, if
    active; one each, by address."""
    found = {email: locale for email, locale in managers.get(ticket.unit_id, [])}
    if ticket.assignee is not None and ticket.assignee.is_active_account:
        found[ticket.assignee.email] = ticket.assignee.locale
    return sorted((email, pick_locale(locale)) for email, locale in found.items())


def _sla_mail(event: events.SlaEvent, locale: str) -> Rendered:
    ticket = event.ticket
    with force_locale(locale):
        remaining = working_duration(event.remaining_minutes or 0)
    return render(event.kind, locale, ref=ticket.ref, subject=ticket.subject,
                  level=event.level, remaining=remaining)


# --- census ----------------------------------------------------------------------------------

def census_reminder_mail(found: list[events.CensusReminderDue]) -> int:
    """Remind each school at its official address, in its language, and remember that the
    reminder was sent."""
    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    count = 0
    for event in found:
        census = db.session.get(Census, event.census_id)
        school = db.session.get(School, event.school_id)
        locale = locale_of(school.email)
        mail = render("census_reminder", locale, title=census.title,
                      deadline=census.deadline.strftime("%d/%m/%Y"), days_left=event.days_left,
                      school_name=school.name, url=f"{base}/census/{census.id}")
        note = queue_notification(
            kind="census_reminder", recipient_email=school.email, subject=mail.subject,
            body=mail.text, now=event.at, locale=locale,
            dedupe_key=f"census_reminder:{census.id}:{school.id}:{event.days_before}")
        if note is None:
            continue
        db.session.add(CensusReminder(census_id=census.id, school_id=school.id,
                                      days_before=event.days_before, sent_at=event.at,
                                      notification_id=note.id))
        count += 1
    return count


# --- mail from strangers ---------------------------------------------------------------------

def unknown_sender_answer(found: list[events.UnknownSenderQuarantined]) -> int:
    """One polite answer per address per day, within the per-recipient cap, in the site's
    language (a stranger has told us none)."""
    cfg = current_app.config
    cap = cfg["MAIL_AUTOREPLY_CAP_PER_DAY"]
    count = 0
    for event in found:
        if notifications_to(event.address, event.at - timedelta(days=1)) >= cap:
            log.info("auto-reply cap reached for %s", event.address)
            continue
        locale = pick_locale(cfg.get("BABEL_DEFAULT_LOCALE"))
        mail = render("mail_unknown_sender", locale)
        if queue_notification(
                kind="mail_unknown_sender", recipient_email=event.address, locale=locale,
                subject=mail.subject, body=mail.text, now=event.at,
                dedupe_key=f"mail-unknown-sender:{event.address}:{event.at.date().isoformat()}"
        ) is not None:
            count += 1
    return count


# --- accounts --------------------------------------------------------------------------------

def password_reset_mail(found: list[events.PasswordResetRequested]) -> int:
    """The link that sets a password, to the account's own address in its language; once
    per request (the link is made here, at the commit that records the request)."""

    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    hours = max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600)
    count = 0
    for event in found:
        user = db.session.get(User, event.user_id)
        if user is None or not user.is_active_account:
            continue
        locale = pick_locale(user.locale)
        mail = render("password_reset", locale, name=user.name, invite=event.invite,
                      hours=hours, url=f"{base}/password/reset/{reset.make_token(user)}")
        if queue_notification(
                kind="password_reset", recipient_email=user.email, recipient_user_id=user.id,
                locale=locale, subject=mail.subject, body=mail.text, now=event.at,
                dedupe_key=f"password_reset:{user.id}:{event.at.isoformat()}") is not None:
            count += 1
    return count


# --- known outages ----------------------------------------------------------------------------

def incident_mail(found: list[events.IncidentUpdateReachedSchools]) -> int:
    """Tell each school a batch of an incident update reached, at its official address and
    in its language: once per update and school (the dedupe key), however many of its
    requests are linked and however often the batch is run. The mail is rendered once per
    language and written in one INSERT per batch."""
    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    count = 0
    for event in found:
        update = db.session.get(IncidentUpdate, event.update_id)
        incident = db.session.get(Incident, update.incident_id) if update else None
        if incident is None or not event.school_ids:
            continue
        addresses = dict(db.session.execute(select(School.id, School.email).where(
            School.id.in_(list(event.school_ids)), School.email != "")).all())
        locales = school_locales(list(addresses))
        rendered: dict[str, Rendered] = {}
        rows = []
        for school_id, email in sorted(addresses.items()):
            locale = locales.get(school_id) or pick_locale(None)
            if locale not in rendered:
                with force_locale(locale):
                    status = str(INCIDENT_STATUS_LABELS.get(update.status, update.status))
                rendered[locale] = render(
                    "incident_update", locale, title=incident.title, status=status,
                    resolved=update.status == "resolved", body=update.body,
                    incident_id=incident.id, url=f"{base}/incidents/{incident.id}")
            mail = rendered[locale]
            rows.append(dict(kind="incident_update", recipient_email=email, locale=locale,
                             subject=mail.subject, body=mail.text, body_html=mail.html or None,
                             dedupe_key=f"incident:{update.id}:school:{school_id}",
                             now=event.at))
        count += len(queue_notifications(rows))
    return count


# --- which mail each event causes (for the check that every kind has its template) ------------

#: Event type -> the notification kinds its mail handler writes.
MAIL_KINDS: dict[type, tuple[str, ...]] = {
    **{cls: tuple(k.value for k in Kind) for cls in events.TICKET_EVENTS.values()},
    events.TicketChanged: tuple(k.value for k in Kind),
    events.SlaWarning: ("sla_warning",),
    events.SlaBreached: ("sla_breach",),
    events.CensusReminderDue: ("census_reminder",),
    events.UnknownSenderQuarantined: ("mail_unknown_sender",),
    events.PasswordResetRequested: ("password_reset",),
    events.IncidentUpdateReachedSchools: ("incident_update",),
}
