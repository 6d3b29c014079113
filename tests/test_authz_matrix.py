"""Every route × every role: who gets 200, who 403, who 404, and lists that leak nothing.

The ticket under test belongs to school A (Δ.Δ.Ε. Δυτ. Θεσσαλονίκης) and was escalated
from A's level-1 unit to its level-2 partner: level 1 *was* there, level 2 *is* there,
level 3 never saw it, nor did the units of another region.
"""
import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db as _db
from helpdesk.kb.models import KbArticle
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


# --- issue 14: password reset, people, organisation -------------------------------------------

#: Who has the people pages, and whom they may change there (scene: l1 and the manager share
#: school A's level-1 unit; school_b's account is a school user of school B).
PEOPLE = {"school_a", "school_b", "manager", "admin"}
ORGANISATION = {"manager", "admin"}


def _token(client, role):
    return csrf_token(client, "/login" if role == "anonymous" else "/tickets")


@pytest.mark.parametrize("role", ROLES)
def test_password_reset_pages_are_open_to_everyone(client, scene, role):
    as_role(client, scene, role)
    assert client.get("/password/forgot").status_code == 200
    assert client.get("/password/reset/not-a-token").status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/admin/people", "/admin/people/new", "/admin/organisation"])
def test_people_and_organisation_pages(client, scene, role, path):
    as_role(client, scene, role)
    response = client.get(path)
    allowed = ORGANISATION if "organisation" in path else PEOPLE
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == (200 if role in allowed else 404)


