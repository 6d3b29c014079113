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


# --- Greek pages without English or raw codes ----------------------------------------------

#: Codes and English words that must not reach a Greek reader. Matched as whole words in
#: the page's visible text (tags, attributes, scripts and <code>/<pre> blocks removed).
RAW = ["received", "processed", "quarantined", "ignored", "unknown_sender", "cli", "lmtp",
       "running", "done", "failed", "queued", "pending", "sending", "sent", "Connection",
       "refused", "Errno", "HTTP 500", "timed out", "Automatic", "escalation", "ticket.created",
       "webhook.test", "minutes", "hours", "Report", "equipment"]


def visible_text(html: str) -> str:
    import re

    html = re.sub(r"(?is)<(script|style|code|pre|title)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return " ".join(html.split())


def raw_words(html: str) -> list[str]:
    import re

    text = visible_text(html)
    return [w for w in RAW if re.search(rf"(?<![\w.]){re.escape(w)}(?![\w.])", text)]


def test_durations_are_in_words(app):
    from helpdesk.sla.wording import duration, escalation_reason, working_duration

    with app.test_request_context(headers={"Accept-Language": "el"}):
        _durations(duration, escalation_reason, working_duration)


def _durations(duration, escalation_reason, working_duration):
    assert working_duration(840) == "14 ώρες εργασίας"
    assert working_duration(26 * 60) == "1 ημέρα και 2 ώρες εργασίας"
    assert working_duration(60) == "1 ώρα εργασίας"
    assert duration(61) == "1 ώρα και 1 λεπτό" and duration(0) == "0 λεπτά"
    assert duration(3 * 24 * 60 + 30) == "3 ημέρες"
    reason = escalation_reason(1, 840)
    assert reason == "Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 1 (14 ώρες εργασίας)."
    assert raw_words(reason) == []


def test_sweep_escalation_reason_is_greek_with_a_human_duration(w):
    from helpdesk.sla.sweep import reason

    assert reason(2, 840) == "Αυτόματη κλιμάκωση: έληξε ο χρόνος του επιπέδου 2 (14 ώρες εργασίας)."


def test_mail_admin_pages_name_statuses_reasons_and_doors(client, w):
    import hashlib

    from helpdesk.extensions import db as _db
    from helpdesk.mail.models import InboundMessage

    rows = []
    for i, (status, reason, source) in enumerate([
            ("quarantined", "unknown_sender", "cli"), ("ignored", "auto_reply", "lmtp"),
            ("processed", None, "imap:helpdesk"), ("received", None, "cli")]):
        raw = f"Subject: δοκιμή {i}\r\n\r\nκείμενο".encode()
        rows.append(InboundMessage(key=f"greek-{i}@test", raw=raw, size=len(raw),
                                   sha256=hashlib.sha256(raw).hexdigest(), source=source,
                                   status=status, reason=reason, from_addr="x@example.org",
                                   subject=f"δοκιμή {i}"))
    _db.session.add_all(rows)
    _db.session.flush()
    login(client, w.admin)
    for status in ("quarantined", "ignored", "processed", "received"):
        html = client.get(f"/admin/mail/?status={status}").get_data(as_text=True)
        assert raw_words(html) == [], status
    html = client.get("/admin/mail/?status=quarantined").get_data(as_text=True)
    assert "άγνωστος αποστολέας" in html and "γραμμή εντολών" in html and "Σε καραντίνα" in html
    for row in rows:
        assert raw_words(client.get(f"/admin/mail/{row.id}").get_data(as_text=True)) == []


def test_import_status_is_named(client, w):
    from helpdesk.extensions import db as _db
    from helpdesk.inventory.models import ImportRun

    runs = [ImportRun(created_by_id=w.admin.id, filename="a.xlsx", stored_name=f"greek-{s}",
                      status=s) for s in ("queued", "running", "done", "failed")]
    _db.session.add_all(runs)
    _db.session.flush()
    login(client, w.admin)
    for run in runs:
        html = client.get(f"/equipment/import/{run.id}").get_data(as_text=True)
        assert raw_words(html) == [], run.status
        label = client.get(f"/equipment/import/{run.id}.json").get_json()["status_label"]
        assert raw_words(label) == [] and label
    assert "Ολοκληρώθηκε" in client.get(f"/equipment/import/{runs[2].id}").get_data(as_text=True)


def test_webhook_deliveries_are_named(client, w):
    from helpdesk.api import webhooks
    from helpdesk.api.webhook_models import WebhookDelivery
    from helpdesk.extensions import db as _db
    from tests.factories import at

    sub, _secret = webhooks.subscribe(w.admin, "http://127.0.0.1:9/hook", ["ticket.created"],
                                      now=at(0), allow_private=True)
    for status, code, error in [("pending", None, "<urlopen error [Errno 111] Connection refused>"),
                                ("failed", 500, "HTTP 500"), ("sent", 200, None),
                                ("sending", None, None), ("pending", None, "timed out")]:
        _db.session.add(WebhookDelivery(subscription_id=sub.id, event="ticket.created",
                                        payload={}, status=status, last_status=code,
                                        last_error=error, attempts=1))
    _db.session.add(WebhookDelivery(subscription_id=sub.id, event="webhook.test", payload={}))
    _db.session.flush()
    login(client, w.admin)
    html = client.get("/admin/webhooks").get_data(as_text=True)
    assert raw_words(html) == []
    assert "αρνήθηκε τη σύνδεση" in html and "κωδικό HTTP 500" in html


def _sheet_names(data: bytes) -> list[str]:
    import io

    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data), read_only=True).sheetnames


def test_xlsx_sheets_have_greek_names(client, w):
    login(client, w.admin)
    for name in ("compliance", "health", "ageing", "trend"):
        response = client.get(f"/reports/{name}.xlsx")
        assert response.status_code == 200
        (sheet,) = _sheet_names(response.data)
        assert raw_words(sheet) == [] and sheet not in (name, "Report", "Sheet"), sheet
        assert any("\u0370" <= ch <= "\u03ff" for ch in sheet), sheet
    response = client.get(f"/equipment/school/{w.school_a.code}/export.xlsx")
    assert _sheet_names(response.data) == ["Εξοπλισμός"]
