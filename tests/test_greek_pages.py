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
