"""The signed links of the resolution mail: "it works" / "it does not" without logging in.

A link names the ticket, the school and the resolution it answers (the moment it was
resolved, so a link of an earlier resolution cannot answer a later one), signed with
the site's secret (itsdangerous) and valid for CONFIRM_LINK_DAYS. It only opens a page;
the answer is a POST from that page (mail scanners fetch links, and a GET changes
nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "arogi.confirm-resolution.v1"
#: The answers a link may carry (?answer=…): preselected on its page.
ANSWERS = ("yes", "no")


@dataclass(frozen=True)
class LinkTarget:
    ticket_id: int
    school_id: int
    #: Ticket.resolved_at as whole seconds since the epoch.
    resolved: int


class LinkExpired(Exception):
    """The link was signed by us but is older than CONFIRM_LINK_DAYS."""


class LinkInvalid(Exception):
    """The link was not signed by us (altered, cut, or of another site)."""


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def resolved_stamp(resolved_at: datetime | None) -> int:
    return int(resolved_at.timestamp()) if resolved_at else 0


def make_token(ticket_id: int, school_id: int, resolved_at: datetime | None) -> str:
    return _serializer(current_app.config["SECRET_KEY"]).dumps(
        [int(ticket_id), int(school_id), resolved_stamp(resolved_at)])


def read_token(token: str) -> LinkTarget:
    """The target of a link; LinkExpired or LinkInvalid when it cannot be used."""
    cfg = current_app.config
    max_age = int(cfg.get("CONFIRM_LINK_DAYS", 14)) * 86400
    try:
        value = _serializer(cfg["SECRET_KEY"]).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkExpired() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, int) for v in value)):
        raise LinkInvalid()
    return LinkTarget(*value)


def link_urls(ticket_id: int, school_id: int, resolved_at: datetime | None) -> dict[str, str]:
    """The mail's two absolute links, by answer (MAIL_BASE_URL + /confirm/<token>)."""
    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    token = quote(make_token(ticket_id, school_id, resolved_at))
    return {answer: f"{base}/confirm/{token}?answer={answer}" for answer in ANSWERS}
