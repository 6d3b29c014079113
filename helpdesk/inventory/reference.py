"""Reference lists of the registry read from data/*.csv: lab types, funding, attributes (pure)."""
from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

DATA = Path(__file__).resolve().parent / "data"

STATUS_LABELS = {
    "in_use": _l("In use"), "faulty": _l("Faulty"), "in_repair": _l("In repair"),
    "withdrawn": _l("Withdrawn"), "pending": _l("Pending (not yet in the registry)"),
}

#: Category-specific fields: category code -> ((key, label, kind), ...); kind int or str.
_PC = (("cpu", _l("CPU"), "str"), ("ram_gb", _l("RAM (GB)"), "int"),
       ("disk_gb", _l("Disk (GB)"), "int"), ("os", _l("Operating system"), "str"))
_PRINT = (("print_type", _l("Type (mono/colour, laser/inkjet)"), "str"),
          ("paper_size", _l("Paper size"), "str"))
_NET = (("ports", _l("Ports"), "int"), ("mac_address", _l("MAC address"), "str"))
ATTRIBUTES: dict[str, tuple] = {
    "PC-DESKTOP": _PC, "PC-LTSP-CLIENT": _PC, "LAPTOP": _PC, "SERVER": _PC, "TABLET": _PC,
    "PRINTER": _PRINT, "MFP": _PRINT, "COPIER": _PRINT, "SCANNER": (_PRINT[1],),
    "PROJECTOR": (("lamp_hours", _l("Lamp hours"), "int"), ("resolution", _l("Resolution"), "str")),
    "IWB": (("size_inches", _l("Size (inches)"), "int"),),
    "MONITOR": (("size_inches", _l("Size (inches)"), "int"),),
    "AP": _NET, "SWITCH": _NET, "CPE": _NET,
    "UPS": (("va", _l("Power (VA)"), "int"),),
    "PART-DISK": (("disk_gb", _l("Disk (GB)"), "int"),), "EXT-DISK": (("disk_gb", _l("Disk (GB)"), "int"),),
    "PART-RAM": (("ram_gb", _l("RAM (GB)"), "int"),),
}
#: Every attribute key any category uses (the columns of the full export format).
ATTRIBUTE_KEYS = tuple(dict.fromkeys(k for fields in ATTRIBUTES.values() for k, _, _ in fields))
ATTRIBUTE_KINDS = {k: kind for fields in ATTRIBUTES.values() for k, _, kind in fields}


def _rows(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def lab_types() -> dict[str, dict]:
    """code -> row of lab_types.csv (name_short_el, name_el, name_en)."""
    return {r["code"]: r for r in _rows("lab_types.csv")}


@cache
def funding_programmes() -> dict[str, dict]:
    """code -> row of funding_programmes.csv."""
    return {r["code"]: r for r in _rows("funding_programmes.csv")}


@cache
def categories_csv() -> list[dict]:
    return _rows("equipment_categories.csv")


@cache
def category_synonyms() -> list[tuple[str, str]]:
    """(label, category code) pairs: the labels of the ministry's forms (category_synonyms.csv)."""
    return [(r["label"], r["code"]) for r in _rows("category_synonyms.csv")]


def location_label(value: str, english: bool = False) -> str:
    """A lab type's short name for its code; free text as it is."""
    row = lab_types().get(value or "")
    if row is None:
        return value or ""
    return row["name_en"] if english else row["name_short_el"]
