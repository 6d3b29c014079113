"""Reading a spreadsheet safely: CSV or XLSX as a header and rows, within bounds.

CSV: UTF-16 with a BOM, UTF-8 (with or without BOM) or windows-1253; only the delimiter
is guessed (and Excel's ``sep=`` first line obeyed), quoting is RFC 4180 (the csv
module's defaults: a quote inside a quoted field is doubled). XLSX: the zip directory is
checked against ``LIMITS`` before openpyxl opens the workbook, read-only. Every row has
the header's length unless it does not fit it, which the importer refuses.

Also the two halves of formula-injection protection: ``neutralise`` on export and
``restore`` on import, so that export then import changes nothing.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator

from flask import current_app
from flask_babel import lazy_gettext as _l

#: File error code (stored as "file_" + code) -> message.
FILE_ERRORS = {
    "file_empty": _l("The file is empty."),
    "file_unknown_columns": _l("Unknown columns: expected the inventory.sch.gr report "
                               "(%(sch)s) or our export (%(full)s, …)."),
    "file_not_xlsx": _l("Not a readable XLSX file."),
    "file_too_large": _l("The file is too large (%(size)s MB); the limit is %(limit)s MB."),
    "file_xlsx_expands": _l("The workbook expands to %(size)s MB when opened; the limit is "
                            "%(limit)s MB. Save it as CSV or split it."),
    "file_xlsx_bomb": _l("The workbook part %(part)s is compressed %(ratio)s times over: it "
                         "is refused as a possible zip bomb."),
    "file_too_many_rows": _l("The file has more than %(limit)s rows; split it."),
    "file_too_many_columns": _l("The file has %(value)s columns; the limit is %(limit)s."),
    "file_bad_csv": _l("The CSV file cannot be read at line %(line)s (a field too long or "
                       "a broken quote)."),
}


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, size, encoding…): ``code`` and values."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params

    @property
    def error(self) -> dict:
        """The error as stored with an import run (shown by ``error_text``)."""
        return {"code": f"file_{self.code}", "params": self.params}

    def __str__(self) -> str:
        return str(FILE_ERRORS[f"file_{self.code}"]) % self.params


#: Bounds on one file, so that a hostile one cannot take the worker's memory or hours
#: (each may be set in the configuration as INVENTORY_IMPORT_<NAME>).
LIMITS = {
    "MAX_FILE_BYTES": 64 * 1024 * 1024,
    "MAX_ROWS": 1_000_000,
    "MAX_COLUMNS": 200,
    #: everything a workbook's zip directory says it holds, uncompressed
    "XLSX_MAX_UNCOMPRESSED": 256 * 1024 * 1024,
    #: one part other than a worksheet (shared strings, styles): openpyxl loads it whole
    "XLSX_MAX_PART": 64 * 1024 * 1024,
    #: uncompressed / compressed size of a part larger than 1 MB
    "XLSX_MAX_RATIO": 100,
}
_DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"^sep=(.)\r?\n")


def limit(name: str) -> int:
    try:
        return int(current_app.config.get(f"INVENTORY_IMPORT_{name}", LIMITS[name]))
    except RuntimeError:  # outside an application
        return LIMITS[name]


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f}"


def decode(data: bytes) -> str:
    """UTF-16 with a BOM (Excel's "Unicode text"), UTF-8 (with or without BOM), else windows-1253."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1253", errors="replace")


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the header record into most fields (ties: the comma).

    Only the delimiter is guessed: quoting is RFC 4180 (the csv module's defaults, a quote
    inside a quoted field doubled), whatever the header line looks like.
    """
    best, best_n = ",", 0
    for delimiter in _DELIMITERS:
        try:
            first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(first) > best_n:
            best, best_n = delimiter, len(first)
    return best


def read_table(data: bytes, filename: str) -> tuple[list[str], Iterator[tuple], int]:
    """(header, rows, approximate row count) of a CSV or XLSX file.

    Every row has the header's length, except a row that does not fit it: a CSV record
    with another number of fields, an XLSX row with values right of the last heading.
    """
    if len(data) > limit("MAX_FILE_BYTES"):
        raise ImportFileError("too_large", size=_mb(len(data)), limit=_mb(limit("MAX_FILE_BYTES")))
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return _read_xlsx(data)
    text = decode(data)
    sep = _SEP_LINE.match(text)  # Excel's "sep=;" first line
    if sep:
        text = text[sep.end():]
    total = text.count("\n")
    if total > limit("MAX_ROWS") + 1:
        raise ImportFileError("too_many_rows", limit=limit("MAX_ROWS"))
    delimiter = sep.group(1) if sep else detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("empty") from None
    except csv.Error:
        raise ImportFileError("bad_csv", line=1) from None
    _check_width(len(header))
    return [h.strip().lower() for h in header], _csv_rows(reader), total


def _csv_rows(reader) -> Iterator[tuple]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise ImportFileError("bad_csv", line=reader.line_num) from None
        yield tuple(row)  # a blank line too: it keeps the rows' numbers


def _check_width(n: int) -> None:
    if n > limit("MAX_COLUMNS"):
        raise ImportFileError("too_many_columns", value=n, limit=limit("MAX_COLUMNS"))


def check_xlsx(data: bytes) -> None:
    """Refuse a workbook that would expand beyond the limits, from its zip directory alone.

    zipfile stops a part at the size its directory entry declares, so these sizes bound
    what openpyxl can read.
    """
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError("not_xlsx") from None
    total = sum(p.file_size for p in parts)
    if total > limit("XLSX_MAX_UNCOMPRESSED"):
        raise ImportFileError("xlsx_expands", size=_mb(total), limit=_mb(limit("XLSX_MAX_UNCOMPRESSED")))
    for part in parts:
        is_sheet = part.filename.startswith("xl/worksheets/")
        if not is_sheet and part.file_size > limit("XLSX_MAX_PART"):
            raise ImportFileError("xlsx_expands", size=_mb(part.file_size),
                                  limit=_mb(limit("XLSX_MAX_PART")))
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 1024 * 1024 and ratio > limit("XLSX_MAX_RATIO"):
            raise ImportFileError("xlsx_bomb", part=part.filename, ratio=f"{ratio:.0f}")


def _read_xlsx(data: bytes):
    from openpyxl import load_workbook  # ~0.15 s to import: only XLSX uploads need it

    check_xlsx(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = list(next(rows))
    except StopIteration:
        raise ImportFileError("empty") from None
    except Exception:  # noqa: BLE001 (any unreadable workbook)
        raise ImportFileError("not_xlsx") from None
    header = _trimmed(header)
    _check_width(len(header))
    total = (ws.max_row or 1) - 1
    if total > limit("MAX_ROWS"):
        raise ImportFileError("too_many_rows", limit=limit("MAX_ROWS"))
    return ([str(h or "").strip().lower() for h in header], _xlsx_rows(rows, len(header)), total)


def _trimmed(values) -> list:
    values = list(values)
    while values and values[-1] in (None, ""):
        values.pop()
    return values


def _xlsx_rows(rows, width: int) -> Iterator[tuple]:
    """Rows without their trailing empty cells, padded to ``width`` (an empty cell is a value)."""
    for n, row in enumerate(rows, 1):
        if n > limit("MAX_ROWS"):
            raise ImportFileError("too_many_rows", limit=limit("MAX_ROWS"))
        values = ["" if v is None else v for v in _trimmed(row)]
        if len(values) < width:
            values += [""] * (width - len(values))
        yield tuple(values)



# --- formula injection -------------------------------------------------------------------

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    """Text a spreadsheet would run (= + - @…), or text that would read back as such."""
    return text.startswith(_DANGEROUS) or (text.startswith("'") and _needs_quote(text[1:]))


def neutralise(value):
    """A cell a spreadsheet will not run: text starting with = + - @ gets a leading quote.

    So does text that is a quote before such text, so that ``restore`` gives back
    exactly what was exported: export then import changes nothing.
    """
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The value ``neutralise`` was given (the inverse of it on its output)."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text
