"""Import (upsert, per-row errors, encodings, XLSX) and export (neutralised cells)."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from helpdesk.extensions import db as _db
from helpdesk.inventory import importer
from helpdesk.inventory.importer import ImportContext, error_text, import_file
from helpdesk.inventory.models import EquipmentHistory, EquipmentItem
from helpdesk.inventory.queries import items_statement
from tests.factories import World


@pytest.fixture
def w(db):
    return World()


HEADER = list(importer.SCH_COLUMNS)


def sch_rows(w):
    return [
        ["9001", "Cisco 1801", "1000169", w.school_a.name, w.school_a.code, "Δρομολογητής ΠΣΔ",
         "Cisco", "Γραφείο", "FTX1111A"],
        ["9002", "HP LaserJet 1020", "1000169", w.school_a.name, w.school_a.code, "Εκτυπωτής",
         "HP", "ΣΕΠΕΗΥ", "CNB222"],
        ["9003", "Dell Optiplex 3020", "1000170", w.school_b.name, w.school_b.code, "PC-DESKTOP",
         "Dell", "Αίθουσα 12", "DL333"],
    ]


def to_csv(rows, encoding="utf-8", header=HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode(encoding)


def count():
    return _db.session.scalar(select(func.count(EquipmentItem.id)))


def test_importing_the_same_file_twice_changes_nothing(w):
    data = to_csv(sch_rows(w))
    first = import_file(data, "report.csv", ImportContext(source="report.csv"))
    assert (first.file_format, first.created, first.error_count) == ("sch", 3, 0)
    n_items, n_hist = count(), _db.session.scalar(select(func.count(EquipmentHistory.id)))
    second = import_file(data, "report.csv", ImportContext())
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert count() == n_items
    assert _db.session.scalar(select(func.count(EquipmentHistory.id))) == n_hist
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.external_id == "9002"))
    assert (item.school_id, item.category.code, item.location, item.model) == (
        w.school_a.id, "PRINTER", "SEPEHY", "HP LaserJet 1020")


def test_a_changed_row_updates_and_records_history(w):
    rows = sch_rows(w)
    import_file(to_csv(rows), "r.csv", ImportContext())
    rows[1][7] = "Βιβλιοθήκη"
    result = import_file(to_csv(rows), "r.csv", ImportContext(actor_id=w.admin.id))
    assert (result.updated, result.unchanged) == (1, 2)
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.external_id == "9002"))
    _db.session.refresh(item)
    assert item.location == "LIB"
    last = _db.session.scalars(select(EquipmentHistory).where(EquipmentHistory.item_id == item.id)
                               .order_by(EquipmentHistory.id.desc())).first()
    assert (last.field, last.old, last.new, last.actor_id) == ("location", "SEPEHY", "LIB", w.admin.id)


def test_bad_rows_are_reported_and_skipped_whole(w):
    import_file(to_csv(sch_rows(w)[:1]), "r.csv", ImportContext())
    bad = [
        ["8001", "x", "", "", "0000000", "Εκτυπωτής", "HP", "", "S1"],          # wrong school code
        ["8002", "x", "", "", w.school_a.code, "Καφετιέρα", "HP", "", "S2"],    # unknown category
        ["8003", "x", "", "", w.school_a.code, "Εκτυπωτής", "HP", "", "S3"],    # good
        ["8004", "x", "", "", w.school_a.code, "Εκτυπωτής", "hp", "", "s3"],    # duplicate in file
        ["8005", "x", "", "", w.school_b.code, "Δρομολογητής", "CISCO", "", "FTX1111A"],  # dup in db
    ]
    result = import_file(to_csv(bad), "bad.csv", ImportContext())
    assert result.created == 1 and result.error_count == 4
    codes = {e["row"]: e["errors"][0]["code"] for e in result.errors}
    assert codes == {2: "unknown_school", 3: "unknown_category", 5: "dup_in_file", 6: "dup_in_db"}
    assert "0000000" in error_text(result.errors[0]["errors"][0])
    assert _db.session.scalar(select(EquipmentItem).where(EquipmentItem.external_id == "8002")) is None


def test_bad_date_in_the_full_format(w):
    header = list(importer.FULL_COLUMNS)
    row = dict.fromkeys(header, "")
    row.update(school_code=w.school_a.code, category="LAPTOP", manufacturer="Lenovo",
               serial_number="L1", acquisition_date="31/02/2020")
    good = dict(row, serial_number="L2", acquisition_date="15/09/2021", attr_ram_gb="8")
    result = import_file(to_csv([list(row.values()), list(good.values())], header=header), "f.csv",
                         ImportContext())
    assert [e["errors"][0]["code"] for e in result.errors] == ["bad_date"]
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.serial_number == "L2"))
    assert str(item.acquisition_date) == "2021-09-15" and item.attributes == {"ram_gb": 8}


@pytest.mark.parametrize("encoding", ["cp1253", "utf-8-sig"])
def test_greek_text_in_windows_1253_and_utf8_with_bom(w, encoding):
    rows = sch_rows(w)
    rows[0][7] = "Αίθουσα Καθηγητών"
    result = import_file(to_csv(rows, encoding), "r.csv", ImportContext())
    assert result.created == 3, result.errors
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.external_id == "9001"))
    assert item.location == "Αίθουσα Καθηγητών" and item.category.code == "CPE"


def test_xlsx_and_leading_zeros_eaten_by_excel(w):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([9101, "Epson EB-X41", 1, "", int(w.school_a.code), "Βιντεοπροβολέας", "Epson", "", "EP1"])
    out = io.BytesIO()
    wb.save(out)
    result = import_file(out.getvalue(), "r.xlsx", ImportContext())
    assert result.created == 1, result.errors
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.external_id == "9101"))
    assert item.category.code == "PROJECTOR" and item.school_id == w.school_a.id


def test_a_school_cannot_import_into_another_schools_registry(w):
    ctx = ImportContext(actor_id=w.user_a.id, allowed_school_ids={w.school_a.id},
                        only_school_id=w.school_a.id)
    result = import_file(to_csv(sch_rows(w)), "r.csv", ctx)
    assert result.created == 2
    assert [e["errors"][0]["code"] for e in result.errors] == ["wrong_school"]


def test_export_round_trips_and_neutralises_formulas(w):
    import_file(to_csv(sch_rows(w)), "r.csv", ImportContext())
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.external_id == "9001"))
    item.model = '=HYPERLINK("http://evil")'
    item.notes = "@SUM(1)"
    _db.session.flush()
    stmt = items_statement(w.user_a, w.school_a.id)
    data = importer.export_csv(stmt)
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text
    assert w.school_b.code not in text  # the school's scope only
    wb = load_workbook(io.BytesIO(importer.export_xlsx(stmt)))
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://evil\")" in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)
    # our own format imports back without changes (the neutralised model is now its text)
    item.model, item.notes = "Cisco 1801", ""
    _db.session.flush()
    again = import_file(importer.export_csv(stmt), "export.csv", ImportContext())
    assert (again.file_format, again.created, again.updated, again.error_count) == ("full", 0, 0, 0)


def test_bulk_writes_across_chunks_keep_history_and_idempotence(w, monkeypatch):
    """Small chunks: inserts (COPY on PostgreSQL), look-ups and updates span several of them."""
    from helpdesk.inventory.services import search_text

    monkeypatch.setattr(importer, "CHUNK", 2)
    rows = sch_rows(w) + [
        [str(9010 + i), f"Model {i}", "", "", w.school_b.code, "Οθόνη", "Dell", "Αίθουσα 12",
         f"MON{i}"] for i in range(4)]
    first = import_file(to_csv(rows), "r.csv", ImportContext(source="first.csv"))
    assert (first.created, first.error_count) == (7, 0)
    items = _db.session.scalars(select(EquipmentItem).order_by(EquipmentItem.external_id)).all()
    assert [i.external_id for i in items] == [r[0] for r in sorted(rows)]
    imported = _db.session.execute(select(EquipmentHistory.item_id, EquipmentHistory.new)
                                   .where(EquipmentHistory.field == "imported")).all()
    assert sorted(imported) == sorted((i.id, "first.csv") for i in items)
    assert all(i.attributes == {} and i.search_text == search_text(i, i.category) for i in items)
    dell = next(i for i in items if i.external_id == "9012")
    assert (dell.manufacturer_folded, dell.serial_key, dell.location) == ("dell", "MON2", "Αίθουσα 12")
    assert "οθονη" in dell.search_text and "model 2 mon2 αιθουσα 12" in dell.search_text
    rows[4][7], rows[6][1] = "ΣΕΠΕΗΥ", "Model X"  # two rows in different chunks change
    again = import_file(to_csv(rows), "r.csv", ImportContext(actor_id=w.admin.id))
    assert (again.created, again.updated, again.unchanged, again.error_count) == (0, 2, 5, 0)
    other = ["9020", "x", "", "", w.school_a.code, "Εκτυπωτής", "DELL", "", "mon 0"]
    dup = import_file(to_csv([rows[0], other]), "r.csv", ImportContext())
    assert [(e["row"], e["errors"][0]["code"]) for e in dup.errors] == [(3, "dup_in_db")]
    changes = _db.session.execute(select(EquipmentHistory.field, EquipmentHistory.old,
                                         EquipmentHistory.new, EquipmentHistory.actor_id)
                                  .where(EquipmentHistory.field != "imported")).all()
    assert sorted(changes) == [("location", "Αίθουσα 12", "SEPEHY", w.admin.id),
                               ("model", "Model 3", "Model X", w.admin.id)]
    third = import_file(to_csv(rows), "r.csv", ImportContext())
    assert (third.created, third.updated, third.unchanged) == (0, 0, 7)