@pytest.mark.parametrize("role", ROLES)
def test_a_persons_page_and_who_may_change_them(client, scene, role):
    """l1 is seen and changed by administrators and the manager of l1's unit; school B's
    user by administrators and school B's account; nobody else finds either."""
    as_role(client, scene, role)
    l1, school_b = scene.users["l1"], scene.users["school_b"]
    pages = {who: client.get(f"/admin/people/{u.id}").status_code
             for who, u in (("l1", l1), ("school_b", school_b))}
    if role == "anonymous":
        assert set(pages.values()) == {302}
        return
    assert pages["l1"] == (200 if role in {"manager", "admin"} else 404)
    # a school account's own page: seen, but not its own deactivation
    assert pages["school_b"] == (200 if role in {"school_b", "admin"} else 404)
    token = _token(client, role)
    answer = client.post(f"/admin/people/{l1.id}/deactivate", data={"csrf_token": token})
    assert answer.status_code == (302 if role in {"manager", "admin"} else 404)
    _db.session.refresh(l1)
    assert l1.is_active_account == (role not in {"manager", "admin"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["reactivate", "memberships", "memberships/remove"])
def test_membership_and_reactivation_posts(client, scene, role, action):
    as_role(client, scene, role)
    l1 = scene.users["l1"]
    unit = l1.memberships[0].unit_id
    url = {"reactivate": f"/admin/people/{l1.id}/reactivate",
           "memberships": f"/admin/people/{l1.id}/memberships",
           "memberships/remove": f"/admin/people/{l1.id}/memberships/{unit}/remove"}[action]
    response = client.post(url, data={"csrf_token": _token(client, role), "unit": str(unit)})
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == (302 if role in {"manager", "admin"} else 404)


@pytest.mark.parametrize("role", ROLES)
def test_partner_change_posts(client, scene, role):
    from helpdesk.org.models import SupportUnit
    from tests.factories import unit_at

    as_role(client, scene, role)
    school = scene.w.school_a
    old = unit_at(school, 2)
    new = _db.session.scalar(select(SupportUnit).where(SupportUnit.level == 2,
                                                       SupportUnit.id != old.id))
    data = {"directorate": school.directorate_id, "unit": new.id, "current": str(old.id),
            "csrf_token": _token(client, role)}
    preview = client.post("/admin/organisation/partner/preview", data=data)
    applied = client.post("/admin/organisation/partner/apply", data=data)
    if role == "anonymous":
        assert {preview.status_code, applied.status_code} == {302}
        return
    expected = {"admin": (200, 302), "manager": (403, 403)}.get(role, (404, 404))
    assert (preview.status_code, applied.status_code) == expected


@pytest.mark.parametrize("role", ["manager", "school_a", "admin"])
def test_creating_a_person_is_bounded_by_what_the_creator_holds(client, scene, role):
    """Through the web: a manager cannot make an administrator, a school cannot make a
    technician; an administrator can."""
    from helpdesk.accounts.models import User
    from tests.factories import unit_at

    login(client, scene.users[role])
    token = csrf_token(client, "/admin/people/new")
    made = {}
    for wanted in ("admin", "technician"):
        email = f"new-{role}-{wanted}@sch.gr"
        client.post("/admin/people/new", data={
            "csrf_token": token, "name": "Νέο Πρόσωπο", "email": email, "role": wanted,
            "unit": str(unit_at(scene.w.school_a, 1).id), "locale": "el"})
        made[wanted] = _db.session.scalar(select(User.id).where(User.email == email)) is not None
    assert made == {"admin": role == "admin", "technician": role in {"admin", "manager"}}


# --- the grant rules and the last administrator, exhaustively ---------------------------------

def _actor(role, units=frozenset(), managed=frozenset(), school_id=None):
    from types import SimpleNamespace

    return SimpleNamespace(id=99, is_authenticated=True, is_active=True, role=role,
                           is_admin=role == "admin", is_school=role == "school",
                           is_staff=role in ("technician", "manager"),
                           unit_ids=frozenset(units) | frozenset(managed),
                           managed_unit_ids=frozenset(managed), school_id=school_id)


def test_may_grant_never_more_than_held():
    from itertools import product

    from helpdesk.permissions import may_grant

    roles = ("school", "technician", "manager", "admin")
    unit_sets = [frozenset(s) for s in ([], [1], [2], [1, 2])]
    actors = [_actor("admin"), _actor("technician", units={1}), _actor("school", school_id=7),
              _actor("manager", units={2}, managed={1}), _actor("manager", managed={1, 2})]
    for actor, role, units, managed, school in product(actors, roles, unit_sets, unit_sets,
                                                       (None, 7, 8)):
        grant = {u: u in managed for u in units | managed}
        answer = may_grant(actor, role=role, school_id=school, units=grant)
        if actor.role == "admin":
            expected = True
        elif actor.role == "manager":
            expected = (role in ("technician", "manager") and set(grant) <= actor.unit_ids
                        and {u for u, f in grant.items() if f} <= actor.managed_unit_ids)
        elif actor.role == "school":
            expected = role == "school" and not grant and school == 7
        else:
            expected = False
        assert answer == expected, (actor.role, role, grant, school)


def test_the_last_active_administrator_rule():
    from itertools import product
    from types import SimpleNamespace

    from helpdesk.permissions import keeps_an_administrator

    for role, active, to_admin, to_active, others in product(
            ("admin", "technician"), (True, False), (True, False), (True, False), (0, 1, 2)):
        person = SimpleNamespace(role=role, is_active_account=active)
        answer = keeps_an_administrator(person, becomes_admin=to_admin, becomes_active=to_active,
                                        other_active_admins=others)
        last = role == "admin" and active and others == 0
        assert answer == (not last or (to_admin and to_active)), (role, active, to_admin,
                                                                  to_active, others)


def test_the_last_administrator_through_the_web(client, scene):
    """The scene's administrator may not be deactivated by another administrator once they
    are the only active one left, nor demote themselves."""
    from helpdesk.accounts import services as accounts
    from helpdesk.accounts.models import Role, User
    from helpdesk.accounts.people import services as people_services
    from tests.factories import PASSWORD, T0

    admin = scene.users["admin"]
    second = people_services.create_person(admin, email="second-admin@sch.gr", name="Δεύτερος",
                                    role="admin", now=T0)
    accounts.set_password(second, PASSWORD)
    for other in _db.session.scalars(select(User).where(User.role == Role.ADMIN,
                                                         User.id.not_in([admin.id, second.id]))):
        other.is_active_account = False
    _db.session.commit()
    login(client, second)
    token = csrf_token(client, f"/admin/people/{admin.id}")
    assert client.post(f"/admin/people/{admin.id}/deactivate",
                       data={"csrf_token": token}).status_code == 302
    _db.session.refresh(admin)
    assert not admin.is_active_account
    html = client.post(f"/admin/people/{second.id}", follow_redirects=True, data={
        "csrf_token": token, "name": second.name, "email": second.email, "role": "school",
        "school_code": scene.w.school_a.code, "locale": "el"}).get_data(as_text=True)
    assert "τελευταίος ενεργός διαχειριστής" in html
    _db.session.refresh(second)
    assert second.role == Role.ADMIN and second.is_active_account


# --- filing on behalf of a school, re-categorising (issue 14) -------------------------------------

#: Who files for school A (whose chain has their unit at its level), besides administrators.
FILES_FOR_A = {"l1", "l2", "l3", "manager", "admin"}


@pytest.mark.parametrize("role", ROLES)
def test_filing_for_a_school(client, scene, role):
    from sqlalchemy import func

    from helpdesk.tickets.models import Ticket
    from tests.factories import category

    as_role(client, scene, role)
    code = scene.w.school_a.code
    pages = [client.get("/tickets/new/school", query_string={"q": "γυμνασιο δοκιμης"}),
             client.get("/tickets/new/school/lookup", query_string={"q": code}),
             client.get(f"/tickets/new/school/{code}")]
    if role == "anonymous":
        assert [p.status_code for p in pages] == [302, 302, 302]
        return
    if role.startswith("school"):
        assert [p.status_code for p in pages] == [403, 403, 403]
        return
    search, lookup, form = pages
    assert search.status_code == lookup.status_code == 200
    assert (f"/tickets/new/school/{code}" in search.get_data(as_text=True)) == (role in FILES_FOR_A)
    assert [s["code"] for s in lookup.json["items"]] == ([code] if role in FILES_FOR_A else [])
    assert form.status_code == (200 if role in FILES_FOR_A else 404)
    before = _db.session.scalar(select(func.count(Ticket.id)))
    token = csrf_token(client, "/tickets/new/school")
    filed = client.post(f"/tickets/new/school/{code}", data={
        "csrf_token": token, "category": str(category("HW-PRN").id), "subject": "Τηλεφώνημα",
        "description": "Τηλεφώνησε ο διευθυντής.", "priority": "2", "channel": "phone"})
    after = _db.session.scalar(select(func.count(Ticket.id)))
    assert filed.status_code == (302 if role in FILES_FOR_A else 404)
    assert after - before == (1 if role in FILES_FOR_A else 0)


@pytest.mark.parametrize("role", ROLES)
def test_filing_for_a_school_in_the_api(client, scene, role):
    from tests.test_api import bearer

    body = {"school_code": scene.w.school_a.code, "category": "HW-PRN", "subject": "Τηλεφώνημα",
            "description": "Τηλεφώνησε ο διευθυντής.", "channel": "phone"}
    if role == "anonymous":
        assert client.post("/api/v1/tickets", json=body).status_code == 401
        return
    response = client.post("/api/v1/tickets", json=body, headers=bearer(scene.users[role]))
    # the school itself files as "api": the phone is for staff (422 on the channel)
    expected = 201 if role in FILES_FOR_A else 422 if role == "school_a" else 403
    assert response.status_code == expected, response.json


@pytest.mark.parametrize("role", ROLES)
def test_recategorising(client, scene, role):
    from tests.factories import category

    as_role(client, scene, role)
    new = str(category("HW-PC").id)
    if role == "anonymous":
        assert client.post(f"/tickets/{scene.ticket.ref}/category").status_code in (302, 400)
        return
    response = act(client, scene.ticket.ref, "category", category=new) if role in SEES else \
        client.post(f"/tickets/{scene.ticket.ref}/category",
                    data={"category-csrf_token": csrf_token(client, "/tickets"),
                          "category-category": new})
    assert response.status_code == (404 if role not in SEES else 302 if role in WORKS else 403)
    if role in SEES:  # the form is on the page of those who may use it only
        page = client.get(f"/tickets/{scene.ticket.ref}").get_data(as_text=True)
        assert ('name="category-category"' in page) == (role in WORKS)


@pytest.mark.parametrize("role", ROLES)
def test_recategorising_in_the_api(client, scene, role):
    from tests.test_api import bearer

    url = f"/api/v1/tickets/{scene.ticket.ref}/category"
    if role == "anonymous":
        assert client.post(url, json={"category": "HW-PC"}).status_code == 401
        return
    response = client.post(url, json={"category": "HW-PC"}, headers=bearer(scene.users[role]))
    assert response.status_code == (404 if role not in SEES else 200 if role in WORKS else 403)


# --- issue 15: known outages (incidents) ---------------------------------------------------------

#: Staff of any unit and administrators manage outages; schools and strangers do not.
STAFF = {"l1", "l2", "l3", "l1_far", "l2_far", "manager", "admin"}
#: Who may update an outage of school A's directorate: everyone of STAFF but the level-1
#: technician of another directorate.
UPDATES_A = STAFF - {"l1_far"}
#: Schools of the outage's scope (A and B share a directorate).
IN_SCOPE = {"school_a", "school_b"}


def _outage(scene):
    from helpdesk.incidents import services as incident_services
    from tests.factories import category

    incident = incident_services.open_incident(
        scene.w.admin, title="Πτώση δικτύου Θεσσαλονίκης", body="Διερευνούμε τη βλάβη.",
        scope_kind="directorates", scope_ids=[scene.w.school_a.directorate_id],
        category=category("HW-PRN"), now=at(3))
    _db.session.commit()
    return incident


@pytest.mark.parametrize("role", ROLES)
def test_outage_pages(client, scene, role):
    incident = _outage(scene)
    as_role(client, scene, role)
    public = client.get("/incidents"), client.get(f"/incidents/{incident.id}")
    assert [r.status_code for r in public] == [200, 200]  # public: no log-in
    assert ('name="affected"' in public[1].get_data(as_text=True)) == (role in IN_SCOPE)
    assert ("Post the update" in public[1].get_data(as_text=True)
            or "Δημοσίευση ενημέρωσης" in public[1].get_data(as_text=True)) == (role in UPDATES_A)
    for path in ("/incidents/manage", "/incidents/new", "/reports/incidents"):
        response = client.get(path)
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == (200 if role in STAFF else 404), path


@pytest.mark.parametrize("role", ROLES)
def test_outage_updates(client, scene, role):
    from helpdesk.incidents.models import IncidentUpdate

    incident = _outage(scene)
    as_role(client, scene, role)
    before = _db.session.scalar(select(func.count(IncidentUpdate.id)))
    response = client.post(f"/incidents/{incident.id}/update", data={
        "csrf_token": _token(client, role), "body": "Νέα ενημέρωση ελέγχου.", "status": "identified"})
    after = _db.session.scalar(select(func.count(IncidentUpdate.id)))
    if role == "anonymous":
        assert response.status_code in (302, 400)
    else:
        expected = 302 if role in UPDATES_A else 403 if role in STAFF else 404
        assert response.status_code == expected
    assert after - before == (1 if role in UPDATES_A else 0)


@pytest.mark.parametrize("role", ROLES)
def test_outage_links(client, scene, role):
    """Linking a ticket needs working it (level 2 or an administrator); unlinking too, or
    updating the outage; a school links only itself ("we are affected too")."""
    from helpdesk.incidents import queries as incident_queries

    incident = _outage(scene)
    as_role(client, scene, role)
    token = _token(client, role)
    urls = {
        "refs": (f"/incidents/{incident.id}/link", {"refs": scene.ticket.ref}),
        "page": (f"/tickets/{scene.ticket.ref}/incident", {"incident": str(incident.id)}),
        "queue": ("/incidents/link-selected", {"incident": str(incident.id),
                                               "ticket": str(scene.ticket.id)}),
    }
    for name, (url, data) in urls.items():
        response = client.post(url, data={"csrf_token": token, **data})
        linked = incident_queries.incident_of_ticket(scene.ticket.id) is not None
        if role == "anonymous":
            assert response.status_code in (302, 400)
        elif name == "page" and role not in SEES:
            assert response.status_code == 404
        elif name == "page" and role in STAFF:
            assert response.status_code == (302 if role in WORKS else 403)
        else:
            assert response.status_code == (302 if role in STAFF else 404), (name, role)
        assert linked == (role in WORKS), (name, role)
        if linked:  # undo, so that the next door is tried from the start
            response = client.post(f"/incidents/{incident.id}/unlink",
                                   data={"csrf_token": token, "ref": scene.ticket.ref})
            assert response.status_code == 302
            assert incident_queries.incident_of_ticket(scene.ticket.id) is None
    if role in STAFF and role not in WORKS:  # someone else's link: only if they update it
        from helpdesk.core.types import utcnow
        from helpdesk.incidents import services as incident_services

        incident_services.link(scene.w.l2, incident, [scene.ticket], now=utcnow())
        _db.session.commit()
        response = client.post(f"/incidents/{incident.id}/unlink",
                               data={"csrf_token": token, "ref": scene.ticket.ref})
        may = role in UPDATES_A and role in SEES
        assert response.status_code == (302 if may else 404 if role not in SEES else 403)


@pytest.mark.parametrize("role", ROLES)
def test_outage_affected(client, scene, role):
    from helpdesk.incidents.models import IncidentLink

    incident = _outage(scene)
    as_role(client, scene, role)
    response = client.post(f"/incidents/{incident.id}/affected",
                           data={"csrf_token": _token(client, role), "ticket": ""})
    links = _db.session.scalar(select(func.count(IncidentLink.id)))
    if role == "anonymous":
        assert response.status_code in (302, 400)
    else:
        assert response.status_code == (302 if role in IN_SCOPE else 403)
    assert links == (1 if role in IN_SCOPE else 0)


@pytest.mark.parametrize("role", ROLES)
def test_outages_in_the_api(client, scene, role):
    from tests.test_api import bearer

    incident = _outage(scene)
    if role == "anonymous":
        assert client.get("/api/v1/incidents").status_code == 401
        return
    headers = bearer(scene.users[role])
    assert client.get("/api/v1/incidents", headers=headers).status_code == 200
    assert client.get(f"/api/v1/incidents/{incident.id}", headers=headers).status_code == 200


# --- the library of guides (/kb) ----------------------------------------------------------

#: Who writes shared articles: level-2/3 staff, managers, administrators.
KB_AUTHORS = {"l2", "l3", "l2_far", "manager", "admin"}
#: Who edits the article kept by school A's level-1 unit: its people and administrators.
KB_UNIT_PEOPLE = {"l1", "manager", "admin"}
KB_STAFF = {"l1", "l2", "l3", "l1_far", "l2_far", "manager", "admin"}
KB_SCHOOLS = {"school_a", "school_b"}


@pytest.fixture
def kb(scene):
    from helpdesk.kb import services as kb_services
    from helpdesk.kb.services import ArticleInput
    from tests.factories import category, unit_at

    w = scene.w

    def make(title, audience, status="published", owner=None):
        return kb_services.create_article(w.admin, ArticleInput(
            title=title, body="Κείμενο.", category_id=category("HW-PRN").id, audience=audience,
            status=status, owner_unit_id=owner), now=at(0))

    articles = {"public": make("Δημόσιο", "public"), "schools": make("Σχολείων", "schools"),
                "staff": make("Προσωπικού", "staff"),
                "draft": make("Πρόχειρο", "public", status="draft"),
                "unit": make("Της ΠΛΗΝΕΤ", "staff", owner=unit_at(w.school_a, 1).id)}
    [pdf] = kb_services.add_files(w.admin, articles["schools"], [Upload("οδηγός.pdf", b"%PDF-1")],
                                  now=at(1))
    _db.session.commit()
    return {k: a.slug for k, a in articles.items()}, pdf.id


def _kb_readers(kind: str) -> set[str]:
    return {"public": set(ROLES), "schools": KB_SCHOOLS | KB_STAFF, "staff": KB_STAFF,
            "draft": KB_AUTHORS, "unit": KB_STAFF}[kind]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["public", "schools", "staff", "draft", "unit"])
