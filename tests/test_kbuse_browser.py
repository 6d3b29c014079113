"""The library at work, in Debian's Chromium (issue 15): a school types a subject, is
suggested a guide, says "this solved it" and files nothing, and the library report counts
it; a technician inserts a guide in a reply and resolves the request by that guide."""
import re

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db as _db
from helpdesk.kb import services as kb_services
from helpdesk.kb.models import ArticleStatus, Audience
from helpdesk.kb.services import ArticleInput
from tests.factories import T0, World, category, make_ticket
from tests.test_browser import log_in, log_out

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def facts(live_server):
    with live_server.app.app_context():
        w = World()
        article = kb_services.create_article(w.admin, ArticleInput(
            title="Ο βιντεοπροβολέας δεν βρίσκει σήμα", summary="Ελέγξτε την πηγή εισόδου HDMI.",
            body="Πατήστε το κουμπί Source μέχρι να εμφανιστεί η εικόνα.",
            category_id=category("HW-PRN").id, audience=Audience.SCHOOLS,
            status=ArticleStatus.PUBLISHED), now=T0)
        ticket = make_ticket(w.user_a, subject="Ο βιντεοπροβολέας δείχνει μαύρη οθόνη")
        _db.session.commit()
        out = {"school": w.user_a.email, "l1": w.l1.email, "admin": w.admin.email,
               "title": article.title, "slug": article.slug, "article_id": article.id,
               "ref": ticket.ref}
        _db.session.remove()
    return out


def _count(live_server, model):
    with live_server.app.app_context():
        n = _db.session.scalar(select(func.count(model.id)))
        _db.session.remove()
    return n


def test_a_school_is_helped_by_a_guide_and_files_nothing(page, live_server, facts):
    from helpdesk.kbuse.models import KbDeflection
    from helpdesk.tickets.models import Ticket

    base = str(live_server)
    tickets_before = _count(live_server, Ticket)
    log_in(page, base, facts["school"])
    page.goto(f"{base}/tickets/new")
    page.fill("input[name=subject]", "βιντεοπροβολέας χωρίς σήμα")
    suggestion = page.locator("#kb-suggestions li", has_text=facts["title"])
    suggestion.wait_for()
    assert suggestion.locator("a").get_attribute("href") == f"/kb/{facts['slug']}"
    with page.expect_navigation():
        suggestion.locator("button", has_text="Αυτό το έλυσε").click()
    assert "Δεν υποβλήθηκε αίτημα" in page.inner_text(".flash")
    assert _count(live_server, Ticket) == tickets_before
    assert _count(live_server, KbDeflection) == 1
    log_out(page)
    log_in(page, base, facts["admin"])
    page.goto(f"{base}/reports/library?from=2025-06-01&to=2027-12-31")
    assert page.inner_text("#deflections") == "1"
    assert facts["title"] in page.inner_text("#library-articles")


def test_a_technician_inserts_a_guide_and_resolves_by_it(page, live_server, facts):
    base = str(live_server)
    log_in(page, base, facts["l1"])
    page.goto(f"{base}/tickets/{facts['ref']}")
    page.fill("#guide-q", "βιντεοπροβολέας")
    page.locator(f"#guide-pick option[value='{facts['article_id']}']").wait_for(state="attached")
    page.select_option("#guide-pick", value=str(facts["article_id"]))
    url = page.url
    page.click("form.guide-picker button")
    assert page.url == url  # inserted in place
    box = page.locator("textarea[name='reply-body']")
    text = box.input_value()
    assert text.startswith(f"{facts['title']}: http") and f"/kb/{facts['slug']}" in text
    assert "Ελέγξτε την πηγή εισόδου HDMI." in text
    with page.expect_navigation():
        page.click("form[action$='/reply'] button.primary")
    assert "Ολοκληρώθηκε" in page.inner_text(".flash"), page.inner_text("main")[:1500]
    from helpdesk.kbuse.models import TicketArticle
    assert _count(live_server, TicketArticle) >= 1, (text, facts)
    assert facts["title"] in page.inner_text("section.guides-used")
    page.select_option("select[name='resolve-resolution_type']", label="Με οδηγό της Βιβλιοθήκης")
    page.select_option("select[name='resolve-guide']", value=str(facts["article_id"]))
    page.fill("textarea[name='resolve-text']", "Λύθηκε με τον οδηγό της Βιβλιοθήκης.")
    with page.expect_navigation():
        page.click("form[action$='/resolve'] button.primary")
    assert "έλυσε το αίτημα" in page.inner_text("section.guides-used")
    page.goto(f"{base}/kb/{facts['slug']}")
    assert re.search(r"Χρησιμοποιήθηκε σε 1 αίτημα", page.inner_text(".kb-used-in"))
