"""People administration (issue 14): the writers with their rules and audit, the pages."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from helpdesk.accounts.models import Role, User
from helpdesk.accounts.people import services as people_services
from helpdesk.api import tokens
from helpdesk.audit.models import AuditEntry
from helpdesk.core.errors import Conflict, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.outbox.models import Notification
from tests.factories import T0, World, make_school, unit_at
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


def _audit(user):
    return list(_db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == user.id).order_by(AuditEntry.id)))


# --- writers ---------------------------------------------------------------------------------

def test_an_administrator_creates_a_technician_who_is_invited_and_audited(w):
    unit = unit_at(w.school_a, 1)
    person = people_services.create_person(w.admin, email="Nea.Texnikos@sch.gr", name="Νέα Τεχνικός",
                                    role="technician", units={unit.id: False}, now=T0)
    _db.session.commit()
    assert person.email == "nea.texnikos@sch.gr" and person.unit_ids == {unit.id}
    assert person.name_folded == "νεα τεχνικοσ"
    [entry] = _audit(person)
    assert (entry.action, entry.actor_id, entry.before) == ("accounts.user.create", w.admin.id, None)
    assert entry.after["units"] == {str(unit.id): False}
    invite = _db.session.scalar(select(Notification).where(Notification.kind == "password_reset",
                                                           Notification.recipient_email == person.email))
    assert invite is not None and "/password/reset/" in invite.body


def test_a_manager_cannot_grant_more_than_they_hold(w):
    mine = unit_at(w.school_a, 1)
    theirs = unit_at(w.school_far, 1)
    ok = people_services.create_person(w.manager, email="t1@sch.gr", name="Τεχνικός Ένα",
                                role="technician", units={mine.id: False}, now=T0)
    assert ok.unit_ids == {mine.id}
    for kwargs in ({"role": "admin"}, {"role": "school", "school": w.school_a},
                   {"role": "technician", "units": {theirs.id: False}},
                   {"role": "manager", "units": {unit_at(w.school_a, 2).id: True}}):
        kwargs.setdefault("units", {mine.id: False} if kwargs["role"] != "school" else {})
        with pytest.raises(PermissionDenied):
            people_services.create_person(w.manager, email="x@sch.gr", name="Κάποιος", now=T0, **kwargs)
    # a manager flag only in a unit they manage
    with pytest.raises(PermissionDenied):
        people_services.set_membership(w.manager, ok, theirs.id, is_manager=False, now=T0)
    people_services.set_membership(w.manager, ok, mine.id, is_manager=True, now=T0)
    assert ok.managed_unit_ids == {mine.id}
    # nor may they touch a technician who also works elsewhere, or an administrator
    with pytest.raises(PermissionDenied):
        people_services.deactivate(w.manager, w.admin, now=T0)
    people_services.set_membership(w.admin, w.l1, theirs.id, is_manager=False, now=T0)
    with pytest.raises(PermissionDenied):
        people_services.deactivate(w.manager, w.l1, now=T0)
    with pytest.raises(PermissionDenied):
        people_services.update_person(w.manager, ok, name=ok.name, email=ok.email, role="admin", now=T0)


def test_the_last_active_administrator_stays(w):
    second = people_services.create_person(w.admin, email="admin2@sch.gr", name="Δεύτερος", role="admin",
                                    now=T0)
    for other in _db.session.scalars(select(User).where(User.role == Role.ADMIN,
                                                         User.id.not_in([w.admin.id, second.id]))):
        other.is_active_account = False
    people_services.deactivate(w.admin, second, now=T0)  # another admin is still active: fine
    people_services.reactivate(w.admin, second, now=T0)
    people_services.deactivate(second, w.admin, now=T0)
    with pytest.raises(Conflict):  # second is now the last one: nobody may take them away
        people_services.update_person(second, second, name=second.name, email=second.email,
                               role="technician", now=T0)
    with pytest.raises(Conflict):
        people_services.deactivate(second, second, now=T0)


def test_deactivation_ends_sessions_and_tokens_at_once(w):
    _token, secret = tokens.create_token(w.l1, "script", now=T0)
    version = w.l1.session_version
    people_services.deactivate(w.admin, w.l1, now=T0)
    assert not w.l1.is_active_account and w.l1.session_version == version + 1
    assert tokens.authenticate(secret, now=T0) is None
    people_services.reactivate(w.admin, w.l1, now=T0)
    assert tokens.authenticate(secret, now=T0) is None  # revoked, not only suspended
    assert [e.action for e in _audit(w.l1)] == ["accounts.user.deactivate",
                                                "accounts.user.reactivate"]
    assert _audit(w.l1)[0].before["is_active"] is True and _audit(w.l1)[0].after["is_active"] is False


def test_a_school_adds_a_teacher_of_its_own_school_only(w):
    teacher = people_services.create_person(w.user_a, email="teacher@sch.gr", name="Εκπαιδευτικός",
                                     role="school", school=w.school_a, now=T0)
    assert teacher.school_id == w.school_a.id and teacher.role == Role.SCHOOL
    with pytest.raises(PermissionDenied):
        people_services.create_person(w.user_a, email="t2@sch.gr", name="Άλλος", role="school",
                               school=w.school_b, now=T0)
    with pytest.raises(PermissionDenied):
        people_services.create_person(w.user_a, email="t3@sch.gr", name="Άλλος", role="technician",
                               units={unit_at(w.school_a, 1).id: False}, now=T0)
    with pytest.raises(PermissionDenied):
        people_services.deactivate(w.user_a, w.user_b, now=T0)
    people_services.deactivate(w.user_a, teacher, now=T0)


def test_memberships_keep_their_shape(w):
    with pytest.raises(ValidationFailed):
        people_services.remove_membership(w.admin, w.l1, unit_at(w.school_a, 1).id, now=T0)
    with pytest.raises(ValidationFailed):
        people_services.set_membership(w.admin, w.user_a, unit_at(w.school_a, 1).id, is_manager=False,
                                now=T0)
    people_services.set_membership(w.admin, w.l1, unit_at(w.school_a, 2).id, is_manager=True, now=T0)
    people_services.remove_membership(w.admin, w.l1, unit_at(w.school_a, 1).id, now=T0)
    assert w.l1.unit_ids == {unit_at(w.school_a, 2).id} and w.l1.managed_unit_ids == w.l1.unit_ids


# --- pages -----------------------------------------------------------------------------------

def test_the_list_searches_without_accents_and_filters(client, w):
    school = make_school()
    people_services.create_person(w.admin, email="p1@sch.gr", name="Παναγιώτης Σταυρόπουλος",
                           role="school", school=school, now=T0)
    _db.session.commit()
    login(client, w.admin)
    html = client.get("/admin/people", query_string={"q": "ΣΤΑΥΡΟΠΟΥΛΟΣ"}).get_data(as_text=True)
    assert "Παναγιώτης Σταυρόπουλος" in html and w.l1.email not in html
    html = client.get("/admin/people", query_string={"role": "technician",
                                                     "unit": unit_at(w.school_a, 2).id}).get_data(as_text=True)
    assert w.l2.email in html and w.l1.email not in html
    w.l2.is_active_account = False
    _db.session.commit()
    html = client.get("/admin/people", query_string={"active": "1"}).get_data(as_text=True)
    assert w.l2.email not in html and w.l1.email in html


def test_a_manager_sees_only_the_people_of_their_units(client, w):
    _db.session.commit()
    login(client, w.manager)
    html = client.get("/admin/people").get_data(as_text=True)
    assert w.l1.email in html and w.l2.email not in html and w.admin.email not in html
    assert client.get(f"/admin/people/{w.l2.id}").status_code == 404
    assert client.get(f"/admin/people/{w.l1.id}").status_code == 200


def test_the_list_costs_the_same_queries_for_any_page_size(client, w, query_counter):
    _db.session.commit()
    login(client, w.admin)
    client.get("/admin/people")
    with query_counter() as few:
        client.get("/admin/people", query_string={"q": "Τεχνικός Α1β"})
    for n in range(30):
        people_services.create_person(w.admin, email=f"many{n}@sch.gr", name=f"Τεχνικός {n}",
                               role="technician", units={unit_at(w.school_a, 1).id: n % 2 == 0},
                               now=T0, send_invite=False)
    _db.session.commit()
    with query_counter() as many:
        client.get("/admin/people")
    assert many.count == few.count


def test_the_persons_page_shows_the_audit_and_escapes(client, w):
    person = people_services.create_person(w.admin, email="x1@sch.gr", name="<b>Κακός</b> Χρήστης",
                                    role="technician", units={unit_at(w.school_a, 1).id: False}, now=T0)
    people_services.deactivate(w.admin, person, now=T0)
    _db.session.commit()
    login(client, w.admin)
    html = client.get(f"/admin/people/{person.id}").get_data(as_text=True)
    assert "&lt;b&gt;Κακός&lt;/b&gt;" in html and "<b>Κακός" not in html
    assert "Απενεργοποιήθηκε" in html and "Δημιουργία λογαριασμού" in html
    assert w.admin.name in html


def test_the_web_deactivation_needs_csrf_and_works(client, w):
    _db.session.commit()
    login(client, w.admin)
    assert client.post(f"/admin/people/{w.l1.id}/deactivate").status_code == 400
    token = csrf_token(client, f"/admin/people/{w.l1.id}")
    answer = client.post(f"/admin/people/{w.l1.id}/deactivate", data={"csrf_token": token})
    assert answer.status_code == 302
    _db.session.refresh(w.l1)
    assert not w.l1.is_active_account

