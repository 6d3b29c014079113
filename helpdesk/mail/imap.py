"""The IMAP door: fetch unseen messages, store and commit each, only then flag or move it.

A crash between the commit and the flag re-fetches the message next time; it is a
duplicate of a stored one and is acknowledged without being processed again.
"""
from __future__ import annotations

import imaplib
import logging
import re
from datetime import datetime

from flask import current_app

from helpdesk.mail.store import accept

log = logging.getLogger(__name__)


def _connect(box: dict) -> imaplib.IMAP4:
    host, port = box["host"], int(box.get("port") or (993 if box.get("ssl") else 143))
    if box.get("ssl"):
        conn = imaplib.IMAP4_SSL(host, port, timeout=30)
    else:
        conn = imaplib.IMAP4(host, port, timeout=30)
        if box.get("starttls"):
            conn.starttls()
    conn.login(box["user"], box["password"])
    return conn


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_mailbox(box: dict, *, now: datetime, batch: int | None = None) -> dict:
    """Store the unseen messages of one mailbox; returns counts."""
    batch = batch or current_app.config["MAIL_IMAP_BATCH"]
    counts = {"stored": 0, "duplicates": 0}
    conn = _connect(box)
    try:
        typ, _ = conn.select(_quote(box.get("folder") or "INBOX"))
        if typ != "OK":
            raise RuntimeError(f"cannot select {box.get('folder')!r}")
        typ, data = conn.uid("SEARCH", None, "UNSEEN", "UNDELETED")
        uids = (data[0] or b"").split()[:batch]
        for uid in uids:
            typ, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if typ != "OK" or raw is None:
                log.warning("IMAP %s: could not fetch UID %s", box.get("user"), uid)
                continue
            _, created = accept(raw, source=f"imap:{box.get('user', '')}"[:80], now=now)
            counts["stored" if created else "duplicates"] += 1
            _done(conn, uid, box.get("move_to"))  # only after the commit in accept()
        if box.get("move_to"):
            conn.expunge()
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return counts


def _done(conn: imaplib.IMAP4, uid: bytes, move_to: str | None) -> None:
    if not move_to:
        conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
        return
    if "MOVE" in conn.capabilities:
        conn.uid("MOVE", uid, _quote(move_to))
    else:
        conn.uid("COPY", uid, _quote(move_to))
        conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen \Deleted)")


def poll_all(*, now: datetime) -> dict:
    """Poll every configured mailbox; one failing mailbox does not stop the others."""
    results = {}
    for n, box in enumerate(current_app.config.get("MAIL_IMAP_MAILBOXES") or [], 1):
        name = f"{n}:{box.get('user')}@{box.get('host')}/{box.get('folder') or 'INBOX'}"
        try:
            results[name] = poll_mailbox(box, now=now)
        except Exception as exc:  # noqa: BLE001
            log.warning("IMAP poll of %s failed: %s", name, re.sub(r"\s+", " ", str(exc)))
            results[name] = {"error": str(exc)[:200]}
    return results
