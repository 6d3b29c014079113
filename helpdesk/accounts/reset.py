"""Password-reset links: signed, expiring, single-use, with nothing stored.

A link carries the user's id and a fingerprint of their password hash and session
version, signed with the app's secret key (itsdangerous, the signing library Flask
itself uses) and timestamped. It stops working when it expires
(PASSWORD_RESET_MAX_AGE), and the moment it is used: setting the password changes the
hash and bumps the session version, so the fingerprint no longer matches. The same holds
for an older link once a newer one was used, or after any password change.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "arogi.password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def fingerprint(password_hash: str, session_version: int) -> str:
    """What a link remembers of the account's state: any password change alters it."""
    raw = f"{password_hash or ''}|{session_version or 1}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def make_token(user) -> str:
    """A reset link's token for ``user``."""
    return _serializer().dumps([user.id, fingerprint(user.password_hash, user.session_version)])


def user_id_of(token: str) -> tuple[int, str] | None:
    """(user id, fingerprint) of a genuine token that has not expired, else None."""
    if not token or len(token) > 300:
        return None
    try:
        uid, mark = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature, ValueError, TypeError):
        return None
    if not isinstance(uid, int) or not isinstance(mark, str):
        return None
    return uid, mark


def matches(user, mark: str) -> bool:
    """Whether a token's fingerprint still fits ``user`` (not used, no password change since)."""
    return hmac.compare_digest(fingerprint(user.password_hash, user.session_version), mark)
