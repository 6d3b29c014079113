"""Canned replies (issue 15): the placeholders (pure), the writer and its audit, the
permission rules, and insertion on the ticket page with and without JavaScript."""
import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEntry
from helpdesk.canned import placeholders, queries, services
from helpdesk.canned.models import CannedReply
from helpdesk.core.errors import PermissionDenied, ValidationFailed
from helpdesk.extensions import db as _db
from helpdesk.permissions import can_edit_canned_reply, can_use_canned_replies
from tests.factories import T0, World, make_staff, make_ticket, unit_at
from tests.web import login

# --- the placeholders, pure ----------------------------------------------------------------


VALUES = {"school": "1ο Γυμνάσιο Καλαμαριάς", "school_code": "1901001", "ref": "ΑΡ-2026-000042",
          "subject": "Ο εκτυπωτής δεν τυπώνει", "technician": "Μαρία Παπαδοπούλου",
          "unit": "ΚΕΠΛΗΝΕΤ", "category": "Εκτυπωτής"}


@pytest.mark.parametrize("text,expected", [
    ("Αγαπητό {σχολείο}", "Αγαπητό 1ο Γυμνάσιο Καλαμαριάς"),
    ("Dear {school}", "Dear 1ο Γυμνάσιο Καλαμαριάς"),
    ("{Σχολείο} / {ΣΧΟΛΕΙΟ} / {σχολειο} / { σχολείο }", " / ".join(["1ο Γυμνάσιο Καλαμαριάς"] * 4)),
    ("Αίτημα {αριθμός}: {θέμα}", "Αίτημα ΑΡ-2026-000042: Ο εκτυπωτής δεν τυπώνει"),
    ("Request {ref} ({number}): {subject}", "Request ΑΡ-2026-000042 (ΑΡ-2026-000042): Ο εκτυπωτής δεν τυπώνει"),
    ("{τεχνικός}, {technician}", "Μαρία Παπαδοπούλου, Μαρία Παπαδοπούλου"),
    ("{κωδικός} {μονάδα} {κατηγορία}", "1901001 ΚΕΠΛΗΝΕΤ Εκτυπωτής"),
    ("Άγνωστο {ημερομηνία} μένει", "Άγνωστο {ημερομηνία} μένει"),
    ("{} {{σχολείο}} {σχολείο", "{} {1ο Γυμνάσιο Καλαμαριάς} {σχολείο"),
    ("χωρίς τίποτα", "χωρίς τίποτα"),
    ("", ""),
])
def test_placeholders_are_filled_and_unknown_ones_stay(text, expected):
    assert placeholders.render(text, VALUES) == expected


def test_a_missing_value_leaves_the_placeholder_visible():
    assert placeholders.render("{σχολείο} {τεχνικός}", {"school": "Σχολείο"}) == "Σχολείο {τεχνικός}"
    assert placeholders.render("{τεχνικός}", {"technician": ""}) == "{τεχνικός}"


def test_values_are_inserted_as_text_never_interpreted():
    values = {"school": "<script>alert(1)</script> {τεχνικός}", "technician": "X"}
    # a value is not rendered again (no placeholder injection) and stays plain text
    assert placeholders.render("{σχολείο}", values) == "<script>alert(1)</script> {τεχνικός}"


def test_unknown_lists_what_will_stay():
    assert placeholders.unknown("{σχολείο} {foo} {foo} {Ημέρα}") == ["{foo}", "{Ημέρα}"]
    assert placeholders.key_of("ΑΡΙΘΜΟΣ") == "ref" and placeholders.key_of("nope") is None


# --- the writer, the audit and the rules -------------------------------------------------------


@pytest.fixture
def w(db):
    world = World()
    _db.session.commit()
    return world


