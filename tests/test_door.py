"""The door, hardened: sessions that end, log-in timing and limits, headers, SSRF, bounds,
and a true answer when attachments cannot be written."""
from __future__ import annotations

import io

import pytest

from helpdesk.extensions import db as _db
from tests.factories import PASSWORD, World
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


# --- sessions end on the server ---------------------------------------------------------------

def _copy_session(app, client):
    """A second client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_stops_working_after_log_out(app, client, w):
    login(client, w.user_a)
    thief = _copy_session(app, client)
    assert thief.get("/tickets").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    answer = thief.get("/tickets")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_password_change_ends_other_sessions_but_not_this_one(app, client, w):
    login(client, w.user_a)
    thief = _copy_session(app, client)
    assert thief.get("/tickets").status_code == 200
    answer = client.post("/account", data={"current": PASSWORD, "new": "a new long password",
                                           "csrf_token": csrf_token(client, "/account")})
    assert answer.status_code == 302
    stolen = thief.get("/tickets")
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]
    assert client.get("/tickets").status_code == 200  # the one who changed it stays in


def test_a_session_of_the_old_form_is_not_accepted(app, client, w):
    _db.session.commit()
    with client.session_transaction() as s:  # a cookie from before versions: a bare id
        s["_user_id"] = str(w.user_a.id)
        s["_fresh"] = True
    assert client.get("/tickets").status_code == 302


# --- log-in timing ----------------------------------------------------------------------------

@pytest.fixture
def verified_hashes(monkeypatch):
    """The hashes Argon2 checks a password against (counted, not timed: no flaky clocks)."""
    from argon2 import PasswordHasher, extract_parameters

    seen: list = []
    real = PasswordHasher.verify

    def verify(self, stored, password):
        seen.append(extract_parameters(stored))
        return real(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return seen


@pytest.mark.parametrize("who", ["known", "unknown", "inactive", "no password"])
def test_every_log_in_costs_one_hash_check_at_the_configured_cost(app, w, verified_hashes, who):
    from helpdesk.accounts.services import authenticate
    from tests.factories import at

    email = {"known": w.user_a.email, "unknown": "nobody@sch.gr"}.get(who, w.user_b.email)
    if who == "inactive":
        w.user_b.is_active_account = False
    if who == "no password":
        w.user_b.password_hash = ""
    assert authenticate(email, "wrong password", now=at(0)) is None
    time_cost, memory_cost, parallelism = app.config["PASSWORD_HASH_PARAMS"]
    assert len(verified_hashes) == 1
    p = verified_hashes[0]
    assert (p.time_cost, p.memory_cost, p.parallelism) == (time_cost, memory_cost, parallelism)


def test_an_inactive_account_with_the_right_password_is_refused(w, verified_hashes):
    from helpdesk.accounts.services import authenticate
    from tests.factories import at

    w.user_b.is_active_account = False
    assert authenticate(w.user_b.email, PASSWORD, now=at(0)) is None
    assert authenticate(w.user_a.email, PASSWORD, now=at(0)) == w.user_a


# --- log-in rate limits -----------------------------------------------------------------------

def _attempt(client, user, password, address):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": user.email, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_one_address_cannot_lock_an_account_out_from_everywhere(app, client, w):
    _db.session.commit()
    codes = [_attempt(client, w.user_a, "wrong", "203.0.113.66") for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    owner = app.test_client()
    assert _attempt(owner, w.user_a, PASSWORD, "198.51.100.7") == 302


def test_many_addresses_meet_the_slower_account_limit(app, client, w, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "15 per minute")
    _db.session.commit()
    codes = [_attempt(client, w.user_a, "wrong", f"203.0.113.{n // 5}") for n in range(15)]
    assert codes == [401] * 15  # 5 from each of three addresses: under the pair limit
    assert _attempt(client, w.user_a, "wrong", "203.0.113.99") == 429
    assert _attempt(client, w.user_b, "wrong", "203.0.113.99") == 401  # other accounts: fine


def test_successful_log_ins_do_not_use_up_the_limit(app, client, w):
    _db.session.commit()
    for _ in range(12):
        assert _attempt(app.test_client(), w.user_a, PASSWORD, "203.0.113.5") == 302


def _bare_app(tmp_path, **settings):
    from tests.conftest import make_app

    app = make_app(tmp_path / "instance", f"sqlite:///{tmp_path / 'bare.db'}", **settings)
    app.add_url_rule("/_whoami", "whoami",
                     lambda: __import__("flask").request.remote_addr + " " +
                     __import__("flask").request.scheme)
    return app


def test_forwarded_headers_are_believed_only_from_configured_proxies(tmp_path):
    headers = {"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "https"}
    plain = _bare_app(tmp_path / "a").test_client()
    assert plain.get("/_whoami", headers=headers).get_data(as_text=True) == "127.0.0.1 http"
    proxied = _bare_app(tmp_path / "b", PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1).test_client()
    assert (proxied.get("/_whoami", headers=headers).get_data(as_text=True)
            == "198.51.100.20 https")


# --- headers and cookies ----------------------------------------------------------------------

def test_pages_of_a_logged_in_user_are_not_stored_but_static_files_are(client, w):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, w.user_a)
    for url in ("/tickets", "/account", "/tickets/new"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


def test_hsts_on_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cookies_are_secure_when_the_site_is_served_over_https(tmp_path):
    plain = _bare_app(tmp_path / "a")
    assert not plain.config["SESSION_COOKIE_SECURE"]
    app = _bare_app(tmp_path / "b", PREFERRED_URL_SCHEME="https")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    forced = _bare_app(tmp_path / "c", SECURE_COOKIES=True)
    assert forced.config["SESSION_COOKIE_SECURE"]

    def touch():
        from flask import session

        session["seen"] = True
        return "ok"

    app.add_url_rule("/_touch", "touch", touch)
    cookie = app.test_client().get("/_touch", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


# --- bounds: input that deserves a 400/404, never a 500 -----------------------------------------

HUGE = "99999999999999999999"
#: One past PostgreSQL's INTEGER (ids are INTEGER there): fine for SQLite, not for it.
JUST_TOO_BIG = str(2**31)
#: GET addresses with a huge number in the path or the query string.
HUGE_URLS = [
    f"/tickets?priority={HUGE}", f"/tickets?category={HUGE}", f"/tickets?directorate={HUGE}",
    f"/tickets?page={HUGE}", f"/tickets?queue=open&assignee={HUGE}", f"/attachments/{HUGE}",
    f"/equipment/{HUGE}", f"/equipment/{HUGE}/edit", f"/equipment?page={HUGE}",
    f"/equipment?category={HUGE}", f"/census/{HUGE}", f"/census?region={HUGE}",
    f"/census?directorate={HUGE}", f"/admin/mail/{HUGE}", f"/admin/sla/policies/{HUGE}",
    f"/admin/sla/overrides/{HUGE}", f"/equipment/import/{HUGE}",
    f"/reports/compliance?unit={HUGE}", f"/reports/compliance?region={HUGE}",
    f"/reports/health?category={HUGE}&priority={HUGE}&level={HUGE}",
    f"/reports/backlog?directorate={HUGE}", f"/reports/compliance.csv?unit={HUGE}",
    f"/api/v1/equipment/{HUGE}", f"/attachments/{JUST_TOO_BIG}", f"/equipment/{JUST_TOO_BIG}",
    f"/tickets?priority={JUST_TOO_BIG}", f"/tickets?category={JUST_TOO_BIG}",
    f"/reports/health?category={JUST_TOO_BIG}", f"/census?region={JUST_TOO_BIG}",
]
BAD_DATES = ["/reports/compliance?from=9999-12-31&to=9999-12-31",
             "/reports/health?from=0001-01-01&to=9999-12-31",
             "/reports/backlog?from=9999-12-31", "/reports/compliance.csv?to=9999-12-31",
             "/reports/trend.csv?from=0001-01-01", "/api/v1/reports/sla?from=9999-12-31"]


@pytest.mark.parametrize("role", ["user_a", "l1", "manager", "admin"])
def test_huge_numbers_in_paths_and_filters_are_a_400_or_404(client, w, role):
    login(client, getattr(w, role))
    bad = {url: code for url in HUGE_URLS
           if (code := client.get(url).status_code) >= 500}
    assert not bad


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_dates_out_of_range_on_reports_are_a_clear_refusal(client, w, role):
    login(client, getattr(w, role))
    for url in BAD_DATES[:-1]:
        answer = client.get(url)
        assert answer.status_code == 400, (url, answer.status_code)
        assert "9999" not in url or "2999-12-31" in answer.get_data(as_text=True)
    assert client.get("/reports/compliance?from=2026-02-30").status_code == 200  # ignored


def _refused_for_nul(answer) -> bool:
    return answer.status_code == 400 and "NUL" in answer.get_data(as_text=True)


def test_nul_characters_anywhere_are_a_clear_400(client, w):
    from sqlalchemy import func, select

    from helpdesk.inventory.models import EquipmentItem
    from helpdesk.tickets.models import Ticket
    from tests.factories import category

    login(client, w.user_a)
    assert _refused_for_nul(client.get("/tickets?q=%CE%B5%00x"))
    assert _refused_for_nul(client.get("/tickets/AR-2026-%00"))
    tickets = _db.session.scalar(select(func.count(Ticket.id)))
    filed = client.post("/tickets/new", data={
        "category": str(category("HW-PRN").id), "subject": "Ο εκτυπωτής\x00", "priority": "2",
        "description": "Το χαρτί μπλοκάρει.", "csrf_token": csrf_token(client, "/tickets/new")})
    assert _refused_for_nul(filed)
    assert _db.session.scalar(select(func.count(Ticket.id))) == tickets
    page = f"/equipment/school/{w.school_a.code}/new"
    added = client.post(page, data={"serial_number": "SN\x00", "csrf_token": csrf_token(client, page)})
    assert _refused_for_nul(added)
    assert _db.session.scalar(select(func.count(EquipmentItem.id))) == 0


def _bearer(user):
    from helpdesk.api.tokens import create_token
    from helpdesk.core.types import utcnow

    _token, secret = create_token(user, "test", now=utcnow())
    _db.session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_refuses_nul_characters_and_deep_json_with_a_problem(client, w):
    school = _bearer(w.user_a)
    body = {"school_code": w.school_a.code, "category": "HW-PRN", "subject": "Ο εκτυπωτής\u0000",
            "description": "Δεν τυπώνει.", "priority": 2}
    answer = client.post("/api/v1/tickets", headers=school, json=body)
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert "NUL" in answer.json["detail"]
    for deep in ("[" * 5000 + "]" * 5000, '{"subject": ' + "[" * 40 + "]" * 40 + "}"):
        answer = client.post("/api/v1/tickets", headers={**school, "Content-Type": "application/json"},
                             data=deep)
        assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    fine = client.post("/api/v1/tickets", headers=school, json={**body, "subject": "Ο εκτυπωτής"})
    assert fine.status_code == 201, fine.json


def test_api_dates_and_numbers_out_of_range_are_refused(client, w):
    manager = _bearer(w.manager)
    for url in (f"/api/v1/equipment/{HUGE}", f"/api/v1/tickets?priority={HUGE}",
                "/api/v1/reports/sla?from=9999-12-31", "/api/v1/reports/sla?to=9999-12-31"):
        assert client.get(url, headers=manager).status_code in (400, 404, 422), url
    late = client.get("/api/v1/tickets?updated_since=9999-12-31T23:59:59Z", headers=manager)
    assert late.status_code == 200 and late.json["items"] == []


# --- a full disk or an unwritable attachments directory ---------------------------------------

@pytest.fixture
def attachment_dir(app, tmp_path, monkeypatch):
    directory = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(directory))
    return directory


def _file_with(client, *files):
    from tests.factories import category

    return client.post("/tickets/new", content_type="multipart/form-data", data={
        "category": str(category("HW-PRN").id), "subject": "Ο εκτυπωτής δεν τυπώνει",
        "description": "Το χαρτί μπλοκάρει.", "priority": "2",
        "csrf_token": csrf_token(client, "/tickets/new"),
        "attachments": [(io.BytesIO(data), name) for name, data in files]})


def _counts():
    from sqlalchemy import func, select

    from helpdesk.tickets.models import Attachment, Message, Ticket

    return tuple(_db.session.scalar(select(func.count(m.id))) for m in (Ticket, Message, Attachment))


def _says_nothing_was_recorded(answer) -> bool:
    html = answer.get_data(as_text=True)
    return "Το συνημμένο δεν αποθηκεύτηκε" in html and "τίποτα δεν καταχωρίστηκε" in html


def _files(directory):
    return sorted(p.name for p in directory.rglob("*")) if directory.exists() else []


def test_an_unwritable_attachments_directory_records_nothing_and_says_so(app, client, w, tmp_path):
    # Tests run as root, which ignores permission bits: a directory under a regular file
    # cannot be created by anyone (ENOTDIR), so that stands for "not writable".
    (tmp_path / "a-file").write_text("not a directory")
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "a-file" / "attachments")
    try:
        login(client, w.user_a)
        before = _counts()
        answer = _file_with(client, ("αναφορά.pdf", b"%PDF-1.4 test"))
        assert answer.status_code == 503 and _says_nothing_was_recorded(answer)
        assert _counts() == before
    finally:
        app.config["ATTACHMENT_DIR"] = ""


def test_a_full_disk_mid_upload_records_nothing_and_leaves_no_file(client, w, attachment_dir,
                                                                   monkeypatch):
    import errno
    import os

    from helpdesk.core import filestore

    real_write, calls = os.write, []

    def write(fd, data):  # a disk that fills during the second file: ENOSPC cannot be made here
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(filestore.os, "write", write)
    login(client, w.user_a)
    before = _counts()
    answer = _file_with(client, ("πρώτο.pdf", b"%PDF-1.4 one"), ("δεύτερο.pdf", b"%PDF-1.4 two"))
    assert answer.status_code == 507 and _says_nothing_was_recorded(answer)
    assert _counts() == before
    assert _files(attachment_dir) == []  # the first file, written, went with the rollback


def test_a_reply_whose_attachment_cannot_be_stored_is_not_recorded(app, client, w, tmp_path):
    from tests.factories import make_ticket

    t = make_ticket(w.user_a)
    _db.session.commit()
    (tmp_path / "a-file").write_text("not a directory")
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "a-file" / "attachments")
    try:
        login(client, w.user_a)
        before = _counts()
        token = csrf_token(client, f"/tickets/{t.ref}")
        answer = client.post(f"/tickets/{t.ref}/reply", content_type="multipart/form-data", data={
            "reply-csrf_token": token, "reply-body": "Επισυνάπτω τη φωτογραφία",
            "reply-attachments": [(io.BytesIO(b"%PDF-1.4 x"), "φωτο.pdf")]})
        assert answer.status_code == 503 and _says_nothing_was_recorded(answer)
        assert _counts() == before
    finally:
        app.config["ATTACHMENT_DIR"] = ""


def test_files_written_before_a_later_failure_are_removed(client, w, attachment_dir, monkeypatch):
    from helpdesk.core.errors import ValidationFailed
    from helpdesk.inventory import filing

    def refuse(*args, **kwargs):
        raise ValidationFailed("equipment", "No such equipment.")

    monkeypatch.setattr(filing, "link_from_form", refuse)  # a failure after the files
    login(client, w.user_a)
    answer = _file_with(client, ("αναφορά.pdf", b"%PDF-1.4 test"))
    assert answer.status_code == 422
    assert _files(attachment_dir) == []


def test_committed_files_stay(client, w, attachment_dir):
    login(client, w.user_a)
    assert _file_with(client, ("αναφορά.pdf", b"%PDF-1.4 test")).status_code == 302
    assert len(_files(attachment_dir)) == 1 and not _files(attachment_dir)[0].startswith(".")


def test_a_server_error_does_not_claim_that_nothing_was_lost(app):
    from helpdesk.core.errors import register_error_handlers  # noqa: F401

    with app.test_request_context("/tickets"):
        from flask_babel import force_locale

        handler = app.error_handler_spec[None][500][next(iter(app.error_handler_spec[None][500]))]
        with force_locale("en"):
            text = handler(None).get_data(as_text=True)
    assert "Nothing you sent was lost" not in text and "not recorded" in text


def test_a_session_closed_without_commit_takes_its_files_along(app, db, tmp_path, monkeypatch):
    from helpdesk.core import filestore

    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    _db.session.execute(__import__("sqlalchemy").text("SELECT 1"))  # a transaction is open
    name = filestore.write(_db.session(), "attachments", b"data")
    assert (tmp_path / name).exists()
    _db.session.close()  # e.g. the request's teardown after an exception
    assert not (tmp_path / name).exists()
    kept = filestore.write(_db.session(), "attachments", b"data")
    _db.session.commit()
    _db.session.close()
    assert (tmp_path / kept).read_bytes() == b"data"
