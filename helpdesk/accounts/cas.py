"""The CAS 3.0 protocol with the ΠΣΔ (sso.sch.gr), through python-cas.

What this module does not do is decide who signs in (``cas_mapping``) or write anything
(``cas_services``). It builds the log-in and log-out URLs, validates a service ticket
(``/p3/serviceValidate``, whose answer carries the attributes) and reads the CAS server's
single log-out request. The ``service`` URL comes from the configuration only: never from
the request, whose Host header the client chooses.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cas import CASClient
from defusedxml import ElementTree
from flask import current_app

log = logging.getLogger(__name__)

_CAS_NS = "{http://www.yale.edu/tp/cas}"
_SAMLP_NS = "{urn:oasis:names:tc:SAML:2.0:protocol}"
#: Longest ticket we pass on (CAS 3.0 asks services to accept 256 characters).
MAX_TICKET = 256


class CasUnavailable(Exception):
    """The CAS server did not answer (down, timed out, or an answer we cannot read)."""


class CasMisconfigured(Exception):
    """CAS is on but its settings are incomplete or unsafe (plain http in production)."""


@dataclass(frozen=True)
class Validation:
    """A CAS server's answer to a ticket: the user and attributes, or the failure code."""

    user: str | None
    attributes: dict
    failure: str = ""


class _TimeoutSession(requests.Session):
    """requests with a timeout on every call (python-cas passes none)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return super().request(*args, **kwargs)


def is_enabled() -> bool:
    return bool(current_app.config.get("CAS_ENABLED"))


def service_url() -> str:
    """Our callback as registered with the ΠΣΔ: CAS_SERVICE_URL, else MAIL_BASE_URL's."""
    config = current_app.config
    url = config.get("CAS_SERVICE_URL") or ""
    if not url and config.get("MAIL_BASE_URL"):
        url = config["MAIL_BASE_URL"].rstrip("/") + "/login/cas/callback"
    return url


def site_url(path: str) -> str:
    """A page of ours under the service URL's base (for the CAS log-out's return)."""
    base = service_url()
    suffix = "/login/cas/callback"
    base = base[: -len(suffix)] if base.endswith(suffix) else base.rstrip("/")
    return base + path


def _server_url() -> str:
    url = current_app.config.get("CAS_SERVER_URL") or ""
    return url if url.endswith("/") else url + "/"


def _check(url: str, setting: str) -> None:
    parts = urlsplit(url)
    allowed = ("https", "http") if current_app.config.get("CAS_ALLOW_HTTP") else ("https",)
    if parts.scheme not in allowed or not parts.netloc:
        raise CasMisconfigured(f"{setting} must be an https:// URL, not {url!r}")


def client() -> CASClient:
    """A python-cas client for CAS 3.0 with our fixed service URL (HTTPS enforced)."""
    server, service = _server_url(), service_url()
    _check(server, "CAS_SERVER_URL")
    _check(service, "CAS_SERVICE_URL")
    timeout = float(current_app.config.get("CAS_TIMEOUT_SECONDS") or 5)
    return CASClient(version=3, service_url=service, server_url=server,
                     verify_ssl_certificate=True, session=_TimeoutSession(timeout))


def login_url() -> str:
    return client().get_login_url()


def logout_url(return_to: str | None = None) -> str:
    return client().get_logout_url(return_to)


def check_reachable() -> None:
    """CasUnavailable unless the CAS server's log-in page answers (before we send a
    person there: a clear page of ours instead of the browser's error)."""
    cas = client()
    try:
        response = cas.session.get(cas.server_url + "login", verify=True)
    except requests.RequestException as exc:
        raise CasUnavailable(str(exc)) from exc
    if response.status_code >= 500:
        raise CasUnavailable(f"CAS server answered {response.status_code}")


def validate(ticket: str) -> Validation:
    """Ask the CAS server about ``ticket`` for our service (CasUnavailable if it cannot)."""
    cas = client()
    try:
        raw = cas.get_verification_response(ticket)
        user, attributes, _pgtiou = cas.verify_response(raw)
    except (requests.RequestException, ElementTree.ParseError, IndexError) as exc:
        raise CasUnavailable(str(exc)) from exc
    if user:
        return Validation(user=user, attributes=attributes or {})
    return Validation(user=None, attributes={}, failure=_failure_code(raw))


def _failure_code(raw: bytes) -> str:
    """INVALID_TICKET, INVALID_SERVICE, …: the authenticationFailure's code, for the log."""
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return "UNREADABLE"
    failure = root.find(f"{_CAS_NS}authenticationFailure")
    return (failure.get("code") or "UNKNOWN") if failure is not None else "UNKNOWN"


def logout_session_index(logout_request: str) -> str | None:
    """The service ticket a CAS single log-out request names (samlp:SessionIndex), read
    with defusedxml (no entities, no external references)."""
    try:
        root = ElementTree.fromstring(logout_request.encode("utf-8"))
    except (ElementTree.ParseError, ValueError) as exc:  # defusedxml's refusals are ValueErrors
        log.info("unreadable or refused CAS logout request: %s", exc)
        return None
    index = root.find(f".//{_SAMLP_NS}SessionIndex")
    text = (index.text or "").strip() if index is not None else ""
    return text[:MAX_TICKET] or None


def ticket_hash(ticket: str) -> str:
    """What we keep of a ticket: its SHA-256, never the ticket itself."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()
