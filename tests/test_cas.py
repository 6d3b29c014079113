"""ΠΣΔ sign-in at the request level: settings, the service URL, tickets, sessions, single
log-out, local passwords (issue 14). Tickets come from a real CAS server
(django-cas-server, tests/cas_server.py); nothing is mocked.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from helpdesk.accounts import cas
from helpdesk.accounts.cas_models import CasTicket
from helpdesk.accounts.models import User
from helpdesk.audit.models import AuditEntry
from tests import cas_server
from tests.factories import PASSWORD, World
from tests.web import csrf_token, login

SERVICE = "http://arogi.test/login/cas/callback"


@pytest.fixture(scope="module")
def psd(tmp_path_factory):
    try:
        server = cas_server.start(tmp_path_factory.mktemp("cas"), {
            "ntech": {"password": "pw", "attributes": {"uid": "ntech", "mail": "ntech@sch.gr",
                                                       "cn": "Νίκος Τεχνικός"}},
            "stranger": {"password": "pw", "attributes": {"uid": "stranger",
                                                          "mail": "stranger@sch.gr"}},
        }, [("arogi", "^" + re.escape(SERVICE) + "$", True)])
    except cas_server.Unavailable as exc:
        pytest.skip(f"no CAS server for the test (PyPI unreachable?): {exc}")
    yield server
    server.stop()


@pytest.fixture
def on(app, monkeypatch, psd):
    """CAS on, against the test CAS server, plain http allowed (tests only)."""
    for key, value in {"CAS_ENABLED": True, "CAS_SERVER_URL": psd.url, "CAS_ALLOW_HTTP": True,
                       "CAS_SERVICE_URL": SERVICE, "CAS_LOCAL_PASSWORDS": True}.items():
        monkeypatch.setitem(app.config, key, value)
    return psd


@pytest.fixture
def tech(db):
    w = World()
    w.l1.email = "ntech@sch.gr"
    db.session.commit()
    return w


def _ticket(psd, user="ntech"):
    return cas_server.issue_ticket(psd, SERVICE, user, "pw")


def _counts(db):
    return tuple(db.session.scalar(select(func.count()).select_from(t))
                 for t in (User, CasTicket, AuditEntry))


def test_off_by_default_no_button_and_the_routes_say_so(client, app):
    assert app.config["CAS_ENABLED"] is False
    assert "cas-login" not in client.get("/login").get_data(as_text=True)
    for url in ("/login/cas", "/login/cas/callback?ticket=ST-1"):
        response = client.get(url)
        assert response.status_code == 404 and "cas-refused" in response.get_data(as_text=True)


def test_the_button_and_the_redirect_with_the_configured_service_url(client, on):
    html = client.get("/login").get_data(as_text=True)
    assert "Είσοδος μέσω ΠΣΔ" in html and 'href="/login/cas"' in html
    response = client.get("/login/cas", headers={"Host": "evil.example"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert response.headers["Location"].startswith(on.url + "login?")
    assert parse_qs(location.query)["service"] == [SERVICE]  # never the Host header's


def test_the_service_url_is_derived_from_the_base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "CAS_SERVICE_URL", "")
    monkeypatch.setitem(app.config, "MAIL_BASE_URL", "https://arogi.sch.gr/")
    with app.app_context():
        assert cas.service_url() == "https://arogi.sch.gr/login/cas/callback"
        assert cas.site_url("/login") == "https://arogi.sch.gr/login"


@pytest.mark.parametrize("setting", ["CAS_SERVER_URL", "CAS_SERVICE_URL"])
def test_plain_http_is_refused_outside_tests(client, on, app, monkeypatch, setting):
    monkeypatch.setitem(app.config, "CAS_ALLOW_HTTP", False)
    if setting == "CAS_SERVER_URL":
        monkeypatch.setitem(app.config, "CAS_SERVICE_URL", "https://arogi.test/login/cas/callback")
    response = client.get("/login/cas")
    assert response.status_code == 503
    assert 'data-reason="misconfigured"' in response.get_data(as_text=True)


def test_a_valid_ticket_signs_in_renews_the_session_and_records_the_ticket(client, on, tech, db):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before sign-in"
        session["lang"] = "en"
    ticket = _ticket(on)
    response = client.get(f"/login/cas/callback?ticket={ticket}")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/"
    with client.session_transaction() as session:
        assert "planted" not in session and session["lang"] == "en"
        assert session["cas_ticket"] == cas.ticket_hash(ticket)
        assert session["_user_id"] == tech.l1.get_id()
    row = db.session.get(CasTicket, cas.ticket_hash(ticket))
    assert row.user_id == tech.l1.id and ticket not in str(row.__dict__)  # only the hash
    assert db.session.get(User, tech.l1.id).psd_uid == "ntech"
    assert client.get("/account").status_code == 200


def test_a_reused_ticket_is_refused_before_the_cas_server_is_asked(client, on, tech, db, app,
                                                                   monkeypatch):
    ticket = _ticket(on)
    assert client.get(f"/login/cas/callback?ticket={ticket}").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    before = _counts(db)
    monkeypatch.setitem(app.config, "CAS_SERVER_URL", "http://127.0.0.1:9/cas/")  # not asked
    response = client.get(f"/login/cas/callback?ticket={ticket}")
    assert response.status_code == 403 and 'data-reason="reused"' in response.get_data(as_text=True)
    assert _counts(db) == before


@pytest.mark.parametrize("ticket", ["", "ST-forged", "x" * 300])
def test_a_forged_or_oversized_ticket_is_refused(client, on, tech, db, ticket):
    before = _counts(db)
    response = client.get("/login/cas/callback", query_string={"ticket": ticket})
    assert response.status_code in (400, 403)
    assert 'data-reason="rejected"' in response.get_data(as_text=True)
    assert _counts(db) == before


def test_an_unknown_person_changes_nothing(client, on, tech, db):
    before = _counts(db)
    response = client.get(f"/login/cas/callback?ticket={_ticket(on, 'stranger')}")
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and 'data-reason="no_account-admin"' in html
    assert 'lang="en"' in html and "You have no account in Arogi yet" in html  # with English
    assert _counts(db) == before
    assert client.get("/tickets").status_code == 302


def _logout_request(ticket: str) -> str:
    return ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x" Version="2.0" '
            'IssueInstant="2026-12-03T09:00:00Z"><saml:NameID>@NOT_USED@</saml:NameID>'
            f'<samlp:SessionIndex>{ticket}</samlp:SessionIndex></samlp:LogoutRequest>')


def test_single_log_out_ends_that_session_only(client, app, on, tech, db):
    ticket = _ticket(on)
    assert client.get(f"/login/cas/callback?ticket={ticket}").status_code == 302
    other = app.test_client()
    assert other.get(f"/login/cas/callback?ticket={_ticket(on)}").status_code == 302
    # the CAS server's back-channel POST: no CSRF token, form field logoutRequest
    assert client.post("/login/cas/callback",
                       data={"logoutRequest": _logout_request(ticket)}).status_code == 200
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert other.get("/account").status_code == 200  # the other sign-in goes on


@pytest.mark.parametrize("body", [
    "not xml",
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">'
     "<samlp:SessionIndex>&e;</samlp:SessionIndex></samlp:LogoutRequest>"),
    _logout_request("ST-unknown"),
])
def test_a_bad_logout_request_changes_nothing(client, on, tech, db, body):
    ticket = _ticket(on)
    client.get(f"/login/cas/callback?ticket={ticket}")
    assert client.post("/login/cas/callback", data={"logoutRequest": body}).status_code == 200
    assert client.get("/account").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(CasTicket).where(
        CasTicket.logged_out_at.is_not(None))) == 0


def test_local_passwords_off_leaves_them_to_administrators(client, on, tech, app, monkeypatch):
    monkeypatch.setitem(app.config, "CAS_LOCAL_PASSWORDS", False)
    assert "administrators of Arogi only" in client.get("/login?lang=en").get_data(as_text=True)
    token = csrf_token(client, "/login")
    refused = client.post("/login", data={"email": tech.l1.email, "password": PASSWORD,
                                          "csrf_token": token})
    assert refused.status_code == 401
    login(client, tech.admin)  # the break-glass way in


def test_local_passwords_on_by_default(client, on, tech):
    login(client, tech.l1)


def test_our_log_out_of_a_psd_session_goes_on_to_the_cas_log_out(client, on, tech, db):
    ticket = _ticket(on)
    client.get(f"/login/cas/callback?ticket={ticket}")
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    assert response.headers["Location"].startswith(on.url + "logout")
    assert db.session.get(CasTicket, cas.ticket_hash(ticket)).logged_out_at is not None
    # a local session's log-out stays here
    login(client, tech.admin)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    assert response.headers["Location"].endswith("/login")


def test_the_csp_lets_the_log_out_form_reach_the_cas_server(client, on):
    policy = client.get("/login").headers["Content-Security-Policy"]
    origin = on.url.split("/cas/")[0]
    assert f"form-action 'self' {origin}" in policy


def test_the_cli_registers_a_person_with_their_psd_user_name(app, db):
    w = World()
    db.session.commit()
    runner = app.test_cli_runner()
    args = ["user", "create", "teacher@example.org", "--name", "Εκπαιδευτικός", "--role",
            "school", "--school", w.school_a.code, "--password", "a-long-password",
            "--psd-uid", "GPapadopoulos"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "teacher@example.org"))
    assert user.psd_uid == "gpapadopoulos"
    again = runner.invoke(args=[*args[:2], "other@example.org", *args[3:]])
    assert again.exit_code != 0 and "already bound" in again.output
