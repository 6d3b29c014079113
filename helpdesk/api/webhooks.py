"""Webhooks: subscriptions, deliveries written in the transaction of the change
(an outbox), handed to RQ after commit, signed, retried with back-off, no SSRF.

Deliveries are rows of the outbox family (helpdesk.outbox.family): the same claim,
lease, back-off and giving up as mail; webhook_policy.BACKOFF says how long to wait."""
from __future__ import annotations

import http.client
import json
import logging
import secrets
import socket
import ssl
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from helpdesk.api import webhook_policy as policy
from helpdesk.api.webhook_models import EVENTS, WebhookDelivery, WebhookSubscription
from helpdesk.core import aftercommit
from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.core.refcache import TableCache
from helpdesk.extensions import db
from helpdesk.incidents.models import Incident, IncidentUpdate
from helpdesk.ops import retention
from helpdesk.outbox import family
from helpdesk.outbox.models import Notification
from helpdesk.permissions import can_manage_webhooks
from helpdesk.tickets.models import Ticket

log = logging.getLogger(__name__)
#: The event of a delivery an administrator sends to try a subscription out.
TEST_EVENT = "webhook.test"


# --- subscriptions -------------------------------------------------------------------------

def subscribe(actor, url: str, events: list[str], *, now: datetime,
              allow_private: bool = False) -> tuple[WebhookSubscription, str]:
    """An administrator subscribes a URL to events; returns it with its secret."""
    _require_manager(actor)
    url = check_destination(url, allow_private)
    chosen = _known_events(events)
    secret = secrets.token_hex(24)
    sub = WebhookSubscription(url=url, events=chosen, secret=secret, allow_private=allow_private,
                              created_by_id=actor.id, created_at=now)
    db.session.add(sub)
    db.session.flush()
    return sub, secret


def update_subscription(actor, sub_id: int, url: str, events: list[str], *, now: datetime,
                        allow_private: bool = False) -> WebhookSubscription:
    """Change a subscription's URL, events and private-address permission (same checks)."""
    sub = _get(actor, sub_id)
    sub.url = check_destination(url, allow_private)
    sub.events = _known_events(events)
    sub.allow_private = allow_private
    db.session.flush()
    return sub


def set_active(actor, sub_id: int, active: bool, *, now: datetime) -> WebhookSubscription:
    """Pause (no new deliveries are written) or resume a subscription."""
    sub = _get(actor, sub_id)
    sub.is_active = active
    db.session.flush()
    return sub


def send_test(actor, sub_id: int, *, now: datetime) -> WebhookDelivery:
    """Write a ``webhook.test`` delivery to the subscription; it goes out after commit."""
    sub = _get(actor, sub_id)
    delivery = WebhookDelivery(subscription_id=sub.id, event=TEST_EVENT, created_at=now,
                               payload={"event": TEST_EVENT, "occurred_at": now.isoformat()})
    db.session.add(delivery)
    db.session.flush()
    aftercommit.after_commit(delivery_job(delivery.id))
    return delivery


def delete_subscription(actor, sub_id: int, *, now: datetime) -> None:
    """Remove a subscription with its deliveries."""
    sub = _get(actor, sub_id)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    db.session.delete(sub)
    db.session.flush()


def check_destination(url: str, allow_private: bool) -> str:
    """The stripped URL if it may be called: http(s), a host, no credentials, and (unless
    allowed) only public addresses. The one SSRF check of subscribing and editing."""
    url = (url or "").strip()
    if len(url) > 500:
        raise ValidationFailed("url", "The URL is too long.")
    try:
        addresses = resolve(policy.check_url(url))
    except (policy.UnsafeUrl, ValueError):
        raise ValidationFailed("url", "Only http(s) URLs with a host name, without credentials.") from None
    if not addresses:
        raise ValidationFailed("url", "The host name of the URL does not resolve.")
    if not allow_private and not all(policy.is_public_address(a) for a in addresses):
        raise ValidationFailed("url", "The URL points to a private or local address.")
    return url


def _known_events(events: list[str]) -> list[str]:
    chosen = [e for e in events if e in EVENTS]
    if not chosen or len(chosen) != len(events):
        raise ValidationFailed("events", "Choose one or more known events.")
    return chosen


def _require_manager(actor) -> None:
    if not can_manage_webhooks(actor):
        raise PermissionDenied()


def _get(actor, sub_id: int) -> WebhookSubscription:
    _require_manager(actor)
    sub = db.session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise NotFound()
    return sub


