"""The library of guides: versions, audiences, who writes, search in Greek, sanitising.

The search tests run on SQLite (FTS5 + the Python stemmer) and on PostgreSQL (the
helpdesk_greek configuration + trigrams) unchanged: run the file with TEST_DATABASE_URL.
"""
from __future__ import annotations

import pytest

from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.inventory.models import EquipmentCategory
from helpdesk.kb import queries, render, rules, services
from helpdesk.kb.models import ArticleStatus, Audience, KbArticle, KbVersion
from helpdesk.kb.services import ArticleInput
from helpdesk.permissions import can_author_kb, can_edit_kb_article, can_view_kb_article
from helpdesk.tickets.attachments import Upload
from tests.factories import World, at, category


@pytest.fixture
def w(db):
    return World()


def article(actor, title, body="", *, audience=Audience.PUBLIC, status=ArticleStatus.PUBLISHED,
            summary="", code="HW-PRN", owner_unit_id=None, equipment=(), minutes=0):
    return services.create_article(actor, ArticleInput(
        title=title, body=body, summary=summary, category_id=category(code).id,
        audience=audience, status=status, owner_unit_id=owner_unit_id,
        equipment_category_ids=list(equipment)), now=at(minutes))


def titles(results):
    return [r.article.title for r in results]


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [("εκτυπωτές", "εκτυπωτή"), ("ΕΚΤΥΠΩΤΗΣ", "εκτυπωτών"),
                                  ("ρυθμίσεις", "ρύθμιση"), ("προβλήματα", "πρόβλημα"),
                                  ("δικτύου", "δίκτυα"), ("εργαστηρίου", "Εργαστήριο")])
def test_inflections_share_a_stem(a, b):
    assert rules.stem_text(a) == rules.stem_text(b)


def test_different_words_keep_different_stems():
    assert rules.stem_text("εκτυπωτής") != rules.stem_text("υπολογιστής")
    assert rules.stem_text("LTSP") == "ltsp"


def test_slugs_are_latin_and_stable():
    assert rules.slugify("Εκτυπωτής HP: δεν τυπώνει;") == "ektypotis-hp-den-typonei"
    assert rules.slugify("!!!") == "article"


def test_snippet_escapes_before_highlighting():
    text = "Γράψτε <script>alert(1)</script> και ο εκτυπωτής τυπώνει."
    html = str(rules.snippet(text, rules.query_terms("εκτυπωτες script")))
    assert "<script>" not in html
    assert "&lt;<mark>script</mark>&gt;" in html
    assert "<mark>εκτυπωτής</mark>" in html


def test_line_diff():
    assert rules.line_diff("α\nβ", "α\nγ") == [("same", "α"), ("removed", "β"), ("added", "γ")]


# --- sanitising ----------------------------------------------------------------------------------

@pytest.mark.parametrize("markdown, forbidden", [
    ("<script>alert(1)</script>κείμενο", "<script"),
    ('<img src="x.png" onerror="alert(1)">', "onerror"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ("[x](javascript:alert(1))", 'href="javascript'),
    ('<p style="color:red" onclick="x()">α</p>', "onclick"),
    ('<iframe src="https://evil.example"></iframe>', "<iframe"),
    ('<a href="data:text/html,<script>">x</a>', "data:"),
])
def test_markdown_is_sanitised(markdown, forbidden):
    assert forbidden not in str(render.to_html(markdown))


def test_markdown_keeps_what_guides_need():
    html = str(render.to_html("# Βήμα 1\n\n**Προσοχή**: `sudo ltsp image`\n\n"
                              "| α | β |\n|---|---|\n| 1 | 2 |\n\n![σχήμα](/kb/x/files/1)"))
    for part in ("<h1>", "<strong>", "<code>", "<table>", '<img src="/kb/x/files/1"'):
        assert part in html
    assert render.to_text("# Τίτλος\n\nΚείμενο <b>έντονο</b>") == "Τίτλος\nΚείμενο έντονο"


# --- versions ------------------------------------------------------------------------------------

def test_every_save_is_a_version_naming_what_changed(w):
    a = article(w.l2, "Ο εκτυπωτής δεν τυπώνει", "Ελέγξτε το χαρτί.")
    assert a.slug == "o-ektypotis-den-typonei" and a.version == 1
    changed = services.update_article(w.l3, a, ArticleInput(
        title="Ο εκτυπωτής δεν τυπώνει", body="Ελέγξτε το χαρτί και το τόνερ.",
        summary="Χαρτί, τόνερ.", category_id=a.category_id, audience=a.audience,
        status=a.status, note="τόνερ"), now=at(5))
    assert changed == ["summary", "body"]
    assert services.update_article(w.l3, a, ArticleInput(
        title=a.title, body=a.body, summary=a.summary, category_id=a.category_id,
        audience=a.audience, status=a.status), now=at(6)) == []
    versions = queries.versions(a)
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].author_id == w.l3.id and versions[0].changed == ["summary", "body"]
    assert versions[0].note == "τόνερ" and versions[1].changed == ["created"]
    assert queries.version(a, 1).body == "Ελέγξτε το χαρτί."
    assert a.version == 2 and a.updated_by_id == w.l3.id and a.slug == "o-ektypotis-den-typonei"


