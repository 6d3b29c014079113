"""Every route × every role: who gets 200, who 403, who 404, and lists that leak nothing.

The ticket under test belongs to school A (Δ.Δ.Ε. Δυτ. Θεσσαλονίκης) and was escalated
from A's level-1 unit to its level-2 partner: level 1 *was* there, level 2 *is* there,
level 3 never saw it, nor did the units of another region.
"""
import pytest
from sqlalchemy import select

from helpdesk.extensions import db as _db
from helpdesk.tickets import services
from helpdesk.tickets.attachments import Upload
from helpdesk.tickets.models import Attachment
from tests.factories import World, at, make_ticket, resolution
from tests.web import act, csrf_token, login

ROLES = ["anonymous", "school_a", "school_b", "l1", "l2", "l3", "l1_far", "l2_far",
         "manager", "admin"]
#: Who may see the ticket at all (everyone else gets 404 for it and its parts).
SEES = {"school_a", "l1", "l2", "manager", "admin"}
#: Who may work it now (at its current unit, level 2), besides seeing it.
WORKS = {"l2", "admin"}
SUBJECT = "Μοναδικό θέμα ελέγχου δικαιωμάτων"


class Scene:
    def __init__(self):
        w = World()
        self.w = w
        self.users = {"school_a": w.user_a, "school_b": w.user_b, "l1": w.l1, "l2": w.l2,
                      "l3": w.l3, "l1_far": w.l1_far, "l2_far": w.l2_far,
                      "manager": w.manager, "admin": w.admin}
        t = make_ticket(w.user_a, subject=SUBJECT,
                        attachments=[Upload("οθόνη.png", b"\x89PNG\r\n\x1a\nxx")])
        services.add_note(w.l1, t, "Εσωτερικό: ο διευθυντής είναι δύσκολος.", now=at(1),
                          attachments=[Upload("εσωτερικό.txt", b"internal")])
        services.escalate(w.l1, t, "Θέλει το ΠΣΔ.", now=at(2))
        self.other = make_ticket(w.user_b, subject="Θέμα του σχολείου Β")
        _db.session.commit()
        self.ticket = t
        self.public_file, self.internal_file = _db.session.scalars(
            select(Attachment).where(Attachment.ticket_id == t.id).order_by(Attachment.id)).all()


@pytest.fixture
def scene(db):
    return Scene()


def as_role(client, scene, role):
    if role != "anonymous":
        login(client, scene.users[role])


@pytest.mark.parametrize("role", ROLES)
def test_ticket_page(client, scene, role):
    as_role(client, scene, role)
    response = client.get(f"/tickets/{scene.ticket.ref}")
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == (200 if role in SEES else 404)
    if response.status_code == 200:
        html = response.get_data(as_text=True)
        assert ("Εσωτερικό: ο διευθυντής" in html) == (role != "school_a")
        # the escalation reason is staff text; the move itself is everyone's
        assert ("Θέλει το ΠΣΔ." in html) == (role != "school_a")
        assert 'class="entry event ev-escalate"' in html


@pytest.mark.parametrize("role", ROLES)
def test_ticket_events_and_messages_in_the_api(client, scene, role):
    from tests.test_api import bearer

    if role == "anonymous":
        assert client.get(f"/api/v1/tickets/{scene.ticket.ref}/events").status_code == 401
        return
    for part in ("events", "messages"):
        response = client.get(f"/api/v1/tickets/{scene.ticket.ref}/{part}",
                              headers=bearer(scene.users[role]))
        assert response.status_code == (200 if role in SEES else 404)
        if response.status_code == 200:
            text = response.get_data(as_text=True)
            assert ("Θέλει το ΠΣΔ." in text) == (role != "school_a" and part == "events")
            assert ("Εσωτερικό: ο διευθυντής" in text) == (role != "school_a"
                                                           and part == "messages")


