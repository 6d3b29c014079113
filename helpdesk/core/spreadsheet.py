"""Rows (a header row, then data rows) as the bytes of a CSV or an XLSX download.

The callers make the rows: their own headers, and text that a spreadsheet would run as
a formula already neutralised. Here a text cell is always written as text.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from helpdesk.core.text import sheet_title

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv(rows: Iterable[list]) -> bytes:
    """UTF-8 with a BOM, so that spreadsheet programs read the Greek correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[list], title: str) -> bytes:
    """One sheet named ``title``, the first row bold; text cells are strings, never formulas."""
    # openpyxl takes ~0.15 s to import and only downloads need it: not at app start.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(title)
    for row in rows:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