def test_slugs_are_unique_and_skip_reserved_words(w):
    first = article(w.l2, "Εκτυπωτής")
    second = article(w.l2, "Εκτυπωτής")
    assert (first.slug, second.slug) == ("ektypotis", "ektypotis-2")
    assert article(w.l2, "New").slug == "new-1"


def test_bad_input_changes_nothing(w):
    with pytest.raises(ValidationFailed):
        article(w.l2, "   ")
    with pytest.raises(ValidationFailed):
        article(w.l2, "Τίτλος", audience="everyone")
    assert _db.session.query(KbArticle).count() == 0


# --- who writes and who reads -----------------------------------------------------------------

def test_authors_are_level_2_3_staff_managers_and_admins(w):
    assert [can_author_kb(u) for u in (w.user_a, w.l1, w.l2, w.l3, w.manager, w.admin, None)] \
        == [False, False, True, True, True, True, False]
    with pytest.raises(PermissionDenied):
        article(w.l1, "Από το επίπεδο 1")
    with pytest.raises(PermissionDenied):
        article(w.user_a, "Από σχολείο")


def test_a_units_own_articles_are_edited_by_its_people_only(w):
    unit_id = w.manager.memberships[0].unit_id  # the manager's level-1 unit (w.l1's too)
    own = article(w.manager, "Οδηγός της ΠΛΗΝΕΤ", owner_unit_id=unit_id,
                  audience=Audience.STAFF)
    assert can_edit_kb_article(w.l1, own) and can_edit_kb_article(w.admin, own)
    assert not can_edit_kb_article(w.l2, own) and not can_edit_kb_article(w.l1_far, own)
    with pytest.raises(PermissionDenied):  # l2 reads it (staff) but may not edit it
        services.update_article(w.l2, own, ArticleInput(title="Άλλο"), now=at(1))
    with pytest.raises(PermissionDenied):  # nor write for a unit that is not theirs
        article(w.l2, "Ξένο", owner_unit_id=unit_id)
    services.update_article(w.l1, own, ArticleInput(
        title="Οδηγός της ΠΛΗΝΕΤ (νέος)", audience=Audience.STAFF,
        status=ArticleStatus.PUBLISHED, category_id=own.category_id,
        owner_unit_id=unit_id), now=at(2))
    assert own.version == 2


def test_audiences(w):
    public = article(w.l2, "Δημόσιος οδηγός εκτυπωτή", audience=Audience.PUBLIC)
    schools = article(w.l2, "Οδηγός εκτυπωτή για σχολεία", audience=Audience.SCHOOLS)
    staff = article(w.l2, "Εσωτερικός οδηγός εκτυπωτή", audience=Audience.STAFF)
    draft = article(w.l2, "Πρόχειρο για εκτυπωτή", audience=Audience.PUBLIC,
                    status=ArticleStatus.DRAFT)
    seen = {name: {a.title for a in queries.browse(user)} for name, user in
            (("anonymous", None), ("school", w.user_a), ("l1", w.l1), ("admin", w.admin))}
    assert seen["anonymous"] == {public.title}
    assert seen["school"] == {public.title, schools.title}
    assert seen["l1"] == seen["admin"] == {public.title, schools.title, staff.title}
    for user in (None, w.user_a, w.l1):
        assert set(titles(queries.find(user, "εκτυπωτής"))) == seen[
            {None: "anonymous", w.user_a: "school", w.l1: "l1"}[user]]
    assert not can_view_kb_article(w.user_a, staff) and not can_view_kb_article(None, draft)
    assert can_view_kb_article(w.l3, draft) and not can_view_kb_article(w.l1, draft)
    assert [d.title for d in queries.drafts(w.l3)] == [draft.title]
    assert queries.drafts(w.user_a) == [] and queries.drafts(None) == []


def test_edit_of_an_unseen_article_is_not_found(w):
    staff = article(w.l2, "Εσωτερικό", audience=Audience.STAFF)
    with pytest.raises(NotFound):
        services.update_article(w.user_a, staff, ArticleInput(title="x"), now=at(1))


def test_files_are_checked_and_kept(w, app):
    a = article(w.l2, "Οδηγός ΣΕΠΕΗΥ")
    pdf = Upload("Οδηγός εγκατάστασης.pdf", b"%PDF-1.4\n" + b"x" * 100)
    [row] = services.add_files(w.l2, a, [pdf], now=at(1))
    assert row.content_type == "application/pdf" and row.filename == "Οδηγός εγκατάστασης.pdf"
    assert (services.files_directory() / row.stored_name).read_bytes().startswith(b"%PDF")
    with pytest.raises(ValidationFailed):
        services.add_files(w.l2, a, [Upload("κακό.pdf", b"MZ\x90\x00")], now=at(2))
    with pytest.raises(PermissionDenied):
        services.add_files(w.l1, a, [pdf], now=at(3))
    assert services.remove_files(w.l2, a, [row.id]) == 1


