"""Fuzz the web pages' query strings and forms the way Schemathesis fuzzes the API: as a
school, a technician, a manager and an administrator, odd values (NUL and other control
characters, huge and negative numbers, far dates, long and non-Latin text) never meet a
server error. Hypothesis draws the values; the whole file stays within ~40 s."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.extensions import db as _db
from tests.factories import World, make_ticket
from tests.web import csrf_token, login

#: Odd values that have broken such pages before, and generated ones around them.
SPECIAL = ["", " ", "0", "-1", "99999999999999999999", "-99999999999999999999",
           "9223372036854775807", "9223372036854775808", "²", "١٢", "1e309", "NaN", "none",
           "9999-12-31", "0001-01-01", "2026-02-30", "9999-12-31T23:59:59Z", "a\x00b", "\x00",
           "ΑΡ-2026-000001", "%", "'", '"', "<script>", "../..", "\ud7ff", "☃" * 300]
VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(SPECIAL),  # twice: the known-odd values are drawn as often as the rest
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
)
_COMMON = dict(deadline=None, database=None, derandomize=True,
               suppress_health_check=list(HealthCheck))
GET_SETTINGS = settings(max_examples=150, **_COMMON)
POST_SETTINGS = settings(max_examples=120, **_COMMON)

#: Main pages with the query parameters they read.
GET_PAGES = {
    "/tickets": ["queue", "status", "priority", "category", "school", "directorate", "level",
                 "assignee", "q", "sort", "order", "page"],
    "/equipment": ["category", "status", "location", "q", "page"],
    "/census": ["region", "directorate", "page"],
    "/reports/compliance": ["from", "to", "group", "step", "level", "unit", "region",
                            "directorate", "category", "priority"],
    "/reports/health": ["from", "to", "group", "level", "unit", "category", "priority"],
    "/reports/backlog": ["from", "to", "step", "level", "unit", "region", "directorate"],
    "/reports/compliance.csv": ["from", "to", "group", "unit", "priority"],
    "/reports/trend.xlsx": ["from", "to", "step", "level"],
    "/admin/mail/": ["status", "q", "page"],
    "/census/verify": ["code", "census", "school"],
    "/kb": ["q", "category"],
}
ROLES = ["user_a", "l1", "manager", "admin"]


@pytest.fixture
def w(db):
    return World()


@pytest.mark.parametrize("role", ROLES)
def test_query_strings_never_meet_a_server_error(client, w, role):
    login(client, getattr(w, role))
    t = make_ticket(w.user_a)
    _db.session.commit()
    pages = {**GET_PAGES, f"/tickets/{t.ref}": ["lang", "page"]}

    @GET_SETTINGS
    @given(data=st.data())
    def run(data):
        page = data.draw(st.sampled_from(sorted(pages)))
        params = data.draw(st.dictionaries(st.sampled_from(pages[page]), VALUES, min_size=1,
                                           max_size=3))
        answer = client.get(page, query_string=params)
        assert answer.status_code < 500, (page, params)

    run()


def _forms(w, role) -> dict[str, dict[str, str]]:
    """The forms a role posts: address → a valid submission, whose fields the fuzzer
    replaces a few at a time (so the odd values reach the services, not only the form)."""
    from sqlalchemy import select

    from helpdesk.inventory.models import EquipmentCategory
    from tests.factories import category, resolution, unit_at

    if role == "user_a":
        kind = _db.session.scalar(select(EquipmentCategory.id).limit(1))
        return {
            "/tickets/new": {"category": str(category("HW-PRN").id), "priority": "2",
                             "subject": "Ο εκτυπωτής δεν τυπώνει",
                             "description": "Το χαρτί μπλοκάρει.", "equipment_category": "0",
                             "equipment_description": ""},
            f"/tickets/{make_ticket(w.user_a).ref}/reply": {"reply-body": "Ευχαριστούμε"},
            f"/equipment/school/{w.school_a.code}/new": {
                "category": str(kind), "manufacturer": "HP", "model": "LaserJet",
                "serial_number": "CN123", "registry_number": "42", "location": "ΣΕΠΕΗΥ",
                "acquisition_date": "2020-09-01", "funding_programme": "", "status": "in_use",
                "notes": ""},
        }
    if role == "admin":
        unit = str(unit_at(w.school_a, 1).id)
        return {
            "/admin/sla/closures": {"day": "2026-12-24", "unit_id": "", "description": "Αργία"},
            "/admin/sla/hours": {"weekday": "0", "start_time": "08:00", "end_time": "15:00",
                                 "unit_id": unit},
            "/admin/sla/policies/2": {"first_response_minutes": "4", "resolution_minutes": "40",
                                      "level1_minutes": "8", "warn_percent": "80",
                                      "action": "escalate"},
            "/admin/sla/overrides/new": {"priority": "2", "category_id": "", "unit_id": unit,
                                         "resolution_minutes": "10", "warn_percent": "75"},
            "/census/new": {"title": "Απογραφή", "opens_on": "2026-01-10",
                            "deadline": "2026-02-10", "reminder_days": "7, 1", "edu_level": ""},
            "/admin/webhooks": {"url": "https://hooks.example.org/x", "events": "ticket.created"},
            "/account/tokens": {"name": "σενάριο", "expires_days": "30"},
            "/kb/new": {"title": "Ο εκτυπωτής", "summary": "Χαρτί.", "body": "# Βήματα",
                        "category": str(category("HW-PRN").id), "audience": "schools",
                        "status": "published", "owner_unit": unit, "note": ""},
        }
    valid = {"reply": {"body": "Δοκιμάστε ξανά"}, "note": {"body": "Σημείωση"},
             "assign": {"assignee": str(w.l1.id)}, "priority": {"priority": "3"},
             "escalate": {"reason": "Χρειάζεται ΠΣΔ"}, "return": {"instructions": "Επί τόπου"},
             "resolve": {"resolution_type": str(resolution().id), "text": "Λύθηκε εξ αποστάσεως"}}
    # A ticket per action: one escalated or resolved by the fuzzer leaves the others workable.
    forms = {f"/tickets/{make_ticket(w.user_a).ref}/{action}":
             {f"{action}-{k}": v for k, v in fields.items()} for action, fields in valid.items()}
    forms[f"/tickets/{make_ticket(w.user_a).ref}/equipment"] = {"item": "1", "q": "εκτυπωτής"}
    return forms


@pytest.mark.parametrize("role", ROLES)
def test_forms_never_meet_a_server_error(client, w, role, monkeypatch):
    from helpdesk.api import webhooks

    monkeypatch.setattr(webhooks, "resolve", lambda host: [])  # no DNS from the fuzzer
    login(client, getattr(w, role))
    forms = _forms(w, role)
    _db.session.commit()
    token = csrf_token(client, "/tickets")

    @POST_SETTINGS
    @given(data=st.data())
    def run(data):
        url = data.draw(st.sampled_from(sorted(forms)))
        fields = {**forms[url], **data.draw(
            st.dictionaries(st.sampled_from(sorted(forms[url])), VALUES, max_size=3))}
        answer = client.post(url, data={**fields, "csrf_token": token, "reply-csrf_token": token,
                                        **{f"{a}-csrf_token": token for a in (
                                            "note", "assign", "priority", "escalate", "return",
                                            "resolve")}})
        assert answer.status_code < 500, (url, fields)

    run()
