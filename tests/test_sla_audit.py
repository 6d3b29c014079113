"""Every change to the SLA settings takes the actor and is audited (issue 13)."""
from datetime import date, time

import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEntry
from helpdesk.core.errors import PermissionDenied
from helpdesk.extensions import db as _db
from helpdesk.sla import admin
from helpdesk.sla.models import BusinessHours, Closure, SlaPolicy
from tests.factories import World, at, category, unit_at
from tests.test_sla_admin import TARGETS, submit
from tests.web import login

T = admin.Targets(240, 5 * 420, 90, 3 * 420, 5 * 420)


@pytest.fixture
def w(db):
    return World()


def entries() -> list[AuditEntry]:
    return list(_db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def only(action: str) -> AuditEntry:
    [entry] = [e for e in entries() if e.action == action]
    return entry


def test_saving_a_default_policy_records_who_when_before_and_after(w):
    policy = admin.save_default_policy(w.admin, 2, T, now=at(1))
    entry = only("sla.policy.save")
    assert (entry.actor_id, entry.at, entry.object_type, entry.object_id) == (
        w.admin.id, at(1), "sla_policy", policy.id)
    assert entry.before is None  # only the built-in policy applied until now
    assert entry.after["level1_minutes"] == 90 and entry.after["priority"] == 2
    admin.save_default_policy(w.admin, 2, admin.Targets(240, 5 * 420, 60, 3 * 420, 5 * 420),
                              now=at(2))
    second = entries()[-1]
    assert (second.before["level1_minutes"], second.after["level1_minutes"]) == (90, 60)


def test_an_override_is_audited_when_saved_changed_and_removed(w):
    cat = category("HW-PRN")
    policy = admin.save_override(w.admin, 3, cat.id, T, now=at(1))
    admin.update_override(w.admin, policy.id, admin.Targets(60, None, None, None, None), now=at(2))
    admin.delete_override(w.admin, policy.id, now=at(3))
    assert [(e.action, e.object_id) for e in entries()] == [
        ("sla.override.save", policy.id), ("sla.override.update", policy.id),
        ("sla.override.delete", policy.id)]
    saved, updated, deleted = entries()
    assert saved.before is None and saved.after["category_id"] == cat.id
    assert updated.before["first_response_minutes"] == 240
    assert updated.after["first_response_minutes"] == 60 and updated.after["level1_minutes"] is None
    assert deleted.before == updated.after and deleted.after is None


def test_working_hours_are_audited_with_the_built_in_week_they_replace(w):
    unit = unit_at(w.school_a, 1)
    row = admin.add_hours(w.admin, unit.id, 0, time(8), time(20), now=at(1))
    assert only("sla.hours.add").after == {"unit_id": unit.id, "weekday": 0,
                                           "start_time": "08:00", "end_time": "20:00"}
    admin.add_hours(w.admin, None, 5, time(9), time(13), now=at(2))  # the first default row
    assert len(only("sla.hours.seed").after["rows"]) == 5
    admin.delete_hours(w.admin, row.id, now=at(3))
    deleted = only("sla.hours.delete")
    assert (deleted.object_id, deleted.before["end_time"], deleted.after) == (row.id, "20:00", None)


def test_closures_are_audited(w):
    closure = admin.add_closure(w.admin, date(2026, 4, 10), None, "Μεγάλη Παρασκευή", now=at(1))
    admin.delete_closure(w.admin, closure.id, now=at(2))
    added, deleted = entries()
    assert (added.action, added.after) == ("sla.closure.add", {
        "day": "2026-04-10", "unit_id": None, "description": "Μεγάλη Παρασκευή"})
    assert (deleted.action, deleted.before, deleted.after) == (
        "sla.closure.delete", added.after, None)


WRITERS = {
    "save_default_policy": lambda actor, ids: admin.save_default_policy(actor, 2, T, now=at(1)),
    "save_override": lambda actor, ids: admin.save_override(actor, 2, ids["category"], T, now=at(1)),
    "update_override": lambda actor, ids: admin.update_override(actor, ids["policy"], T, now=at(1)),
    "delete_override": lambda actor, ids: admin.delete_override(actor, ids["policy"], now=at(1)),
    "add_hours": lambda actor, ids: admin.add_hours(actor, None, 0, time(8), time(9), now=at(1)),
    "delete_hours": lambda actor, ids: admin.delete_hours(actor, ids["hours"], now=at(1)),
    "add_closure": lambda actor, ids: admin.add_closure(actor, date(2026, 4, 10), None, "",
                                                        now=at(1)),
    "delete_closure": lambda actor, ids: admin.delete_closure(actor, ids["closure"], now=at(1)),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_only_an_administrator_changes_the_sla_settings(w, writer):
    cat = category("HW-PRN")
    policy = SlaPolicy(priority=3, category_id=cat.id, **T.__dict__)
    hours = BusinessHours(unit_id=None, weekday=1, start_time=time(8), end_time=time(15))
    closure = Closure(day=date(2026, 5, 1), unit_id=None, description="")
    _db.session.add_all([policy, hours, closure])
    _db.session.flush()
    ids = {"category": cat.id, "policy": policy.id, "hours": hours.id, "closure": closure.id}
    for stranger in (w.l1, w.manager, w.user_a, None):
        with pytest.raises(PermissionDenied):
            WRITERS[writer](stranger, ids)
    assert entries() == []
    WRITERS[writer](w.admin, ids)
    assert [e.actor_id for e in entries()][-1] == w.admin.id


def test_the_pages_pass_the_administrator_and_the_index_shows_the_changes(client, w):
    login(client, w.admin)
    response = submit(client, "/admin/sla/policies/2", {**TARGETS, "level1_minutes": "1.5"})
    assert response.status_code == 302
    submit(client, "/admin/sla/closures", {"day": "2026-04-10", "description": "Πάσχα"})
    assert [(e.action, e.actor_id) for e in entries()] == [
        ("sla.policy.save", w.admin.id), ("sla.closure.add", w.admin.id)]
    english = client.get("/admin/sla?lang=en").get_data(as_text=True)
    assert "Recent changes" in english and "Default policy saved" in english
    assert "Level 1: 1.5" in english and "Closure added: 10/04/2026" in english
    assert w.admin.name in english
    greek = client.get("/admin/sla?lang=el").get_data(as_text=True)
    assert "Πρόσφατες αλλαγές" in greek and "1,5" in greek


def test_a_refused_change_leaves_no_audit_entry(client, w):
    login(client, w.admin)
    submit(client, "/admin/sla/policies/2", {**TARGETS, "level1_minutes": "-1"})
    assert _db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
