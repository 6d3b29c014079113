"""The administrator's SLA pages: policies, overrides, working hours and closures."""
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from helpdesk.core.errors import ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.sla import admin
from helpdesk.sla.models import BusinessHours, Closure, SlaPolicy
from helpdesk.sla.services import refresh_ticket_sla
from tests.factories import World, at, category, make_admin, make_ticket, unit_at
from tests.web import csrf_token, login

TARGETS = {"first_response_minutes": "4", "resolution_minutes": "35", "level1_minutes": "3",
           "level2_minutes": "21", "level3_minutes": "35", "warn_percent": "75",
           "action": "escalate"}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def w(db):
    return World()


@pytest.fixture
def as_admin(client, w):
    login(client, w.admin)
    return client


def submit(client, url, data):
    """POST a page's form with its CSRF token, English messages."""
    return client.post(url + "?lang=en", data={**data, "csrf_token": csrf_token(client, url)})


def test_editing_a_policy_changes_a_refreshed_tickets_due_time(as_admin, w):
    t = make_ticket(w.user_a)  # Monday 10:00 Athens, normal priority: 2 working days at level 1
    assert t.level_due_at == utc(2026, 3, 4, 8)
    page = as_admin.get("/admin/sla/policies/2")
    assert page.status_code == 200 and 'value="14"' in page.get_data(as_text=True)  # 2 days
    response = submit(as_admin, "/admin/sla/policies/2", {**TARGETS, "level1_minutes": "1.5"})
    assert response.status_code == 302
    policy = _db.session.scalar(select(SlaPolicy).where(SlaPolicy.priority == 2,
                                                        SlaPolicy.category_id.is_(None)))
    assert (policy.level1_minutes, policy.first_response_minutes) == (90, 240)
    refresh_ticket_sla(t, now=at(1))
    assert t.level_due_at == utc(2026, 3, 2, 9, 30)
    assert "1,5" in as_admin.get("/admin/sla").get_data(as_text=True)  # Greek decimal comma


def test_a_category_override_is_added_used_and_removed(as_admin, w):
    t = make_ticket(w.user_a)
    response = submit(as_admin, "/admin/sla/overrides/new",
                      {**TARGETS, "priority": "2", "category_id": str(category("HW-PRN").id),
                       "level1_minutes": "2", "action": "warn"})
    assert response.status_code == 302
    refresh_ticket_sla(t, now=at(1))
    assert t.level_due_at == utc(2026, 3, 2, 10)
    (policy, cat), = admin.overrides()
    assert cat.code == "HW-PRN" and policy.action_on_level_breach == "warn"
    assert "HW-PRN" in as_admin.get("/admin/sla").get_data(as_text=True)
    edit = as_admin.get(f"/admin/sla/overrides/{policy.id}")
    assert edit.status_code == 200 and "HW-PRN" in edit.get_data(as_text=True)
    assert as_admin.get("/admin/sla/overrides/999999").status_code == 404
    token = csrf_token(as_admin, "/admin/sla")
    assert as_admin.post(f"/admin/sla/overrides/{policy.id}/delete",
                         data={"csrf_token": token}).status_code == 302
    assert admin.overrides() == []
    refresh_ticket_sla(t, now=at(1))
    assert t.level_due_at == utc(2026, 3, 4, 8)


def test_a_closure_added_by_the_administrator_is_skipped_by_the_clock(as_admin, w):
    t = make_ticket(w.user_a)
    response = submit(as_admin, "/admin/sla/closures",
                      {"day": "2026-03-03", "unit_id": "", "description": "Τοπική <εορτή>"})
    assert response.status_code == 302
    refresh_ticket_sla(t, now=at(1))
    assert t.level_due_at == utc(2026, 3, 5, 8)  # Tuesday is skipped
    html = as_admin.get("/admin/sla/closures").get_data(as_text=True)
    assert "Τοπική &lt;εορτή&gt;" in html and "<εορτή>" not in html
    closure = _db.session.scalar(select(Closure))
    token = csrf_token(as_admin, "/admin/sla/closures")
    as_admin.post(f"/admin/sla/closures/{closure.id}/delete", data={"csrf_token": token})
    assert count(Closure) == 0


def test_a_closure_for_another_unit_does_not_move_the_clock(as_admin, w):
    t = make_ticket(w.user_a)
    other = unit_at(w.school_far, 1)
    submit(as_admin, "/admin/sla/closures", {"day": "2026-03-03", "unit_id": str(other.id)})
    refresh_ticket_sla(t, now=at(1))
    assert t.level_due_at == utc(2026, 3, 4, 8)


def test_closures_list_upcoming_first(db):
    actor = make_admin()
    for day in (date(2020, 1, 2), date(2030, 5, 1), date(2020, 1, 1), date(2029, 1, 1)):
        admin.add_closure(actor, day, None, "", now=at(0))
    assert [c.day.year for c in admin.closures(date(2026, 1, 1))] == [2029, 2030, 2020, 2020]
    with pytest.raises(ValidationFailed):
        admin.add_closure(actor, date(2029, 1, 1), None, "again", now=at(0))


