"""Token writers and the token check. They flush; the caller commits."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.accounts.models import User
from helpdesk.api.models import ApiToken
from helpdesk.core.errors import NotFound, ValidationFailed
from helpdesk.extensions import db
from helpdesk.permissions import can_revoke_token

PREFIX = "arogi_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, *, now: datetime, read_only: bool = False,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its secret (shown once)."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed("name", "Give the token a name (at most 100 characters).")
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expires_at", "The expiry must be in the future.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:12],
                     is_read_only=read_only, expires_at=expires_at, created_at=now)
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(user: User, token_id: int, *, now: datetime) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or not can_revoke_token(user, token):
        raise NotFound()
    token.revoked_at = token.revoked_at or now


def authenticate(secret: str, *, now: datetime) -> tuple[User, ApiToken] | None:
    """The active user and token behind a bearer secret, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest(secret))
        .options(selectinload(ApiToken.user).selectinload(User.memberships)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    return token.user, token


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc())))
