"""The verification code printed on a census statement (pure: no Flask, no database).

The code is the submission's id and an HMAC-SHA256 of its frozen snapshot (with the
campaign and the school), keyed by a key derived from the application's SECRET_KEY:
``17-K3QF-7ZMA-PL2X-RW5D``. Anyone holding a statement can check on the public page that
it is the one the school submitted; a later submission replaces the snapshot, and the
older statements' codes stop being valid. Without SECRET_KEY no one can make a code (and a
new SECRET_KEY invalidates every code printed before).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

#: Bytes of the MAC in the code (80 bits: 16 base32 characters).
MAC_BYTES = 10
#: the id, then the 16 MAC characters (which may begin with digits: the last 16 are the MAC)
_CODE = re.compile(r"^(\d{1,12})([A-Z2-7]{16})$")


def _key(secret: str) -> bytes:
    """A key of its own for statements, so the code reveals nothing about other MACs."""
    return hmac.new(secret.encode(), b"arogi census statement v1", hashlib.sha256).digest()


def _message(submission_id: int, census_id: int, school_code: str, snapshot: dict) -> bytes:
    body = {"submission": submission_id, "census": census_id, "school": school_code,
            "snapshot": snapshot}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def make_code(secret: str, submission_id: int, census_id: int, school_code: str,
              snapshot: dict) -> str:
    mac = hmac.new(_key(secret), _message(submission_id, census_id, school_code, snapshot),
                   hashlib.sha256).digest()[:MAC_BYTES]
    text = base64.b32encode(mac).decode()
    return f"{submission_id}-" + "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_code(code: str | None) -> tuple[int, str] | None:
    """(submission id, MAC text) of a code as typed (any case, spaces, dashes), or None."""
    match = _CODE.match(re.sub(r"[\s\-–—]+", "", (code or "")[:80]).upper())
    return (int(match.group(1)), match.group(2)) if match else None


def is_valid(code: str | None, secret: str, submission_id: int, census_id: int, school_code: str,
             snapshot: dict) -> bool:
    expected = make_code(secret, submission_id, census_id, school_code, snapshot)
    parsed = parse_code(code)
    return parsed is not None and parsed[0] == submission_id and hmac.compare_digest(
        expected.split("-", 1)[1].replace("-", ""), parsed[1])
