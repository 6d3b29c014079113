"""The census statement: a school's frozen snapshot as a PDF for the principal to sign.

fpdf2 draws the page; Greek needs a Unicode TrueType font with Greek glyphs, so we embed
DejaVu Sans (Debian package ``fonts-dejavu-core``). Without it we refuse clearly rather
than print question marks.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _

from helpdesk.census.queries import statement_code
from helpdesk.core import localtime
from helpdesk.inventory.reference import STATUS_LABELS, location_label

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class FontMissing(RuntimeError):
    """The TrueType font with Greek glyphs is not installed."""


def font_paths() -> dict[str, Path]:
    """style -> path of the DejaVu Sans files (CENSUS_PDF_FONT_DIR overrides the folder)."""
    configured = current_app.config.get("CENSUS_PDF_FONT_DIR")
    for folder in ([configured] if configured else []) + list(FONT_DIRS):
        paths = {style: Path(folder) / name for style, name in FONT_FILES.items()}
        if all(p.is_file() for p in paths.values()):
            return paths
    raise FontMissing(
        "DejaVu Sans (DejaVuSans.ttf, DejaVuSans-Bold.ttf) was not found in "
        f"{', '.join(FONT_DIRS)}: install the Debian package fonts-dejavu-core "
        "(apt-get install fonts-dejavu-core) or set CENSUS_PDF_FONT_DIR to a folder holding them.")


def _date(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%d/%m/%Y") if value else "—"


def statement_time(value: str) -> str:
    """A snapshot's ISO time as day and time in Athens."""
    return datetime.fromisoformat(value).astimezone(localtime.zone()).strftime("%d/%m/%Y %H:%M")


#: Table columns: (snapshot key, width in mm).
_COLUMNS = (("category", 45), ("make_model", 62), ("serial_number", 38), ("registry_number", 22),
            ("location", 32), ("acquisition_date", 20), ("status", 30), ("funding_programme", 28))
#: Room (mm) the declaration and the signature need at the end of the last page.
_SIGNATURE_ROOM = 45


def verify_url(code: str) -> str:
    """The public page that checks ``code`` (MAIL_BASE_URL, else this request's address)."""
    base = (current_app.config.get("MAIL_BASE_URL") or "").rstrip("/")
    if not base and has_request_context():
        base = request.url_root.rstrip("/")
    return f"{base}/census/verify?code={code}"


def _headers() -> dict[str, str]:
    return {"category": _("Category"), "make_model": _("Manufacturer / model"),
            "serial_number": _("Serial number"), "registry_number": _("Registry no."),
            "location": _("Location"), "acquisition_date": _("Acquired"), "status": _("Status"),
            "funding_programme": _("Funding")}


def _cells(item: dict, status_labels, location_label) -> dict[str, str]:
    return {"category": item["category_el"],
            "make_model": " ".join(p for p in (item["manufacturer"], item["model"]) if p) or "—",
            "serial_number": item["serial_number"] or "—",
            "registry_number": item["registry_number"] or "—",
            "location": location_label(item["location"]) or "—",
            "acquisition_date": _date(item["acquisition_date"]),
            "status": str(status_labels.get(item["status"], item["status"])),
            "funding_programme": item["funding_programme"] or "—"}


def statement_pdf(submission, *, locale: str = "el") -> bytes:
    """The statement of ``submission``'s snapshot, in Greek by default, as PDF bytes."""
    # fpdf2 loads fonts and PIL on import (~0.2 s): only the statement download needs it.
    from fpdf import FPDF
    from fpdf.fonts import FontFace


    paths = font_paths()
    code = statement_code(submission)
    url = verify_url(code)
    snap = submission.snapshot
    school, census = snap["school"], snap["census"]

    class Statement(FPDF):
        footer_text = ""

        def footer(self):
            self.set_y(-10)
            self.set_font("DejaVu", "", 7)
            self.cell(0, 5, self.footer_text.replace("{page}", str(self.page_no())), align="C")

    pdf = Statement(orientation="L", format="A4")
    pdf.set_title(f"{census['title']} — {school['name']}")
    pdf.set_creator("Αρωγή")
    for style, path in paths.items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_auto_page_break(True, margin=15)
    with force_locale(locale):
        pdf.footer_text = " · ".join((
            f"{school['name']} ({school['code']})", census["title"], code,
            _("Page %(page)s of %(pages)s", page="{page}", pages="{nb}")))
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 14)
        pdf.multi_cell(0, 8, _("Statement of ICT equipment (census)"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        lines = [
            (_("Campaign"), census["title"]),
            (_("School"), f"{school['name']} ({school['code']})"),
            (_("Directorate"), school["directorate"]),
            (_("Region"), school["region"]),
            (_("Deadline"), _date(census["deadline"])),
            (_("Submitted"), statement_time(snap["taken_at"]) + (" — " + _("late") if submission.is_late else "")),
            (_("Items"), str(len(snap["items"]))),
            (_("Verification code"), code),
        ]
        for label, value in lines:
            pdf.set_font("DejaVu", "B", 10)
            pdf.cell(35, 6, label + ":")
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 5, _("Anyone can check that this statement is the one the school "
                               "submitted, with its verification code, at %(url)s",
                               url=url), new_x="LMARGIN", new_y="NEXT", link=url)
        pdf.ln(3)
        pdf.set_font("DejaVu", "", 7.5)
        headers = _headers()
        widths = tuple(w for _k, w in _COLUMNS)
        with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=4,
                       text_align="LEFT",
                       headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230))) as table:
            row = table.row()
            for key, _w in _COLUMNS:
                row.cell(headers[key])
            for item in snap["items"]:
                cells = _cells(item, STATUS_LABELS, location_label)
                row = table.row()
                for key, _w in _COLUMNS:
                    row.cell(cells[key])
        if not snap["items"]:
            pdf.cell(0, 6, _("The registry had no items."), new_x="LMARGIN", new_y="NEXT")
        if pdf.will_page_break(_SIGNATURE_ROOM):
            pdf.add_page()
        pdf.ln(6)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(0, 6, _("I declare that the above is the school's complete ICT equipment "
                               "registry as of the date of submission."),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(12)
        pdf.cell(0, 6, _("The head of the school (signature and stamp)"), align="R",
                 new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
