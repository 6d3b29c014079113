"""A report table as CSV or XLSX, with spreadsheet formula injection neutralised."""
from __future__ import annotations

import csv
import io

from helpdesk.core.text import sheet_title
from helpdesk.reports.queries import ReportTable

#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """UTF-8 with a BOM, so that spreadsheet programs read the Greek correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in table_rows(table, headers):
        writer.writerow(["" if cell is None else cell for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: ReportTable, headers: dict, title: str = "Report") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title)
    for row in table_rows(table, headers):
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    # Text cells are written as strings, never formulas, even after the apostrophe.
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
