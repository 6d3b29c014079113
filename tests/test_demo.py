"""The demo data set: realistic schools and accounts, tickets in every state."""
import random
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from helpdesk import demo
from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.accounts.passwords import verify_password
from helpdesk.demo.cli import cli as demo_cli
from helpdesk.demo.people import latin
from helpdesk.demo.places import TOWNS
from helpdesk.demo.schools import GENERATED_SOURCE, _Namer, area_code, plan_school
from helpdesk.demo.tickets import ATHENS, schedule
from helpdesk.extensions import db as _db
from helpdesk.org.models import Directorate, School, SupportUnit
from helpdesk.org.queries import chain_for_school
from helpdesk.tickets.models import Ticket, TicketStay
from helpdesk.tickets.states import Status

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOST = r"(?P<num>[1-9]\d*)?[a-z]+(-[a-z]+)*"
PRIMARY_TYPES = {"DIM", "NIP"}
SECONDARY_TYPES = {"GYM", "GEL", "EPAL", "EK", "EEEEK"}


def directorates() -> list[Directorate]:
    return list(_db.session.scalars(select(Directorate).order_by(Directorate.code)))


def planned(n: int, seed: int = 1) -> list[tuple[Directorate, dict]]:
    """``n`` generated schools over every directorate, not stored."""
    dirs = directorates()
    by_id = {d.id: d for d in dirs}
    rng = random.Random(seed)
    namer = _Namer(rng, set(_db.session.scalars(select(School.code))),
                   set(_db.session.scalars(select(School.email))))
    rows = [plan_school(namer, dirs, rng) for _ in range(n)]
    return [(by_id[row["directorate_id"]], row) for row in rows]


def test_generated_codes_follow_the_area_code_patterns(db):
    rows = planned(400)
    for directorate, row in rows:
        area = area_code(directorate)
        pattern = rf"9{area}\d{{4}}" if directorate.edu_level == "PE" else rf"{area}\d{{5}}"
        assert re.fullmatch(pattern, row["code"]), (directorate.code, row["code"])
    codes = [row["code"] for _, row in rows]
    assert len(set(codes)) == len(codes)
    assert not set(codes) & set(_db.session.scalars(select(School.code)))


def test_area_codes_come_from_the_directorate_registry_numbers(db):
    by_code = {d.code: d for d in directorates()}
    assert area_code(by_code["dipe-ach"]) == "06"
    assert area_code(by_code["dide-thess-v"]) == "19"
    assert area_code(by_code["dide-att-peiraia"]) == "52"
    assert area_code(by_code["dipe-att-peiraia"]) == "05"


def test_generated_addresses_and_names_follow_the_real_patterns(db):
    rows = planned(400)
    for directorate, row in rows:
        domain = re.escape(directorate.sch_domain)
        match = re.fullmatch(rf"mail@(?P<host>{HOST})\.{domain}\.sch\.gr", row["email"])
        assert match, row["email"]
        number = match.group("num")
        assert row["name"].startswith(f"{number}ο ") == bool(number), row
        stems = {stem for _, stem, _ in TOWNS[directorate.ldap_ou]}
        assert any(match.group("host").endswith(f"-{stem}") for stem in stems), row["email"]
        assert row["source"] == GENERATED_SOURCE
    emails = [row["email"] for _, row in rows]
    assert len(set(emails)) == len(emails)


def test_school_types_suit_the_directorate(db):
    rows = planned(600)
    primary = [row["school_type"] for d, row in rows if d.edu_level == "PE"]
    secondary = [row["school_type"] for d, row in rows if d.edu_level == "DE"]
    assert set(primary) == PRIMARY_TYPES
    assert set(secondary) <= SECONDARY_TYPES and {"GYM", "GEL", "EPAL"} <= set(secondary)
    assert secondary.count("GYM") > secondary.count("EPAL") > secondary.count("EEEEK")


def test_generation_is_deterministic(db):
    assert [row for _, row in planned(50, seed=9)] == [row for _, row in planned(50, seed=9)]


def test_every_directorate_area_has_towns_with_a_city(db):
    for directorate in directorates():
        towns = TOWNS[directorate.ldap_ou]
        assert any(is_city for _, _, is_city in towns), directorate.code


def test_transliteration_gives_plain_user_names():
    assert latin("Παπαδοπούλου") == "papadopoulou"
    assert latin("Ευάγγελος") == "evangelos"
    assert latin("Χατζηδάκης") == "chatzidakis"


def test_ticket_times_are_in_athens_working_hours_and_in_order():
    rng = random.Random(3)
    times = [t for t, _ in schedule(300, NOW, rng)]
    assert times == sorted(times) and times[-1] < NOW
    assert (NOW - times[0]).days <= 560
    for t in times:
        local = t.astimezone(ATHENS)
        assert local.weekday() < 5 and 8 <= local.hour < 16


@pytest.fixture
def loaded(app, db):
    """A tiny demo: the 32 sample schools, 8 generated ones, 60 tickets."""
    result = app.test_cli_runner().invoke(
        demo_cli, ["load", "--schools", "40", "--tickets", "60", "--seed", "7"])
    assert result.exit_code == 0, result.output
    return result