@pytest.mark.parametrize("page", ["", "/history", "/v/1"])
def test_kb_reading(client, scene, kb, role, kind, page):
    slugs, _ = kb
    as_role(client, scene, role)
    response = client.get(f"/kb/{slugs[kind]}{page}")
    assert response.status_code == (200 if role in _kb_readers(kind) else 404)


@pytest.mark.parametrize("role", ROLES)
def test_kb_browse_search_and_files(client, scene, kb, role):
    slugs, pdf_id = kb
    as_role(client, scene, role)
    for url in ("/kb", "/kb?q=Κείμενο"):
        html = client.get(url).get_data(as_text=True)
        for kind, slug in slugs.items():
            # drafts are not found by search, but listed for their authors on both pages
            shown = role in _kb_readers(kind)
            assert (f'href="/kb/{slug}"' in html) == shown, (url, kind)
    response = client.get(f"/kb/{slugs['schools']}/files/{pdf_id}")
    assert response.status_code == (200 if role in _kb_readers("schools") else 404)
    assert client.get(f"/kb/{slugs['public']}/files/{pdf_id}").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_kb_writing(client, scene, kb, role):
    slugs, _ = kb
    as_role(client, scene, role)
    if role == "anonymous":
        for url in ("/kb/new", f"/kb/{slugs['public']}/edit", f"/kb/{slugs['unit']}/edit"):
            assert client.get(url).status_code == 302
            assert client.post(url).status_code in (302, 400)
        return
    assert client.get("/kb/new").status_code == (200 if role in KB_AUTHORS else 403)
    assert client.get(f"/kb/{slugs['public']}/edit").status_code == (
        200 if role in KB_AUTHORS else 403)
    assert client.get(f"/kb/{slugs['unit']}/edit").status_code == (
        200 if role in KB_UNIT_PEOPLE else 403 if role in KB_STAFF else 404)
    token = csrf_token(client, "/kb")
    data = {"csrf_token": token, "title": "Νέος τίτλος", "body": "Νέο κείμενο.",
            "audience": "staff", "status": "published", "owner_unit": "", "category": ""}
    created = client.post("/kb/new", data=data)
    assert created.status_code == (302 if role in KB_AUTHORS else 403)
    edited = client.post(f"/kb/{slugs['unit']}/edit", data={
        **data, "owner_unit": str(_db.session.scalar(
            select(KbArticle.owner_unit_id).where(KbArticle.slug == slugs["unit"])))})
    assert edited.status_code == (302 if role in KB_UNIT_PEOPLE else 403 if role in KB_STAFF
                                  else 404)
    title = _db.session.scalar(select(KbArticle.title).where(KbArticle.slug == slugs["unit"]))
    assert (title == "Νέος τίτλος") == (role in KB_UNIT_PEOPLE)


