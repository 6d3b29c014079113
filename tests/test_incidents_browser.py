"""Known outages in Chromium (issue 15 §2): a school sees the outage banner on its filing
page and links itself with one click; an update reaches every linked school once (the
outbox rows are checked)."""
import re

import pytest
from sqlalchemy import select

from helpdesk.extensions import db as _db
from tests.factories import PASSWORD, World, at, category

pytestmark = pytest.mark.browser

TITLE = "Διακοπή σύνδεσης με το Πανελλήνιο Σχολικό Δίκτυο"


@pytest.fixture(scope="module")
def outage(live_server):
    from helpdesk.incidents import services

    with live_server.app.app_context():
        w = World()
        incident = services.open_incident(
            w.l2, title=TITLE, body="Διερευνούμε διακοπή στον κόμβο της Θεσσαλονίκης.",
            scope_kind="directorates", scope_ids=[w.school_a.directorate_id],
            category=category("HW-PRN"), now=at(0))
        _db.session.commit()
        facts = {"id": incident.id, "school_a": w.user_a.email, "school_b": w.user_b.email,
                 "far": w.user_far.email, "l2": w.l2.email, "emails": sorted(
                     [w.school_a.email, w.school_b.email])}
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


def say_affected(page, base, email):
    log_in(page, base, email)
    page.goto(f"{base}/tickets/new")
    banner = page.locator("section.outage-banner")
    assert TITLE in banner.inner_text()
    banner.locator("a.button", has_text="Επηρεάζεται και το σχολείο μας").first.click()
    page.wait_for_url(re.compile(r".*/incidents/\d+.*"))
    page.click("button[name=affected]")  # nothing to type
    page.wait_for_url(re.compile(r".*/tickets/.+"))
    assert "Συνδεδεμένο με τη βλάβη" in page.content()
    ref = page.locator("p.ref").inner_text().strip()
    log_out(page)
    return ref


def test_schools_link_themselves_and_an_update_reaches_each_once(page, live_server, outage):
    import workers.incident_jobs as jobs
    from helpdesk.incidents.models import IncidentUpdate
    from helpdesk.outbox.models import Notification

    base = str(live_server)
    refs = [say_affected(page, base, outage["school_a"]),
            say_affected(page, base, outage["school_b"])]
    assert len(set(refs)) == 2

    log_in(page, base, outage["far"])  # out of scope: no banner
    page.goto(f"{base}/tickets/new")
    assert page.locator("section.outage-banner").count() == 0
    log_out(page)

    log_in(page, base, outage["l2"])
    page.goto(f"{base}/incidents/{outage['id']}")
    page.fill("textarea[name=body]", "Εντοπίστηκε βλάβη στον δρομολογητή του κόμβου.")
    page.select_option("select[name=status]", value="identified")
    page.click("button:has-text('Δημοσίευση ενημέρωσης')")
    page.wait_for_url(re.compile(rf".*/incidents/{outage['id']}$"))
    assert "Εντοπίστηκε βλάβη στον δρομολογητή" in page.content()
    log_out(page)

    with live_server.app.app_context():  # the bulk worker's job, run twice (a retry)
        update_id = _db.session.scalar(select(IncidentUpdate.id).where(
            IncidentUpdate.incident_id == outage["id"], IncidentUpdate.status == "identified"))
        jobs._run(update_id)
        jobs._run(update_id)
        mails = _db.session.scalars(select(Notification.recipient_email).where(
            Notification.dedupe_key.like(f"incident:{update_id}:school:%"))).all()
        _db.session.remove()
    assert sorted(mails) == outage["emails"]

    log_in(page, base, outage["school_a"])
    page.goto(f"{base}/tickets/{refs[0]}")
    assert "Εντοπίστηκε βλάβη στον δρομολογητή του κόμβου." in page.content()
