"""Helpers for driving the web app through Flask's test client, CSRF included."""
from __future__ import annotations

import re

from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, url: str = "/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def login(client, user, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def post(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """POST with a CSRF token taken from ``page`` (default: the ticket page or /tickets)."""
    token = csrf_token(client, page or "/tickets")
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def act(client, ticket_ref: str, action: str, **fields):
    """Submit one of the ticket page's action forms (their fields are prefixed)."""
    token = csrf_token(client, f"/tickets/{ticket_ref}")
    data = {f"{action}-{k}": v for k, v in fields.items()}
    data[f"{action}-csrf_token"] = token
    return client.post(f"/tickets/{ticket_ref}/{action}", data=data)
