"""Local accounts done properly (issue 14): password reset by e-mail, password change, the
account page. Real database, real outbox rows, real signed links; nothing mocked."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpdesk.accounts import services
from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from tests.factories import PASSWORD, T0, World
from tests.web import csrf_token, login

NEW = "a brand new long password"


@pytest.fixture
def w(db):
    return World()


def _ask(client, email, address="198.51.100.20"):
    token = csrf_token(client, "/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _mails(user=None):
    stmt = select(Notification).where(Notification.kind == "password_reset")
    if user is not None:
        stmt = stmt.where(Notification.recipient_email == user.email)
    return list(_db.session.scalars(stmt))


def _link(note) -> str:
    return re.search(r"/password/reset/\S+", note.body).group(0)


def _set(client, link, password=NEW, confirm=None):
    token = csrf_token(client, link)
    return client.post(link, data={"new": password, "confirm": confirm or password,
                                   "csrf_token": token})


def test_the_log_in_page_offers_the_reset(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/password/forgot" in html and "Ξεχάσατε τον κωδικό;" in html


def test_known_and_unknown_addresses_get_the_same_answer(client, w):
    _db.session.commit()
    known = _ask(client, w.l1.email.upper())
    unknown = _ask(client, "nobody@example.sch.gr")
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)
    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))
    assert [n.recipient_email for n in _mails()] == [w.l1.email]


def test_the_unknown_address_costs_the_same_work(app, w, monkeypatch):
    """Same answer, same work: a link is signed and a mail rendered either way."""
    from helpdesk.accounts import reset

    signed = []
    real = reset.make_token
    monkeypatch.setattr(reset, "make_token", lambda user: signed.append(user) or real(user))
    with app.test_request_context():
        services.request_password_reset("nobody@example.sch.gr", now=None)
        assert len(signed) == 1
        services.request_password_reset(w.l1.email, now=T0)
        _db.session.commit()
    assert len(signed) == 2


def test_the_mail_is_in_the_users_language_and_the_link_sets_the_password(app, client, w):
    w.l2.locale = "en"
    _db.session.commit()
    _ask(client, w.l1.email)
    _ask(client, w.l2.email, "198.51.100.21")
    greek, english = _mails(w.l1)[0], _mails(w.l2)[0]
    assert greek.locale == "el" and "κωδικ" in greek.subject.lower()
    assert english.locale == "en" and "password" in english.subject
    link = _link(greek)
    assert client.get(link).status_code == 200
    assert _set(client, link).status_code == 302
    _db.session.refresh(w.l1)
    assert services.authenticate(w.l1.email, NEW, now=None) is not None
    audit = _db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == w.l1.id,
                                                        AuditEntry.action == "accounts.password.reset"))
    assert audit is not None and audit.after["session_version"] > audit.before["session_version"]


def test_a_used_link_does_not_work_again(client, w):
    _db.session.commit()
    _ask(client, w.l1.email)
    link = _link(_mails(w.l1)[0])
    assert _set(client, link).status_code == 302
    assert client.get(link).status_code == 404
    again = _set_raw(client, link, "yet another long password")
    assert again.status_code == 404
    assert services.authenticate(w.l1.email, NEW, now=None) is not None


def _set_raw(client, link, password):
    token = csrf_token(client, "/password/forgot")
    return client.post(link, data={"new": password, "confirm": password, "csrf_token": token})


def test_an_expired_link_does_not_work(app, client, w, monkeypatch):
    _db.session.commit()
    _ask(client, w.l1.email)
    link = _link(_mails(w.l1)[0])
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)  # every link is too old
    assert client.get(link).status_code == 404
    assert _set_raw(client, link, NEW).status_code == 404
    assert services.authenticate(w.l1.email, PASSWORD, now=None) is not None


def test_a_link_is_for_one_account_only(client, w):
    """Another user's link sets that user's password, never mine; a forged one does nothing."""
    _db.session.commit()
    _ask(client, w.l1.email)
    link = _link(_mails(w.l1)[0])
    token = link.rsplit("/", 1)[1]
    payload, _sep, rest = token.partition(".")
    import base64
    import json

    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data[0] = w.l2.id
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()) \
        .decode().rstrip("=") + "." + rest
    assert client.get(f"/password/reset/{forged}").status_code == 404
    assert _set(client, link).status_code == 302
    assert services.authenticate(w.l2.email, PASSWORD, now=None) is not None
    assert services.authenticate(w.l1.email, NEW, now=None) is not None


def test_a_password_change_kills_an_outstanding_link(client, w):
    _db.session.commit()
    _ask(client, w.l1.email)
    link = _link(_mails(w.l1)[0])
    login(client, w.l1)
    client.post("/account", data={"current": PASSWORD, "new": NEW,
                                  "csrf_token": csrf_token(client, "/account")})
    assert client.get(link).status_code == 404


def test_a_reset_ends_every_session(app, client, w):
    _db.session.commit()
    login(client, w.l1)
    assert client.get("/tickets").status_code == 200
    other = app.test_client()
    _ask(other, w.l1.email)
    assert _set(other, _link(_mails(w.l1)[0])).status_code == 302
    assert client.get("/tickets").status_code == 302


def test_a_reset_keeps_the_strength_rule(client, w):
    _db.session.commit()
    _ask(client, w.l1.email)
    link = _link(_mails(w.l1)[0])
    assert _set(client, link, "short").status_code == 200
    assert _set(client, link, NEW, confirm=NEW + "x").status_code == 200
    assert services.authenticate(w.l1.email, PASSWORD, now=None) is not None


def test_an_inactive_account_gets_no_mail(client, w):
    w.l1.is_active_account = False
    _db.session.commit()
    assert _ask(client, w.l1.email).status_code == 200
    assert _mails(w.l1) == []


def test_requests_are_limited_per_account_and_per_address(app, client, w, monkeypatch):
    _db.session.commit()
    codes = [_ask(client, w.l1.email, f"203.0.113.{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]  # 3 per 15 minutes per account, from anywhere
    assert len(_mails(w.l1)) == 3
    codes = [_ask(client, f"x{n}@example.org", "203.0.113.50").status_code for n in range(6)]
    assert codes == [200] * 5 + [429]  # 5 a minute from one address, whatever it asks


def test_password_change_audits_and_refuses_a_wrong_current(client, w):
    _db.session.commit()
    login(client, w.l1)
    wrong = client.post("/account", data={"current": "not it at all", "new": NEW,
                                          "csrf_token": csrf_token(client, "/account")})
    assert wrong.status_code == 200
    ok = client.post("/account", data={"current": PASSWORD, "new": NEW,
                                       "csrf_token": csrf_token(client, "/account")})
    assert ok.status_code == 302
    actions = _db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == w.l1.id)).all()
    assert actions == ["accounts.password.change"]


def test_the_account_page_links_to_the_api_tokens(client, w):
    _db.session.commit()
    login(client, w.l1)
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/account/tokens"' in html
