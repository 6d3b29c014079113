"""How the inbound-mail pages name statuses, reasons and doors, in the reader's language."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

STATUS_LABELS = {"received": _l("Waiting to be processed"), "processed": _l("Processed"),
                 "quarantined": _l("In quarantine"), "ignored": _l("Set aside")}
REASON_LABELS = {
    "unknown_sender": _l("unknown sender"), "unverified_staff": _l("staff reply not verified"),
    "staff_no_thread": _l("staff mail that answers no request"),
    "ticket_not_open": _l("the request is no longer open"), "rate_limited": _l("too many messages"),
    "too_many_attempts": _l("failed too many times"), "invalid": _l("invalid content"),
    "conflict": _l("conflicts with the request's state"), "not_allowed": _l("not allowed"),
    "error": _l("processing error"), "discarded": _l("discarded by an administrator"),
    "auto_reply": _l("automatic reply"), "bounce": _l("delivery failure report"),
    "loop": _l("our own mail came back"), "human": _l("a person's mail"),
    "thanks": _l("a thank-you for a closed request (kept, nothing filed)"),
}
_SOURCES = {"cli": _l("command line"), "lmtp": _l("mail server (LMTP)"),
            "smtp": _l("mail server (SMTP)")}


def reason_label(code: str | None) -> str:
    return str(REASON_LABELS.get(code, code)) if code else ""


def source_label(source: str | None) -> str:
    """cli, lmtp, smtp or imap:<mailbox user>, in words."""
    if not source:
        return ""
    if source.startswith("imap:"):
        return _("mailbox %(box)s (IMAP)", box=source[5:])
    return str(_SOURCES.get(source, source))
