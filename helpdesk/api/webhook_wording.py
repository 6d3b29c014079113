"""How the webhook pages name events, delivery states and failures, in the reader's language."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk.api.webhook_policy import failure_kind

EVENT_LABELS = {
    "ticket.created": _l("A request was filed"), "ticket.replied": _l("A reply was posted"),
    "ticket.escalated": _l("A request was escalated"), "ticket.resolved": _l("A request was resolved"),
    "sla.warning": _l("A deadline is near"), "sla.breached": _l("A deadline was missed"),
    "equipment.changed": _l("Equipment changed"), "webhook.test": _l("Test delivery"),
    "incident.created": _l("A known outage was declared"),
    "incident.updated": _l("A known outage was updated"),
    "incident.resolved": _l("A known outage was resolved"),
}
STATUS_LABELS = {"pending": _l("Waiting to be sent"), "sending": _l("Being sent"),
                 "sent": _l("Delivered"), "failed": _l("Failed for good")}


def failure_text(last_status: int | None, last_error: str | None) -> str:
    """The last attempt's failure in words ("" when it did not fail)."""
    kind = failure_kind(last_status, last_error)
    if kind is None:
        return ""
    if kind == "http":
        return _("The receiver answered with HTTP status %(code)s.", code=last_status)
    return str({
        "unsafe": _l("Not called: the address is private or local."),
        "timeout": _l("The receiver did not answer in time."),
        "refused": _l("The receiver refused the connection."),
        "dns": _l("The receiver's host name does not resolve."),
        "network": _l("The receiver could not be reached."),
    }[kind])
