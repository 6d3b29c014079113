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
        phone = _phone_data(w, printer_item)
        facts = {
            "school_a": w.user_a.email, "school_b": w.user_b.email, "l1": w.l1.email,
            "l2": w.l2.email, "l3": w.l3.email, "other_ref": other.ref,
            "school_name": w.school_a.name, "printer_item": printer_item.id,
            "manager": w.manager.email, "admin": w.admin.email, "school_code": w.school_a.code,
            **phone,
        }
        _db.session.remove()
    return facts


def _phone_data(w, item) -> dict:
    """What the main pages show, with long words: a ticket that went up all three levels,
    a census campaign, a quarantined mail message, a webhook with a failed delivery."""
    import hashlib
    from datetime import date, timedelta

    from helpdesk.api import webhooks
    from helpdesk.api.webhook_models import WebhookDelivery
    from helpdesk.census import services as census
    from helpdesk.core.types import utcnow
    from helpdesk.mail.models import InboundMessage
    from helpdesk.tickets import services

    long_url = "https://drive.example.org/" + "a1b2c3d4e5" * 8
    ticket = make_ticket(w.user_a, subject="Ο διακομιστής του εργαστηρίου πληροφορικής δεν "
                         "ξεκινά μετά την αναβάθμιση υλικολογισμικού",
                         description=f"Οδηγίες στο {long_url} χωρίς αποτέλεσμα.")
    services.escalate(w.l1, ticket, f"Δείτε {long_url}", now=ticket.created_at + timedelta(hours=1))
    services.escalate(w.l2, ticket, "Στον Διόφαντο.", now=ticket.created_at + timedelta(hours=2))
    now = utcnow()
    campaign = census.open_census(w.admin, title="Απογραφή εξοπλισμού σχολικού έτους 2026–2027",
                                  opens_on=now.date(), deadline=now.date() + timedelta(days=30),
                                  now=now, school_types=[w.school_a.school_type])
    census.submit(w.user_a, campaign, w.school_a, now=now)
    raw = f"From: parent@example.org\r\nSubject: {long_url}\r\n\r\n{long_url}".encode()
    inbound = InboundMessage(key="phone@test", raw=raw, size=len(raw), source="cli",
                             sha256=hashlib.sha256(raw).hexdigest(), status="quarantined",
                             reason="unknown_sender", from_addr="parent.with.a.long.name@example.org",
                             subject=long_url)
    _db.session.add(inbound)
    sub, _secret = webhooks.subscribe(w.admin, "http://127.0.0.1:9/" + "hook" * 20,
                                      ["ticket.created", "ticket.escalated"], now=now,
                                      allow_private=True)
    _db.session.add(WebhookDelivery(subscription=sub, event="ticket.created", payload={},
                                    status="failed", attempts=6, last_status=None,
                                    last_error="<urlopen error [Errno 111] Connection refused>"))
    _db.session.commit()
    del date
    return {"ref": ticket.ref, "census": campaign.id, "inbound": inbound.id, "webhook": sub.id,
            "item": item.id}


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
    page.check("input[name='escalate-tell_school']")  # this reason the school may read
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
    assert "Απαιτείται ανταλλακτικό μέσω ΠΣΔ." not in timeline  # staff-to-staff by default
    assert "Γνωστό θέμα υλικολογισμικού" in timeline  # shared on purpose
    assert timeline.count("Κλιμακώθηκε") == 2  # the school sees both moves
    assert "Πιθανόν βλάβη αισθητήρα" not in timeline
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "3-school-phone.png"), full_page=True)

    response = page.goto(f"{base}/tickets/{world['other_ref']}")
    assert response.status == 404
    assert "Ιδιωτικό αίτημα σχολείου Β" not in page.content()


# --- a phone, 390 px wide: every main page of every role fits without sideways scrolling ----

@pytest.fixture
def many_log_ins():
    """Six people log in from 127.0.0.1 within a minute: more than the per-address log-in
    limit allows (the limit has tests of its own), so it is off for these tests."""
    from helpdesk.extensions import limiter

    was = limiter.enabled
    limiter.enabled = False
    yield
    limiter.enabled = was