def test_managers_write_their_units_replies_and_every_change_is_audited(w):
    unit = unit_at(w.school_a, 1).id
    reply = services.create(w.manager, unit_id=unit, title="  Τόνερ  ",
                            body="Καλημέρα {σχολείο},\r\nαλλάξτε το τόνερ.", now=T0)
    assert (reply.title, reply.body) == ("Τόνερ", "Καλημέρα {σχολείο},\nαλλάξτε το τόνερ.")
    services.update(w.manager, reply, unit_id=unit, title="Τόνερ εκτυπωτή", body=reply.body, now=T0)
    services.update(w.manager, reply, unit_id=unit, title="Τόνερ εκτυπωτή", body=reply.body, now=T0)
    reply_id = reply.id
    services.delete(w.manager, reply, now=T0)
    entries = _db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "canned_reply", AuditEntry.object_id == reply_id)
        .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["canned.reply.create", "canned.reply.update",
                                           "canned.reply.delete"]  # no entry for no change
    assert entries[1].before["title"] == "Τόνερ" and entries[1].after["title"] == "Τόνερ εκτυπωτή"
    assert entries[2].after is None and entries[0].actor_id == w.manager.id
    assert _db.session.get(CannedReply, reply_id) is None


def test_who_may_write_which_replies(w):
    unit_a1 = unit_at(w.school_a, 1).id
    national = unit_at(w.school_a, 3)
    l3_manager = make_staff(national, manager=True)
    assert can_edit_canned_reply(w.manager, unit_a1)
    assert not can_edit_canned_reply(w.manager, None)  # a level-1 manager: not the national ones
    assert not can_edit_canned_reply(w.manager, unit_at(w.school_a, 2).id)
    assert can_edit_canned_reply(l3_manager, None) and can_edit_canned_reply(l3_manager, national.id)
    assert can_edit_canned_reply(w.admin, None) and can_edit_canned_reply(w.admin, unit_a1)
    for who in (w.l1, w.l2, w.l3, w.user_a, None):
        assert not can_edit_canned_reply(who, unit_a1) and not can_edit_canned_reply(who, None)
    assert can_use_canned_replies(w.l1) and not can_use_canned_replies(w.user_a)
    with pytest.raises(PermissionDenied):
        services.create(w.l1, unit_id=unit_a1, title="Τ", body="κείμενο", now=T0)
    with pytest.raises(PermissionDenied):
        services.create(w.manager, unit_id=None, title="Τ", body="κείμενο", now=T0)
    mine = services.create(w.manager, unit_id=unit_a1, title="Τ", body="κείμενο", now=T0)
    with pytest.raises(PermissionDenied):  # moving it to the shared ones needs that right too
        services.update(w.manager, mine, unit_id=None, title="Τ", body="κείμενο", now=T0)


@pytest.mark.parametrize("title,body,field", [
    ("", "κείμενο", "title"), ("x" * 121, "κείμενο", "title"), ("Τίτλος", " ", "body"),
    ("Τίτλος", "x" * 20001, "body"),
])
def test_bad_input_is_refused_naming_the_field(w, title, body, field):
    with pytest.raises(ValidationFailed) as refused:
        services.create(w.admin, unit_id=None, title=title, body=body, now=T0)
    assert refused.value.field == field


def test_each_sees_the_shared_replies_and_their_units_own(w):
    a1, far1 = unit_at(w.school_a, 1).id, unit_at(w.school_far, 1).id
    services.create(w.admin, unit_id=None, title="Κοινή", body="κοινή", now=T0)
    services.create(w.admin, unit_id=a1, title="Της Α1", body="α1", now=T0)
    services.create(w.admin, unit_id=far1, title="Της Αχαΐας", body="αχ", now=T0)
    titles = {who: [r.title for r in queries.usable(getattr(w, who))]
              for who in ("l1", "l1_far", "l2", "admin", "user_a")}
    assert titles["l1"] == ["Της Α1", "Κοινή"]  # own unit's first
    assert titles["l1_far"] == ["Της Αχαΐας", "Κοινή"]
    assert titles["l2"] == ["Κοινή"]
    assert sorted(titles["admin"]) == sorted(["Κοινή", "Της Α1", "Της Αχαΐας"])
    assert titles["user_a"] == []


