"""A technician inserts a canned reply at the cursor and sends it; saves a queue view
(issue 15), in Debian's Chromium."""
import re

import pytest

from helpdesk.extensions import db as _db
from tests.factories import T0, World, make_ticket, unit_at
from tests.test_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def facts(live_server):
    from helpdesk.canned import services as canned

    with live_server.app.app_context():
        w = World()
        ticket = make_ticket(w.user_a, subject="Το προβολικό δεν ανάβει")
        canned.create(w.admin, unit_id=unit_at(w.school_a, 1).id, title="Χαιρετισμός μονάδας",
                      body="Καλημέρα {σχολείο}, για το αίτημα {αριθμός} ({θέμα}).", now=T0)
        canned.create(w.admin, unit_id=None, title="Υπογραφή",
                      body="Με εκτίμηση,\n{τεχνικός}", now=T0)
        _db.session.commit()
        out = {"l1": w.l1.email, "l1_name": w.l1.name, "school": w.school_a.name,
               "ref": ticket.ref, "school_a": w.user_a.email}
        _db.session.remove()
    return out


def test_a_canned_reply_is_inserted_at_the_cursor_and_sent(page, live_server, facts, tmp_path):
    base = str(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, facts["l1"])
    page.goto(f"{base}/tickets/{facts['ref']}")
    box = page.locator("textarea[name='reply-body']")
    box.fill("Πρώτη γραμμή.\n\nΤελευταία γραμμή.")
    box.evaluate("b => b.setSelectionRange(14, 14)")  # the empty line between the two
    page.select_option("select[name=canned]", label="Χαιρετισμός μονάδας")
    url = page.url
    page.click("form.canned-insert button")
    assert page.url == url  # inserted in place: no reload, what was typed is kept
    expected = f"Καλημέρα {facts['school']}, για το αίτημα {facts['ref']} (Το προβολικό δεν ανάβει)."
    assert box.input_value() == f"Πρώτη γραμμή.\n{expected}\nΤελευταία γραμμή."
    box.evaluate("b => b.setSelectionRange(b.value.length, b.value.length)")
    page.select_option("select[name=canned]", label="Υπογραφή")
    page.click("form.canned-insert button")
    assert box.input_value().endswith(f"Τελευταία γραμμή.\nΜε εκτίμηση,\n{facts['l1_name']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "canned-inserted.png"), full_page=True)
    with page.expect_navigation():
        page.click("form[action$='/reply'] button.primary")
    assert "Ολοκληρώθηκε" in page.inner_text(".flash")
    timeline = page.inner_text("section.timeline")
    assert expected in timeline and facts["l1_name"] in timeline


def test_without_javascript_the_insert_button_prefills_the_box(browser, live_server, facts):
    context = browser.new_context(locale="el-GR", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, str(live_server), facts["l1"])
        page.goto(f"{live_server}/tickets/{facts['ref']}")
        page.select_option("select[name=canned]", label="Υπογραφή")
        page.click("form.canned-insert button")
        page.wait_for_url(re.compile(r".*\?canned=\d+.*"))
        assert page.locator("textarea[name='reply-body']").input_value() == \
            f"Με εκτίμηση,\n{facts['l1_name']}"
    finally:
        context.close()


def test_a_technician_saves_a_view_and_finds_it_above_the_queue(page, live_server, facts):
    base = str(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, facts["l1"])
    page.goto(f"{base}/tickets?queue=all&priority=2&sort=created")
    page.click("details.save-view summary")
    page.fill("details.save-view input[name=name]", "Κανονικά κατά υποβολή")
    page.click("details.save-view button")
    page.goto(f"{base}/tickets?queue=open")
    page.click("nav.saved-views a:has-text('Κανονικά κατά υποβολή')")
    page.wait_for_url(re.compile(r".*/tickets\?queue=all&priority=2&sort=created$"))
    assert page.locator("nav.saved-views a.active").inner_text() == "Κανονικά κατά υποβολή"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
