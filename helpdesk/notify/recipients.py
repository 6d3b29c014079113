"""Who an intent reaches: addresses, the user behind each (if any) and their language."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.core.localtime import default_locale, languages
from helpdesk.extensions import db
from helpdesk.i18n import LOCALES  # noqa: F401 - the catalogues shipped (tests render each)
from helpdesk.notify.rules import Audience, Intent, Kind
from helpdesk.org.models import SupportUnit
from helpdesk.permissions import acts_for_school


@dataclass(frozen=True)
class Recipient:
    email: str
    #: The user the address belongs to; None for a school's or unit's own address.
    user_id: int | None = None
    locale: str = field(default_factory=default_locale)


def resolve(intents: list[Intent], ticket, actor) -> list[tuple[Intent, Recipient]]:
    """Each intent with its recipients; one mail per address per change (first intent wins).

    The actor (a user, or a school acting by its address) is left out, by id and by
    address, except from the acknowledgement."""
    seen: set[str] = set()
    out = []
    for intent in intents:
        for r in _recipients(intent, ticket):
            key = r.email.strip().lower()
            if not key or key in seen or (intent.kind != Kind.ACK and _is_actor(r, actor)):
                continue
            seen.add(key)
            out.append((intent, r))
    return out


def _is_actor(r: Recipient, actor: User | None) -> bool:
    if actor is None:
        return False
    if actor.id is not None and r.user_id == actor.id:
        return True
    return r.email.strip().lower() == (actor.email or "").lower()


def _recipients(intent: Intent, ticket) -> list[Recipient]:
    if intent.audience == Audience.SCHOOL:
        return school_recipients(ticket)
    if intent.audience == Audience.UNIT:
        return unit_recipients(intent.unit_id, ticket)
    user = db.session.get(User, intent.user_id) if intent.user_id else None
    return [_of_user(user)] if user is not None and user.is_active and user.email else []


def school_recipients(ticket) -> list[Recipient]:
    """The school's official address; the filer too when they wrote from another one.

    In the filer's language when the school filed; else (support staff filed for it, or it
    mailed in) in the language of the school's account (``school_locale``)."""
    creator = ticket.created_by
    school_user = creator if (acts_for_school(creator)
                              and creator.school_id == ticket.school_id
                              and creator.is_active) else None
    official = ticket.school.email
    out = []
    if official:
        same = school_user is not None and school_user.email.lower() == official.lower()
        locale = (pick_locale(school_user.locale) if school_user
                  else school_locale(ticket.school_id, official))
        out.append(Recipient(official, school_user.id if same else None, locale))
    if school_user is not None and school_user.email.lower() != (official or "").lower():
        out.append(_of_user(school_user))
    return out


def unit_recipients(unit_id: int | None, ticket=None) -> list[Recipient]:
    """The unit's own address when it has one, else its managers, else its members.

    ``ticket``: when the unit is the ticket's own, it is read through ``ticket.unit``,
    which keeps it loaded for the mail that names it."""
    if ticket is not None and unit_id is not None and ticket.unit_id == unit_id:
        unit = ticket.unit
    else:
        unit = db.session.get(SupportUnit, unit_id) if unit_id else None
    if unit is None:
        return []
    if unit.email:
        return [Recipient(unit.email)]
    rows = db.session.execute(
        select(User, UnitMembership.is_manager)
        .join(UnitMembership, UnitMembership.user_id == User.id)
        .where(UnitMembership.unit_id == unit.id, User.is_active_account.is_(True))
        .order_by(User.id)).all()
    managers = [u for u, is_manager in rows if is_manager]
    return [_of_user(u) for u in (managers or [u for u, _ in rows]) if u.email]


def _of_user(user: User) -> Recipient:
    return Recipient(user.email, user.id, pick_locale(user.locale))


def locale_of(email: str | None) -> str:
    """The language of the active user whose address ``email`` is (a school's official
    address is its account's); the default for an address of nobody we know."""
    if not email:
        return default_locale()
    value = db.session.scalar(select(User.locale).where(
        db.func.lower(User.email) == email.strip().lower(), User.is_active_account.is_(True))
        .order_by(User.id).limit(1))
    return pick_locale(value)


def school_locale(school_id: int, official: str | None = None) -> str:
    """The language of the school's account: the active account of its official address,
    else its first active account; the default for a school without one."""
    value = db.session.scalar(
        select(User.locale).where(User.school_id == school_id, User.is_active_account.is_(True))
        .order_by((db.func.lower(User.email) == (official or "").strip().lower()).desc(), User.id)
        .limit(1))
    return pick_locale(value)


def pick_locale(value: str | None) -> str:
    """The reader's language when the service offers it (LANGUAGES), else the default."""
    return value if value in languages() else default_locale()


def school_locales(school_ids: list[int]) -> dict[int, str]:
    """{school id: the language of its account} for many schools in one query (the first
    active account of each; the default for a school without one)."""
    if not school_ids:
        return {}
    out: dict[int, str] = {}
    for school_id, value in db.session.execute(
            select(User.school_id, User.locale).where(
                User.school_id.in_(list(school_ids)), User.is_active_account.is_(True))
            .order_by(User.school_id, User.id)):
        out.setdefault(school_id, pick_locale(value))
    return out
