"""What a person sees in the first hour: pages in Greek without English or raw codes,
links where one looks for them, option lists in Greek order."""
from __future__ import annotations

import pytest

from tests.factories import World
from tests.web import login


@pytest.fixture
def w(db):
    return World()


def test_account_page_links_to_the_api_tokens(client, w):
    login(client, w.l1)
    html = client.get("/account").get_data(as_text=True)
    assert 'href="/account/tokens"' in html


# --- option lists in Greek order ----------------------------------------------------------

def test_sort_key_ignores_accents_and_case():
    from helpdesk.core.text import by_label, sort_key

    names = ["Ωραιόκαστρο", "Βέροια", "Άγιος Νικόλαος", "αγία Παρασκευή", "Αθήνα", "Έδεσσα",
             "Ελασσόνα", "ίος", "Ιωάννινα"]
    assert sorted(names, key=sort_key) == [
        "αγία Παρασκευή", "Άγιος Νικόλαος", "Αθήνα", "Βέροια", "Έδεσσα", "Ελασσόνα",
        "ίος", "Ιωάννινα", "Ωραιόκαστρο"]
    assert sorted(names) != sorted(names, key=sort_key)  # code points put «Ά» after «Ω»
    assert by_label([(1, "Ωμέγα"), (2, "Άλφα"), (3, "Αβγό")]) == [
        (3, "Αβγό"), (2, "Άλφα"), (1, "Ωμέγα")]
    assert sort_key(None) == ("", "")


@pytest.fixture
def greek_named(db):
    from helpdesk.extensions import db as _db
    from helpdesk.org.models import Category

    cats = [Category(code=f"ZZ-SORT-{i}", name_el=name, name_en=name)
            for i, name in enumerate(["Ωμέγα δοκιμή", "Άλφα δοκιμή", "Βήτα δοκιμή", "Αβγό δοκιμή"])]
    _db.session.add_all(cats)
    _db.session.flush()
    return cats


def _in_order(html: str, *names: str) -> bool:
    positions = [html.index(f">{name}<") for name in names]
    return positions == sorted(positions)


def test_option_lists_sort_the_greek_way(client, w, greek_named):
    order = ("Αβγό δοκιμή", "Άλφα δοκιμή", "Βήτα δοκιμή", "Ωμέγα δοκιμή")
    login(client, w.manager)
    assert _in_order(client.get("/reports/compliance").get_data(as_text=True), *order)
    assert _in_order(client.get("/tickets").get_data(as_text=True), *order)
    school = client.application.test_client()
    login(school, w.user_a)
    assert _in_order(school.get("/tickets/new").get_data(as_text=True), *order)
