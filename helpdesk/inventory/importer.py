"""Import and export of the registry: CSV and XLSX, the inventory.sch.gr report and our format.

Formats
-------
``sch``: the public report of inventory.sch.gr, columns
``cpe_id, cpe, mm_id, unit_name, registry_no, item_name, manufacturer, location, serial_number``.
Decisions: ``registry_no`` is the school's 7-digit ministry (ΥΠΑΙΘ) code and is what
identifies the school (a 6-digit number is a code whose leading zero Excel ate and is
zero-padded; any other length is a malformed code); ``mm_id`` (the ΠΣΔ Μητρώο Μονάδων id) and ``unit_name`` are informative
only, as we do not store MM ids. ``cpe_id`` is the report's item id and becomes the
item's ``external_id``; ``cpe`` is the product description, stored as the model;
``item_name`` is the category (a code or a Greek/English category name; empty means
CPE, the report's own kind); ``location`` is mapped to a lab-type code when it names
one, else kept as free text.

``full``: our own export (``FULL_COLUMNS``), every field of an item.

Files are read by ``tables`` (bounded; CSV quoting by RFC 4180, only the delimiter
guessed); a row with another number of columns than the header is refused. Category labels are matched by ``labels.CategoryMatcher`` (names and the
synonyms of the ministry's forms in data/category_synonyms.csv). Our exports put a quote
before text a spreadsheet would run (``neutralise``); the import takes it off (``restore``).

Upsert key: ``external_id`` when given; else (full format) ``id`` of an item of the same
school; else school + manufacturer + serial number. A row whose values are all equal to
the stored item changes nothing, so importing the same file twice changes nothing.
Every row is validated whole; a row with an error is reported and skipped entirely.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from helpdesk.core.text import fold, sheet_title
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.inventory import bulk, labels, reference, tables
from helpdesk.inventory.models import EquipmentCategory, EquipmentHistory, EquipmentItem, ItemStatus
from helpdesk.inventory.services import serial_key
from helpdesk.inventory.tables import ImportFileError, neutralise, read_table, restore  # noqa: F401
from helpdesk.org.models import School

SCH_COLUMNS = ("cpe_id", "cpe", "mm_id", "unit_name", "registry_no", "item_name",
               "manufacturer", "location", "serial_number")
ATTR_COLUMNS = tuple(f"attr_{k}" for k in reference.ATTRIBUTE_KEYS)
FULL_COLUMNS = ("id", "school_code", "school_name", "category", "category_name",
                "manufacturer", "model", "serial_number", "registry_number", "location",
                "acquisition_date", "funding_programme", "status", "external_id",
                "notes") + ATTR_COLUMNS
#: Stored columns each format sets (and compares, for the upsert).
_SCH_FIELDS = ("school_id", "category_id", "manufacturer", "model", "serial_number",
               "location", "external_id")
_FULL_FIELDS = ("school_id", "category_id", "manufacturer", "model", "serial_number",
                "registry_number", "location", "acquisition_date", "funding_programme",
                "status", "external_id", "notes", "attributes")
CHUNK = 500
MAX_REPORTED_ERRORS = 500

#: Error code -> message (a row's errors are stored as codes, shown in the reader's language).
ERRORS = {
    "unknown_school": _l("Unknown school code %(value)s."),
    "bad_school_code": _l("Malformed school code %(value)s: a ministry code has 7 digits."),
    "wrong_school": _l("School %(value)s is not a school whose registry you may import into."),
    "unknown_category": _l("Unknown equipment category %(value)s."),
    "unknown_category_near": _l("Unknown equipment category %(value)s. Closest: %(other)s."),
    "bad_columns": _l("Row %(row)s has %(value)s columns but the header has %(other)s: check for "
                      "a missing or extra separator or an unclosed quote."),
    "bad_date": _l("Not a date: %(value)s (use YYYY-MM-DD or DD/MM/YYYY)."),
    "bad_status": _l("Unknown status %(value)s."),
    "bad_funding": _l("Unknown funding programme %(value)s."),
    "bad_number": _l("Not a whole number: %(value)s."),
    "too_long": _l("Too long: %(value)s."),
    "dup_in_file": _l("Duplicate serial number %(value)s: also in row %(other)s of the file."),
    "dup_external_in_file": _l("Duplicate item id %(value)s: also in row %(other)s of the file."),
    "dup_in_db": _l("Serial number %(value)s is already registered: item #%(other)s."),
    "other_school_item": _l("Item %(value)s belongs to another school."),
    "missing": _l("Missing value: %(value)s."),
    **tables.FILE_ERRORS,
}


@dataclass
class Result:
    file_format: str = ""
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    #: [{"row": n, "errors": [{"code": ..., "value": ..., "other": ...}]}]
    errors: list = field(default_factory=list)


def error_text(err: dict) -> str:
    code = err["code"]
    if code == "unknown_category" and err.get("other"):
        code = "unknown_category_near"
    values = {"value": err.get("value", ""), "other": err.get("other", ""), "row": "",
              **err.get("params", {})}
    return str(ERRORS.get(code, code)) % values


def detect_format(header: list[str]) -> str:
    if "cpe_id" in header and "serial_number" in header:
        return "sch"
    if "school_code" in header and "category" in header:
        return "full"
    raise ImportFileError("unknown_columns", sch=", ".join(SCH_COLUMNS),
                          full=", ".join(FULL_COLUMNS[:6]))


# --- lookups -------------------------------------------------------------------------------

@dataclass
class Lookups:
    schools: dict[str, int]
    school_codes: dict[int, str]
    categories: labels.CategoryMatcher
    #: category id -> its code and names, folded (its part of an item's search text)
    category_text: dict[int, str]
    locations: dict[str, str]
    #: category id -> its Greek name and code, as a row error names it
    category_names: dict[int, str] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict)
    _location_text: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> Lookups:
        schools = dict(db.session.execute(select(School.code, School.id)).all())
        cats = db.session.scalars(select(EquipmentCategory)).all()
        code_ids = {c.code: c.id for c in cats}
        matcher = labels.CategoryMatcher(
            ((c.id, (c.code, c.name_el, c.name_en)) for c in cats),
            ((label, code_ids[code]) for label, code in reference.category_synonyms()
             if code in code_ids))
        locations = {}
        for code, row in reference.lab_types().items():
            for name in (code, row["name_short_el"], row["name_el"], row["name_en"]):
                locations[fold(name)] = code
        category_text = {c.id: _joined((c.code, c.name_el, c.name_en)) for c in cats}
        category_names = {c.id: f"«{c.name_el}» ({c.code})" for c in cats}
        return cls(schools, {v: k for k, v in schools.items()}, matcher, category_text,
                   locations, category_names)

    def location_text(self, location: str) -> str:
        """The location and its lab type's label, folded (memoised: a few values repeat)."""
        found = self._location_text.get(location)
        if found is None:
            found = self._location_text[location] = _joined(
                (location, reference.location_label(location)))
        return found

    def category(self, value: str) -> int | None:
        if value in self._memo:
            return self._memo[value]
        self._memo[value] = found = self._category(value)
        return found

    def _category(self, value: str) -> int | None:
        return self.categories.match(value)

    def closest_categories(self, value: str) -> str:
        """The categories nearest to an unknown label, for its row error ("" when none)."""
        key = ("closest", value)  # memoised: a file repeats its unknown labels
        if key not in self._memo:
            self._memo[key] = ", ".join(self.category_names[i]
                                        for i in self.categories.closest(value))
        return self._memo[key]


