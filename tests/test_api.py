"""The JSON API: tokens, the ticket flow, filters, pagination, problems, permissions."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.api.models import ApiToken
from helpdesk.api.tokens import create_token
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.extensions import limiter
from helpdesk.tickets import services
from helpdesk.tickets.attachments import Upload
from tests.factories import World, at, make_ticket
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


def bearer(user, **kwargs):
    _token, secret = create_token(user, "test", now=utcnow(), **kwargs)
    _db.session.flush()
    return {"Authorization": f"Bearer {secret}"}


def test_the_whole_flow_with_tokens(client, w):
    school, l1, l2 = bearer(w.user_a), bearer(w.l1), bearer(w.l2)
    created = client.post("/api/v1/tickets", headers=school, json={
        "school_code": w.school_a.code, "category": "HW-PRN", "subject": "Ο εκτυπωτής",
        "description": "Δεν τυπώνει καθόλου.", "priority": 3})
    assert created.status_code == 201, created.json
    ref = created.json["ref"]
    assert created.json["level"] == 1 and created.json["status"] == "new"
    listed = client.get("/api/v1/tickets", headers=l1, query_string={"q": "ΕΚΤΥΠΩΤΗΣ"})
    assert [t["ref"] for t in listed.json["items"]] == [ref]
    partial = client.get("/api/v1/tickets", headers=l1, query_string={"q": "εκτυπ"})
    assert [t["ref"] for t in partial.json["items"]] == [ref]  # a word typed in part
    assert client.post(f"/api/v1/tickets/{ref}/claim", headers=l1, json={}).json["assignee"] == w.l1.email
    note = client.post(f"/api/v1/tickets/{ref}/messages", headers=l1,
                       json={"body": "Εσωτερικό σχόλιο", "internal": True})
    assert note.status_code == 201 and note.json["is_internal"]
    up = client.post(f"/api/v1/tickets/{ref}/escalate", headers=l1, json={"reason": "Θέλει ΠΣΔ"})
    assert up.json["level"] == 2 and up.json["unit"] != created.json["unit"]
    events = client.get(f"/api/v1/tickets/{ref.replace('ΑΡ', 'AR')}/events", headers=l2).json["items"]
    assert any(e["kind"] == "escalate" and e["reason"] == "Θέλει ΠΣΔ" for e in events)
    school_messages = client.get(f"/api/v1/tickets/{ref}/messages", headers=school).json["items"]
    assert school_messages == []
    by_guide = client.post(f"/api/v1/tickets/{ref}/resolve", headers=l2,
                           json={"resolution": "GUIDE", "text": "Λύθηκε με τον οδηγό."})
    assert by_guide.status_code == 422 and "guide" in by_guide.get_data(as_text=True)
    assert client.get(f"/api/v1/tickets/{ref}", headers=l2).json["status"] != "resolved"
    done = client.post(f"/api/v1/tickets/{ref}/resolve", headers=l2,
                       json={"resolution": "REMOTE", "text": "Λύθηκε εξ αποστάσεως."})
    assert done.json["status"] == "resolved" and done.json["resolution"] == "REMOTE"


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer nope", "Bearer arogi_unknown"])
def test_bad_or_missing_tokens_get_401_problems(client, w, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/tickets", headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["status"] == 401 and response.json["title"]


def test_expired_revoked_and_deactivated_tokens_stop_at_once(client, w):
    expired = bearer(w.l1, expires_at=utcnow() + timedelta(seconds=1))
    token = _db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
    token.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/v1/tickets", headers=expired).status_code == 401
    active = bearer(w.l1)
    assert client.get("/api/v1/tickets", headers=active).status_code == 200
    w.l1.is_active_account = False
    assert client.get("/api/v1/tickets", headers=active).status_code == 401
    w.l1.is_active_account = True
    revoked = bearer(w.l2)
    _db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc())).revoked_at = utcnow()
    assert client.get("/api/v1/tickets", headers=revoked).status_code == 401


def test_read_only_token_cannot_write(client, w):
    ro = bearer(w.user_a, read_only=True)
    assert client.get("/api/v1/tickets", headers=ro).status_code == 200
    r = client.post("/api/v1/tickets", headers=ro, json={"school_code": w.school_a.code,
                    "category": "HW-PRN", "subject": "abc", "description": "abcdef"})
    assert r.status_code == 403


def test_greek_and_english_problem_titles(client, w):
    assert client.get("/api/v1/tickets", headers={"Accept-Language": "en"}).json["title"] == "Unauthorized"
    greek = client.get("/api/v1/tickets", headers={"Accept-Language": "el"}).json["title"]
    assert any("\u0370" <= ch <= "\u03ff" for ch in greek), greek


@pytest.mark.parametrize("body,field", [
    ({"school_code": "123", "category": "HW-PRN", "subject": "abc", "description": "abcdef"}, "school_code"),
    ({"school_code": "0000000", "category": "HW-PRN", "subject": "abc", "description": "abcdef"}, "school_code"),
    ({"category": "NOPE", "subject": "abc", "description": "abcdef"}, "category"),
    ({"category": "HW-PRN", "subject": "abc", "description": "abcdef", "status": "closed"}, "status"),
    ({"category": "HW-PRN", "subject": "", "description": "abcdef"}, "subject"),
])
def test_invalid_input_is_a_422_with_field_errors(client, w, body, field):
    body = {"school_code": w.school_a.code, **body}
    if field == "school_code" and body["school_code"] == w.school_a.code:
        body["school_code"] = "123"
    r = client.post("/api/v1/tickets", headers=bearer(w.user_a), json=body)
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert any(e["field"].startswith(field) for e in r.json["errors"]), r.json


def test_another_schools_ticket_school_and_events_are_404(client, w):
    t = make_ticket(w.user_b)
    headers = bearer(w.user_a)
    for url in (f"/api/v1/tickets/{t.ref}", f"/api/v1/tickets/{t.ref}/events",
                f"/api/v1/tickets/{t.ref}/messages", f"/api/v1/schools/{w.school_b.code}"):
        assert client.get(url, headers=headers).status_code == 404, url
    assert client.post(f"/api/v1/tickets/{t.ref}/reopen", headers=headers,
                       json={"reason": "θέλω να το ανοίξω"}).status_code == 404
    r = client.post("/api/v1/tickets", headers=headers, json={
        "school_code": w.school_b.code, "category": "HW-PRN", "subject": "abc", "description": "abcdef"})
    assert r.status_code == 403


@pytest.mark.parametrize("role,sees,works", [
    ("user_a", True, False), ("user_b", False, False), ("l1", True, True), ("l1_peer", True, True),
    ("l2", False, False), ("l1_far", False, False), ("manager", True, True), ("admin", True, True),
])
def test_api_authorization_matrix(client, w, role, sees, works):
    t = make_ticket(w.user_a, attachments=[Upload("a.png", b"\x89PNG\r\n\x1a\n00")])
    services.add_note(w.l1, t, "Μυστικό", now=at(1))
    user = getattr(w, role)
    headers = bearer(user)
    assert client.get(f"/api/v1/tickets/{t.ref}", headers=headers).status_code == (200 if sees else 404)
    listed = client.get("/api/v1/tickets", headers=headers).json["items"]
    assert (t.ref in [x["ref"] for x in listed]) == sees
    by_school = client.get("/api/v1/tickets", headers=headers, query_string={"school": w.school_a.code})
    assert (len(by_school.json["items"]) > 0) == sees
    if sees:
        messages = client.get(f"/api/v1/tickets/{t.ref}/messages", headers=headers).json["items"]
        assert any(m["body"] == "Μυστικό" for m in messages) == (role != "user_a")
    claim = client.post(f"/api/v1/tickets/{t.ref}/escalate", headers=headers, json={"reason": "Στο ΠΣΔ"})
    assert claim.status_code == (200 if works else 403 if sees else 404)


def test_filters_and_keyset_pagination(client, w):
    for i in range(7):
        make_ticket(w.user_a, subject=f"Αίτημα {i}", minutes=i)
    make_ticket(w.user_a, code="NET-LINE", subject="Γραμμή", minutes=30)
    headers = bearer(w.l1)
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/tickets", headers=headers,
                          query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}).json
        seen += [t["subject"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 8 and len(set(seen)) == 8 and seen[0] == "Γραμμή"
    net = client.get("/api/v1/tickets", headers=headers, query_string={"category": "NET"}).json["items"]
    assert [t["subject"] for t in net] == ["Γραμμή"]
    since = client.get("/api/v1/tickets", headers=headers,
                       query_string={"updated_since": at(6).isoformat()}).json["items"]
    assert {t["subject"] for t in since} == {"Αίτημα 6", "Γραμμή"}
    bad = client.get("/api/v1/tickets", headers=headers, query_string={"level": "7"})
    assert bad.status_code == 422
    assert client.get("/api/v1/tickets", headers=headers, query_string={"cursor": "1-x"}).status_code == 422


def test_rate_limit_per_token(client, w, app):
    headers = bearer(w.l1)
    app.config["API_RATE_LIMIT"] = "5 per minute"
    limiter.reset()
    try:
        codes = [client.get("/api/v1/units", headers=headers).status_code for _ in range(7)]
    finally:
        app.config["API_RATE_LIMIT"] = "600 per minute"
        limiter.reset()
    assert codes[:5] == [200] * 5 and codes[-1] == 429


def test_tokens_are_created_in_the_ui_shown_once_and_stored_hashed(client, w):
    login(client, w.l1)
    page = client.post("/account/tokens", data={"name": "σενάριο", "csrf_token": csrf_token(client, "/account/tokens")})
    html = page.get_data(as_text=True)
    import re

    secret = re.search(r"arogi_[A-Za-z0-9_-]{20,}", html).group(0)
    token = _db.session.scalar(select(ApiToken).where(ApiToken.user_id == w.l1.id))
    assert token.token_hash != secret and secret not in token.token_hash
    assert secret not in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/units", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert client.get("/api/v1/units", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_cli_creates_a_token(app, w):
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["token", "create", w.admin.email, "--read-only"])
    assert result.exit_code == 0 and result.output.startswith("arogi_")


def test_openapi_document_and_offline_docs(client, w):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert "/tickets/{ref}/escalate" in doc["paths"] and "TicketCreate" in doc["components"]["schemas"]
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/tickets/{ref}/events" in html and "<script" not in html


def test_equipment_through_the_api(client, w):
    school, l1, other = bearer(w.user_a), bearer(w.l1), bearer(w.user_b)
    created = client.post(f"/api/v1/schools/{w.school_a.code}/equipment", headers=school, json={
        "category": "PRINTER", "manufacturer": "HP", "model": "LaserJet M404",
        "serial_number": "PHB1234567", "registry_number": "ΑΠ-17", "location": "Γραφείο"})
    assert created.status_code == 201, created.json
    item = created.json
    assert client.get(f"/api/v1/equipment/{item['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/schools/{w.school_a.code}/equipment", headers=other).status_code == 404
    assert client.post(f"/api/v1/schools/{w.school_a.code}/equipment", headers=other,
                       json={"category": "PRINTER"}).status_code == 404
    listed = client.get(f"/api/v1/schools/{w.school_a.code}/equipment", headers=l1,
                        query_string={"q": "phb1234"}).json
    assert [i["id"] for i in listed["items"]] == [item["id"]]
    patched = client.patch(f"/api/v1/equipment/{item['id']}", headers=l1, json={"status": "faulty"})
    assert patched.status_code == 200 and patched.json["status"] == "faulty"
    duplicate = client.post(f"/api/v1/schools/{w.school_a.code}/equipment", headers=school, json={
        "category": "PRINTER", "manufacturer": "hp", "serial_number": "PHB1234567"})
    assert duplicate.status_code == 409 and "LaserJet M404" in duplicate.json["detail"]  # names the item
    t = make_ticket(w.user_a)
    from helpdesk.inventory.models import EquipmentItem
    from helpdesk.inventory.services import link_items

    link_items(w.l1, t, [_db.session.get(EquipmentItem, item["id"])], now=at(5))
    about = client.get(f"/api/v1/equipment/{item['id']}/tickets", headers=school).json["items"]
    assert [x["ref"] for x in about] == [t.ref]
    filtered = client.get("/api/v1/tickets", headers=l1, query_string={"equipment": item["id"]})
    assert [x["ref"] for x in filtered.json["items"]] == [t.ref]


def test_reports_and_census_status_through_the_api(client, w):
    make_ticket(w.user_a)
    assert client.get("/api/v1/reports/sla", headers=bearer(w.user_a)).status_code == 403
    report = client.get("/api/v1/reports/sla", headers=bearer(w.manager),
                        query_string={"group": "level", "from": "2026-01-01", "to": "2026-12-31"})
    assert report.status_code == 200 and report.json["columns"]
    assert client.get("/api/v1/reports/backlog", headers=bearer(w.admin)).status_code == 200
    assert client.get("/api/v1/reports/sla", headers=bearer(w.admin),
                      query_string={"from": "2026-02-30"}).status_code == 422
    from datetime import date

    from helpdesk.census.services import open_census

    census = open_census(w.admin, title="Απογραφή 2026", opens_on=date(2026, 11, 1),
                         deadline=date(2027, 1, 21), now=at(0))
    status = client.get(f"/api/v1/census/{census.id}/status", headers=bearer(w.admin)).json
    assert status["total"]["targeted"] >= 3 and status["total"]["missing"] == status["total"]["targeted"]
    assert client.get(f"/api/v1/census/{census.id}/status", headers=bearer(w.user_a)).status_code == 403
    assert client.get("/api/v1/census/999999/status", headers=bearer(w.admin)).status_code == 404