# --- canned replies and saved views (issue 15) ------------------------------------------------

#: Who has the canned replies (insert and list them): staff of some unit and administrators.
CANNED_USERS = {"l1", "l2", "l3", "l1_far", "l2_far", "manager", "admin"}
#: Who sees a canned reply of school A's level-1 unit (its members, administrators).
SEES_A1_REPLY = {"l1", "manager", "admin"}


def _a1_reply(scene):
    from helpdesk.canned import services as canned
    from tests.factories import T0, unit_at

    reply = canned.create(scene.users["admin"], unit_id=unit_at(scene.w.school_a, 1).id,
                          title="Απάντηση της Α1", body="Καλημέρα {σχολείο}", now=T0)
    shared = canned.create(scene.users["admin"], unit_id=None, title="Κοινή απάντηση",
                           body="Για το {αριθμός}", now=T0)
    _db.session.commit()
    return reply, shared


@pytest.mark.parametrize("role", ROLES)
def test_canned_reply_pages(client, scene, role):
    reply, _shared = _a1_reply(scene)
    as_role(client, scene, role)
    pages = [client.get(p).status_code for p in
             ("/canned-replies", "/canned-replies/new", f"/canned-replies/{reply.id}")]
    if role == "anonymous":
        assert pages == [302, 302, 302]
        return
    if role not in CANNED_USERS:
        assert pages == [404, 404, 404]
        return
    writes = role in {"manager", "admin"}
    edit = 200 if role in SEES_A1_REPLY and writes else 403 if role in SEES_A1_REPLY else 404
    assert pages == [200, 200 if writes else 403, edit]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["edit", "delete", "new-shared"])