def list_subscriptions(actor) -> list[WebhookSubscription]:
    _require_manager(actor)
    return list(db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def recent_deliveries(actor, limit: int = 30) -> list[WebhookDelivery]:
    _require_manager(actor)
    return list(db.session.scalars(
        select(WebhookDelivery).options(joinedload(WebhookDelivery.subscription))
        .order_by(WebhookDelivery.id.desc()).limit(limit)))


def resolve(host: str) -> list[str]:
    """Every address the host name resolves to (empty when it does not resolve)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []


# --- writing deliveries with the change (the bus's webhook handlers) -------------------------

def ticket_deliveries(found) -> None:
    """Deliveries of the public ticket changes subscribers follow (webhook_policy)."""
    _write([(name, e.row) for e in found if (name := policy.event_for_ticket_event(
        e.row.kind, e.row.field, e.row.is_internal))])


def equipment_deliveries(found) -> None:
    _write([("equipment.changed", e.row) for e in found])


def sla_deliveries(found) -> None:
    """An SLA warning or breach, announced with its first mail of the level stay (as
    before: a stay that is swept again, or whose mail has no recipient, is not
    announced again)."""
    if not _SUBSCRIPTIONS.get(db.session()):
        return
    pairs = []
    for e in found:
        announced = db.session.scalar(select(Notification.id).where(
            Notification.dedupe_key.like(f"{e.key}:%"), Notification.created_at == e.at)
            .limit(1))
        name = policy.event_for_notification(e.kind)
        if announced is not None and name:
            pairs.append((name, _Fact(e.ticket_id, e.at)))
    _write(pairs)


#: Incident event type name -> the webhook event it is.
_INCIDENT_EVENTS = {"IncidentCreated": "incident.created", "IncidentUpdated": "incident.updated",
                    "IncidentResolved": "incident.resolved"}


def incident_deliveries(found) -> None:
    """A known outage declared, updated or resolved (helpdesk.incidents)."""
    _write([(_INCIDENT_EVENTS[type(e).__name__], e) for e in found])


class _Fact:
    """What a payload reads of an event without a history row."""

    def __init__(self, ticket_id: int, at: datetime):
        self.ticket_id, self.at = ticket_id, at


def _active_subscriptions(session: Session) -> tuple[tuple[int, frozenset[str]], ...]:
    """(id, events) of each active subscription."""
    return tuple((sub_id, frozenset(events or ())) for sub_id, events in session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events)
        .where(WebhookSubscription.is_active.is_(True)).order_by(WebhookSubscription.id)))


#: The active subscriptions as last read by this process, checked once per transaction
#: (with the SLA tables, in the same statement: helpdesk.core.refcache).
_SUBSCRIPTIONS = TableCache(("webhook_subscriptions",), _active_subscriptions)


def _write(found: list[tuple[str, object]]) -> None:
    """A delivery per active subscription of each event; the same payload once."""
    session = db.session()
    if not found:
        return
    subs = _SUBSCRIPTIONS.get(session)
    if not subs:
        return
    seen, added = set(), []
    for name, obj in found:
        payload = _payload(session, name, obj)
        key = (name, json.dumps(payload, sort_keys=True, default=str))
        if key in seen:
            continue
        seen.add(key)
        for sub_id, events in subs:
            if name in events:
                added.append(WebhookDelivery(subscription_id=sub_id, event=name,
                                             payload=payload,
                                             ticket_id=getattr(obj, "ticket_id", None)))
    session.add_all(added)
    session.flush()
    for delivery in added:
        aftercommit.after_commit(delivery_job(delivery.id), session)


def _payload(session: Session, name: str, obj) -> dict:
    occurred = getattr(obj, "at", None) or getattr(obj, "created_at", None)
    body = {"event": name, "occurred_at": occurred.isoformat() if occurred else None}
    ticket_id = getattr(obj, "ticket_id", None)
    ticket = session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is not None:
        body["ticket"] = {"ref": ticket.ref, "status": ticket.status, "level": ticket.level,
                          "priority": ticket.priority, "school_code": ticket.school.code,
                          "unit": ticket.unit.code if ticket.unit else None}
    if name == "equipment.changed":
        body["equipment"] = {"id": obj.item_id, "field": obj.field}
    elif name.startswith("incident."):
        body["incident"] = _incident_payload(session, obj.incident_id, obj.update_id)
    elif name == "ticket.escalated":
        body["change"] = {"from_level": obj.old_value, "to_level": obj.new_value,
                          "reason": obj.reason}
    return body


def _incident_payload(session: Session, incident_id: int, update_id: int | None) -> dict:
    incident = session.get(Incident, incident_id)
    update = session.get(IncidentUpdate, update_id) if update_id else None
    return {"id": incident.id, "title": incident.title, "status": incident.status,
            "scope": incident.scope_kind,
            "update": None if update is None else {"id": update.id, "status": update.status,
                                                   "text": update.body}}


# --- retention: the payloads of anonymised tickets ---------------------------------------

#: Payload keys whose values name no one: codes, numbers, states, times. Every other
#: string of the payload of an anonymised ticket's delivery (a reason, and whatever a
#: later payload adds: names, subjects, texts) becomes retention's placeholder, and an
#: address (a key with "email") None, as retention does for the ticket's own rows.
KEPT_KEYS = frozenset({"event", "occurred_at", "ref", "status", "level", "priority",
                       "school_code", "unit", "from_level", "to_level", "id", "field",
                       "scope"})


def scrub(value, key: str | None = None):
    """``value`` (a payload or a part of it) without personal data."""
    if isinstance(value, dict):
        return {k: scrub(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, key) for v in value]
    if isinstance(value, str) and key not in KEPT_KEYS:
        return None if key and "email" in key.lower() else retention.REMOVED
    return value


def _count_for_retention(ticket_ids: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                             .where(WebhookDelivery.ticket_id.in_(ticket_ids))) or 0


def _anonymise_for_retention(session: Session, ticket_ids: list[int]) -> int:
    rows = session.execute(select(WebhookDelivery.id, WebhookDelivery.payload)
                           .where(WebhookDelivery.ticket_id.in_(ticket_ids))).all()
    if rows:  # one UPDATE … WHERE id = ? executed for every row (executemany)
        session.execute(update(WebhookDelivery),
                        [{"id": row_id, "payload": scrub(payload)} for row_id, payload in rows],
                        execution_options={"synchronize_session": False})
    return len(rows)


#: Registered with helpdesk.ops.retention by helpdesk.app_setup.
RETENTION = retention.Part("webhook deliveries", _count_for_retention,
                           _anonymise_for_retention)


JOB = "workers.webhook_jobs.deliver_webhook"


def delivery_job(delivery_id: int) -> aftercommit.Job:
    """The job that makes one delivery's HTTP call."""
    return aftercommit.Job("default", JOB, (delivery_id,), job_id=f"webhook-{delivery_id}",
                           failure_ttl=86400, owner=__name__, what="webhook delivery",
                           fallback="the sweep will")


# --- delivering -------------------------------------------------------------------------------

def claim(delivery_id: int, *, now: datetime) -> WebhookDelivery | None:
    """Take a due delivery for this worker (the outbox family's claim; the caller commits
    before the call goes out); None if another has it, it is not due or it is done."""
    if not family.claim(WebhookDelivery, delivery_id, now):
        return None
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True)


