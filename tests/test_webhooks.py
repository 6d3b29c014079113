"""Webhooks: SSRF-safe subscriptions, deliveries written with the change, signed, retried."""
import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from helpdesk.api import webhook_policy as policy
from helpdesk.api import webhooks
from helpdesk.api.webhook_models import WebhookDelivery
from helpdesk.core.errors import PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.tickets import services
from tests.factories import World, at, make_ticket
from tests.web import csrf_token, login


class Receiver(BaseHTTPRequestHandler):
    answers: list = []
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        code = Receiver.answers.pop(0) if Receiver.answers else 200
        self.send_response(code)
        if code == 302:
            self.send_header("Location", "http://169.254.169.254/latest/meta-data")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.answers, Receiver.received = [], []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def w(db):
    return World()


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost/x", "http://10.1.2.3/",
                                 "http://169.254.169.254/latest", "http://[::1]/", "ftp://example.org/",
                                 "http://user:pw@example.org/", "javascript:alert(1)",
                                 "http://192.168.1.1/", "http://[::ffff:127.0.0.1]/"])
def test_private_local_and_odd_urls_are_refused(w, url):
    with pytest.raises(ValidationFailed):
        webhooks.subscribe(w.admin, url, ["ticket.created"], now=at(0))


def test_only_administrators_subscribe(w):
    with pytest.raises(PermissionDenied):
        webhooks.subscribe(w.manager, "http://127.0.0.1/x", ["ticket.created"], now=at(0),
                           allow_private=True)
    with pytest.raises(ValidationFailed):
        webhooks.subscribe(w.admin, "http://127.0.0.1/x", ["ticket.exploded"], now=at(0),
                           allow_private=True)


def test_public_addresses_are_recognised():
    assert policy.is_public_address("194.63.237.4")
    assert not policy.is_public_address("172.16.0.1")
    assert not policy.is_public_address("fe80::1")


def deliver_all():
    sent = []
    for delivery_id in webhooks.due_ids(now=at(100), stale_after=timedelta(minutes=10)):
        delivery = webhooks.claim(delivery_id, now=at(100))
        if delivery is not None:
            webhooks.deliver(delivery, now=at(100), timeout=5)
            _db.session.commit()
            sent.append(delivery)
    return sent


def test_deliveries_are_written_with_the_change_signed_and_sent(w, receiver):
    sub, secret = webhooks.subscribe(w.admin, receiver, ["ticket.created", "ticket.escalated"],
                                     now=at(0), allow_private=True)
    _db.session.commit()
    t = make_ticket(w.user_a)
    services.add_note(w.l1, t, "εσωτερικό", now=at(1))
    services.escalate(w.l1, t, "Θέλει ΠΣΔ", now=at(2))
    _db.session.commit()
    rows = _db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [d.event for d in rows] == ["ticket.created", "ticket.escalated"]
    sent = deliver_all()
    assert [d.status for d in sent] == ["sent", "sent"]
    headers, body = Receiver.received[1]
    payload = json.loads(body)
    assert payload["event"] == "ticket.escalated" and payload["ticket"]["ref"] == t.ref
    assert payload["change"] == {"from_level": "1", "to_level": "2", "reason": "Θέλει ΠΣΔ"}
    stamp, mac = headers["X-Arogi-Signature"].split(",")
    expected = hmac.new(secret.encode(), f"{stamp[2:]}.".encode() + body, hashlib.sha256).hexdigest()
    assert mac == f"v1={expected}"
    assert "εσωτερικό" not in body.decode()


def test_failures_are_retried_with_backoff_and_redirects_not_followed(w, receiver):
    webhooks.subscribe(w.admin, receiver, ["ticket.created"], now=at(0), allow_private=True)
    _db.session.commit()
    make_ticket(w.user_a)
    _db.session.commit()
    Receiver.answers = [500, 302]
    first = deliver_all()[0]
    assert first.status == "pending" and first.last_status == 500
    assert first.next_attempt_at == at(100) + timedelta(minutes=1)
    first.next_attempt_at = None
    second = deliver_all()[0]
    assert second.status == "pending" and second.last_status == 302  # not followed
    assert len(Receiver.received) == 2
    second.next_attempt_at = None
    assert deliver_all()[0].status == "sent"
    for _ in range(3):
        assert webhooks.claim(second.id, now=at(101)) is None  # sent: never again