def test_working_hours_rows_are_added_and_used(as_admin, w):
    unit = unit_at(w.school_a, 1)
    t = make_ticket(w.user_a)
    response = submit(as_admin, "/admin/sla/hours", {"unit_id": str(unit.id), "weekday": "0",
                                                     "start_time": "08:00", "end_time": "20:00"})
    assert response.status_code == 302
    refresh_ticket_sla(t, now=at(1))
    # The unit now works only on Mondays 08:00–20:00: 10 hours this Monday, 4 the next.
    assert t.level_due_at == utc(2026, 3, 9, 10)
    html = as_admin.get("/admin/sla/hours?lang=en").get_data(as_text=True)
    assert "Monday" in html and "20:00" in html


def test_the_first_default_row_keeps_the_built_in_week(db):
    actor = make_admin()
    admin.add_hours(actor, None, 5, time(9), time(13), now=at(0))
    rows = admin.hours_rows()
    assert sorted((r.weekday, r.start_time) for r in rows) == [
        (0, time(8)), (1, time(8)), (2, time(8)), (3, time(8)), (4, time(8)), (5, time(9))]
    with pytest.raises(ValidationFailed):
        admin.add_hours(actor, None, 0, time(14), time(16), now=at(0))  # overlaps 08:00–15:00
    admin.delete_hours(actor, rows[-1].id, now=at(0))
    assert count(BusinessHours) == 5


@pytest.mark.parametrize(("start", "end"), [("15:00", "08:00"), ("09:00", "09:00")])
def test_hours_with_start_not_before_end_are_refused(as_admin, start, end):
    response = submit(as_admin, "/admin/sla/hours",
                      {"unit_id": "", "weekday": "0", "start_time": start, "end_time": end})
    assert response.status_code == 200
    assert "The end must be after the start." in response.get_data(as_text=True)
    assert count(BusinessHours) == 0


def test_negative_minutes_are_refused_and_nothing_changes(as_admin, w):
    before = {(p.priority, p.level1_minutes) for p, _ in admin.default_policies()}
    response = submit(as_admin, "/admin/sla/policies/2", {**TARGETS, "level1_minutes": "-1"})
    assert response.status_code == 200
    assert "A target must be a positive working time." in response.get_data(as_text=True)
    assert {(p.priority, p.level1_minutes) for p, _ in admin.default_policies()} == before
    response = submit(as_admin, "/admin/sla/policies/2", {**TARGETS, "warn_percent": "0"})
    assert "between 1 and 100 percent" in response.get_data(as_text=True)
    for junk in ("NaN", "Infinity", "abc"):
        response = submit(as_admin, "/admin/sla/policies/2", {**TARGETS, "level2_minutes": junk})
        assert response.status_code == 200
    assert {(p.priority, p.level1_minutes) for p, _ in admin.default_policies()} == before
    with pytest.raises(ValidationFailed) as refused:
        admin.save_default_policy(w.admin, 2, admin.Targets(-5, None, None, None, None), now=at(0))
    assert refused.value.field == "first_response_minutes"


def test_an_unknown_category_is_refused(as_admin, w):
    overrides = count(SlaPolicy)
    response = submit(as_admin, "/admin/sla/overrides/new",
                      {**TARGETS, "priority": "2", "category_id": "999999"})
    assert response.status_code == 200
    assert "Unknown category." in response.get_data(as_text=True)
    assert count(SlaPolicy) == overrides
    with pytest.raises(ValidationFailed):
        admin.save_override(w.admin, 2, None, admin.Targets(60, None, None, None, None), now=at(0))


@pytest.mark.parametrize("url", ["/admin/sla", "/admin/sla/policies/2", "/admin/sla/overrides/new",
                                 "/admin/sla/hours", "/admin/sla/closures"])
def test_non_administrators_get_404(client, w, url):
    for user in (w.manager, w.l1, w.user_a):
        login(client, user)
        assert client.get(url).status_code == 404
        html = client.get("/tickets").get_data(as_text=True)
        assert "/admin/sla" not in html
        client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})


def test_non_administrators_cannot_post(client, w):
    login(client, w.manager)
    token = csrf_token(client, "/tickets")
    response = client.post("/admin/sla/closures", data={"csrf_token": token, "day": "2026-03-03"})
    assert response.status_code == 404 and count(Closure) == 0


def test_the_admin_sees_the_link(as_admin):
    assert 'href="/admin/sla"' in as_admin.get("/tickets").get_data(as_text=True)


def test_a_missing_csrf_token_is_refused(as_admin):
    response = as_admin.post("/admin/sla/closures", data={"day": "2026-03-03", "unit_id": ""})
    assert response.status_code == 400 and count(Closure) == 0
    response = as_admin.post("/admin/sla/policies/2", data=TARGETS)
    assert response.status_code == 400


def test_saving_a_policy_recomputes_the_open_tickets(as_admin, w):
    from workers.jobs import sla_recompute_open

    t = make_ticket(w.user_a)
    later = make_ticket(w.user_a, minutes=1)
    assert t.level_due_at == utc(2026, 3, 4, 8)
    assert submit(as_admin, "/admin/sla/policies/2",
                  {**TARGETS, "level1_minutes": "1.5"}).status_code == 302
    assert sla_recompute_open() >= 2  # the job the page queues (run here in-process)
    _db.session.expire_all()
    assert t.level_due_at == utc(2026, 3, 2, 9, 30)
    assert later.level_due_at == utc(2026, 3, 2, 9, 31)