# --- the ticket page --------------------------------------------------------------------------


def test_insert_without_javascript_prefills_the_reply_box(client, w):
    ticket = make_ticket(w.user_a, subject="Δεν τυπώνει <ο εκτυπωτής>")
    reply = services.create(w.admin, unit_id=unit_at(w.school_a, 1).id, title="Χαιρετισμός",
                            body="Καλημέρα {σχολείο}, για το {αριθμός} ({θέμα}) — {τεχνικός}. {άγνωστο}",
                            now=T0)
    other = services.create(w.admin, unit_id=unit_at(w.school_far, 1).id, title="Ξένη",
                            body="ΜΥΣΤΙΚΟ ΑΛΛΗΣ ΜΟΝΑΔΑΣ", now=T0)
    _db.session.commit()
    login(client, w.l1)
    html = client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    assert 'name="canned"' in html and "Χαιρετισμός" in html and "Ξένη" not in html
    assert "ΜΥΣΤΙΚΟ" not in html
    filled = client.get(f"/tickets/{ticket.ref}?canned={reply.id}").get_data(as_text=True)
    expected = (f"Καλημέρα {w.school_a.name}, για το {ticket.ref} (Δεν τυπώνει &lt;ο εκτυπωτής&gt;)"
                f" — {w.l1.name}. {{άγνωστο}}")
    box = filled.split('name="reply-body"', 1)[1].split("</textarea>", 1)[0]
    assert expected in box
    assert "<ο εκτυπωτής>" not in filled  # escaped in the box and in the option's data-text
    refused = client.get(f"/tickets/{ticket.ref}?canned={other.id}").get_data(as_text=True)
    assert "ΜΥΣΤΙΚΟ" not in refused and "δεν υπάρχει" in refused


def test_the_school_sees_no_canned_replies(client, w):
    ticket = make_ticket(w.user_a)
    services.create(w.admin, unit_id=None, title="Κοινή απάντηση", body="κείμενο", now=T0)
    _db.session.commit()
    login(client, w.user_a)
    html = client.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    assert "Κοινή απάντηση" not in html and 'name="canned"' not in html


def test_management_pages_write_through_the_web(client, w):
    login(client, w.manager)
    unit = str(unit_at(w.school_a, 1).id)
    page = client.get("/canned-replies/new").get_data(as_text=True)
    assert "Κοινές σε όλες τις μονάδες" not in page  # no shared choice for a level-1 manager
    from tests.web import csrf_token

    token = csrf_token(client, "/canned-replies/new")
    created = client.post("/canned-replies/new", data={
        "csrf_token": token, "unit": unit, "title": "Επανεκκίνηση",
        "body": "Κάντε επανεκκίνηση, {σχολείο}. {ημέρα}"}, follow_redirects=True)
    html = created.get_data(as_text=True)
    assert "Επανεκκίνηση" in html and "{ημέρα}" in html  # the warning names it
    reply = _db.session.scalar(select(CannedReply).where(CannedReply.title == "Επανεκκίνηση"))
    refused = client.post("/canned-replies/new", data={
        "csrf_token": token, "unit": "shared", "title": "Κοινή", "body": "κείμενο"})
    assert refused.status_code == 422  # not a choice of theirs
    assert _db.session.scalar(select(CannedReply).where(CannedReply.title == "Κοινή")) is None
    edited = client.post(f"/canned-replies/{reply.id}", data={
        "csrf_token": token, "unit": unit, "title": "Επανεκκίνηση υπολογιστή", "body": reply.body})
    assert edited.status_code == 302
    page = client.get(f"/canned-replies/{reply.id}").get_data(as_text=True)
    assert "canned.reply.update" in page
    reply_id = reply.id
    assert client.post(f"/canned-replies/{reply_id}/delete",
                       data={"csrf_token": token}).status_code == 302
    assert _db.session.get(CannedReply, reply_id) is None
