"""The reference organisation: loading it from the CSVs, chains and unit scopes."""
import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db as _db
from helpdesk.org.cli import cli as org_cli
from helpdesk.org.models import (
    Category,
    Directorate,
    PartnerArea,
    Region,
    ResolutionType,
    School,
    SupportUnit,
)
from helpdesk.org.queries import (
    chain_for_directorate,
    chain_for_school,
    schools_served_by_units,
    units_serving_school,
)
from helpdesk.org.services import (
    LEVEL3_CODE,
    asset_link,
    has_changes,
    load_reference_data,
    read_csv,
)

TABLES = (Region, Directorate, SupportUnit, PartnerArea, Category, ResolutionType, School)


def count(model, *where) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def table_counts() -> dict[str, int]:
    return {model.__tablename__: count(model) for model in TABLES}


def unit(code: str) -> SupportUnit:
    return _db.session.scalar(select(SupportUnit).where(SupportUnit.code == code))


def school(code: str) -> School:
    return _db.session.scalar(select(School).where(School.code == code))


def test_the_load_matches_the_csvs(db):
    assert count(Region) == 13
    assert count(Directorate) == 116
    assert count(SupportUnit, SupportUnit.level == 1) == 116
    partners = {r["partner_code"] for r in read_csv("partner_regions.csv")}
    assert count(SupportUnit, SupportUnit.level == 2) == len(partners) == 12
    assert count(SupportUnit, SupportUnit.level == 3) == 1
    assert count(PartnerArea) == 116
    assert count(Category) == 33
    children = [r for r in read_csv("request_categories.csv") if r["parent_code"]]
    assert count(Category, Category.parent_id.is_not(None)) == len(children) == 17
    assert count(ResolutionType) == 5  # with GUIDE, "by a library guide" (issue 15)
    emails = [r["official_email"].lower() for r in read_csv("sample_schools.csv")]
    assert count(School, School.email.in_(emails)) == 32


def test_a_second_load_changes_nothing(db):
    before = table_counts()
    counts = load_reference_data()
    assert not has_changes(counts)
    assert set(counts.values()) == {0}
    assert table_counts() == before


def test_a_load_rewrites_only_what_differs(db):
    dra = _db.session.scalar(select(Directorate).where(Directorate.code == "dipe-dra"))
    dra.name_el = "λάθος"
    _db.session.flush()
    counts = load_reference_data()
    assert counts["directorates.updated"] == 1
    assert sum(counts.values()) == 1
    assert dra.name_el == "Διεύθυνση Πρωτοβάθμιας Εκπαίδευσης Δράμας"


def test_a_load_issues_a_constant_number_of_queries(db, query_counter):
    with query_counter() as q:
        load_reference_data()
    assert q.count <= 10, q.statements


def test_units_are_named_after_the_directorate_and_partner(db):
    dra = unit("plinet-dipe-dra")
    assert (dra.level, dra.name_el) == (1, "ΠΛΗΝΕΤ Δ.Π.Ε. Δράμας")
    assert dra.email == "plinet@dipe.dra.sch.gr"
    assert dra.name_en == "PLINET ICT support, Primary Education of Drama"
    assert unit("plinet-dide-att-peiraia").email == "plinet@dide-peiraia.att.sch.gr"
    assert unit("plinet-dide-att-g").email == "plinet@dide-g.att.sch.gr"
    uom = unit("psd-uom")
    assert (uom.level, uom.name_el) == (2, "Φορέας ΠΣΔ — Πανεπιστήμιο Μακεδονίας")
    assert uom.email == "uom-net@sch.gr"
    assert unit(LEVEL3_CODE).name_el == "ΙΤΥΕ Διόφαντος — 3ο επίπεδο υποστήριξης"
    assert unit("psd-teilar") is None  # a partner with no directorate gets no unit