def test_canned_reply_posts(client, scene, role, action):
    from helpdesk.canned.models import CannedReply
    from tests.factories import unit_at

    reply, _shared = _a1_reply(scene)
    reply_id = reply.id
    as_role(client, scene, role)
    token = _token(client, role)
    data = {"csrf_token": token, "unit": str(unit_at(scene.w.school_a, 1).id),
            "title": "Αλλαγμένη", "body": "κείμενο"}
    url = {"edit": f"/canned-replies/{reply_id}", "delete": f"/canned-replies/{reply_id}/delete",
           "new-shared": "/canned-replies/new"}[action]
    if action == "new-shared":
        data["unit"] = "shared"
    response = client.post(url, data=data)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        return
    if action == "new-shared":  # only administrators (or a level-3 manager) write shared ones
        expected = {"admin": 302, "manager": 422}.get(role, 403 if role in CANNED_USERS else 404)
        made = _db.session.scalar(select(CannedReply).where(CannedReply.title == "Αλλαγμένη"))
        assert response.status_code == expected and (made is not None) == (role == "admin")
        return
    expected = (302 if role in {"manager", "admin"} else 403) if role in SEES_A1_REPLY \
        else 404
    assert response.status_code == expected
    row = _db.session.get(CannedReply, reply_id)
    if action == "delete":
        assert (row is None) == (expected == 302)
    else:
        assert (row.title == "Αλλαγμένη") == (expected == 302)