# --- search ----------------------------------------------------------------------------------

@pytest.fixture
def library(w):
    article(w.l2, "Ο εκτυπωτής δεν τυπώνει", "Ελέγξτε αν ο εκτυπωτή έχει χαρτί και τόνερ.",
            summary="Χαρτί, τόνερ, ουρά εκτύπωσης.", minutes=1)
    article(w.l2, "Ρύθμιση ασύρματου δικτύου Wi-Fi", "Τα σημεία πρόσβασης (access points) "
            "του σχολείου και ο κωδικός του δικτύου.", code="NET-WIFI", minutes=2)
    article(w.l2, "Επανεκκίνηση εξυπηρετητή LTSP", "Αν οι σταθμοί εργασίας δεν εκκινούν, "
            "ελέγξτε τον εξυπηρετητή και το δίκτυο. Δείτε και τον εκτυπωτή του εργαστηρίου.",
            code="SW-LTSP", minutes=3)
    article(w.l2, "Κωδικός ηλεκτρονικού ταχυδρομείου sch.gr",
            "Αλλαγή κωδικού στο `<script>alert(1)</script>` webmail.", code="MAIL", minutes=4)
    _db.session.flush()
    return w


@pytest.mark.parametrize("query", ["εκτυπωτές", "ΕΚΤΥΠΩΤΗΣ", "εκτυπωτη", "Εκτυπωτών",
                                   "εκτυπωτης"])
def test_accents_case_and_inflection(library, query):
    found = titles(queries.find(None, query))
    assert found[0] == "Ο εκτυπωτής δεν τυπώνει"
    assert "Επανεκκίνηση εξυπηρετητή LTSP" in found  # in its text, ranked after the title


def test_two_words_and_ranking(library):
    assert titles(queries.find(None, "κωδικός δικτύου")) == ["Ρύθμιση ασύρματου δικτύου Wi-Fi"]
    # any word when no article has both
    assert set(titles(queries.find(None, "ταχυδρομείου ασύρματου"))) == {
        "Ρύθμιση ασύρματου δικτύου Wi-Fi", "Κωδικός ηλεκτρονικού ταχυδρομείου sch.gr"}


def test_a_typo_in_a_title_is_forgiven(library):
    assert titles(queries.find(None, "εκτιπωτης"))[:1] == ["Ο εκτυπωτής δεν τυπώνει"]
    assert titles(queries.find(None, "επανεκινηση")) == ["Επανεκκίνηση εξυπηρετητή LTSP"]


def test_nothing_matches_nonsense(library):
    assert queries.find(None, "ζζζζζζζ") == []
    assert queries.find(None, "   ") == []
    assert queries.find(None, "\"*:&|!()") == []


def test_snippets_are_highlighted_and_escaped(library):
    [hit] = queries.find(None, "webmail")
    assert "<script>" not in str(hit.snippet) and "&lt;script&gt;" in str(hit.snippet)
    assert "<mark>webmail</mark>" in str(hit.snippet)
    [first, *_] = queries.find(None, "εκτυπωτές")
    assert "<mark>εκτυπωτής</mark>" in str(first.title)


def test_an_edit_is_searchable_at_once(library):
    a = _db.session.query(KbArticle).filter_by(title="Ρύθμιση ασύρματου δικτύου Wi-Fi").one()
    services.update_article(library.l2, a, ArticleInput(
        title="Ρύθμιση ασύρματου δικτύου", body="Βιντεοπροβολέας στην αίθουσα.",
        category_id=a.category_id, audience=a.audience, status=a.status), now=at(9))
    assert titles(queries.find(None, "βιντεοπροβολείς")) == ["Ρύθμιση ασύρματου δικτύου"]
    assert queries.find(None, "σημεία πρόσβασης") == []


def test_search_by_category_subtree(library):
    net = category("NET").id
    assert titles(queries.find(None, "δικτύου", category_id=net)) == [
        "Ρύθμιση ασύρματου δικτύου Wi-Fi"]
    assert [n.category.code for n in queries.category_tree(None) if n.total][:2] == ["HW", "MAIL"]


def test_suggestions_lift_the_requests_category_and_equipment(library):
    printer = _db.session.query(EquipmentCategory).filter_by(code="PRINTER").one()
    lab = article(library.l2, "Εκτυπωτής εργαστηρίου ΣΕΠΕΗΥ", "Κοινόχρηστος εκτυπωτής.",
                  code="LAB", equipment=[printer.id], minutes=5)
    found = queries.suggest("ο εκτυπωτής", category("LAB").id, [printer.id],
                            queries.audience_of(library.user_a))
    assert found[0] == lab and len(found) <= 5
    # no words: the category's newest
    assert queries.suggest("", category("SW-LTSP").id, [], ("public",))[0].title == \
        "Επανεκκίνηση εξυπηρετητή LTSP"
    assert queries.suggest("", None, [], ("public",)) == []


def test_versions_are_kept_in_order(library):
    assert _db.session.query(KbVersion).count() == 4