def test_categories_say_where_requests_start(db):
    by_code = {c.code: c for c in _db.session.scalars(select(Category))}
    assert by_code["PSD-APP"].first_level == 2
    assert by_code["NET-IP"].first_level == 2
    assert by_code["HW-PRN"].first_level == 1
    assert by_code["HW-PRN"].parent.code == "HW"
    assert by_code["NET-CPE"].asset_link == "required"
    assert by_code["MAIL"].asset_link == "none"


@pytest.mark.parametrize("raw, expected", [
    ("CPE (required)", "required"), ("required", "required"), ("optional (lab)", "optional"),
    ("AP", "optional"), ("CPE", "optional"), ("no", "none"), ("", "none"),
])
def test_asset_link_is_normalised(raw, expected):
    assert asset_link(raw) == expected


def test_sample_schools_are_real_and_searchable(db):
    menemeni = school("1901041")
    assert menemeni.name == "3ο Γυμνάσιο Μενεμένης"
    assert menemeni.name_folded == "3ο γυμνασιο μενεμενησ"
    assert menemeni.email == "mail@3gym-menem.thess.sch.gr"
    assert menemeni.directorate.code == "dide-thess-v"
    assert school("2404010").name == "Γυμνάσιο Αγρού"
    assert "synthetic code" in school("1950089").source


def test_every_directorate_has_a_full_chain(db):
    level3 = unit(LEVEL3_CODE).id
    for directorate in _db.session.scalars(select(Directorate)):
        chain = chain_for_directorate(directorate.id)
        l1, l2 = _db.session.get(SupportUnit, chain.l1), _db.session.get(SupportUnit, chain.l2)
        assert (l1.level, l1.directorate_id) == (1, directorate.id), directorate.code
        assert l2.level == 2, directorate.code
        assert chain.l3 == level3


def test_west_thessaloniki_has_the_university_of_macedonia_at_level_2(db, query_counter):
    menemeni = school("1901041")
    with query_counter() as q:
        chain = chain_for_school(menemeni)
    assert q.count <= 2
    assert chain.l1 == unit("plinet-dide-thess-v").id
    assert chain.l2 == unit("psd-uom").id
    assert chain.l3 == unit(LEVEL3_CODE).id


def test_units_serving_a_school(db):
    menemeni = school("1901041")
    serving = set(_db.session.scalars(units_serving_school(menemeni.id)))
    chain = chain_for_school(menemeni)
    assert serving == {chain.l1, chain.l2, chain.l3}


def served(*unit_codes: str) -> set[str]:
    ids = [unit(code).id for code in unit_codes]
    stmt = select(School.code).where(School.id.in_(schools_served_by_units(ids)))
    return set(_db.session.scalars(stmt))


def test_which_schools_a_unit_serves(db):
    assert served("plinet-dipe-ach") == {"9060234", "9060237", "9060296"}
    uom = served("psd-uom")
    assert {"1901041", "4944001"} <= uom  # Δυτ. Θεσσαλονίκη and Χαλκιδική
    assert "3144002" not in uom and "9060234" not in uom
    assert len(served(LEVEL3_CODE)) == count(School)
    assert served() == set()
    both = served("plinet-dipe-ach", "plinet-dide-lar")
    assert both == {"9060234", "9060237", "9060296", "3144002"}


def test_org_load_command_says_when_nothing_changed(app, db):
    result = app.test_cli_runner().invoke(org_cli, ["load"])
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output


def test_org_show_prints_the_chain(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(org_cli, ["show", "1901041"])
    assert result.exit_code == 0, result.output
    assert "3ο Γυμνάσιο Μενεμένης" in result.output
    assert "level 1: ΠΛΗΝΕΤ Δ.Δ.Ε. Δυτικής Θεσσαλονίκης" in result.output
    assert "level 2: Φορέας ΠΣΔ — Πανεπιστήμιο Μακεδονίας" in result.output
    assert "level 3: ΙΤΥΕ Διόφαντος" in result.output
    assert runner.invoke(org_cli, ["show", "0000000"]).exit_code != 0
