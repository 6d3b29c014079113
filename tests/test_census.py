"""Census campaigns: life cycle, reminders, permissions, the PDF statement, the dashboard
and the procurement-planning report (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.census import queries, rules, services
from helpdesk.census.models import CensusReminder, CensusSnapshotItem
from helpdesk.census.pdf import statement_pdf
from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.core.types import utcnow
from helpdesk.extensions import db as _db
from helpdesk.inventory import services as inventory
from helpdesk.inventory.models import EquipmentCategory, TicketEquipment
from helpdesk.outbox.models import Notification
from helpdesk.tickets import services as tickets
from tests.factories import World, category, make_school, make_school_user, make_staff, unit_at
from tests.web import csrf_token, login

#: A school type no reference school has: the campaigns of these tests target only ours.
TYPE = "TSTCNS"
OPENS, DEADLINE = date(2026, 1, 10), date(2026, 1, 21)
OPENED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: 23:30 and 00:00 Athens time (UTC+2 in January) around the end of the deadline day.
ON_TIME = datetime(2026, 1, 21, 21, 30, tzinfo=UTC)
LATE = datetime(2026, 1, 21, 22, 0, tzinfo=UTC)


def athens_morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 15, tzinfo=UTC)  # 08:15 in Athens


@pytest.fixture
def w(db):
    world = World()
    for school in (world.school_a, world.school_b, world.school_far):
        school.school_type = TYPE
    _db.session.flush()
    return world


def cat(code: str) -> EquipmentCategory:
    return _db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == code))


def add_item(user, school, code="PC-DESKTOP", **values):
    values = {"category_id": cat(code).id, "manufacturer": "Dell", "model": "OptiPlex 3020",
              **values}
    return inventory.add_item(user, school, now=OPENED_AT, **values)


def open_campaign(w, **kwargs):
    args = {"title": "Απογραφή εξοπλισμού ΤΠΕ 2026", "opens_on": OPENS, "deadline": DEADLINE,
            "reminder_days": [7, 1], "school_types": [TYPE], "now": OPENED_AT, **kwargs}
    return services.open_census(w.admin, **args)


def target_ids(census) -> set[int]:
    return set(_db.session.scalars(queries.target_school_ids(census)))


# --- the life cycle ----------------------------------------------------------------------

def test_the_target_resolves_to_the_right_schools(w):
    a, b, far = w.school_a.id, w.school_b.id, w.school_far.id
    assert target_ids(open_campaign(w)) == {a, b, far}
    thess = w.school_a.directorate
    assert target_ids(open_campaign(w, directorate_ids=[thess.id])) == {a, b}
    assert target_ids(open_campaign(w, edu_level="PE")) == {far}  # dipe-ach is primary
    assert target_ids(open_campaign(w, edu_level="DE")) == {a, b}
    assert target_ids(open_campaign(w, region_ids=[w.school_far.directorate.region_id])) == {far}
    everyone = services.open_census(w.admin, title="Όλα τα σχολεία", opens_on=OPENS,
                                    deadline=DEADLINE, now=OPENED_AT)
    active = _db.session.scalar(select(func.count()).select_from(type(w.school_a))
                                .where(type(w.school_a).is_active.is_(True)))
    assert queries.count_targets(everyone) == active
    w.school_b.is_active = False
    _db.session.flush()
    assert target_ids(open_campaign(w)) == {a, far}


def test_opening_validates_its_input(w):
    with pytest.raises(ValidationFailed):
        open_campaign(w, deadline=OPENS - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        open_campaign(w, school_types=["NO-SUCH-TYPE"])
    with pytest.raises(ValidationFailed):
        open_campaign(w, title="   ")
    with pytest.raises(ValidationFailed):
        open_campaign(w, edu_level="XX")


def test_life_cycle_on_time_late_and_missing(w):
    printer = add_item(w.user_a, w.school_a, "PRINTER", manufacturer="HP", model="LaserJet P2055",
                       serial_number="CNB0001", acquisition_date=date(2020, 5, 1))
    add_item(w.user_a, w.school_a, serial_number="DELL001")
    old = add_item(w.user_a, w.school_a, serial_number="DELL002")
    inventory.withdraw_item(w.user_a, old, now=OPENED_AT)
    census = open_campaign(w)

    with pytest.raises(Conflict):  # not open yet
        services.submit(w.user_a, census, w.school_a, now=OPENED_AT)
    first = services.submit(w.user_a, census, w.school_a, now=ON_TIME - timedelta(days=3))
    again = services.submit(w.user_a, census, w.school_a, now=ON_TIME)
    assert again.id == first.id and not again.is_late and again.submitted_at == ON_TIME
    assert again.item_count == 2  # the withdrawn item is not part of the registry

    # The registry changes after submission; the snapshot does not.
    inventory.edit_item(w.user_a, printer, now=LATE, model="LaserJet Pro M404")
    add_item(w.user_a, w.school_a, serial_number="DELL003")
    _db.session.expire_all()
    snap = queries.get_submission(census.id, w.school_a.id).snapshot
    assert [i["model"] for i in snap["items"]] == ["OptiPlex 3020", "LaserJet P2055"]
    assert snap["school"]["name"] == w.school_a.name
    assert _db.session.scalar(select(func.count()).select_from(CensusSnapshotItem)
                              .where(CensusSnapshotItem.submission_id == again.id)) == 2

    late = services.submit(w.user_b, census, w.school_b, now=LATE)
    assert late.is_late
    with pytest.raises(Conflict):  # after the deadline a submission is final
        services.submit(w.user_a, census, w.school_a, now=LATE)
    with pytest.raises(Conflict):
        services.submit(w.user_b, census, w.school_b, now=LATE + timedelta(hours=1))

    total, regions = queries.completion(w.admin, census)
    assert (total.targeted, total.on_time, total.late, total.missing) == (3, 1, 1, 1)
    by_directorate = {d.name: (d.targeted, d.on_time, d.late, d.missing)
                      for r in regions for d in r.children}
    assert by_directorate[w.school_a.directorate.short_name_el] == (2, 1, 1, 0)
    assert by_directorate[w.school_far.directorate.short_name_el] == (1, 0, 0, 1)
    assert [s.id for s, _d, _r in queries.missing_schools(w.admin, census)] == [w.school_far.id]


def test_lateness_is_the_end_of_the_deadline_day_in_athens():
    assert not rules.is_late(DEADLINE, ON_TIME)
    assert rules.is_late(DEADLINE, LATE)
    summer = date(2026, 7, 1)  # UTC+3
    assert not rules.is_late(summer, datetime(2026, 7, 1, 20, 59, tzinfo=UTC))
    assert rules.is_late(summer, datetime(2026, 7, 1, 21, 0, tzinfo=UTC))
    assert rules.parse_reminder_days("1, 7;7") == [7, 1]
    with pytest.raises(ValueError):
        rules.parse_reminder_days("seven")


# --- reminders ---------------------------------------------------------------------------

def census_reminders(census):
    return _db.session.scalars(select(Notification).where(
        Notification.kind == "census_reminder",
        Notification.dedupe_key.like(f"census_reminder:{census.id}:%"))).all()


def test_a_reminder_is_sent_once_and_only_on_reminder_days(w):
    census = open_campaign(w)
    services.submit(w.user_a, census, w.school_a, now=datetime(2026, 1, 12, 9, tzinfo=UTC))

    assert services.send_due_reminders(athens_morning(date(2026, 1, 12))) == 0  # 9 days left
    assert census_reminders(census) == []

    seven_before = athens_morning(DEADLINE - timedelta(days=7))
    assert services.send_due_reminders(seven_before) == 2
    assert services.send_due_reminders(seven_before + timedelta(hours=3)) == 0  # twice: once
    notes = census_reminders(census)
    assert sorted(n.recipient_email for n in notes) == sorted([w.school_b.email, w.school_far.email])
    assert census.title in notes[0].subject and "21/01/2026" in notes[0].subject
    assert f"/census/{census.id}" in notes[0].body

    assert services.send_due_reminders(athens_morning(DEADLINE - timedelta(days=5))) == 0
    services.submit(w.user_b, census, w.school_b, now=datetime(2026, 1, 19, 9, tzinfo=UTC))
    assert services.send_due_reminders(athens_morning(DEADLINE - timedelta(days=1))) == 1
    assert services.send_due_reminders(athens_morning(DEADLINE - timedelta(days=1))) == 0
    assert services.send_due_reminders(athens_morning(DEADLINE + timedelta(days=1))) == 0
    sent = {(r.school_id, r.days_before) for r in _db.session.scalars(
        select(CensusReminder).where(CensusReminder.census_id == census.id))}
    assert sent == {(w.school_b.id, 7), (w.school_far.id, 7), (w.school_far.id, 1)}


def test_a_missed_reminder_day_is_caught_up_once():
    assert rules.due_reminder([7, 1], OPENS, DEADLINE, DEADLINE - timedelta(days=7)) == 7
    assert rules.due_reminder([7, 1], OPENS, DEADLINE, DEADLINE - timedelta(days=6)) == 7
    assert rules.due_reminder([7, 1], OPENS, DEADLINE, DEADLINE - timedelta(days=8)) is None
    assert rules.due_reminder([7, 1], OPENS, DEADLINE, DEADLINE) == 1
    assert rules.due_reminder([7, 1], OPENS, DEADLINE, DEADLINE + timedelta(days=1)) is None
    assert rules.due_reminder([30], OPENS, DEADLINE, OPENS - timedelta(days=1)) is None


def test_the_periodic_job_is_declared_and_runs(w, monkeypatch):
    from workers import census_jobs
    from workers.schedule import get_periodic

    entry = get_periodic("census-reminders")
    assert entry.load() is census_jobs.send_census_reminders and entry.cron
    census = open_campaign(w)
    monkeypatch.setattr(census_jobs, "utcnow",
                        lambda: athens_morning(DEADLINE - timedelta(days=1)))
    assert census_jobs.send_census_reminders() == 3
    assert census_jobs.send_census_reminders() == 0
    assert len(census_reminders(census)) == 3


# --- permissions -------------------------------------------------------------------------

def test_only_administrators_open_campaigns(w):
    for actor in (None, w.user_a, w.l1, w.manager):
        with pytest.raises(PermissionDenied):
            services.open_census(actor, title="x", opens_on=OPENS, deadline=DEADLINE,
                                 now=OPENED_AT)


def test_a_school_submits_only_for_itself_and_only_when_targeted(w):
    census = open_campaign(w, directorate_ids=[w.school_a.directorate_id])
    with pytest.raises(NotFound):
        services.submit(w.user_a, census, w.school_b, now=ON_TIME)
    with pytest.raises(NotFound):  # not in the campaign's target
        services.submit(w.user_far, census, w.school_far, now=ON_TIME)
    with pytest.raises(PermissionDenied):
        services.submit(w.l1, census, w.school_a, now=ON_TIME)


def test_web_permissions(client, w):
    census = open_campaign(w, opens_on=date(2020, 1, 1), deadline=date(2099, 1, 1),
                           now=datetime(2020, 1, 1, tzinfo=UTC))
    services.submit(w.user_a, census, w.school_a, now=utcnow())
    base = f"/census/{census.id}"
    a_pages = [f"{base}/school/{w.school_a.code}", f"{base}/school/{w.school_a.code}/statement.pdf"]

    assert client.get("/census/new").status_code == 302  # anonymous: to the log-in page
    assert "/login" in client.get(a_pages[1]).headers["Location"]

    login(client, w.l1)
    assert client.get("/census/new").status_code == 403
    token = csrf_token(client, "/tickets")
    assert client.post("/census/new", data={"csrf_token": token, "title": "x"}).status_code == 403
    assert client.get(base).status_code == 200  # staff see the dashboard
    assert client.get(a_pages[0]).status_code == 200  # a school their unit serves
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})

    login(client, w.user_far)  # another region's school, another unit's staff
    for url in a_pages:
        assert client.get(url).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})

    login(client, w.user_b)
    for url in a_pages:
        assert client.get(url).status_code == 404
    assert client.get(f"{base}/procurement").status_code == 403
    assert client.get(f"{base}/missing.csv").status_code == 403
    assert client.get("/census/new").status_code == 403


def test_a_school_does_not_see_campaigns_not_meant_for_it(client, w):
    census = open_campaign(w, directorate_ids=[w.school_far.directorate_id],
                           opens_on=date(2020, 1, 1), deadline=date(2099, 1, 1),
                           now=datetime(2020, 1, 1, tzinfo=UTC))
    login(client, w.user_a)
    assert client.get(f"/census/{census.id}").status_code == 404
    assert census.title not in client.get("/census").get_data(as_text=True)


# --- the web life cycle, the PDF and the signed upload ----------------------------------------

def test_web_life_cycle(client, w):
    add_item(w.user_a, w.school_a, serial_number="WEB001")
    today = rules.athens_day(utcnow())
    login(client, w.admin)
    token = csrf_token(client, "/census/new")
    response = client.post("/census/new", data={
        "csrf_token": token, "title": "Απογραφή <b>2026</b>", "opens_on": today.isoformat(),
        "deadline": (today + timedelta(days=10)).isoformat(), "reminder_days": "7, 1",
        "edu_level": "", "school_types": [TYPE],
        "directorates": [str(w.school_a.directorate_id)]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    census_url = response.headers["Location"]
    page = client.get(census_url).get_data(as_text=True)
    assert "Απογραφή &lt;b&gt;2026&lt;/b&gt;" in page and w.school_b.name in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})

    login(client, w.user_a)
    assert "Απογραφή &lt;b&gt;2026&lt;/b&gt;" in client.get("/census").get_data(as_text=True)
    page = client.get(census_url).get_data(as_text=True)
    assert f"/equipment/school/{w.school_a.code}" in page
    response = client.post(f"{census_url}/submit", data={"csrf_token": csrf_token(client, census_url)})
    assert response.status_code == 302
    census_id = int(census_url.rstrip("/").rsplit("/", 1)[1])
    assert queries.get_submission(census_id, w.school_a.id).item_count == 1

    pdf = client.get(f"{census_url}/school/{w.school_a.code}/statement.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")

    bad = client.post(f"{census_url}/signed", data={
        "csrf_token": csrf_token(client, census_url),
        "signed_file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "signed.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "signed.pdf" in bad.get_data(as_text=True)  # the refusal names the file
    assert queries.get_submission(census_id, w.school_a.id).signed_stored_name is None
    ok = client.post(f"{census_url}/signed", data={
        "csrf_token": csrf_token(client, census_url),
        "signed_file": (io.BytesIO(pdf.data), "υπογεγραμμένη.pdf")},
        content_type="multipart/form-data")
    assert ok.status_code == 302
    submission = queries.get_submission(census_id, w.school_a.id)
    assert submission.signed_filename == "υπογεγραμμένη.pdf"
    assert submission.signed_stored_name.isalnum()
    signed = client.get(f"{census_url}/school/{w.school_a.code}/signed.pdf")
    assert signed.status_code == 200 and signed.data == pdf.data


def test_the_statement_is_a_pdf_with_the_school_and_its_items(w):
    from pypdf import PdfReader

    add_item(w.user_a, w.school_a, "PRINTER", manufacturer="HP", model="LaserJet P2055",
             serial_number="CNB0001", acquisition_date=date(2020, 5, 1), location="SEPEHY")
    census = open_campaign(w)
    submission = services.submit(w.user_a, census, w.school_a, now=ON_TIME)
    data = statement_pdf(submission)
    assert data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    flat = " ".join(text.split())
    assert " ".join(w.school_a.name.split()) in flat
    assert "CNB0001" in flat and "LaserJet P2055" in flat and "01/05/2020" in flat
    assert "Απογραφή εξοπλισμού ΤΠΕ 2026" in flat


def test_the_statement_refuses_clearly_without_the_font(w, app, monkeypatch):
    from helpdesk.census import pdf

    census = open_campaign(w)
    submission = services.submit(w.user_a, census, w.school_a, now=ON_TIME)
    monkeypatch.setattr(pdf, "FONT_DIRS", ("/nonexistent",))
    with pytest.raises(pdf.FontMissing, match="fonts-dejavu-core"):
        pdf.statement_pdf(submission)


# --- the procurement-planning report ---------------------------------------------------------

def _ticket(user, when: datetime):
    return tickets.open_ticket(user, school=user.school, category=category("HW-PRN"),
                               subject="Βλάβη συσκευής", description="Δεν λειτουργεί.", now=when)


def _link(ticket, item, when):
    _db.session.add(TicketEquipment(ticket_id=ticket.id, item_id=item.id, linked_at=when))


@pytest.fixture
def report_data(w):
    """School A on time (4 items), school B late (1 item), and tickets in and out of the year."""
    old_pc = add_item(w.user_a, w.school_a, serial_number="P1", acquisition_date=date(2015, 3, 1))
    faulty_pc = add_item(w.user_a, w.school_a, serial_number="P2", acquisition_date=date(2019, 6, 1),
                         status="faulty")
    new_printer = add_item(w.user_a, w.school_a, "PRINTER", manufacturer="HP", model="=HYPERLINK(1)",
                           serial_number="R1", acquisition_date=date(2025, 2, 1))
    add_item(w.user_a, w.school_a, "PRINTER", manufacturer="HP", model="=HYPERLINK(1)",
             serial_number="R2", status="in_repair")
    late_pc = add_item(w.user_b, w.school_b, serial_number="P3", acquisition_date=date(2024, 1, 1))
    in_year = datetime(2025, 6, 1, 9, tzinfo=UTC)
    for _ in range(2):
        _link(_ticket(w.user_a, in_year), faulty_pc, in_year)
    _link(_ticket(w.user_a, in_year), new_printer, in_year)
    _link(_ticket(w.user_a, datetime(2024, 6, 1, tzinfo=UTC)), new_printer, in_year)  # too early
    _link(_ticket(w.user_b, in_year), late_pc, in_year)  # a late school's item
    census = open_campaign(w)
    services.submit(w.user_a, census, w.school_a, now=ON_TIME)
    services.submit(w.user_b, census, w.school_b, now=LATE)
    assert old_pc.id
    return census


def test_procurement_counts_by_category_status_and_age(w, report_data):
    table = queries.equipment_counts(w.admin, report_data, "all")
    rows = {r["category"]: r for r in table.rows}
    pc, printer = rows[cat("PC-DESKTOP").name_el], rows[cat("PRINTER").name_el]
    assert (pc["items"], pc["in_use"], pc["faulty"], pc["age_8_plus"], pc["age_5_8"]) == (2, 1, 1, 1, 1)
    assert (printer["items"], printer["in_use"], printer["in_repair"], printer["age_0_2"],
            printer["age_unknown"]) == (2, 1, 1, 1, 1)
    assert len(rows) == 2  # the late school's PC is not counted
    by_school = queries.equipment_counts(w.admin, report_data, "school")
    assert {r["group"] for r in by_school.rows} == {f"{w.school_a.code} {w.school_a.name}"}
    by_region = queries.equipment_counts(w.admin, report_data, "region")
    assert sum(r["items"] for r in by_region.rows) == 4
    # Staff of another region's unit see none of it.
    assert queries.equipment_counts(w.l1_far, report_data, "all").rows == []


def test_fault_rates_by_category_and_model(w, report_data):
    table = queries.fault_rates(w.admin, report_data, "model")
    rates = {(r["category"], r["manufacturer"], r["model"]): (r["items"], r["tickets"], r["rate"])
             for r in table.rows}
    assert rates == {
        (cat("PC-DESKTOP").name_el, "Dell", "OptiPlex 3020"): (2, 2, 1.0),
        (cat("PRINTER").name_el, "HP", "=HYPERLINK(1)"): (2, 1, 0.5),
    }
    by_category = {r["category"]: r["rate"] for r in queries.fault_rates(w.admin, report_data, "category").rows}
    assert by_category == {cat("PC-DESKTOP").name_el: 1.0, cat("PRINTER").name_el: 0.5}


def test_procurement_page_and_exports_neutralise_formulas(client, w, report_data):
    from openpyxl import load_workbook

    login(client, w.admin)
    base = f"/census/{report_data.id}/procurement"
    assert client.get(base).status_code == 200
    response = client.get(f"{base}/faults.csv?fault_by=model")
    assert response.status_code == 200 and response.data.startswith("\ufeff".encode())
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [c for row in rows for c in row if "HYPERLINK" in c] == ["'=HYPERLINK(1)"]
    xlsx = client.get(f"{base}/faults.xlsx?fault_by=model")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = [c.value for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells == ["'=HYPERLINK(1)"]
    counts = client.get(f"{base}/counts.csv?by=directorate")
    assert counts.status_code == 200 and w.school_a.directorate.short_name_el in counts.data.decode()


def test_dashboard_page_and_missing_export(client, w):
    census = open_campaign(w)
    services.submit(w.user_a, census, w.school_a, now=ON_TIME)
    services.submit(w.user_b, census, w.school_b, now=LATE)
    login(client, w.admin)
    page = client.get(f"/census/{census.id}").get_data(as_text=True)
    assert w.school_far.name in page and w.school_a.name not in page.split("missing-school", 1)[-1]
    missing = client.get(f"/census/{census.id}/missing.csv").data.decode("utf-8-sig")
    assert w.school_far.code in missing and w.school_a.code not in missing
    assert client.get("/census").status_code == 200


def test_a_new_unit_manager_sees_only_their_schools(w):
    census = open_campaign(w)
    manager_far = make_staff(unit_at(w.school_far, 1), manager=True)
    total, _regions = queries.completion(manager_far, census)
    assert (total.targeted, total.missing) == (1, 1)
    other = make_school("dipe-ach")
    other.school_type = TYPE
    make_school_user(other)
    _db.session.flush()
    assert queries.completion(manager_far, census)[0].targeted == 2


# --- issue 12: plural forms, the statement's verification code, a real signed PDF -------------

def test_reminders_use_plural_forms(w):
    census = open_campaign(w, reminder_days=[7, 1, 0])
    services.send_due_reminders(athens_morning(DEADLINE - timedelta(days=7)))
    services.send_due_reminders(athens_morning(DEADLINE - timedelta(days=1)))
    services.send_due_reminders(athens_morning(DEADLINE))
    bodies = {n.dedupe_key.rsplit(":", 1)[1]: n.body for n in census_reminders(census)
              if n.recipient_email == w.school_a.email}
    assert "σε 7 ημέρες." in bodies["7"]
    assert "σε 1 ημέρα." in bodies["1"] and "1 ημέρες" not in bodies["1"]
    assert "λήγει σήμερα, 21/01/2026" in bodies["0"] and "0 ημέρ" not in bodies["0"]
    assert w.school_a.name in bodies["1"] and f"/census/{census.id}" in bodies["1"]


def test_submission_counts_use_plural_forms(client, w):
    add_item(w.user_a, w.school_a, serial_number="ONE001")
    census = open_campaign(w, opens_on=date(2020, 1, 1), deadline=date(2099, 1, 1),
                           now=datetime(2020, 1, 1, tzinfo=UTC))
    login(client, w.user_a)
    url = f"/census/{census.id}"
    page = client.post(f"{url}/submit", data={"csrf_token": csrf_token(client, url)},
                       follow_redirects=True).get_data(as_text=True)
    assert "(1 είδος)" in page and "με 1 είδος." in page and "1 είδη" not in page


def _signed_in_school(client, w):
    add_item(w.user_a, w.school_a, "PRINTER", manufacturer="HP", model="LaserJet P2055",
             serial_number="SECRET-SN-1")
    census = open_campaign(w, opens_on=date(2020, 1, 1), deadline=date(2099, 1, 1),
                           now=datetime(2020, 1, 1, tzinfo=UTC))
    submission = services.submit(w.user_a, census, w.school_a, now=utcnow())
    _db.session.commit()
    return census, submission


def test_the_statement_carries_a_code_anyone_can_check(client, w, app):
    from pypdf import PdfReader

    from helpdesk.census import verification

    census, submission = _signed_in_school(client, w)
    code = queries.statement_code(submission)
    assert verification.parse_code(code)[0] == submission.id
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(statement_pdf(submission))).pages)
    assert code in "".join(text.split()) or code in text
    assert "/census/verify?code=" in "".join(text.split())

    # anonymous: no log-in, the code typed in lower case with spaces
    page = client.get("/census/verify", query_string={"code": f" {code.lower().replace('-', ' ')} "})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Έγκυρη" in html
    assert w.school_a.name in html and w.school_a.code in html and census.title in html
    assert "SECRET-SN-1" not in html and "LaserJet" not in html and w.school_a.email not in html

    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    other_id = f"{submission.id + 1}-{code.split('-', 1)[1]}"
    for bad in (forged, other_id, "garbage", "1-AAAA"):
        html = client.get("/census/verify", query_string={"code": bad}).get_data(as_text=True)
        assert "Δεν είναι έγκυρη" in html and w.school_a.name not in html, bad
    assert "Κωδικός επαλήθευσης" in client.get("/census/verify").get_data(as_text=True)

    # another SECRET_KEY (another installation) makes other codes
    assert verification.make_code("other", submission.id, census.id, w.school_a.code,
                                  submission.snapshot) != code
    # submitting again replaces the snapshot: the old statement's code is no longer valid
    add_item(w.user_a, w.school_a, serial_number="NEW001")
    again = services.submit(w.user_a, census, w.school_a, now=utcnow())
    _db.session.commit()
    html = client.get("/census/verify", query_string={"code": code}).get_data(as_text=True)
    assert "Δεν είναι έγκυρη" in html
    assert queries.verified_submission(queries.statement_code(again)).id == again.id


def test_a_signed_upload_must_be_a_real_pdf(client, w):
    census, submission = _signed_in_school(client, w)
    login(client, w.user_a)
    url = f"/census/{census.id}"
    for fake in (b"%PDF-1.7\nMZ\x90\x00 an executable in disguise", b"%PDF-1.4\n%%EOF\n",
                 b"%PDF" + b"\x00" * 4000):
        page = client.post(f"{url}/signed", data={
            "csrf_token": csrf_token(client, url), "signed_file": (io.BytesIO(fake), "υπογραφή.pdf")},
            content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
        assert "υπογραφή.pdf δεν είναι αναγνώσιμο έγγραφο PDF" in page, fake
        _db.session.expire_all()
        assert queries.get_submission(census.id, w.school_a.id).signed_stored_name is None
    real = statement_pdf(submission)
    assert services.is_readable_pdf(real)
    response = client.post(f"{url}/signed", data={
        "csrf_token": csrf_token(client, url), "signed_file": (io.BytesIO(real), "signed.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    _db.session.expire_all()
    assert queries.get_submission(census.id, w.school_a.id).signed_filename == "signed.pdf"
