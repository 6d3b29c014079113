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


# --- issue 12: quoting, column counts, category labels, school codes, round trips ----------

def items_by_ext():
    return {i.external_id: i for i in _db.session.scalars(select(EquipmentItem))}


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_doubled_quotes_are_read_by_the_standard_whatever_the_header(w, delimiter):
    """The header has no quotes, so a dialect sniffed from it turned doublequote off."""
    row = ["9301", 'P2419H 24" monitor', "", "", w.school_a.code, "Οθόνη", "Dell",
           'Αίθουσα "Α", 1ος', "CN0P2419"]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([HEADER, row])
    assert '"P2419H 24"" monitor"' in out.getvalue()
    result = import_file(out.getvalue().encode(), "r.csv", ImportContext())
    assert (result.created, result.error_count) == (1, 0), result.errors
    item = items_by_ext()["9301"]
    assert (item.model, item.location, item.serial_number) == (
        'P2419H 24" monitor', 'Αίθουσα "Α", 1ος', "CN0P2419")


def test_a_row_with_too_few_or_too_many_columns_is_refused(w):
    from flask_babel import force_locale

    rows = sch_rows(w)
    short = rows[0][:6] + rows[0][7:]  # 8 columns: the location is missing
    long = rows[1] + ["extra"]
    data = to_csv([short, [], long, rows[2]])  # a blank line still counts as a row
    result = import_file(data, "r.csv", ImportContext())
    assert (result.created, result.error_count) == (1, 2)
    assert [(e["row"], e["errors"][0]["code"]) for e in result.errors] == [
        (2, "bad_columns"), (4, "bad_columns")]
    assert set(items_by_ext()) == {"9003"}
    with force_locale("el"):
        text = error_text(result.errors[0]["errors"][0])
    assert "Η γραμμή 2 έχει 8 στήλες" in text and "9" in text, text


def test_an_xlsx_row_with_values_right_of_the_header_is_refused(w):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(sch_rows(w)[0])
    ws.append(sch_rows(w)[1] + [None, "stray"])
    ws.append(sch_rows(w)[2][:7])  # empty cells at the end are empty values, not missing ones
    out = io.BytesIO()
    wb.save(out)
    result = import_file(out.getvalue(), "r.xlsx", ImportContext())
    assert [(e["row"], e["errors"][0]["code"]) for e in result.errors] == [(3, "bad_columns")]
    assert result.created == 2 and items_by_ext()["9003"].serial_number is None


@pytest.mark.parametrize("label, code", [
    ("Σταθερός Η/Υ", "PC-DESKTOP"), ("ΣΤΑΘΕΡΟΙ Η/Υ", "PC-DESKTOP"), ("σταθερος η/υ", "PC-DESKTOP"),
    ("Η/Υ", "PC-DESKTOP"), ("Σταθερός Η/Υ Dell", "PC-DESKTOP"), ("Φορητός Η/Υ", "LAPTOP"),
    ("Ασύρματο σημείο πρόσβασης", "AP"), ("ΑΣΥΡΜΑΤΑ ΣΗΜΕΙΑ ΠΡΟΣΒΑΣΗΣ", "AP"),
    ("Access Point", "AP"), ("Οθόνη Η/Υ", "MONITOR"), ("Πολυμηχάνημα Α4 έγχρωμο", "MFP"),
    ("Φωτοαντιγραφικά Α3", "COPIER"), ("Διαδραστικός πίνακας", "IWB"), ("switch", "SWITCH"),
    ("Σκληρός δίσκος HDD/SSD", "PART-DISK"), ("Μεταγωγέας δικτύου", "SWITCH"),
])
def test_category_labels_of_the_ministry_forms(label, code):
    from helpdesk.inventory import labels, reference

    rows = reference.categories_csv()
    matcher = labels.CategoryMatcher(((r["code"], (r["code"], r["name_el"], r["name_en"])) for r in rows),
                                     reference.category_synonyms())
    assert matcher.match(label) == code