@pytest.mark.parametrize("role", ROLES)
def test_inserting_a_canned_reply_on_the_ticket_page(client, scene, role):
    """?canned= fills the reply box only for those who may reply and see the reply."""
    _reply, shared = _a1_reply(scene)
    as_role(client, scene, role)
    response = client.get(f"/tickets/{scene.ticket.ref}?canned={shared.id}")
    if role == "anonymous":
        assert response.status_code == 302
        return
    assert response.status_code == (200 if role in SEES else 404)
    html = response.get_data(as_text=True)
    filled = f"Για το {scene.ticket.ref}</textarea>" in html
    assert filled == (role in WORKS)  # the school replies too, but has no canned replies
    assert ("Κοινή απάντηση" in html) == (role in WORKS)


@pytest.mark.parametrize("role", ROLES)
def test_saved_view_pages(client, scene, role):
    from helpdesk.savedviews import services as views
    from helpdesk.savedviews.models import SavedView
    from tests.factories import T0

    mine = views.save(scene.users["l1"], "Της Α1", "queue=mine", now=T0)
    _db.session.commit()
    view_id = mine.id
    as_role(client, scene, role)
    page = client.get("/my-views")
    token = _token(client, role)
    saved = client.post("/my-views", data={"csrf_token": token, "name": f"Προβολή {role}",
                                           "query": "queue=all&status=new"})
    renamed = client.post(f"/my-views/{view_id}/rename", data={"csrf_token": token,
                                                               "name": "Μετονομασμένη"})
    deleted = client.post(f"/my-views/{view_id}/delete", data={"csrf_token": token})
    codes = (page.status_code, saved.status_code, renamed.status_code, deleted.status_code)
    if role == "anonymous":
        assert codes == (302, 302, 302, 302)
        assert _db.session.get(SavedView, view_id) is not None
        return
    assert "Της Α1" not in page.get_data(as_text=True) or role == "l1"
    assert codes == ((200, 302, 302, 302) if role == "l1" else (200, 302, 404, 404))
    assert (_db.session.get(SavedView, view_id) is None) == (role == "l1")
    assert _db.session.scalar(select(SavedView.user_id).where(
        SavedView.name == f"Προβολή {role}")) == scene.users[role].id


