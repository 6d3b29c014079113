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


#: Cloud instance-metadata and platform addresses, refused even where they count as global
#: (AWS/GCP/OpenStack, Alibaba, Azure wireserver, AWS IPv6 IMDS).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "100.100.100.200", "168.63.129.16", "fd00:ec2::254"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address (``ipaddress`` ``is_global``): not
    loopback, private, shared (100.64.0.0/10), link-local, documentation, reserved,
    multicast or a metadata address; an IPv6 address that carries an IPv4 one (mapped,
    6to4 2002::/16, NAT64 64:ff9b::/96, Teredo) must carry a public one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if ip.teredo:
            embedded = ip.teredo[1]
        if embedded is not None and not is_public_address(str(embedded)):
            return False
        if ip.ipv4_mapped:
            return True
    return ip.is_global and not ip.is_multicast and ip not in METADATA_ADDRESSES


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
