"""ΠΣΔ sign-in writers: apply a mapping decision, record the ticket, single log-out.

They flush; the view commits (or rolls back a refusal: a refused sign-in changes nothing).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from helpdesk import permissions
from helpdesk.accounts import cas_mapping as mapping
from helpdesk.accounts import services
from helpdesk.accounts.cas_models import CasTicket
from helpdesk.accounts.models import Role, User
from helpdesk.audit.services import record
from helpdesk.core.text import fold
from helpdesk.extensions import db
from helpdesk.org.models import School


class TicketReused(Exception):
    """This service ticket already signed someone in."""


def ticket_was_used(ticket_hash: str) -> bool:
    return db.session.get(CasTicket, ticket_hash) is not None


def _facts(user: User | None) -> mapping.AccountFacts | None:
    if user is None:
        return None
    return mapping.AccountFacts(id=user.id, email=user.email, psd_uid=user.psd_uid or "",
                                is_active=user.is_active_account,
                                school_id=permissions.school_of(user))


def _look_up(identity: mapping.Identity) -> dict:
    """The facts ``mapping.decide`` needs, read from the database."""
    wanted = mapping.lookups(identity)
    school = (db.session.scalar(select(School).where(School.code == wanted.school_code))
              if wanted.school_code else None)
    emails = set(wanted.emails) | ({school.email.lower()} if school is not None else set())
    by_uid = db.session.scalar(select(User).where(User.psd_uid == wanted.uid))
    by_mail = (db.session.scalars(select(User).where(func.lower(User.email).in_(emails))).all()
               if emails else [])
    return {
        "school": mapping.SchoolFacts(id=school.id, code=school.code, name=school.name,
                                      email=school.email, is_active=school.is_active)
        if school is not None else None,
        "by_uid": _facts(by_uid),
        "by_mail": [_facts(u) for u in by_mail],
    }


def _rename_school(actor: User, rename: mapping.SchoolRename, now: datetime) -> None:
    school = db.session.get(School, rename.school_id)
    school.name = rename.after
    school.name_folded = fold(rename.after)[:200]
    record(actor, "org.school.rename", "school", school.id, before={"name": rename.before},
           after={"name": rename.after}, now=now)


def sign_in(identity: mapping.Identity, *, ticket_hash: str, now: datetime,
            session_lifetime: timedelta) -> User | mapping.Refuse:
    """The user this ΠΣΔ identity signs in as (the school's account created on its first
    sign-in, a new school name applied), with the ticket recorded; or why not."""
    if ticket_was_used(ticket_hash):
        raise TicketReused()
    decision = mapping.decide(identity, **_look_up(identity))
    if isinstance(decision, mapping.Refuse):
        return decision
    if isinstance(decision, mapping.CreateSchoolAccount):
        school = db.session.get(School, decision.school_id)
        user = services.create_user(decision.email, decision.name, Role.SCHOOL, school=school)
        user.psd_uid = decision.uid
        db.session.flush()
        record(user, "accounts.user.create_psd", "user", user.id, before=None,
               after={"email": user.email, "psd_uid": user.psd_uid, "school": school.code},
               now=now)
    else:
        user = db.session.get(User, decision.user_id)
        if decision.bind_uid:
            record(user, "accounts.user.bind_psd", "user", user.id,
                   before={"psd_uid": user.psd_uid}, after={"psd_uid": decision.bind_uid},
                   now=now)
            user.psd_uid = decision.bind_uid
    if decision.rename:
        _rename_school(user, decision.rename, now)
    user.last_login_at = now
    _record_ticket(user, ticket_hash, now=now, lifetime=session_lifetime)
    return user


def _record_ticket(user: User, ticket_hash: str, *, now: datetime, lifetime: timedelta) -> None:
    db.session.execute(delete(CasTicket).where(CasTicket.expires_at < now))
    db.session.add(CasTicket(ticket_hash=ticket_hash, user_id=user.id, used_at=now,
                             expires_at=now + lifetime))
    db.session.flush()  # a concurrent use of the same ticket fails here (primary key)


def end_ticket_session(ticket_hash: str, *, now: datetime) -> bool:
    """The session that ticket opened ends (the CAS server's single log-out, or ours)."""
    row = db.session.get(CasTicket, ticket_hash)
    if row is None or row.logged_out_at is not None:
        return False
    row.logged_out_at = now
    return True


def session_is_live(ticket_hash: str, *, now: datetime) -> bool:
    """Whether the session opened by that ticket still holds (not logged out, not expired)."""
    return db.session.scalar(select(func.count()).select_from(CasTicket).where(
        CasTicket.ticket_hash == ticket_hash, CasTicket.logged_out_at.is_(None),
        CasTicket.expires_at >= now)) == 1