# --- the school's answer to a resolution (issue 15 §3) ------------------------------------------

def _resolve_scene_ticket(scene):
    from helpdesk.tickets.services import resolve as resolve_ticket
    from tests.factories import at as minutes

    resolve_ticket(scene.users["l2"], scene.ticket, resolution(), "Λύθηκε στο επίπεδο 2.",
                   now=minutes(30))
    _db.session.commit()


@pytest.mark.parametrize("role", ROLES)
def test_confirming_on_the_ticket_page(client, scene, role):
    """Only the school answers its resolution; staff who see the ticket are refused."""
    _resolve_scene_ticket(scene)
    as_role(client, scene, role)
    if role == "anonymous":
        assert client.post(f"/tickets/{scene.ticket.ref}/confirm").status_code in (302, 400)
        return
    data = {"confirm-csrf_token": csrf_token(client, "/tickets"), "confirm-solved": "1"}
    response = client.post(f"/tickets/{scene.ticket.ref}/confirm", data=data)
    assert response.status_code == (404 if role not in SEES else 302 if role == "school_a"
                                    else 403)
    assert (_db.session.get(type(scene.ticket), scene.ticket.id).status == "closed") == \
        (role == "school_a")


@pytest.mark.parametrize("role", ROLES)
def test_the_mail_link_is_the_schools_whoever_opens_it(client, app, scene, role):
    """The signed link is the school's capability: it needs no log-in, a GET changes
    nothing, its POST (CSRF-checked) answers as the school's address."""
    from helpdesk.tickets import confirm_links

    _resolve_scene_ticket(scene)
    with app.test_request_context():
        token = confirm_links.make_token(scene.ticket.id, scene.ticket.school_id,
                                         scene.ticket.resolved_at)
    as_role(client, scene, role)
    assert client.get(f"/confirm/{token}?answer=yes").status_code == 200
    assert client.get(f"/confirm/{token}?answer=no").status_code == 200
    assert client.get("/confirm/garbage").status_code == 400
    assert _db.session.get(type(scene.ticket), scene.ticket.id).status == "resolved"
    assert client.post(f"/confirm/{token}", data={"confirm-solved": "1"}).status_code == 400
    token_field = csrf_token(client, f"/confirm/{token}")
    response = client.post(f"/confirm/{token}", data={"confirm-csrf_token": token_field,
                                                      "confirm-solved": "1"})
    assert response.status_code == 302
    assert _db.session.get(type(scene.ticket), scene.ticket.id).status == "closed"


