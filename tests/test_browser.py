"""The whole path as real users walk it, in Debian's Chromium driven by Playwright."""
import re

import pytest

from helpdesk.extensions import db as _db
from tests.factories import PASSWORD, World, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(live_server):
    with live_server.app.app_context():
        w = World()
        other = make_ticket(w.user_b, subject="Ιδιωτικό αίτημα σχολείου Β")
        from helpdesk.inventory import services as inventory
        from helpdesk.inventory.models import EquipmentCategory

        printer_kind = _db.session.query(EquipmentCategory).filter_by(code="PRINTER").one()
        printer_item = inventory.add_item(
            w.user_a, w.school_a, now=other.created_at, category_id=printer_kind.id,
            manufacturer="HP", model="LaserJet P2055", serial_number="CNBX900123",
            registry_number="Π-042", location="OFFICE")
        _db.session.commit()
        facts = {
            "school_a": w.user_a.email, "school_b": w.user_b.email, "l1": w.l1.email,
            "l2": w.l2.email, "l3": w.l3.email, "other_ref": other.ref,
            "school_name": w.school_a.name, "printer_item": printer_item.id,
        }
        _db.session.remove()
    return facts


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/tickets.*"))


def log_out(page):
    page.click("header form button:has-text('Αποσύνδεση'), header form button:has-text('Log out')")
    page.wait_for_url(re.compile(r".*/login.*"))


def open_ticket_from_queue(page, base, ref, queue):
    page.goto(f"{base}/tickets?queue={queue}")
    page.click(f"a:has-text('{ref}')")
    page.wait_for_url(re.compile(r".*/tickets/.+"))


def test_request_travels_three_levels_and_back_to_the_school(page, live_server, world, tmp_path):
    base = str(live_server)
    log_in(page, base, world["school_a"])
    page.click("header a.primary")
    printer = page.locator("select[name=category] option", has_text="Εκτυπωτής").first
    page.select_option("select[name=category]", value=printer.get_attribute("value"))
    page.fill("input[name=subject]", "Ο εκτυπωτής του γραφείου δεν τυπώνει")
    page.fill("textarea[name=description]", "Εμφανίζει «εμπλοκή χαρτιού» χωρίς να υπάρχει χαρτί.")
    page.fill("input[data-equipment-filter]", "cnbx900")  # the registry search filters the list
    page.check(f"input[name=equipment][value='{world['printer_item']}']")
    page.click("button[type=submit].primary")
    ref = page.locator("p.ref").inner_text().strip()
    assert re.fullmatch(r"ΑΡ-\d{4}-\d{6}", ref)
    page.screenshot(path=str(tmp_path / "1-school-filed.png"), full_page=True)
    log_out(page)

    log_in(page, base, world["l1"])
    open_ticket_from_queue(page, base, ref, "unassigned")
    page.click("form[action$='/claim'] button")
    page.fill("textarea[name='reply-body']", "Καλημέρα, δοκιμάσατε να αφαιρέσετε το τόνερ;")
    page.click("form[action$='/reply'] button")
    page.fill("textarea[name='note-body']", "Πιθανόν βλάβη αισθητήρα.")
    page.click("form[action$='/note'] button")
    page.fill("textarea[name='escalate-reason']", "Απαιτείται ανταλλακτικό μέσω ΠΣΔ.")
    page.click("form[action$='/escalate'] button")
    assert "2ο επίπεδο" in page.inner_text(".badge.level") or "Level 2" in page.inner_text(".badge.level")
    log_out(page)

    log_in(page, base, world["l2"])
    open_ticket_from_queue(page, base, ref, "unassigned")
    page.fill("textarea[name='escalate-reason']", "Γνωστό θέμα υλικολογισμικού, στον Διόφαντο.")
    page.click("form[action$='/escalate'] button")
    log_out(page)

    log_in(page, base, world["l3"])
    open_ticket_from_queue(page, base, ref, "unassigned")
    page.select_option("select[name='resolve-resolution_type']", index=0)
    page.fill("textarea[name='resolve-text']", "Εγκαταστήστε το νέο firmware από τον οδηγό μας.")
    page.click("form[action$='/resolve'] button")
    page.screenshot(path=str(tmp_path / "2-l3-resolved.png"), full_page=True)
    page.click("section.ticket-equipment a:has-text('LaserJet P2055')")
    page.wait_for_url(re.compile(r".*/equipment/\d+$"))
    assert ref in page.inner_text("section.item-tickets")
    assert "CNBX900123" in page.content()
    assert ref in page.inner_text("section.item-history")
    log_out(page)

    log_in(page, base, world["school_a"])
    page.goto(f"{base}/tickets?queue=all")
    page.click(f"a:has-text('{ref}')")
    timeline = page.inner_text("section.timeline")
    assert "Εγκαταστήστε το νέο firmware" in timeline
    assert "Καλημέρα, δοκιμάσατε" in timeline
    assert "Απαιτείται ανταλλακτικό μέσω ΠΣΔ." in timeline
    assert "Γνωστό θέμα υλικολογισμικού" in timeline
    assert "Πιθανόν βλάβη αισθητήρα" not in timeline
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "3-school-phone.png"), full_page=True)

    response = page.goto(f"{base}/tickets/{world['other_ref']}")
    assert response.status == 404
    assert "Ιδιωτικό αίτημα σχολείου Β" not in page.content()