def deliver(delivery: WebhookDelivery, *, now: datetime, timeout: float = 10.0) -> None:
    """POST the signed payload once; record the outcome and schedule a retry if needed."""
    sub = delivery.subscription
    body = json.dumps(delivery.payload, ensure_ascii=False).encode()
    status, error = None, None
    try:
        host = policy.check_url(sub.url)
        addresses = resolve(host)
        if not addresses:
            raise policy.UnsafeUrl("the host name does not resolve")
        if not sub.allow_private and not all(policy.is_public_address(a) for a in addresses):
            raise policy.UnsafeUrl("the host resolves to a private or local address")
        status = post_pinned(sub.url, addresses[0], body, timeout=timeout, headers={
            "Content-Type": "application/json", "User-Agent": "Arogi-Webhooks/1",
            "X-Arogi-Event": delivery.event, "X-Arogi-Delivery": str(delivery.id),
            "X-Arogi-Signature": policy.signature(sub.secret, int(now.timestamp()), body)})
    except (OSError, http.client.HTTPException, policy.UnsafeUrl, ValueError) as exc:
        error = str(exc)[:500] or type(exc).__name__
    _record(delivery, status, error, now)


def post_pinned(url: str, address: str, body: bytes, *, headers: dict, timeout: float) -> int:
    """POST to ``url`` over a connection to ``address``, the address that was checked (no
    second lookup that DNS rebinding could answer differently); the Host header and the
    TLS name (SNI, certificate) stay the URL's host. Redirects are not followed."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def connect_to_checked_address(target, timeout=None, source_address=None, **kwargs):
        return socket.create_connection((address, target[1]), timeout, source_address)

    conn._create_connection = connect_to_checked_address
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("POST", path, body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def _record(delivery: WebhookDelivery, status: int | None, error: str | None, now: datetime) -> None:
    delivery.last_status = status
    if status is not None and 200 <= status < 300:
        family.mark_sent(delivery, now)
        return
    family.retry_or_fail(delivery, now, error or f"HTTP {status}",
                         policy.next_attempt_delay(delivery.attempts))


def due_ids(*, now: datetime, stale_after, limit: int = 500) -> list[int]:
    """Pending deliveries that are due, after freeing claims older than ``stale_after``."""
    family.release_stale(WebhookDelivery, now, stale_after)
    return family.due_ids(WebhookDelivery, now, limit)
