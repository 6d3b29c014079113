"""The door, hardened: sessions that end, log-in timing and limits, headers, SSRF, bounds,
and a true answer when attachments cannot be written."""
from __future__ import annotations

import pytest

from helpdesk.extensions import db as _db
from tests.factories import PASSWORD, World
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


# --- sessions end on the server ---------------------------------------------------------------

def _copy_session(app, client):
    """A second client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_stops_working_after_log_out(app, client, w):
    login(client, w.user_a)
    thief = _copy_session(app, client)
    assert thief.get("/tickets").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    answer = thief.get("/tickets")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_password_change_ends_other_sessions_but_not_this_one(app, client, w):
    login(client, w.user_a)
    thief = _copy_session(app, client)
    assert thief.get("/tickets").status_code == 200
    answer = client.post("/account", data={"current": PASSWORD, "new": "a new long password",
                                           "csrf_token": csrf_token(client, "/account")})
    assert answer.status_code == 302
    stolen = thief.get("/tickets")
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]
    assert client.get("/tickets").status_code == 200  # the one who changed it stays in


def test_a_session_of_the_old_form_is_not_accepted(app, client, w):
    _db.session.commit()
    with client.session_transaction() as s:  # a cookie from before versions: a bare id
        s["_user_id"] = str(w.user_a.id)
        s["_fresh"] = True
    assert client.get("/tickets").status_code == 302