@pytest.mark.parametrize("role", ROLES)
def test_latin_reference_and_unknown_reference(client, scene, role):
    as_role(client, scene, role)
    latin = scene.ticket.ref.replace("ΑΡ", "AR")
    expected = 302 if role == "anonymous" else 200 if role in SEES else 404
    assert client.get(f"/tickets/{latin}").status_code == expected
    if role != "anonymous":
        assert client.get("/tickets/ΑΡ-2026-999999").status_code == 404
        assert client.get("/tickets/garbage").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_attachments(client, scene, role):
    as_role(client, scene, role)
    public = client.get(f"/attachments/{scene.public_file.id}").status_code
    internal = client.get(f"/attachments/{scene.internal_file.id}").status_code
    if role == "anonymous":
        assert (public, internal) == (302, 302)
    elif role not in SEES:
        assert (public, internal) == (404, 404)
    elif role == "school_a":
        assert (public, internal) == (200, 404)
    else:
        assert (public, internal) == (200, 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action,fields", [
    ("claim", {}),
    ("priority", {"priority": "4"}),
    ("escalate", {"reason": "Στο τρίτο επίπεδο"}),
    ("return", {"instructions": "Επιτόπια επίσκεψη"}),
    ("note", {"body": "Σημείωση"}),
])
def test_staff_actions(client, scene, role, action, fields):
    as_role(client, scene, role)
    if role == "anonymous":
        response = client.post(f"/tickets/{scene.ticket.ref}/{action}")
        assert response.status_code in (302, 400)
        return
    response = act(client, scene.ticket.ref, action, **fields) if role in SEES else \
        client.post(f"/tickets/{scene.ticket.ref}/{action}",
                    data={f"{action}-csrf_token": csrf_token(client, "/tickets"), **fields})
    works = WORKS - {"admin"} if action == "claim" else WORKS  # only staff take tickets
    if role not in SEES:
        assert response.status_code == 404
    elif role in works:
        assert response.status_code == 302
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_reply_and_resolve(client, scene, role):
    as_role(client, scene, role)
    if role == "anonymous" or role not in SEES:
        return
    reply = act(client, scene.ticket.ref, "reply", body="Απάντηση")
    assert reply.status_code == (302 if role in WORKS | {"school_a"} else 403)
    types = resolution()
    resolved = act(client, scene.ticket.ref, "resolve", resolution_type=str(types.id),
                   text="Επιλύθηκε εξ αποστάσεως")
    assert resolved.status_code == (302 if role in WORKS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_lists_searches_and_counts_leak_nothing(client, scene, role):
    as_role(client, scene, role)
    if role == "anonymous":
        assert client.get("/tickets").status_code == 302
        return
    for queue in ("all", "open", "unassigned", "mine", "waiting", "escalated"):
        html = client.get("/tickets", query_string={"queue": queue}).get_data(as_text=True)
        found = client.get("/tickets", query_string={"queue": queue, "q": "μοναδικο θεμα"})
        if role not in SEES:
            assert SUBJECT not in html and SUBJECT not in found.get_data(as_text=True)
        if role.startswith("school"):
            # a school has only "open" and "all"; any other queue name falls back to "open"
            assert ("Θέμα του σχολείου Β" in html) == (role == "school_b")
    everything = client.get("/tickets?queue=all").get_data(as_text=True)
    assert (SUBJECT in everything) == (role in SEES)
    by_school = client.get("/tickets", query_string={"queue": "all", "school": scene.w.school_a.code})
    assert (SUBJECT in by_school.get_data(as_text=True)) == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("cas_on", [False, True])
def test_psd_sign_in_routes(client, scene, role, cas_on, app, monkeypatch):
    """/login/cas and its callback (issue 14): off, they are 404 for everyone; on (here with
    an unreachable CAS server), a visitor gets the clear 503 page and a signed-in user goes
    home. The single log-out POST answers 200 to anyone and ends no session it does not name."""
    monkeypatch.setitem(app.config, "CAS_ENABLED", cas_on)
    monkeypatch.setitem(app.config, "CAS_ALLOW_HTTP", True)
    monkeypatch.setitem(app.config, "CAS_SERVER_URL", "http://127.0.0.1:9/cas/")
    monkeypatch.setitem(app.config, "CAS_SERVICE_URL", "http://arogi.test/login/cas/callback")
    as_role(client, scene, role)
    start = client.get("/login/cas")
    forged = client.get("/login/cas/callback?ticket=ST-forged")
    if not cas_on:
        assert (start.status_code, forged.status_code) == (404, 404)
    elif role == "anonymous":
        assert start.status_code == 503 and 'data-reason="unavailable"' in start.get_data(as_text=True)
        assert forged.status_code == 503
    else:
        assert start.status_code == 302 and "/login" not in start.headers["Location"]
    assert client.post("/login/cas/callback", data={"logoutRequest": "<x/>"}).status_code == 200
    if role != "anonymous":
        assert client.get("/account").status_code == 200  # still signed in


@pytest.mark.parametrize("role", ROLES)
def test_other_pages(client, scene, role):
    as_role(client, scene, role)
    new = client.get("/tickets/new").status_code
    account = client.get("/account").status_code
    if role == "anonymous":
        assert (new, account) == (302, 302)
        assert client.get("/login").status_code == 200
    else:
        assert new == (200 if role.startswith("school") else 403)
        assert account == 200
        assert client.get("/").status_code == 302