def test_an_unknown_category_names_the_closest_ones(w):
    from flask_babel import force_locale

    rows = [["9401", "x", "", "", w.school_a.code, "Εκτυπωτις λέιζερ", "HP", "", "P1"],
            ["9402", "x", "", "", w.school_a.code, "Σταθερός Η/Υ", "Dell", "", "P2"],
            ["9403", "x", "", "", w.school_a.code, "Ασύρματο σημείο πρόσβασης", "Ubiquiti", "", "P3"]]
    result = import_file(to_csv(rows), "r.csv", ImportContext())
    assert result.created == 2
    (err,) = result.errors[0]["errors"]
    assert (result.errors[0]["row"], err["code"]) == (2, "unknown_category")
    with force_locale("el"):
        text = error_text(err)
    assert "Εκτυπωτις λέιζερ" in text and "PRINTER" in text and "Πλησιέστερες" in text, text
    found = items_by_ext()
    assert (found["9402"].category.code, found["9403"].category.code) == ("PC-DESKTOP", "AP")


def test_a_malformed_school_code_is_called_malformed(w):
    from flask_babel import force_locale

    rows = [["9501", "x", "", "", "19010", "Εκτυπωτής", "HP", "", "M1"],
            ["9502", "x", "", "", "12345678", "Εκτυπωτής", "HP", "", "M2"],
            ["9503", "x", "", "", "19Α1010", "Εκτυπωτής", "HP", "", "M3"],
            ["9504", "x", "", "", "9999999", "Εκτυπωτής", "HP", "", "M4"]]
    result = import_file(to_csv(rows), "r.csv", ImportContext())
    codes = [e["errors"][0]["code"] for e in result.errors]
    assert codes == ["bad_school_code"] * 3 + ["unknown_school"]
    with force_locale("el"):
        text = error_text(result.errors[0]["errors"][0])
    assert "19010" in text and "0019010" not in text and "7 ψηφία" in text, text


TRICKY = ['=HYPERLINK("http://evil")', "+30 210 000", "-5 dB", "@SUM(1)", "'=already quoted",
          "''+twice", 'P2419H 24" monitor', '"quoted", with comma', "'plain apostrophe"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(w, fmt):
    from helpdesk.inventory import services as inventory
    from helpdesk.inventory.models import EquipmentCategory

    laptop = _db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == "LAPTOP"))
    for n, value in enumerate(TRICKY):
        inventory.add_item(w.admin, w.school_a, now=importer.utcnow(), category_id=laptop.id,
                           manufacturer="Lenovo", model=value, serial_number=f"RT{n}",
                           notes=value, registry_number=value[:60],
                           attributes={"cpu": value, "ram_gb": 8})
    stmt = items_statement(w.admin, w.school_a.id)
    data = importer.export_csv(stmt) if fmt == "csv" else importer.export_xlsx(stmt)
    result = import_file(data, f"export.{fmt}", ImportContext(actor_id=w.admin.id))
    assert (result.file_format, result.error_count, result.created, result.updated) == (
        "full", 0, 0, 0), result.errors
    assert result.unchanged == len(TRICKY)
    models = {i.model for i in _db.session.scalars(select(EquipmentItem))}
    assert set(TRICKY) <= models
    assert _db.session.scalar(select(func.count(EquipmentHistory.id)).where(
        EquipmentHistory.field != "imported", EquipmentHistory.field != "created")) == 0


def test_neutralise_and_restore_are_inverse():
    for value in TRICKY + ["", "plain", "'", "''", "'-", "\t=x"]:
        assert importer.restore(importer.neutralise(value)) == value
        assert not importer.neutralise(value).startswith(("=", "+", "-", "@"))


# --- issue 11: memory bounded on hostile files --------------------------------------------

