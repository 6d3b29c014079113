"""Saved views ("my views", issue 15): the queue's filters under a name, the owner's alone."""
import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from helpdesk.core.errors import NotFound, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.savedviews import queries, services
from helpdesk.savedviews.models import SavedView
from tests.factories import T0, World, make_ticket
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    world = World()
    _db.session.commit()
    return world


@pytest.mark.parametrize("query,expected", [
    ("queue=open&status=new&page=3", "queue=open&status=new"),
    ("?priority=4&queue=mine&q=%CE%B5%CE%BA%CF%84", "queue=mine&priority=4&q=%CE%B5%CE%BA%CF%84"),
    ("status=&category=&sort=due&order=asc&evil=1", "sort=due&order=asc"),
    ("", ""),
])
def test_a_view_keeps_only_the_queue_pages_filters_in_one_order(query, expected):
    assert services.normalise(query) == expected


def test_the_request_args_and_the_query_string_give_the_same_view():
    args = MultiDict([("status", "open"), ("queue", "all"), ("page", "2"), ("x", "y")])
    assert services.normalise(args) == services.normalise("queue=all&status=open")


def test_save_rename_delete_and_only_the_owner(w):
    view = services.save(w.l1, "  Επείγοντα   μου ", "queue=mine&priority=4&page=2", now=T0)
    assert (view.name, view.query) == ("Επείγοντα μου", "queue=mine&priority=4")
    services.save(w.l1, "Άλλη", "queue=all", now=T0)
    with pytest.raises(ValidationFailed):
        services.save(w.l1, "Επείγοντα μου", "queue=all", now=T0)
    services.save(w.l2, "Επείγοντα μου", "queue=all", now=T0)  # another person's names are theirs
    with pytest.raises(NotFound):
        services.rename(w.l2, view.id, "Κλεμμένη")
    with pytest.raises(NotFound):
        services.delete(w.l2, view.id)
    with pytest.raises(ValidationFailed):
        services.rename(w.l1, view.id, "Άλλη")
    with pytest.raises(ValidationFailed):
        services.rename(w.l1, view.id, "   ")
    services.rename(w.l1, view.id, "Τα επείγοντα")
    assert [v.name for v in queries.of(w.l1)] == ["Άλλη", "Τα επείγοντα"]  # Greek order
    assert [v.name for v in queries.of(w.l2)] == ["Επείγοντα μου"]
    services.delete(w.l1, view.id)
    assert [v.name for v in queries.of(w.l1)] == ["Άλλη"]


def test_a_person_keeps_a_bounded_number_of_views(w):
    for n in range(services.MAX_VIEWS):
        services.save(w.user_a, f"Προβολή {n}", "queue=all", now=T0)
    with pytest.raises(ValidationFailed):
        services.save(w.user_a, "Μία ακόμη", "queue=all", now=T0)


def test_saving_from_the_queue_page_and_following_the_link(client, w):
    make_ticket(w.user_a, subject="Επείγον θέμα εκτυπωτή", priority=4)
    make_ticket(w.user_a, subject="Χαμηλής σημασίας θέμα", priority=1)
    _db.session.commit()
    login(client, w.l1)
    page = client.get("/tickets?queue=all&priority=4&page=1").get_data(as_text=True)
    assert 'name="query" value="queue=all&amp;priority=4"' in page
    token = csrf_token(client, "/tickets")
    saved = client.post("/my-views", data={"csrf_token": token, "name": "Επείγοντα",
                                           "query": "queue=all&priority=4"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(
        "/tickets?queue=all&priority=4")
    page = client.get("/tickets?queue=all&priority=4").get_data(as_text=True)
    assert 'class="active" aria-current="true">Επείγοντα</a>' in page
    assert "Επείγον θέμα εκτυπωτή" in page and "Χαμηλής σημασίας" not in page
    again = client.post("/my-views", data={"csrf_token": token, "name": "Επείγοντα",
                                           "query": "queue=open"}, follow_redirects=True)
    assert "Έχετε ήδη προβολή με το όνομα «Επείγοντα»" in again.get_data(as_text=True)
    assert _db.session.scalar(select(SavedView.query).where(SavedView.user_id == w.l1.id)) \
        == "queue=all&priority=4"
    empty = client.post("/my-views", data={"csrf_token": token, "name": "", "query": "queue=open"})
    assert empty.status_code == 302
    assert len(queries.of(w.l1)) == 1


def test_nobody_else_sees_or_changes_a_view(client, w):
    view = services.save(w.l1, "Ιδιωτική προβολή", "queue=mine", now=T0)
    _db.session.commit()
    login(client, w.l1_peer)
    assert "Ιδιωτική προβολή" not in client.get("/tickets").get_data(as_text=True)
    assert "Ιδιωτική προβολή" not in client.get("/my-views").get_data(as_text=True)
    token = csrf_token(client, "/tickets")
    assert client.post(f"/my-views/{view.id}/rename",
                       data={"csrf_token": token, "name": "Δική μου"}).status_code == 404
    assert client.post(f"/my-views/{view.id}/delete", data={"csrf_token": token}).status_code == 404
    _db.session.refresh(view)
    assert view.name == "Ιδιωτική προβολή"
