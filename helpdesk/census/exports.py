"""Census tables as CSV (UTF-8 with BOM) or XLSX; formula-like cells are neutralised."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from helpdesk.census.queries import Table
from helpdesk.core import spreadsheet
from helpdesk.core.spreadsheet import XLSX_MIMETYPE
from helpdesk.reports.exports import neutralise

__all__ = ["HEADERS", "XLSX_MIMETYPE", "to_csv", "to_xlsx", "rows_of"]

HEADERS = {
    "group": _l("Group"), "category": _l("Category"), "items": _l("Items"),
    "in_use": _l("In use"), "faulty": _l("Faulty"), "in_repair": _l("In repair"),
    "pending": _l("Pending"),
    "age_0_2": _l("Under 2 years"), "age_2_5": _l("2–5 years"), "age_5_8": _l("5–8 years"),
    "age_8_plus": _l("8 years or more"), "age_unknown": _l("Age unknown"),
    "manufacturer": _l("Manufacturer"), "model": _l("Model"), "tickets": _l("Requests"),
    "rate": _l("Requests per item per year"),
    "code": _l("Code"), "school": _l("School"), "email": _l("E-mail"),
    "directorate": _l("Directorate"), "region": _l("Region"),
}


def _plain(value):
    if value is None or isinstance(value, int | float):
        return value
    return neutralise(str(value))


def rows_of(table: Table) -> list[list]:
    """The header row, then the data rows; text that looks like a formula gets an apostrophe."""
    header = [neutralise(str(HEADERS.get(key, key))) for key in table.columns]
    return [header, *([_plain(row.get(key)) for key in table.columns] for row in table.rows)]


def to_csv(table: Table) -> bytes:
    return spreadsheet.to_csv(rows_of(table))


def to_xlsx(table: Table, title: str) -> bytes:
    return spreadsheet.to_xlsx(rows_of(table), title)
