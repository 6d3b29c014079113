"""People administration in the browser (issue 14): an administrator creates a technician,
adds a membership and deactivates them, on a desktop and on a 390 px phone, in Chromium."""
import re

import pytest

from helpdesk.extensions import db as _db
from tests.factories import World, unit_at
from tests.test_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people_world(live_server):
    with live_server.app.app_context():
        w = World()
        _db.session.commit()
        facts = {"admin": w.admin.email, "home": unit_at(w.school_a, 1).id,
                 "partner": unit_at(w.school_a, 2).id}
        _db.session.remove()
    return facts


@pytest.fixture
def no_login_limit():
    from helpdesk.extensions import limiter

    was = limiter.enabled
    limiter.enabled = False
    yield
    limiter.enabled = was


def _fits(page, width, where, too_wide):
    if width and page.evaluate("document.documentElement.scrollWidth") > width:
        too_wide.append(where)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_administrator_creates_a_technician_adds_a_unit_and_deactivates_them(
        page, live_server, people_world, no_login_limit, width, tmp_path):
    base = str(live_server)
    page.set_viewport_size({"width": width, "height": 900})
    too_wide = []
    log_in(page, base, people_world["admin"])
    page.goto(f"{base}/admin/people")
    _fits(page, width, "list", too_wide)
    page.click("a:has-text('Προσθήκη προσώπου')")
    page.wait_for_url(re.compile(r".*/admin/people/new$"))
    _fits(page, width, "new", too_wide)
    email = f"nikos.{width}@plinet.example.sch.gr"
    page.fill("input[name=name]", f"Νίκος Παπαδόπουλος {width}")
    page.fill("input[name=email]", email)
    page.select_option("select[name=role]", "technician")
    page.select_option("select[name=unit]", str(people_world["home"]))
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/admin/people/\d+$"))
    assert page.locator(".flash.success").count() == 1
    _fits(page, width, "person", too_wide)

    page.select_option("form.membership-form select[name=unit]", str(people_world["partner"]))
    page.check("form.membership-form input[name=is_manager]")
    page.click("form.membership-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("ul.memberships li").count() == 2
    assert page.locator("ul.memberships li strong").count() == 1  # manager of the partner unit

    page.click("button[name=deactivate]")
    page.wait_for_load_state()
    assert page.locator("dd.state").inner_text().strip() == "Ανενεργός"
    history = page.locator("ol.history").inner_text()
    for what in ("Δημιουργία λογαριασμού", "Αλλαγή μονάδων υποστήριξης", "Απενεργοποιήθηκε"):
        assert what in history
    _fits(page, width, "person after", too_wide)
    page.screenshot(path=str(tmp_path / f"person-{width}.png"), full_page=True)

    page.goto(f"{base}/admin/people?q=ΠΑΠΑΔΟΠΟΥΛΟΣ&active=0")  # accents and case do not count
    assert page.locator(f"td:has-text('{email}')").count() == 1
    page.goto(f"{base}/admin/organisation?school=γυμνασιο")
    _fits(page, width, "organisation", too_wide)
    assert too_wide == []