def _bomb_xlsx(cell_bytes: int) -> bytes:
    """A workbook whose second row has one inline-string cell of ``cell_bytes`` letters."""
    import zipfile

    wb = Workbook()
    wb.active.append(HEADER)
    good = io.BytesIO()
    wb.save(good)
    out = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info))
                continue
            xml = src.read(info).decode()
            head, tail = xml.split("</sheetData>")
            head += '<row r="2"><c r="A2" t="inlineStr"><is><t>'
            with dst.open(info.filename, "w", force_zip64=True) as fh:
                fh.write(head.encode())
                chunk = b"A" * (1 << 20)
                for _ in range(cell_bytes >> 20):
                    fh.write(chunk)
                fh.write(("</t></is></c></row></sheetData>" + tail).encode())
    return out.getvalue()


def test_an_xlsx_that_expands_to_hundreds_of_mb_is_refused_unopened(w, monkeypatch):
    import time

    def no_open(*args, **kwargs):
        raise AssertionError("openpyxl must not open it")

    monkeypatch.setattr("openpyxl.load_workbook", no_open)
    data = _bomb_xlsx(300 << 20)
    assert len(data) < 2 << 20
    started = time.monotonic()
    with pytest.raises(importer.ImportFileError) as exc:
        import_file(data, "r.xlsx", ImportContext())
    assert exc.value.code == "xlsx_expands" and time.monotonic() - started < 2
    assert count() == 0


def test_a_highly_compressed_xlsx_part_is_refused(w, app):
    from flask_babel import force_locale

    from helpdesk.inventory import runs

    data = _bomb_xlsx(20 << 20)  # under the total, but 20 MB from a few kB
    with pytest.raises(importer.ImportFileError) as exc:
        import_file(data, "r.xlsx", ImportContext())
    assert exc.value.code == "xlsx_bomb"
    run = runs.create_run(w.admin, "bomb.xlsx", data, school_id=None)
    _db.session.commit()
    runs.process(run.id)
    (err,) = run.errors[0]["errors"]
    assert (run.status, err["code"]) == ("failed", "file_xlsx_bomb")
    with force_locale("el"):
        assert "συμπιεσμένο" in error_text(err) and "sheet1.xml" in error_text(err)


def test_csv_size_rows_and_field_length_are_bounded(w, app, monkeypatch):
    rows = [[str(9600 + i), "x", "", "", w.school_a.code, "Εκτυπωτής", "HP", "", f"B{i}"]
            for i in range(10)]
    monkeypatch.setitem(app.config, "INVENTORY_IMPORT_MAX_ROWS", 5)
    with pytest.raises(importer.ImportFileError) as exc:
        import_file(to_csv(rows), "r.csv", ImportContext())
    assert exc.value.code == "too_many_rows"
    monkeypatch.setitem(app.config, "INVENTORY_IMPORT_MAX_ROWS", 100)
    monkeypatch.setitem(app.config, "INVENTORY_IMPORT_MAX_FILE_BYTES", 500)
    with pytest.raises(importer.ImportFileError) as exc:
        import_file(to_csv(rows), "r.csv", ImportContext())
    assert exc.value.code == "too_large"
    monkeypatch.setitem(app.config, "INVENTORY_IMPORT_MAX_FILE_BYTES", 10 << 20)
    rows[3][1] = "x" * 200_000  # longer than a CSV field may be
    with pytest.raises(importer.ImportFileError) as exc:
        import_file(to_csv(rows), "r.csv", ImportContext())
    assert exc.value.code == "bad_csv"


def test_the_cli_calls_a_malformed_school_code_malformed(w, app, tmp_path):
    from helpdesk.inventory.cli import cli

    path = tmp_path / "r.csv"
    path.write_bytes(to_csv(sch_rows(w)))
    result = app.test_cli_runner().invoke(cli, ["import", str(path), "--school", "19010", "--quiet"])
    assert result.exit_code != 0 and "malformed school code 19010" in result.output
    assert "0019010" not in result.output
    result = app.test_cli_runner().invoke(cli, ["import", str(path), "--school", w.school_a.code,
                                                "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output and "1 with errors" in result.output
