"""Who a ΠΣΔ (sso.sch.gr) sign-in is in Αρωγή: a pure function of the CAS attributes.

No Flask, no database. The caller reads the CAS 3.0 attributes (``read_identity``), looks
up what ``lookups`` asks for and hands the results to ``decide`` as plain facts; the
decision says whom to sign in, which account to create, or why to refuse, and which of
our records to bring up to date (a school's new name).

The rules (issue 14):

- A **school unit account** carries ``edupersonorgunitdn-gsnunitcode`` (the school's 7-digit
  ministry code). It signs in as that school's account: the one registered with this ΠΣΔ
  ``uid`` or with one of its ``mail`` addresses (or the school's official address); on the
  first sign-in the account is created, if the school is in our registry and active.
  A school we do not know is refused. A teacher's personal account may carry their school's
  unit code as well; one with an ``employeenumber`` (a teacher's registry or tax number) is
  a person, never the school.
- A **personal account** signs in as the user registered with that ΠΣΔ ``uid``, or else with
  one of its ``mail`` addresses (and that user's ΠΣΔ uid is then recorded). Nobody is created:
  anyone else is told whom to ask (their school for teachers, an administrator otherwise).
- An account registered for someone else (another ΠΣΔ uid, another school, a person where a
  school signs in), a deactivated account, or attributes we cannot read: refused.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

UNIT_CODE = "edupersonorgunitdn-gsnunitcode"
_SCHOOL_CODE = re.compile(r"\d{7}")
_EMPLOYEE_NUMBER = re.compile(r"\d{6}|\d{9}")
_UID = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Identity:
    """The attributes of one ΠΣΔ sign-in, read and normalised."""

    #: The ΠΣΔ user name (lower-case), e.g. ``3gym-menem``; "" when unreadable.
    uid: str
    #: Every ``mail`` value, lower-case, in order, without repeats.
    mails: tuple[str, ...] = ()
    #: ``cn``, else ``description``: for a school unit, the school's name.
    name: str = ""
    #: The distinct 7-digit ``edupersonorgunitdn-gsnunitcode`` values.
    unit_codes: tuple[str, ...] = ()
    #: Unit codes that were sent but are not 7 digits.
    bad_unit_codes: tuple[str, ...] = ()
    #: ``l``: the unit's LDAP DN, e.g. ``ou=3gym-menem,ou=thess,ou=schools,dc=sch,dc=gr``.
    unit_dn: str = ""
    #: ``employeenumber`` values of 6 (registry) or 9 (tax number) digits.
    employee_numbers: tuple[str, ...] = ()

    @property
    def is_school_unit(self) -> bool:
        """A school unit's account: it names a unit and is no person's (no employee number)."""
        return bool(self.unit_codes or self.bad_unit_codes) and not self.employee_numbers


def _values(attributes: Mapping[str, object], name: str) -> list[str]:
    """The stripped, non-empty values of one attribute (single or multi-valued)."""
    raw = attributes.get(name)
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def read_identity(user: str | None, attributes: Mapping[str, object] | None) -> Identity:
    """The identity in a CAS 3.0 answer: ``user`` and its ``<cas:attributes>`` (names are
    matched case-insensitively, ``:`` and ``-`` alike)."""
    attrs = {str(k).lower().replace(":", "-"): v for k, v in (attributes or {}).items()}
    uids = _values(attrs, "uid") or ([user.strip()] if user and user.strip() else [])
    uid = uids[0].lower() if uids else ""
    codes = _unique(_values(attrs, UNIT_CODE))
    return Identity(
        uid=uid if _UID.fullmatch(uid) else "",
        mails=_unique(m.lower() for m in _values(attrs, "mail") if "@" in m),
        name=(_values(attrs, "cn") or _values(attrs, "description") or [""])[0][:200],
        unit_codes=tuple(c for c in codes if _SCHOOL_CODE.fullmatch(c)),
        bad_unit_codes=tuple(c for c in codes if not _SCHOOL_CODE.fullmatch(c)),
        unit_dn=(_values(attrs, "l") or [""])[0],
        employee_numbers=_unique(n for n in _values(attrs, "employeenumber")
                                 if _EMPLOYEE_NUMBER.fullmatch(n)),
    )


# --- what the caller looks up, and hands back ---------------------------------------------------

@dataclass(frozen=True)
class Lookups:
    """What ``decide`` needs: the school with ``school_code`` (if any), the account with ΠΣΔ
    uid ``uid``, and the accounts with one of ``emails``."""

    school_code: str | None
    uid: str
    emails: tuple[str, ...]


@dataclass(frozen=True)
class SchoolFacts:
    id: int
    code: str
    name: str
    email: str
    is_active: bool = True


@dataclass(frozen=True)
class AccountFacts:
    id: int
    email: str
    #: The ΠΣΔ uid it is registered with ("" when none yet).
    psd_uid: str = ""
    is_active: bool = True
    #: The school it acts for (``permissions.school_of``); None for staff and administrators.
    school_id: int | None = None


def lookups(identity: Identity) -> Lookups:
    code = identity.unit_codes[0] if identity.is_school_unit and identity.unit_codes else None
    return Lookups(school_code=code, uid=identity.uid, emails=identity.mails)


# --- the decision -----------------------------------------------------------------------------

class Reason(StrEnum):
    """Why a sign-in is refused (each has its own page text)."""

    UNREADABLE = "unreadable"            # no uid, or a malformed / several unit codes
    UNKNOWN_SCHOOL = "unknown_school"    # the unit code is not in our registry
    SCHOOL_INACTIVE = "school_inactive"  # in the registry, but closed
    NO_ACCOUNT = "no_account"            # a person nobody registered: who to ask
    MISMATCH = "mismatch"                # the account found is registered for someone else
    INACTIVE = "inactive"                # the account is deactivated


class Ask(StrEnum):
    """Whom a refused person should ask."""

    SCHOOL = "school"   # their school's account adds teachers
    ADMIN = "admin"     # an administrator of Αρωγή (or the unit's manager)


@dataclass(frozen=True)
class SchoolRename:
    school_id: int
    before: str
    after: str


@dataclass(frozen=True)
class SignIn:
    user_id: int
    #: Record this ΠΣΔ uid on the account (found by e-mail, not yet bound).
    bind_uid: str | None = None
    rename: SchoolRename | None = None


@dataclass(frozen=True)
class CreateSchoolAccount:
    school_id: int
    uid: str
    email: str
    name: str
    rename: SchoolRename | None = None


@dataclass(frozen=True)
class Refuse:
    reason: Reason
    ask: Ask = Ask.ADMIN
    #: The unit code or name the page may show (never anything secret).
    detail: str = ""


Decision = SignIn | CreateSchoolAccount | Refuse


def _rename(identity: Identity, school: SchoolFacts) -> SchoolRename | None:
    new = " ".join(identity.name.split())
    if new and new != school.name:
        return SchoolRename(school.id, school.name, new)
    return None


def _account(identity: Identity, by_uid: AccountFacts | None,
             by_mail: Iterable[AccountFacts]) -> AccountFacts | Refuse | None:
    """The one account this ΠΣΔ identity is registered as, a refusal, or None (nobody)."""
    if by_uid is not None:
        return by_uid
    found = {a.id: a for a in by_mail}
    if len(found) > 1:
        return Refuse(Reason.MISMATCH)
    if not found:
        return None
    account = next(iter(found.values()))
    if account.psd_uid and account.psd_uid != identity.uid:
        return Refuse(Reason.MISMATCH)  # that address belongs to another ΠΣΔ account here
    return account


def _sign_in(identity: Identity, account: AccountFacts, rename=None) -> SignIn | Refuse:
    if not account.is_active:
        return Refuse(Reason.INACTIVE)
    bind = identity.uid if account.psd_uid != identity.uid else None
    return SignIn(account.id, bind_uid=bind, rename=rename)


def decide(identity: Identity, *, school: SchoolFacts | None, by_uid: AccountFacts | None,
           by_mail: Iterable[AccountFacts] = ()) -> Decision:
    """Whom this ΠΣΔ sign-in is: ``school`` is the school with ``lookups().school_code``,
    ``by_uid`` the account registered with the uid, ``by_mail`` those with one of its
    addresses (for a school unit, the school's official address too)."""
    if not identity.uid:
        return Refuse(Reason.UNREADABLE)
    if identity.is_school_unit:
        return _decide_school(identity, school, by_uid, tuple(by_mail))
    found = _account(identity, by_uid, by_mail)
    if isinstance(found, Refuse):
        return found
    if found is None:
        return Refuse(Reason.NO_ACCOUNT, Ask.SCHOOL if identity.employee_numbers else Ask.ADMIN)
    return _sign_in(identity, found)


def _decide_school(identity: Identity, school: SchoolFacts | None,
                   by_uid: AccountFacts | None, by_mail: tuple[AccountFacts, ...]) -> Decision:
    if identity.bad_unit_codes or len(identity.unit_codes) != 1:
        return Refuse(Reason.UNREADABLE, detail=", ".join(identity.bad_unit_codes
                                                          or identity.unit_codes))
    code = identity.unit_codes[0]
    if school is None or school.code != code:
        return Refuse(Reason.UNKNOWN_SCHOOL, detail=code)
    if not school.is_active:
        return Refuse(Reason.SCHOOL_INACTIVE, detail=school.name)
    found = _account(identity, by_uid, by_mail)
    if isinstance(found, Refuse):
        return found
    rename = _rename(identity, school)
    if found is None:
        email = identity.mails[0] if identity.mails else school.email
        return CreateSchoolAccount(school.id, identity.uid, email.lower(),
                                   rename.after if rename else school.name, rename)
    if found.school_id != school.id:
        return Refuse(Reason.MISMATCH, detail=code)  # staff, or another school's account
    return _sign_in(identity, found, rename)