def test_logins_are_empty_without_demo_data(db):
    assert demo.logins() == []


def test_a_tiny_demo_has_tickets_in_every_status(loaded):
    statuses = set(_db.session.scalars(select(Ticket.status).distinct()))
    assert statuses == {s.value for s in Status}
    assert _db.session.scalar(select(func.count(Ticket.id))) == 60
    escalated = _db.session.scalar(select(func.count(TicketStay.id)).where(TicketStay.level == 2))
    assert escalated > 0
    assert "60 tickets added" in loaded.output
    demo_school = _db.session.scalar(select(School).where(School.code == "1901041"))
    its_statuses = set(_db.session.scalars(
        select(Ticket.status).where(Ticket.school_id == demo_school.id).distinct()))
    assert {"new", "open", "waiting", "resolved"} <= its_statuses


def test_every_demo_school_has_its_official_account(loaded):
    accounts = _db.session.scalars(select(User).where(User.role == Role.SCHOOL)).all()
    assert len(accounts) == 40
    assert all(a.email == a.school.email for a in accounts)
    generated = [a.school for a in accounts if a.school.source == GENERATED_SOURCE]
    assert len(generated) == 8


def test_the_units_serving_demo_schools_are_staffed(loaded):
    schools = _db.session.scalars(select(School).join(User, User.school_id == School.id)).all()
    for level, (size, managers) in {1: (2, 1), 2: (3, 1), 3: (4, 1)}.items():
        for unit_id in {chain_for_school(s).unit_at(level) for s in schools}:
            members = _db.session.scalars(
                select(UnitMembership).where(UnitMembership.unit_id == unit_id)).all()
            assert len(members) == size, (level, unit_id)
            assert sum(m.is_manager for m in members) == managers


def test_logins_name_working_demo_accounts(loaded):
    rows = demo.logins()
    assert len(rows) == 6
    assert rows[0][1] == "mail@3gym-menem.thess.sch.gr"
    users = {u.email: u for u in _db.session.scalars(select(User).where(
        User.email.in_([email for _, email, _ in rows])))}
    assert len(users) == 6
    assert all(verify_password(users[email].password_hash, password) for _, email, password in rows)
    roles = {u.role for u in users.values()}
    assert roles == {Role.SCHOOL, Role.TECHNICIAN, Role.MANAGER, Role.ADMIN}
    levels = [_db.session.scalar(select(SupportUnit.level).join(UnitMembership).where(
        UnitMembership.user_id == users[email].id)) for _, email, _ in rows[1:4]]
    assert levels == [1, 2, 3]


def test_loading_again_adds_nothing_unless_asked(app, loaded):
    runner = app.test_cli_runner()
    again = runner.invoke(demo_cli, ["load", "--schools", "40", "--tickets", "60"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert _db.session.scalar(select(func.count(Ticket.id))) == 60
    more = runner.invoke(demo_cli, ["load", "--add", "--tickets", "10"])
    assert more.exit_code == 0, more.output
    assert _db.session.scalar(select(func.count(Ticket.id))) == 70
    assert _db.session.scalar(select(func.count(User.id)).where(User.role == Role.SCHOOL)) == 40


def test_every_demo_school_has_equipment_to_pick(loaded):
    from helpdesk.inventory.models import EquipmentItem

    demo_school = _db.session.scalar(select(School).where(School.code == "1901041"))
    items = _db.session.scalars(
        select(EquipmentItem).where(EquipmentItem.school_id == demo_school.id)).all()
    assert 12 <= len(items) <= 25
    assert all(i.serial_key and i.search_text and i.category_id for i in items)
    per_school = _db.session.execute(select(EquipmentItem.school_id, func.count()).group_by(
        EquipmentItem.school_id)).all()
    assert len(per_school) == 40
    assert "equipment items for 40 schools" in loaded.output


def test_the_demo_library_is_populated_and_searchable(app, loaded, client):
    from helpdesk.kb import queries as kb_queries
    from helpdesk.kb.models import KbArticle, KbAttachment

    assert "library: 13 guides added" in loaded.output, loaded.output
    assert _db.session.scalar(select(func.count(KbArticle.id))) == 13
    assert _db.session.scalar(select(func.count(KbAttachment.id))) == 1
    titles = [r.article.title for r in kb_queries.find(None, "εκτυπωτές")]
    assert titles[0] == "Ο εκτυπωτής δεν τυπώνει: έλεγχοι πριν ανοίξετε αίτημα"
    assert "Αναβάθμιση εικόνας LTSP σε πολλά σχολεία (εσωτερικό)" not in [
        r.article.title for r in kb_queries.find(None, "LTSP")]  # staff only
    page = client.get("/kb").get_data(as_text=True)
    assert "Ξέχασα τον κωδικό του λογαριασμού ΠΣΔ" in page
    again = app.test_cli_runner().invoke(demo_cli, ["load", "--schools", "40", "--tickets", "0"])
    assert "library:" not in again.output  # nothing new the second time
    assert _db.session.scalar(select(func.count(KbArticle.id))) == 13
