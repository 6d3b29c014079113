"""The library's pages: write, edit, read versions, search, files; constant queries."""
from __future__ import annotations

import io
import re

from helpdesk.extensions import db as _db
from helpdesk.kb import services
from helpdesk.kb.models import ArticleStatus, Audience, KbArticle
from helpdesk.kb.services import ArticleInput
from tests.factories import World, at, category
from tests.web import csrf_token, login


def _article(actor, title, body="", audience=Audience.PUBLIC, **kw):
    a = services.create_article(actor, ArticleInput(
        title=title, body=body, category_id=category(kw.pop("code", "HW-PRN")).id,
        audience=audience, status=kw.pop("status", ArticleStatus.PUBLISHED), **kw), now=at(0))
    _db.session.commit()
    return a


def test_an_author_writes_edits_and_reads_the_history(client, db):
    w = World()
    _db.session.commit()
    login(client, w.l2)
    token = csrf_token(client, "/kb/new")
    response = client.post("/kb/new", data={
        "csrf_token": token, "title": "Ο εκτυπωτής μπλοκάρει", "summary": "Χαρτί.",
        "body": "# Βήματα\n\n1. Ανοίξτε το καπάκι.\n<script>alert(1)</script>",
        "category": str(category("HW-PRN").id), "audience": "schools", "status": "published",
        "owner_unit": "", "files": (io.BytesIO(b"%PDF-1.4 guide"), "Οδηγός.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith("/kb/o-ektypotis-mplokarei")
    page = client.get("/kb/o-ektypotis-mplokarei").get_data(as_text=True)
    assert "<h1>Βήματα</h1>" in page and "alert(1)" not in page and "Οδηγός.pdf" in page
    file_url = re.search(r'href="(/kb/o-ektypotis-mplokarei/files/\d+)"', page).group(1)
    download = client.get(file_url)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "attachment" in download.headers["Content-Disposition"]

    token = csrf_token(client, "/kb/o-ektypotis-mplokarei/edit")
    response = client.post("/kb/o-ektypotis-mplokarei/edit", data={
        "csrf_token": token, "title": "Ο εκτυπωτής μπλοκάρει", "summary": "Χαρτί και κύλινδροι.",
        "body": "# Βήματα\n\n1. Ανοίξτε το καπάκι.\n2. Καθαρίστε τους κυλίνδρους.",
        "category": str(category("HW-PRN").id), "audience": "schools", "status": "published",
        "owner_unit": "", "note": "κύλινδροι"})
    assert response.status_code == 302
    history = client.get("/kb/o-ektypotis-mplokarei/history").get_data(as_text=True)
    assert "Έκδοση 2" in history and "κύλινδροι" in history
    v1 = client.get("/kb/o-ektypotis-mplokarei/v/1").get_data(as_text=True)
    assert "Καθαρίστε" not in v1
    v2 = client.get("/kb/o-ektypotis-mplokarei/v/2").get_data(as_text=True)
    assert '<span class="added">+ 2. Καθαρίστε τους κυλίνδρους.</span>' in v2
    assert client.get("/kb/o-ektypotis-mplokarei/v/3").status_code == 404


def test_bad_input_is_refused_in_greek_and_changes_nothing(client, db):
    w = World()
    _db.session.commit()
    login(client, w.l3)
    token = csrf_token(client, "/kb/new")
    response = client.post("/kb/new", data={"csrf_token": token, "title": "Κάτι",
                                            "audience": "everyone", "status": "published"})
    assert response.status_code == 422
    assert _db.session.query(KbArticle).count() == 0
    response = client.post("/kb/new", data={
        "csrf_token": token, "title": "Με κακό αρχείο", "audience": "staff", "status": "draft",
        "files": (io.BytesIO(b"MZ\x90"), "setup.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "δεν αντιστοιχεί" in response.get_data(as_text=True)
    assert _db.session.query(KbArticle).count() == 0


def test_anonymous_search_sees_public_articles_only(client, db):
    w = World()
    _article(w.l2, "Δημόσιος οδηγός εκτυπωτή", "Ο εκτυπωτής <b>τυπώνει</b>.")
    _article(w.l2, "Εσωτερικός οδηγός εκτυπωτή", "Για τεχνικούς.", audience=Audience.STAFF)
    page = client.get("/kb?q=ΕΚΤΥΠΩΤΕΣ").get_data(as_text=True)
    assert "<mark>εκτυπωτή</mark>" in page and "Εσωτερικός" not in page
    assert client.get("/kb/esoterikos-odigos-ektypoti").status_code == 404
    assert client.get("/kb/dimosios-odigos-ektypoti").status_code == 200
    browse = client.get("/kb").get_data(as_text=True)
    assert "Δημόσιος οδηγός" in browse and "Εσωτερικός" not in browse
    assert client.get("/kb/new").status_code == 302  # log in first


def test_images_are_shown_inline_and_files_need_the_article(client, db):
    w = World()
    a = _article(w.l2, "Με εικόνα")
    staff = _article(w.l2, "Εσωτερικό με αρχείο", audience=Audience.STAFF)
    [img] = services.add_files(w.l2, a, [_png()], now=at(1))
    [hidden] = services.add_files(w.l2, staff, [_png()], now=at(1))
    _db.session.commit()
    response = client.get(f"/kb/{a.slug}/files/{img.id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get(f"/kb/{staff.slug}/files/{hidden.id}").status_code == 404
    assert client.get(f"/kb/{a.slug}/files/{hidden.id}").status_code == 404


def _png():
    from helpdesk.tickets.attachments import Upload

    return Upload("σχήμα.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50)


def test_pages_run_a_constant_number_of_queries(client, db, query_counter):
    w = World()
    for i in range(3):
        _article(w.l2, f"Οδηγός εκτυπωτή {i}", "Ο εκτυπωτής.")
    login(client, w.l3)

    def count(url):
        with query_counter() as q:
            assert client.get(url).status_code == 200
        return q.count

    few_browse, few_search = count("/kb"), count("/kb?q=εκτυπωτής")
    for i in range(3, 12):
        _article(w.l2, f"Οδηγός εκτυπωτή {i}", "Ο εκτυπωτής.", code="NET-WIFI")
    assert count("/kb") == few_browse
    assert count("/kb?q=εκτυπωτής") == few_search