# --- bulk actions on a queue (issue 15) -----------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_bulk_actions(client, scene, role):
    """Staff and administrators may post bulk actions, but each ticket is checked as one by
    one: only those who work the ticket change it; the others are told, per ticket."""
    as_role(client, scene, role)
    data = {"action": "priority", "priority-priority": "4",
            "ticket_ids": [str(scene.ticket.id), str(scene.other.id)]}
    if role == "anonymous":
        assert client.post("/tickets/bulk", data=data).status_code in (302, 400)
        assert client.get("/tickets/bulk/bulk-1-x").status_code == 302
        return
    page = client.get("/tickets?queue=all").get_data(as_text=True)
    staff = role not in {"school_a", "school_b"}
    assert ('id="bulk-form"' in page) == (staff and 'name="ticket_ids"' in page)
    data["bulk-csrf_token"] = csrf_token(client, "/tickets")
    response = client.post("/tickets/bulk", data=data)
    assert response.status_code == (302 if staff else 403)
    _db.session.expire_all()
    assert (scene.ticket.priority == 4) == (role in WORKS)
    # scene.other is school B's, at level 1 of A's chain: l1, the manager and admin work it
    assert (scene.other.priority == 4) == (role in {"l1", "manager", "admin"})
    job = f"/tickets/bulk/bulk-{scene.users[role].id}-0000"
    assert client.get(job).status_code == 404  # unknown job (or no bulk actions at all)


# --- the library in tickets (issue 15: suggestions, deflections, guide picker, report) ------

#: Who is suggested guides while filing and may say one solved it: the schools.
KB_SUGGESTED = {"school_a", "school_b"}


@pytest.mark.parametrize("role", ROLES)
def test_kb_suggestions_and_this_solved_it(client, scene, kb, role):
    from helpdesk.kbuse.models import KbDeflection

    as_role(client, scene, role)
    page = client.get("/tickets/new/suggestions?subject=Κείμενο")
    token = _token(client, role)
    article_id = _db.session.scalar(select(KbArticle.id).where(KbArticle.slug == kb[0]["schools"]))
    solved = client.post("/tickets/new/solved", data={"csrf_token": token, "article": article_id})
    deflections = _db.session.scalar(select(func.count(KbDeflection.id)))
    if role == "anonymous":
        assert page.status_code == 302 and solved.status_code in (302, 400)
    else:
        assert page.status_code == (200 if role in KB_SUGGESTED else 403)
        assert solved.status_code == (302 if role in KB_SUGGESTED else 403)
    assert deflections == (1 if role in KB_SUGGESTED else 0)


@pytest.mark.parametrize("role", ROLES)
def test_kb_guide_picker_and_library_report(client, scene, kb, role):
    as_role(client, scene, role)
    picker = client.get("/tickets/guides?q=Κείμενο")
    report = client.get("/reports/library")
    if role == "anonymous":
        assert picker.status_code == 302 and report.status_code == 302
        return
    assert picker.status_code == (200 if role in KB_STAFF else 403)
    assert report.status_code == (200 if role in KB_STAFF else 403)
    if picker.status_code == 200:
        found = {i["slug"] for i in picker.get_json()["items"]}
        assert found == {kb[0][k] for k in ("public", "schools", "staff", "unit")}
