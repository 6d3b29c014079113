"""The ΠΣΔ sign-in round trip in Chromium against a real CAS server (issue 14).

The CAS server is django-cas-server (CAS 3.0) in its own virtualenv (tests/cas_server.py),
with users whose attributes mirror what sso.sch.gr releases; the helpdesk runs as a live
server with CAS on (plain http allowed for the test only) and local passwords for
administrators only. Nothing is mocked. Each bad case shows a clear page and changes
nothing (accounts, used tickets, the audit log, school names).
"""
from __future__ import annotations

import re
import socket
import threading

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.cas_models import CasTicket
from helpdesk.accounts.models import Role, User
from helpdesk.accounts.services import create_user
from helpdesk.audit.models import AuditEntry
from helpdesk.extensions import db as _db
from helpdesk.org.models import School
from tests import cas_server
from tests.conftest import build_schema, make_app
from tests.factories import PASSWORD, World, make_school

pytestmark = pytest.mark.browser

SCHOOL_NAME = "3ο Γυμνάσιο Μενεμένης"
RENAMED = "3ο Γυμνάσιο Μενεμένης «Αριστοτέλης»"
OTHER_SERVICE = "http://other-service.invalid/app"


def _users(school_code: str, tech_mail: str) -> dict:
    def user(attributes):
        return {"password": "psd-pass", "attributes": attributes}

    return {
        "3gym-menem": user({
            "uid": "3gym-menem", "mail": "mail@3gym-menem.thess.sch.gr", "cn": RENAMED,
            "description": RENAMED, "edupersonorgunitdn-gsnunitcode": school_code,
            "l": "ou=3gym-menem,ou=thess,ou=schools,dc=sch,dc=gr"}),
        "gpapadopoulos": user({
            "uid": "gpapadopoulos", "mail": ["gpapadopoulos@sch.gr", "g.papadopoulos@sch.gr"],
            "cn": "Γεώργιος Παπαδόπουλος", "employeenumber": "612345",
            "l": "ou=3gym-menem,ou=thess,ou=schools,dc=sch,dc=gr"}),
        "ntech": user({"uid": "ntech", "mail": tech_mail, "cn": "Νίκος Τεχνικός",
                       "employeenumber": "123456789"}),
        "stranger": user({"uid": "stranger", "mail": "stranger@sch.gr", "cn": "Άγνωστος",
                          "employeenumber": "654321"}),
        "9gym-nowhere": user({
            "uid": "9gym-nowhere", "mail": "mail@9gym-nowhere.sch.gr", "cn": "9ο Γυμνάσιο",
            "edupersonorgunitdn-gsnunitcode": "9999990",
            "l": "ou=9gym-nowhere,ou=thess,ou=schools,dc=sch,dc=gr"}),
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def cas(tmp_path_factory):
    """The helpdesk (CAS on) and a real CAS server; yields (base URL, app, CAS server, facts)."""
    from werkzeug.serving import make_server

    root = tmp_path_factory.mktemp("cas-live")
    app = make_app(root / "instance", f"sqlite:///{root / 'live.db'}", CAS_ENABLED=True,
                   CAS_ALLOW_HTTP=True, CAS_LOCAL_PASSWORDS=False, CAS_TIMEOUT_SECONDS=3)
    build_schema(app)
    with app.app_context():
        w = World()
        school = make_school("dide-thess-v", name=SCHOOL_NAME)
        teacher = create_user("teacher.pap@example.org", "Γ. Παπαδόπουλος", Role.SCHOOL,
                              school=w.school_a)
        teacher.psd_uid = "gpapadopoulos"
        _db.session.commit()
        facts = {"school_code": school.code, "school_id": school.id, "tech": w.l1.email,
                 "tech_id": w.l1.id, "teacher_id": teacher.id, "admin": w.admin.email,
                 "school_a": w.school_a.name}
        _db.session.remove()
    try:
        server = cas_server.start(root / "cas", _users(facts["school_code"], facts["tech"]), [
            ("arogi", r"^http://127\.0\.0\.1:\d+/login/cas/callback$", True),
            ("other", "^" + re.escape(OTHER_SERVICE) + ".*$", False)])
    except cas_server.Unavailable as exc:
        pytest.skip(f"no CAS server for the test (PyPI unreachable?): {exc}")
    web = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{web.server_port}"
    app.config.update(CAS_SERVER_URL=server.url, CAS_SERVICE_URL=f"{base}/login/cas/callback")
    thread = threading.Thread(target=web.serve_forever, name="cas-live", daemon=True)
    thread.start()
    yield base, app, server, facts
    web.shutdown()
    thread.join(timeout=10)
    server.stop()
    with app.app_context():
        _db.engine.dispose()


def state(app) -> dict:
    """What a refused sign-in must leave as it was."""
    with app.app_context():
        snapshot = {
            "users": _db.session.scalar(select(func.count()).select_from(User)),
            "bound": sorted(_db.session.scalars(select(User.psd_uid).where(
                User.psd_uid.is_not(None)))),
            "tickets": _db.session.scalar(select(func.count()).select_from(CasTicket)),
            "audit": _db.session.scalar(select(func.count()).select_from(AuditEntry)),
            "schools": _db.session.scalar(select(func.count()).select_from(School)),
        }
        _db.session.remove()
    return snapshot


def cas_sign_in(page, base, username, password="psd-pass"):
    """Click "Είσοδος μέσω ΠΣΔ", then log in at the CAS server's own page."""
    page.goto(f"{base}/login")
    page.click("#cas-login")
    page.wait_for_url(re.compile(r".*/cas/login.*"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit], form input[type=submit]")


def hold_ticket(page) -> list:
    """Stop the CAS server's redirect that carries a ticket (to any service): the browser
    lands on a blank page, the ticket unused in the returned list. (Playwright does not
    route a redirect's target, so the log-in POST is fetched here without following.)"""
    seen = []

    def handle(route):
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        location = response.headers.get("location", "")
        if "ticket=" in location:
            seen.append(re.search(r"ticket=([^&]+)", location).group(1))
            route.fulfill(status=200, body="held")
        else:
            route.fulfill(response=response)

    page.route(re.compile(r"^http://127\.0\.0\.1:\d+/cas/login"), handle)
    return seen


def capture_ticket(page, base, username) -> str:
    """Sign in at the CAS server but stop the browser before it hands the ticket to us."""
    seen = hold_ticket(page)
    cas_sign_in(page, base, username)
    page.wait_for_selector("text=held")
    page.unroute_all()
    return seen[0]


def refused(page, reason: str) -> str:
    box = page.locator(f"section.cas-refused[data-reason='{reason}']")
    assert box.count() == 1, page.content()[:2000]
    text = box.inner_text()
    assert re.search("[α-ωΑ-Ω]{4}", text) and re.search("[a-zA-Z]{4}", text)  # Greek, English
    return text


def test_school_unit_is_created_on_first_sign_in_renamed_and_lands_on_its_tickets(page, cas):
    base, app, _server, facts = cas
    cas_sign_in(page, base, "3gym-menem")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    with app.app_context():
        user = _db.session.scalar(select(User).where(User.psd_uid == "3gym-menem"))
        assert user.school_id == facts["school_id"] and user.email == "mail@3gym-menem.thess.sch.gr"
        assert _db.session.get(School, facts["school_id"]).name == RENAMED  # the ΠΣΔ's new name
        _db.session.remove()
    assert RENAMED in page.content()
    page.goto(f"{base}/account")
    assert "mail@3gym-menem.thess.sch.gr" in page.content()
    # the second sign-in finds the same account
    page.context.clear_cookies()
    before = state(app)
    cas_sign_in(page, base, "3gym-menem")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    after = state(app)
    assert after["users"] == before["users"] and after["tickets"] == before["tickets"] + 1


def test_teacher_signs_in_by_uid(page, cas):
    base, _app, _server, _facts = cas
    cas_sign_in(page, base, "gpapadopoulos")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    page.goto(f"{base}/account")
    assert "teacher.pap@example.org" in page.content()


def test_technician_signs_in_by_mail_and_the_uid_is_bound(page, cas):
    base, app, _server, facts = cas
    cas_sign_in(page, base, "ntech")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    with app.app_context():
        assert _db.session.get(User, facts["tech_id"]).psd_uid == "ntech"
        _db.session.remove()
    page.goto(f"{base}/account")
    assert facts["tech"] in page.content()


def test_unknown_person_is_told_whom_to_ask_and_nothing_is_created(page, cas):
    base, app, _server, _facts = cas
    before = state(app)
    cas_sign_in(page, base, "stranger")
    page.wait_for_selector("section.cas-refused")
    text = refused(page, "no_account-school")
    assert "σχολείο" in text
    assert state(app) == before
    page.goto(f"{base}/tickets")
    assert "/login" in page.url  # not signed in


def test_school_outside_the_registry_is_refused_and_nothing_is_created(page, cas):
    base, app, _server, _facts = cas
    before = state(app)
    cas_sign_in(page, base, "9gym-nowhere")
    page.wait_for_selector("section.cas-refused")
    assert "9999990" in refused(page, "unknown_school")
    assert state(app) == before


def test_forged_ticket_is_refused(page, cas):
    base, app, _server, _facts = cas
    before = state(app)
    page.goto(f"{base}/login/cas/callback?ticket=ST-forged-0123456789abcdef")
    refused(page, "rejected")
    assert state(app) == before


def test_replayed_ticket_is_refused(page, browser, cas):
    base, app, _server, _facts = cas
    ticket = capture_ticket(page, base, "gpapadopoulos")
    page.goto(f"{base}/login/cas/callback?ticket={ticket}")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    before = state(app)
    other = browser.new_context(locale="el-GR")
    try:
        thief = other.new_page()
        thief.goto(f"{base}/login/cas/callback?ticket={ticket}")
        refused(thief, "reused")
        thief.goto(f"{base}/tickets")
        assert "/login" in thief.url
    finally:
        other.close()
    assert state(app) == before


def test_expired_ticket_is_refused(page, cas):
    base, app, server, _facts = cas
    ticket = capture_ticket(page, base, "ntech")
    cas_server.age_ticket(server, ticket)
    before = state(app)
    page.goto(f"{base}/login/cas/callback?ticket={ticket}")
    refused(page, "rejected")
    assert state(app) == before


def test_ticket_for_another_service_is_refused(page, cas):
    base, app, server, _facts = cas
    seen = hold_ticket(page)
    page.goto(server.url + "login?service=" + OTHER_SERVICE)
    page.fill("input[name=username]", "ntech")
    page.fill("input[name=password]", "psd-pass")
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_selector("text=held")
    page.unroute_all()
    ticket = seen[0]
    before = state(app)
    page.goto(f"{base}/login/cas/callback?ticket={ticket}")
    refused(page, "rejected")
    assert state(app) == before


def test_cas_server_down_clear_page_and_administrators_still_log_in(page, cas):
    base, app, _server, facts = cas
    ticket = capture_ticket(page, base, "ntech")
    page.context.clear_cookies()
    working = app.config["CAS_SERVER_URL"]
    app.config["CAS_SERVER_URL"] = f"http://127.0.0.1:{_closed_port()}/cas/"
    try:
        before = state(app)
        page.goto(f"{base}/login")
        page.click("#cas-login")
        refused(page, "unavailable")
        page.goto(f"{base}/login/cas/callback?ticket={ticket}")  # the server went down meanwhile
        refused(page, "unavailable")
        assert state(app) == before
        # local passwords are for administrators only here: a technician's is refused …
        page.goto(f"{base}/login")
        page.fill("input[name=email]", facts["tech"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        assert "/login" in page.url and page.locator(".flash.error").count() == 1
        # … and the administrator's break-glass log-in works
        page.fill("input[name=email]", facts["admin"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(re.compile(r".*/tickets.*"))
    finally:
        app.config["CAS_SERVER_URL"] = working


def test_single_log_out_from_the_cas_server_ends_our_session(page, cas):
    base, app, server, _facts = cas
    cas_sign_in(page, base, "gpapadopoulos")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    page.goto(f"{base}/account")
    assert "/account" in page.url
    # the person logs out at the ΠΣΔ; its server POSTs a logoutRequest to our service URL
    page.goto(server.url + "logout")
    with app.app_context():
        ended = _db.session.scalar(select(func.count()).select_from(CasTicket).where(
            CasTicket.logged_out_at.is_not(None)))
        _db.session.remove()
    assert ended >= 1
    page.goto(f"{base}/account")
    assert "/login" in page.url


def test_our_log_out_leaves_the_psd_too(page, cas):
    base, _app, _server, _facts = cas
    cas_sign_in(page, base, "ntech")
    page.wait_for_url(re.compile(r".*/tickets.*"))
    page.click("header form button:has-text('Αποσύνδεση')")
    page.wait_for_url(re.compile(r".*/login.*"))
    # signing in again asks for the ΠΣΔ password: the CAS session ended as well
    page.click("#cas-login")
    page.wait_for_url(re.compile(r".*/cas/login.*"))
    assert page.locator("input[name=password]").count() == 1
