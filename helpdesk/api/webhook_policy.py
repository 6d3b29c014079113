"""Pure webhook policies: which changes are which events, URL safety, signatures, back-off."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta
from urllib.parse import urlsplit

#: Waits after the 1st, 2nd, … failed attempt; after the last the delivery fails.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=6))


def event_for_ticket_event(kind: str, field: str | None, is_internal: bool) -> str | None:
    """The webhook event a TicketEvent stands for, if any (internal ones never go out)."""
    if is_internal:
        return None
    return {("created", "status"): "ticket.created", ("reply", "message"): "ticket.replied",
            ("escalate", "level"): "ticket.escalated",
            ("resolve", "status"): "ticket.resolved"}.get((kind, field))


def event_for_notification(kind: str) -> str | None:
    if kind.startswith("sla_warn"):
        return "sla.warning"
    if kind.startswith("sla_breach"):
        return "sla.breached"
    return None


class UnsafeUrl(ValueError):
    pass


def check_url(url: str) -> str:
    """The host of an http(s) URL with no credentials; raise UnsafeUrl otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("only http and https URLs with a host")
    if parts.username or parts.password:
        raise UnsafeUrl("no credentials in the URL")
    return parts.hostname


def is_public_address(address: str) -> bool:
    """False for loopback, link-local, private, multicast, reserved and unspecified."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def next_attempt_delay(attempts: int) -> timedelta | None:
    """The wait after ``attempts`` failed attempts, or None when it is time to give up."""
    return BACKOFF[attempts - 1] if 1 <= attempts <= len(BACKOFF) else None


def failure_kind(last_status: int | None, last_error: str | None) -> str | None:
    """What went wrong with an attempt, as a code the page names in the reader's language:
    http, unsafe, timeout, refused, dns, network; None when nothing did."""
    if last_status is not None and not 200 <= last_status < 300:
        return "http"
    if not last_error:
        return None
    text = last_error.lower()
    if "private or local" in text or "only http" in text or "credentials" in text:
        return "unsafe"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "refused" in text:
        return "refused"
    if "name or service" in text or "nodename" in text or "resolution" in text:
        return "dns"
    return "network"