def _main_pages(role: str, f: dict) -> list[str]:
    ticket, code, item, census = f["ref"], f["school_code"], f["item"], f["census"]
    everyone = ["/account", "/account/tokens", "/equipment", f"/equipment/school/{code}",
                f"/equipment/{item}", "/census", f"/tickets/{ticket}"]
    if role == "school_a":
        return everyone + ["/tickets?queue=open", "/tickets?queue=all", "/tickets/new",
                           f"/equipment/{item}/edit", f"/equipment/school/{code}/new",
                           "/equipment/import", f"/census/{census}"]
    reports = ["/reports/", "/reports/compliance", "/reports/health", "/reports/backlog",
               "/reports/compliance?group=directorate", "/reports/health?group=unit",
               "/reports/compliance?group=channel",
               # filing for a school of the area (every staff role here serves school A)
               "/tickets/new/school?q=γυμνασιο", f"/tickets/new/school/{code}"]
    if role != "admin":
        queues = [f"/tickets?queue={q}" for q in
                  ("unassigned", "mine", "waiting", "breaching", "escalated", "open", "all")]
        return everyone + queues + reports + [f"/census/{census}",
                                              f"/census/{census}/procurement"]
    return everyone + reports + [
        "/tickets?queue=open", "/tickets?queue=all", "/equipment/import", "/census/new",
        f"/census/{census}", f"/census/{census}/procurement", f"/census/{census}/school/{code}",
        "/census/verify", "/admin/mail/", "/admin/mail/?status=ignored",
        f"/admin/mail/{f['inbound']}", "/admin/sla", "/admin/sla/hours", "/admin/sla/closures",
        "/admin/sla/policies/2", "/admin/sla/overrides/new", "/admin/webhooks",
        f"/admin/webhooks/{f['webhook']}", "/api/v1/docs"]


def test_every_main_page_fits_a_phone(page, live_server, world, many_log_ins):
    base = str(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = []
    for role in ("school_a", "l1", "l2", "l3", "manager", "admin"):
        log_in(page, base, world[role])
        for path in _main_pages(role, world):
            response = page.goto(base + path)
            assert response.status < 400, (role, path, response.status)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > 391)
                    .slice(0, 3).map(e => e.tagName + '.' + e.className + ' '
                        + Math.round(e.getBoundingClientRect().right))""")
                too_wide.append((role, path, width, wide))
        log_out(page)
    assert too_wide == [], "\n".join(map(str, too_wide))


def test_charts_are_legible_on_a_phone(page, live_server, world, many_log_ins):
    """The chart's text is drawn at 11 CSS pixels or more at 390 px (it may scroll inside
    its box, never the page)."""
    base = str(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, world["manager"])
    for report in ("compliance", "health", "backlog"):
        page.goto(f"{base}/reports/{report}?from=2026-01-01&to=2026-12-31")
        sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart text')]
            .map(t => t.getBoundingClientRect().height)""")
        assert sizes and min(sizes) >= 11, (report, min(sizes or [0]))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


# --- a technician files for a school after its phone call (issue 14) ---------------------------

def _unaccented(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn").lower()


def test_a_technician_files_for_a_school_found_without_accents(page, live_server, world,
                                                             many_log_ins, tmp_path):
    base, code = str(live_server), world["school_code"]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base, world["l1"])
    page.click("header a.primary")  # «Νέο αίτημα για σχολείο»
    page.wait_for_url(re.compile(r".*/tickets/new/school$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # part of the name, no accents, lower case: the list fills from the lookup as one types
    typed = _unaccented(world["school_name"]).split(" ", 1)[1]  # e.g. "γυμνασιο δοκιμης"
    assert typed != world["school_name"].split(" ", 1)[1]
    page.type("#school-q", typed, delay=20)
    page.click(f"#school-results a[href$='/tickets/new/school/{code}']")
    page.wait_for_url(re.compile(rf".*/tickets/new/school/{code}$"))
    assert world["school_name"] in page.inner_text(".school-picked")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("select[name=channel]", value="phone")
    printer = page.locator("select[name=category] option", has_text="Εκτυπωτής").first
    page.select_option("select[name=category]", value=printer.get_attribute("value"))
    page.fill("input[name=subject]", "Τηλεφώνησαν: ο εκτυπωτής της γραμματείας σταμάτησε")
    page.fill("textarea[name=description]", "Ο διευθυντής τηλεφώνησε στις 9:10, δεν τυπώνει τίποτα.")
    page.fill("input[data-equipment-filter]", "cnbx900")
    page.check(f"input[name=equipment][value='{world['printer_item']}']")
    page.screenshot(path=str(tmp_path / "on-behalf-form.png"), full_page=True)
    page.click("button[type=submit].primary")
    ref = page.locator("p.ref").inner_text().strip()
    assert re.fullmatch(r"ΑΡ-\d{4}-\d{6}", ref)
    assert "εκ μέρους του σχολείου (τηλέφωνο)" in page.inner_text("section.timeline")
    assert "LaserJet P2055" in page.inner_text("section.ticket-equipment")
    log_out(page)

    log_in(page, base, world["school_a"])
    page.goto(f"{base}/tickets?queue=all")
    page.click(f"a:has-text('{ref}')")
    timeline = page.inner_text("section.timeline")
    assert "Τηλεφώνησαν: ο εκτυπωτής" in page.inner_text("h1")
    assert "εκ μέρους του σχολείου (τηλέφωνο)" in timeline
    assert "LaserJet P2055" in page.inner_text("section.ticket-equipment")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
