"""A report table as CSV or XLSX, with spreadsheet formula injection neutralised."""
from __future__ import annotations

from helpdesk.core import spreadsheet
from helpdesk.core.spreadsheet import XLSX_MIMETYPE  # noqa: F401 - the views' import
from helpdesk.reports.queries import ReportTable

#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix text a spreadsheet would run as a formula with an apostrophe; keep numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def table_rows(table: ReportTable, headers: dict) -> list[list]:
    """The header row, then one row per group (and the total row, if any)."""
    keys = [key for key, _kind in table.columns]
    rows = [[str(headers.get(key, key)) for key in keys]]
    for row in [*table.rows, *([table.total] if table.total else [])]:
        rows.append([neutralise(_plain(row.get(key))) for key in keys])
    return [[neutralise(cell) for cell in rows[0]], *rows[1:]]


def _plain(value):
    """Numbers stay numbers; anything else (lazy strings, dates) becomes text."""
    if value is None or isinstance(value, int | float):
        return value
    return str(value)


def to_csv(table: ReportTable, headers: dict) -> bytes:
    return spreadsheet.to_csv(table_rows(table, headers))


def to_xlsx(table: ReportTable, headers: dict, title: str = "Report") -> bytes:
    return spreadsheet.to_xlsx(table_rows(table, headers), title)