@lru_cache(maxsize=65536)
def _fold_cached(text: str) -> str:
    return fold(text)


def _fold(text: str | None) -> str:
    """``fold`` of one value, memoised (manufacturers, models, locations repeat a lot);
    ASCII needs only lower-casing and space unifying, so it skips the memo."""
    if not text:
        return ""
    if text.isascii():
        return " ".join(text.lower().split())
    return _fold_cached(text)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")


def parse_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _s(value, limit: int) -> str:
    """A cell as stripped text, without the quote ``neutralise`` put before it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = restore(str(value if value is not None else "").strip())
    if len(text) > limit:
        raise OverflowError(text[:40])
    return text


def school_code(value) -> str | None:
    """The 7-digit ministry code, or None when malformed.

    A 6-digit number is a code whose leading zero a spreadsheet ate (area codes 01–09);
    no area code is 00, so a shorter number is not a code.
    """
    code = _s(value, 20)
    if code.isascii() and code.isdigit() and len(code) in (6, 7):
        return code.zfill(7)
    return None if code else ""


# --- validating one row -------------------------------------------------------------------

class _RowErrors(Exception):
    def __init__(self, errors):
        self.errors = errors


def _parse_row(fmt: str, row: dict, lk: Lookups, ctx: ImportContext) -> dict:
    """The stored values of one row, or _RowErrors listing everything wrong with it."""
    errors: list[dict] = []

    def text(name, limit, default=""):
        try:
            return _s(row.get(name, default), limit)
        except OverflowError as exc:
            errors.append({"code": "too_long", "value": f"{name}: {exc.args[0]}…"})
            return ""

    out: dict = {}
    raw_code = row.get("registry_no" if fmt == "sch" else "school_code", "")
    code = school_code(raw_code)
    if code is None:
        school_id = None
        errors.append({"code": "bad_school_code", "value": text("registry_no" if fmt == "sch"
                                                                  else "school_code", 20)})
    elif not code and ctx.only_school_id is not None:
        school_id = ctx.only_school_id
    else:
        school_id = lk.schools.get(code)
        if school_id is None:
            errors.append({"code": "unknown_school", "value": code or "—"})
        elif not ctx.may_import(school_id):
            errors.append({"code": "wrong_school", "value": code})
    out["school_id"] = school_id
    cat_value = text("item_name" if fmt == "sch" else "category", 200)
    if fmt == "sch" and not cat_value:
        cat_value = "CPE"
    if not cat_value and fmt == "full":
        cat_value = text("category_name", 200)
    out["category_id"] = lk.category(cat_value) if cat_value else None
    if out["category_id"] is None:
        errors.append({"code": "unknown_category", "value": cat_value or "—",
                       "other": lk.closest_categories(cat_value) if cat_value else ""})
    out["manufacturer"] = text("manufacturer", 120)
    out["model"] = text("cpe" if fmt == "sch" else "model", 200)
    out["serial_number"] = text("serial_number", 120) or None
    location = text("location", 120)
    out["location"] = lk.locations.get(_fold(location), location)
    ext = text("cpe_id" if fmt == "sch" else "external_id", 40)
    out["external_id"] = ext or None
    if fmt == "full":
        out["registry_number"] = text("registry_number", 60)
        try:
            out["acquisition_date"] = parse_date(row.get("acquisition_date"))
        except ValueError as exc:
            errors.append({"code": "bad_date", "value": exc.args[0]})
        status = text("status", 12) or ItemStatus.IN_USE.value
        if status not in {s.value for s in ItemStatus}:
            errors.append({"code": "bad_status", "value": status})
        out["status"] = status
        funding = text("funding_programme", 30)
        if funding and funding not in reference.funding_programmes():
            errors.append({"code": "bad_funding", "value": funding})
        out["funding_programme"] = funding
        out["notes"] = text("notes", 5000)
        attrs = {}
        for key in reference.ATTRIBUTE_KEYS:
            value = text(f"attr_{key}", 200)
            if not value:
                continue
            if reference.ATTRIBUTE_KINDS[key] == "int":
                try:
                    value = int(float(value))
                except ValueError:
                    errors.append({"code": "bad_number", "value": f"{key}: {value}"})
            attrs[key] = value
        out["attributes"] = attrs
        item_id = text("id", 20)
        out["_id"] = int(item_id) if item_id.isdigit() else None
    if errors:
        raise _RowErrors(errors)
    return out


# --- the import ---------------------------------------------------------------------------

@dataclass
class ImportContext:
    """Who imports: the schools allowed (None = all) and an optional single school."""

    actor_id: int | None = None
    allowed_school_ids: set[int] | None = None
    only_school_id: int | None = None
    source: str = "import"

    def may_import(self, school_id: int) -> bool:
        if self.only_school_id is not None and school_id != self.only_school_id:
            return False
        return self.allowed_school_ids is None or school_id in self.allowed_school_ids


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_T = EquipmentItem.__table__


def import_file(data: bytes, filename: str, ctx: ImportContext, *,
                progress: Callable[[Result], None] | None = None,
                checkpoint: Callable[[Result], None] | None = None,
                now: datetime | None = None) -> Result:
    """Upsert every valid row of the file; report the others. Flushes, never commits.

    ``checkpoint`` is called after each chunk is written (an entry point may commit
    there); ``progress`` after each chunk is read.
    """
    now = now or utcnow()
    header, rows, total = read_table(data, filename)
    fmt = detect_format(header)
    result = Result(file_format=fmt, total=max(total, 0))
    lk = Lookups.load()
    fields = _SCH_FIELDS if fmt == "sch" else _FULL_FIELDS
    seen_ext: dict[str, int] = {}
    seen_serial: dict[tuple[str, str], int] = {}
    index = {name: i for i, name in enumerate(header)}
    row_no = 1  # the header is row 1
    folded: dict[str, str] = {}
    for chunk in _chunks(rows, CHUNK):
        parsed: list[tuple[int, dict]] = []
        for raw in chunk:
            row_no += 1
            if not any(str(v).strip() for v in raw):
                continue
            if len(raw) != len(header):
                _report(result, row_no, [{"code": "bad_columns", "value": len(raw),
                                          "other": len(header), "params": {"row": row_no}}])
                continue
            row = {name: raw[i] for name, i in index.items()}
            try:
                values = _parse_row(fmt, row, lk, ctx)
            except _RowErrors as exc:
                _report(result, row_no, exc.errors)
                continue
            maker = values["manufacturer"]
            if maker not in folded:
                folded[maker] = _fold(maker)
            values["manufacturer_folded"] = folded[maker]
            values["serial_key"] = serial_key(values["serial_number"])
            err = _check_in_file(values, row_no, seen_ext, seen_serial)
            if err:
                _report(result, row_no, [err])
                continue
            parsed.append((row_no, values))
        _apply(parsed, fields, lk, ctx, result, now)
        result.processed = min(row_no - 1, max(result.total, row_no - 1))
        result.total = max(result.total, result.processed)
        if checkpoint:
            checkpoint(result)
        if progress:
            progress(result)
    result.total = result.processed = row_no - 1
    return result


def _report(result: Result, row_no: int, errors: list[dict]) -> None:
    result.error_count += 1
    if len(result.errors) < MAX_REPORTED_ERRORS:
        result.errors.append({"row": row_no, "errors": errors})


def _check_in_file(values, row_no, seen_ext, seen_serial) -> dict | None:
    ext = values["external_id"]
    if ext:
        if ext in seen_ext:
            return {"code": "dup_external_in_file", "value": ext, "other": seen_ext[ext]}
        seen_ext[ext] = row_no
    if values["serial_key"]:
        key = (values["manufacturer_folded"], values["serial_key"])
        if key in seen_serial:
            return {"code": "dup_in_file", "value": values["serial_number"],
                    "other": seen_serial[key]}
        seen_serial[key] = row_no
    return None


def _apply(parsed, fields, lk: Lookups, ctx: ImportContext, result: Result, now) -> None:
    """Match a chunk against the database in a few queries, then write it in bulk."""
    if not parsed:
        return
    # only the columns the format sets (sch rows never look at attributes, notes…)
    columns = [_T.c[n] for n in dict.fromkeys(("id", "manufacturer_folded", "serial_key", *fields))]
    conn = db.session.connection()
    by_ext = {r["external_id"]: r for r in bulk.fetch_in(
        conn, columns, _T.c.external_id, {v["external_id"] for _, v in parsed if v["external_id"]})}
    known = {(r["manufacturer_folded"], r["serial_key"]): r for r in by_ext.values() if r["serial_key"]}
    ids = {v.get("_id") for _, v in parsed if v.get("_id")}
    by_id = {r["id"]: r for r in bulk.fetch_in(conn, columns, _T.c.id, ids)}
    # the pairs of the unique index, so the lookup is an index search, not a scan
    # (rows whose item was found by external_id with the same serial need no second look)
    wanted = [(v["manufacturer_folded"], v["serial_key"]) for _, v in parsed if v["serial_key"]]
    by_serial = dict(known)
    by_serial.update({(r["manufacturer_folded"], r["serial_key"]): r for r in bulk.fetch_pairs(
        conn, columns, _T.c.manufacturer_folded, _T.c.serial_key,
        (k for k in wanted if k not in known))})
    inserts, updates, history = [], [], []
    for row_no, v in parsed:
        existing = None
        if v["external_id"]:
            existing = by_ext.get(v["external_id"])
        if existing is None and v.get("_id") in by_id and by_id[v["_id"]]["school_id"] == v["school_id"]:
            existing = by_id[v["_id"]]
            if existing["external_id"] and v["external_id"] and existing["external_id"] != v["external_id"]:
                existing = None
        holder = by_serial.get((v["manufacturer_folded"], v["serial_key"])) if v["serial_key"] else None
        if existing is None and holder is not None and holder["school_id"] == v["school_id"] \
                and not (holder["external_id"] and v["external_id"]):
            existing = holder
        if holder is not None and (existing is None or holder["id"] != existing["id"]):
            _report(result, row_no, [{"code": "dup_in_db", "value": v["serial_number"],
                                      "other": f'{holder["id"]} ({lk.school_codes.get(holder["school_id"], "")})'}])
            continue
        if existing is not None and existing["school_id"] != v["school_id"] \
                and not ctx.may_import(existing["school_id"]):
            _report(result, row_no, [{"code": "other_school_item",
                                      "value": v["external_id"] or existing["id"]}])
            continue
        if existing is None:
            inserts.append((row_no, v))
            continue
        changed = {f: v[f] for f in fields if f in v and _differs(existing[f], v[f])}
        if not changed:
            result.unchanged += 1
            continue
        merged = {f: (changed[f] if f in changed else existing[f]) for f in fields}
        merged.update(_id=existing["id"], manufacturer_folded=_fold(merged["manufacturer"]),
                      serial_key=serial_key(merged["serial_number"]), updated_at=now)
        merged["search_text"] = _search(merged, lk)
        updates.append(merged)
        for f, new in changed.items():
            history.append({"item_id": existing["id"], "actor_id": ctx.actor_id, "at": now,
                            "field": f, "old": _txt(existing[f]), "new": _txt(new)})
    _write(inserts, updates, history, fields, lk, ctx, result, now)


def _differs(old, new) -> bool:
    if isinstance(new, dict) or isinstance(old, dict):
        return (old or {}) != (new or {})
    return (old or None) != (new or None)


def _txt(value) -> str | None:
    if value in (None, "", {}):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _joined(parts) -> str:
    """The non-empty folded parts joined by single spaces: ``fold(" ".join(parts))``."""
    return " ".join(f for f in map(_fold, parts) if f)


def _search(values: dict, lk: Lookups) -> str:
    """services.search_text of the values, folded part by part (memoised): fold of the parts
    joined by spaces is the non-empty folded parts joined by single spaces."""
    return _joined((values.get("manufacturer", ""), values.get("model", ""),
                    values.get("serial_number") or "", values.get("registry_number", ""),
                    lk.location_text(values.get("location", "")), values.get("notes", "")[:200],
                    lk.category_text.get(values["category_id"], "")))


def _write(inserts, updates, history, fields, lk, ctx, result, now) -> None:
    conn = db.session.connection()
    if inserts:
        rows = []
        for _, v in inserts:
            row = {"school_id": v["school_id"], "category_id": v["category_id"],
                   "manufacturer": v["manufacturer"], "manufacturer_folded": v["manufacturer_folded"],
                   "model": v["model"], "serial_number": v["serial_number"],
                   "serial_key": v["serial_key"], "registry_number": v.get("registry_number", ""),
                   "location": v["location"], "acquisition_date": v.get("acquisition_date"),
                   "funding_programme": v.get("funding_programme", ""),
                   "status": v.get("status", ItemStatus.IN_USE.value),
                   "attributes": v.get("attributes", {}), "notes": v.get("notes", ""),
                   "external_id": v["external_id"], "is_pending": v.get("status") == "pending",
                   "created_at": now, "updated_at": now}
            row["search_text"] = _search(row, lk)
            rows.append(row)
        # every new item gets the same history row, so the ids' order does not matter
        new_ids = bulk.insert_returning_ids(conn, _T, rows)
        history += [{"item_id": i, "actor_id": ctx.actor_id, "at": now, "field": "imported",
                     "old": None, "new": ctx.source[:200]} for i in new_ids]
        result.created += len(rows)
    if updates:
        columns = {f: bindparam(f"v_{f}") for f in (*fields, "manufacturer_folded", "serial_key",
                                                       "updated_at", "search_text")}
        stmt = update(_T).where(_T.c.id == bindparam("v__id")).values(**columns)
        params = [{f"v_{k}": v for k, v in row.items()} for row in updates]
        conn.execute(stmt, params)
        result.updated += len(updates)
    bulk.insert_rows(conn, EquipmentHistory.__table__, history)


# --- export -------------------------------------------------------------------------------

def export_rows(stmt) -> Iterator[list]:
    """FULL_COLUMNS rows of the items a (scoped) select of EquipmentItem returns."""
    yield list(FULL_COLUMNS)
    cats = {c.id: c for c in db.session.scalars(select(EquipmentCategory))}
    codes: dict[int, tuple[str, str]] = {}
    items = db.session.scalars(stmt.order_by(EquipmentItem.school_id, EquipmentItem.id)
                               .execution_options(yield_per=2000))
    for item in items:
        if item.school_id not in codes:
            school = db.session.get(School, item.school_id)
            codes[item.school_id] = (school.code, school.name)
        cat = cats.get(item.category_id)
        attrs = item.attributes or {}
        row = [item.id, *codes[item.school_id], cat.code if cat else "", cat.name_el if cat else "",
               item.manufacturer, item.model, item.serial_number or "", item.registry_number,
               item.location, item.acquisition_date.isoformat() if item.acquisition_date else "",
               item.funding_programme, item.status, item.external_id or "", item.notes]
        row += [attrs.get(k, "") for k in reference.ATTRIBUTE_KEYS]
        yield [neutralise(v) for v in row]


def export_csv(stmt) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in export_rows(stmt):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(stmt, sheet: str = "equipment") -> bytes:
    from openpyxl import Workbook  # ~0.15 s to import: only the XLSX export needs it

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(sheet))
    for row in export_rows(stmt):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
