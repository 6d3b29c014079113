"""Message-IDs we can verify (pure): our outgoing mail names the ticket and the
recipient, signed with the app secret, so a reply's In-Reply-To/References proves
which ticket it answers and, for staff, whose notification it was."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_ID = re.compile(r"<?arogi\.t(\d+)\.u(\d+)\.([0-9a-f]{12})\.([0-9a-f]{20})@([A-Za-z0-9.-]+)>?")


@dataclass(frozen=True)
class ThreadRef:
    ticket_id: int
    #: The user the message was sent to, 0 when it went to a plain address.
    user_id: int


def sign(secret: str, ticket_id: int, user_id: int, nonce: str) -> str:
    """The signature of a Message-ID's ticket, user and nonce (20 hex digits of an HMAC-SHA256
    with the site's secret): what ``make_message_id`` writes and ``verify_message_id`` checks."""
    msg = f"{ticket_id}.{user_id}.{nonce}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:20]


def make_message_id(secret: str, ticket_id: int, user_id: int | None, domain: str) -> str:
    """``<arogi.t<ticket>.u<user>.<nonce>.<sig>@domain>`` for a mail about a ticket."""
    nonce = secrets.token_hex(6)
    uid = user_id or 0
    return f"<arogi.t{ticket_id}.u{uid}.{nonce}.{sign(secret, ticket_id, uid, nonce)}@{domain}>"


def verify_message_id(secret: str, value: str | None) -> ThreadRef | None:
    """The ticket and recipient named by one of our Message-IDs, if its signature holds."""
    match = _ID.search(value or "")
    if not match:
        return None
    ticket_id, user_id, nonce, sig = int(match[1]), int(match[2]), match[3], match[4]
    if not hmac.compare_digest(sig, sign(secret, ticket_id, user_id, nonce)):
        return None
    return ThreadRef(ticket_id, user_id)


def find_thread(secret: str, *header_values: str | None) -> ThreadRef | None:
    """The first verifiable reference among In-Reply-To / References values (newest last)."""
    for value in header_values:
        for candidate in reversed(re.findall(r"<[^<>]+>", value or "")):
            ref = verify_message_id(secret, candidate)
            if ref:
                return ref
    return None