def test_a_host_that_turns_private_is_not_called(w, receiver, monkeypatch):
    # No DNS here: resolution is the one thing stubbed, to act out a rebinding attack.
    monkeypatch.setattr(webhooks, "resolve", lambda host: ["93.184.216.34"])
    sub, _secret = webhooks.subscribe(w.admin, "http://hooks.example.org/x", ["ticket.created"],
                                      now=at(0))
    _db.session.commit()
    make_ticket(w.user_a)
    _db.session.commit()
    monkeypatch.setattr(webhooks, "resolve", lambda host: ["127.0.0.1"])  # DNS rebinding
    delivery = deliver_all()[0]
    assert delivery.status == "pending" and "private" in delivery.last_error


def test_admin_page_and_others_get_404(client, w):
    login(client, w.l1)
    assert client.get("/admin/webhooks").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    login(client, w.admin)
    page = client.get("/admin/webhooks")
    assert page.status_code == 200 and "ticket.escalated" in page.get_data(as_text=True)


def _post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, "/admin/webhooks")})


def test_webhooks_are_in_the_administrators_menu(client, w):
    login(client, w.admin)
    html = client.get("/tickets").get_data(as_text=True)
    assert 'href="/admin/webhooks"' in html


def test_admin_edits_pauses_tests_and_deletes_a_webhook(client, w, receiver):
    sub, _secret = webhooks.subscribe(w.admin, receiver, ["ticket.created"], now=at(0),
                                      allow_private=True)
    _db.session.commit()
    login(client, w.admin)
    page = client.get(f"/admin/webhooks/{sub.id}")
    assert page.status_code == 200 and receiver in page.get_data(as_text=True)
    # Editing goes through the same SSRF check as subscribing.
    refused = _post(client, f"/admin/webhooks/{sub.id}",
                    {"url": "http://169.254.169.254/latest", "events": ["ticket.created"]})
    assert refused.status_code == 200
    _db.session.refresh(sub)
    assert sub.url == receiver
    saved = _post(client, f"/admin/webhooks/{sub.id}",
                  {"url": receiver + "/v2", "events": ["ticket.created", "ticket.resolved"],
                   "allow_private": "y"})
    assert saved.status_code == 302
    _db.session.refresh(sub)
    assert sub.url == receiver + "/v2" and sub.events == ["ticket.created", "ticket.resolved"]

    assert _post(client, f"/admin/webhooks/{sub.id}/pause").status_code == 302
    _db.session.refresh(sub)
    assert sub.is_active is False
    make_ticket(w.user_a)
    _db.session.commit()
    assert _db.session.scalars(select(WebhookDelivery)).all() == []  # paused: nothing written
    assert _post(client, f"/admin/webhooks/{sub.id}/resume").status_code == 302
    _db.session.refresh(sub)
    assert sub.is_active is True

    assert _post(client, f"/admin/webhooks/{sub.id}/test").status_code == 302
    sent = deliver_all()
    assert [d.event for d in sent] == ["webhook.test"] and sent[0].status == "sent"
    assert json.loads(Receiver.received[0][1])["event"] == "webhook.test"
    html = client.get("/admin/webhooks").get_data(as_text=True)
    assert "Δοκιμαστική αποστολή" in html and "Παραδόθηκε" in html

    sub_id = sub.id
    assert _post(client, f"/admin/webhooks/{sub_id}/delete").status_code == 302
    assert _db.session.get(webhooks.WebhookSubscription, sub_id) is None
    assert _db.session.scalars(select(WebhookDelivery)).all() == []


