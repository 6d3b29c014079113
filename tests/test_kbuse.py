"""The library at work on requests (issue 15): suggestions while a school files, "this
solved it" (deflections), guides inserted in replies, resolving by a guide, the library
report, and their statement counts."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpdesk.core.errors import ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.kb import services as kb_services
from helpdesk.kb.models import ArticleStatus, Audience
from helpdesk.kb.services import ArticleInput
from helpdesk.kbuse import rules, services
from helpdesk.kbuse.models import KbDeflection, TicketArticle, Use
from helpdesk.tickets.models import Ticket
from tests.factories import World, at, category, make_ticket, resolution
from tests.web import act, csrf_token, login


def _article(actor, title, audience=Audience.SCHOOLS, summary="Βήματα για τη λύση.", **kw):
    return kb_services.create_article(actor, ArticleInput(
        title=title, summary=summary, body=kw.pop("body", "Ανοίξτε το καπάκι και βγάλτε το χαρτί."),
        category_id=category(kw.pop("code", "HW-PRN")).id, audience=audience,
        status=kw.pop("status", ArticleStatus.PUBLISHED), **kw), now=at(0))


@pytest.fixture
def world(db):
    w = World()
    w.paper = _article(w.admin, "Ο εκτυπωτής μπλοκάρει το χαρτί")
    w.public = _article(w.admin, "Εκτυπωτής: οδηγός εγκατάστασης", audience=Audience.PUBLIC)
    w.staff_only = _article(w.admin, "Εκτυπωτής: εσωτερικές ρυθμίσεις", audience=Audience.STAFF)
    w.draft = _article(w.admin, "Εκτυπωτής: πρόχειρο", status=ArticleStatus.DRAFT)
    _db.session.commit()
    return w


# --- pure rules ------------------------------------------------------------------------------

def test_linked_slugs_and_inserted_text_and_the_rate():
    text = "Δείτε http://x/kb/o-ektypotis-2 και /kb/o-ektypotis-2/history, /kb/new, /kb/abc."
    assert rules.linked_slugs(text) == ["o-ektypotis-2", "abc"]
    assert rules.inserted_text("Τίτλος", "http://x/kb/t", "Σύνοψη.") == \
        "Τίτλος: http://x/kb/t\nΣύνοψη."
    assert rules.inserted_text("Τίτλος", "u", "") == "Τίτλος: u"
    assert rules.deflection_rate(0, 0) is None
    assert rules.deflection_rate(1, 3) == 25.0


# --- services ---------------------------------------------------------------------------------

def test_a_school_is_suggested_what_it_may_read(app, world):
    from helpdesk.kbuse import queries

    with app.test_request_context():
        found = queries.suggestions(world.user_a, "εκτυπωτής μπλοκάρει", category("HW-PRN").id, [])
    ids = [a.id for a in found]
    assert world.paper.id in ids and len(ids) <= 5
    assert world.staff_only.id not in ids and world.draft.id not in ids


def test_deflect_records_and_refuses_what_the_school_may_not_read(world):
    d = services.deflect(world.user_a, world.paper.id, category_id=category("HW-PRN").id,
                         subject="Μπλοκάρει", now=at(5))
    assert (d.school_id, d.article_id, d.category_id) == (
        world.school_a.id, world.paper.id, category("HW-PRN").id)
    assert d.unit_id is not None
    from helpdesk.core.errors import NotFound, PermissionDenied
    with pytest.raises(NotFound):
        services.deflect(world.user_a, world.staff_only.id, category_id=None, subject="", now=at(5))
    with pytest.raises(PermissionDenied):
        services.deflect(world.l1, world.paper.id, category_id=None, subject="", now=at(5))


def test_replies_record_linked_guides_and_resolve_by_guide(world):
    t = make_ticket(world.user_a)
    services.record_suggested(world.user_a, t, [world.paper.id, world.staff_only.id], at(1))
    services.reply(world.l1, t, f"Δείτε http://h/kb/{world.paper.slug} και /kb/{world.draft.slug}",
                   now=at(2))
    # a school's link records nothing
    services.reply(world.user_a, t, f"Και το /kb/{world.public.slug};", now=at(3))
    with pytest.raises(ValidationFailed):
        services.resolve(world.l1, t, resolution("GUIDE"), "Λύθηκε με τον οδηγό.", now=at(4))
    services.resolve(world.l1, t, resolution("GUIDE"), "Λύθηκε με τον οδηγό.", now=at(4),
                     guide_id=world.paper.id)
    rows = set(_db.session.execute(select(TicketArticle.article_id, TicketArticle.use)).all())
    assert rows == {(world.paper.id, Use.SUGGESTED), (world.paper.id, Use.REPLY),
                    (world.paper.id, Use.RESOLUTION)}
    assert t.status == "resolved" and t.resolution_type.code == "GUIDE"


def test_resolve_by_guide_takes_the_answers_link(world):
    t = make_ticket(world.user_a)
    services.resolve(world.l1, t, resolution("GUIDE"), f"Δείτε /kb/{world.public.slug}",
                     now=at(4))
    assert _db.session.scalar(select(TicketArticle.article_id).where(
        TicketArticle.use == Use.RESOLUTION)) == world.public.id


# --- pages ------------------------------------------------------------------------------------

def test_suggestions_and_this_solved_it_file_nothing(client, world, query_counter):
    _db.session.commit()
    login(client, world.user_a)
    page = client.get("/tickets/new").get_data(as_text=True)
    assert 'id="kb-suggestions"' in page and 'name="suggested"' in page
    # the panel sits under the subject, inside the request's form; "this solved it" posts
    # a form of its own outside it (forms do not nest)
    filing_ends = page.index("</form>", page.index('class="card filing"'))
    assert page.index('name="subject"') < page.index('id="kb-suggestions"') < filing_ends
    assert page.index('id="kb-solved-form"') > filing_ends
    url = f"/tickets/new/suggestions?subject=μπλοκάρει+χαρτί&category={category('HW-PRN').id}"
    client.get(url)
    with query_counter() as q:
        html = client.get(url).get_data(as_text=True)
    assert q.count <= 12, q.statements
    assert world.paper.title in html and "Αυτό το έλυσε" in html
    assert world.staff_only.title not in html
    assert f'data-article="{world.paper.id}"' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    tickets_before = _db.session.scalar(select(func.count(Ticket.id)))
    response = client.post("/tickets/new/solved", data={
        "csrf_token": token, "article": str(world.paper.id),
        "category": str(category("HW-PRN").id), "subject": "μπλοκάρει χαρτί"})
    assert response.status_code == 302
    assert _db.session.scalar(select(func.count(Ticket.id))) == tickets_before
    assert _db.session.scalar(select(func.count(KbDeflection.id))) == 1
    # a staff article cannot be "solved" by a school
    assert client.post("/tickets/new/solved", data={
        "csrf_token": token, "article": str(world.staff_only.id)}).status_code == 404


def test_filing_after_suggestions_is_counted(client, world):
    login(client, world.user_a)
    token = csrf_token(client, "/tickets/new")
    response = client.post("/tickets/new", data={
        "csrf_token": token, "category": str(category("HW-PRN").id),
        "subject": "Ο εκτυπωτής μπλοκάρει", "description": "Μπλοκάρει το χαρτί συνέχεια.",
        "priority": "2", "suggested": f"{world.paper.id},{world.staff_only.id},x"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert _db.session.execute(select(TicketArticle.article_id, TicketArticle.use)).all() == [
        (world.paper.id, Use.SUGGESTED)]


def test_guide_picker_insert_reply_and_resolve_by_guide(client, world):
    t = make_ticket(world.user_a)
    _db.session.commit()
    login(client, world.l1)
    items = client.get("/tickets/guides?q=εκτυπωτής").get_json()["items"]
    titles = {i["title"] for i in items}
    assert world.staff_only.title in titles and world.draft.title not in titles
    paper = next(i for i in items if i["id"] == world.paper.id)
    assert paper["text"].startswith(f"{world.paper.title}: http") and "Βήματα" in paper["text"]
    # without JavaScript: ?guide_q= lists, ?guide= fills the reply box
    page = client.get(f"/tickets/{t.ref}?guide_q=μπλοκάρει").get_data(as_text=True)
    assert f'value="{world.paper.id}"' in page
    page = client.get(f"/tickets/{t.ref}?guide={world.paper.id}").get_data(as_text=True)
    assert f"/kb/{world.paper.slug}" in page
    assert act(client, t.ref, "reply", body=paper["text"]).status_code == 302
    page = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert "Οδηγοί που χρησιμοποιήθηκαν" in page
    guide_type = resolution("GUIDE").id
    assert act(client, t.ref, "resolve", resolution_type=str(guide_type), guide=str(world.paper.id),
               text="Λύθηκε με τον οδηγό.").status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Ticket, t.id).status == "resolved"
    article_page = client.get(f"/kb/{world.paper.slug}").get_data(as_text=True)
    assert "Χρησιμοποιήθηκε σε 1 αίτημα" in article_page
    client._cookies.clear()  # sign out (the log-in page redirects a signed-in user)
    login(client, world.user_a)
    assert "Χρησιμοποιήθηκε" not in client.get(f"/kb/{world.paper.slug}").get_data(as_text=True)


def test_library_report(client, world, query_counter):
    services.deflect(world.user_a, world.paper.id, category_id=category("HW-PRN").id,
                     subject="", now=at(5))
    t = make_ticket(world.user_a)
    services.record_suggested(world.user_a, t, [world.paper.id], at(1))
    services.reply(world.l1, t, f"/kb/{world.paper.slug}", now=at(2))
    _db.session.commit()
    login(client, world.admin)
    args = "?from=2025-06-01&to=2027-12-31"
    client.get("/reports/library" + args)
    with query_counter() as q:
        html = client.get("/reports/library" + args).get_data(as_text=True)
    assert q.count <= 16, q.statements
    assert 'id="deflections">1<' in html and 'id="filed-after-suggestions">1<' in html
    assert 'id="deflection-rate">50,0%<' in html
    assert world.paper.title in html
    client._cookies.clear()
    login(client, world.l1_far)  # another region: none of school A's deflections
    html = client.get("/reports/library" + args).get_data(as_text=True)
    assert 'id="deflections">0<' in html
