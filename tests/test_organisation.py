"""The support organisation page (issue 14): units, a school's chain, a partner change
previewed with the open requests it affects, then applied through the audited service."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.core.errors import PermissionDenied
from helpdesk.core.text import fold
from helpdesk.extensions import db as _db
from helpdesk.org import admin
from helpdesk.org.models import PartnerArea, SupportUnit
from helpdesk.org.queries import chain_for_school
from helpdesk.tickets import services as tickets
from tests.factories import T0, World, at, make_ticket, unit_at
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


def _other_partner(current_id):
    return _db.session.scalar(select(SupportUnit).where(SupportUnit.level == 2,
                                                        SupportUnit.id != current_id))


def test_the_chain_of_a_school_found_without_accents(client, w):
    _db.session.commit()
    login(client, w.admin)
    name = fold(w.school_a.name).upper()  # «…ΓΥΜΝΑΣΙΟ ΔΟΚΙΜΗΣ»: no accents, capitals
    html = client.get("/admin/organisation", query_string={"school": name}).get_data(as_text=True)
    for level in (1, 2, 3):
        assert unit_at(w.school_a, level).name_el in html
    assert "Διόφαντος" in html
    by_code = client.get("/admin/organisation", query_string={"school": w.school_a.code})
    assert w.school_a.name in by_code.get_data(as_text=True)


def test_units_with_levels_and_members(client, w):
    _db.session.commit()
    login(client, w.manager)
    html = client.get("/admin/organisation").get_data(as_text=True)
    assert unit_at(w.school_a, 1).code in html
    assert "/partner/preview" not in html  # managers look, administrators change


def test_the_preview_counts_open_requests_by_status_then_the_change_is_applied(client, w):
    make_ticket(w.user_a)
    waiting = make_ticket(w.user_a)
    tickets.escalate(w.l1, waiting, "Χρειάζεται τον φορέα.", now=at(5))
    tickets.claim(w.l2, waiting, now=at(6))
    tickets.reply(w.l2, waiting, "Στείλτε μας το μοντέλο.", now=at(7), await_school=True)
    _db.session.commit()
    old = unit_at(w.school_a, 2)
    new = _other_partner(old.id)
    login(client, w.admin)
    token = csrf_token(client, "/admin/organisation")
    data = {"directorate": w.school_a.directorate_id, "unit": new.id, "csrf_token": token}
    preview = client.post("/admin/organisation/partner/preview", data=data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and new.name_el in html and old.name_el in html
    level1 = re.search(r'class="impact at-level1">(.*?)</div>', html, re.DOTALL).group(1)
    partner = re.search(r'class="impact at-partner">(.*?)</div>', html, re.DOTALL).group(1)
    assert "<strong>1</strong>" in level1 and "Νέο" in level1
    assert "<strong>1</strong>" in partner and "Αναμονή" in partner
    assert chain_for_school(w.school_a).l2 == old.id  # nothing changed by looking
    applied = client.post("/admin/organisation/partner/apply",
                          data={**data, "current": str(old.id)})
    assert applied.status_code == 302
    _db.session.expire_all()
    assert chain_for_school(w.school_a).l2 == new.id
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "org.partner_area.change"))
    assert (entry.actor_id, entry.before, entry.after) == (w.admin.id, {"unit_id": old.id},
                                                           {"unit_id": new.id})


def test_a_stale_preview_is_not_applied(client, w):
    _db.session.commit()
    old = unit_at(w.school_a, 2)
    new = _other_partner(old.id)
    login(client, w.admin)
    token = csrf_token(client, "/admin/organisation")
    answer = client.post("/admin/organisation/partner/apply",
                         data={"directorate": w.school_a.directorate_id, "unit": new.id,
                               "current": str(new.id), "csrf_token": token})
    assert answer.status_code == 302
    assert _db.session.get(PartnerArea, w.school_a.directorate_id).unit_id == old.id


def test_only_administrators_change_a_partner(w):
    new = _other_partner(unit_at(w.school_a, 2).id)
    for actor in (w.manager, w.l2, w.user_a, None):
        with pytest.raises(PermissionDenied):
            admin.change_partner(actor, w.school_a.directorate_id, new.id, now=T0)