def test_webhook_actions_are_for_administrators_only(client, w):
    sub, _secret = webhooks.subscribe(w.admin, "http://127.0.0.1/x", ["ticket.created"],
                                      now=at(0), allow_private=True)
    _db.session.commit()
    login(client, w.manager)
    token = csrf_token(client, "/tickets")
    for action in ("pause", "test", "delete"):
        response = client.post(f"/admin/webhooks/{sub.id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    assert client.get(f"/admin/webhooks/{sub.id}").status_code == 404
    assert 'href="/admin/webhooks"' not in client.get("/tickets").get_data(as_text=True)
    with pytest.raises(PermissionDenied):
        webhooks.set_active(w.manager, sub.id, False, now=at(1))
    _db.session.refresh(sub)
    assert sub.is_active is True
    # Without a CSRF token an administrator's POST is refused too.
    admin = client.application.test_client()
    login(admin, w.admin)
    assert admin.post(f"/admin/webhooks/{sub.id}/delete").status_code == 400


def test_delivery_states_and_failures_are_worded():
    from helpdesk.api.webhook_policy import failure_kind

    assert failure_kind(200, None) is None and failure_kind(None, None) is None
    assert failure_kind(500, "HTTP 500") == "http"
    assert failure_kind(None, "the host resolves to a private or local address") == "unsafe"
    assert failure_kind(None, "timed out") == "timeout"
    assert failure_kind(None, "<urlopen error [Errno 111] Connection refused>") == "refused"
    assert failure_kind(None, "<urlopen error [Errno -2] Name or service not known>") == "dns"
    assert failure_kind(None, "something else") == "network"


# --- only globally routable addresses; one lookup, and the connection goes there ------------

#: The addresses issue 11 found treated as public, and their neighbours.
NOT_GLOBAL = ["100.64.0.1", "100.100.100.200", "100.127.255.254", "168.63.129.16",
              "169.254.169.254", "fd00:ec2::254", "2002:7f00::1", "2002:7f00:1::",
              "2002:a00:1::", "64:ff9b::7f00:1", "::ffff:100.100.100.200", "192.0.2.10",
              "198.18.0.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "fe80::1%eth0"]


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_addresses_that_are_not_globally_routable_are_refused(w, address, monkeypatch):
    assert not policy.is_public_address(address)
    # No DNS for made-up names here: resolution is stubbed to answer the address under test.
    monkeypatch.setattr(webhooks, "resolve", lambda host: [address])
    with pytest.raises(ValidationFailed):
        webhooks.subscribe(w.admin, "https://hooks.example.org/x", ["ticket.created"], now=at(0))


@pytest.mark.parametrize("address", ["194.63.237.4", "2001:648:2ffc::1", "2002:c23f:ed04::1",
                                     "::ffff:194.63.237.4"])
def test_global_addresses_are_accepted(address):
    assert policy.is_public_address(address)


def test_a_host_that_does_not_resolve_is_refused(w):
    with pytest.raises(ValidationFailed) as refused:  # real resolver: .invalid never resolves
        webhooks.subscribe(w.admin, "https://no-such-host.invalid/x", ["ticket.created"],
                           now=at(0), allow_private=True)
    from flask_babel import force_locale

    with force_locale("en"):
        assert "does not resolve" in str(refused.value)


def test_delivery_connects_to_the_address_it_checked(w, receiver, monkeypatch):
    port = receiver.rsplit(":", 1)[1].split("/")[0]
    lookups = []

    def resolve(host):  # the name is made up: only this stub knows it (a one-shot DNS)
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) <= 2 else ["192.0.2.1"]

    monkeypatch.setattr(webhooks, "resolve", resolve)
    webhooks.subscribe(w.admin, f"http://hooks.example.test:{port}/hook", ["ticket.created"],
                       now=at(0), allow_private=True)
    _db.session.commit()
    make_ticket(w.user_a)
    _db.session.commit()
    assert [d.status for d in deliver_all()] == ["sent"]
    assert lookups == ["hooks.example.test", "hooks.example.test"]  # subscribe, deliver: once
    headers, _body = Receiver.received[0]
    assert headers["Host"] == f"hooks.example.test:{port}"
