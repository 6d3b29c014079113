"""Organisation writers: load the reference organisation from helpdesk/org/data.

The loader is idempotent: rows are matched by their code, only changed fields are
written, and a second run reports zero created and zero updated. It flushes and
never commits; the caller (``helpdesk org load``, the test harness) commits.

Naming of the support units
---------------------------
* Level 1 is one unit per directorate, code ``plinet-<directorate code>``. Each
  directorate has a Υπεύθυνος ΠΛΗΝΕΤ and technical staff; the ΚεΠληΝεΤ of a prefecture
  is shared by its Π.Ε. and Δ.Ε. directorates. Because tickets are routed per
  directorate, the unit is named after the directorate's ΠΛΗΝΕΤ office:
  «ΠΛΗΝΕΤ Δ.Π.Ε. Δράμας» / "PLINET ICT support, Primary Education of Drama". Its
  address follows the directorate mail conventions of the data README:
  ``plinet@dipe.dra.sch.gr``, or the observed host where the directorate uses its own
  (``plinet@dide-peiraia.att.sch.gr``); in Attica and Thessaloniki, where many
  directorates share a domain, ``<dipe|dide>-<sector>.<domain>.sch.gr``.
* Level 2 is one unit per ΠΣΔ implementing partner serving at least one directorate,
  code ``psd-<partner code>``, named after the partner's current institution:
  «Φορέας ΠΣΔ — Πανεπιστήμιο Μακεδονίας». Its address is the partner's ΠΣΔ contact.
* Level 3 is ΙΤΥΕ Διόφαντος, code ``l3-cti``, national.
"""
from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from sqlalchemy import select

from helpdesk.core.text import fold
from helpdesk.extensions import db
from helpdesk.org.models import (
    Category,
    Directorate,
    PartnerArea,
    Region,
    ResolutionType,
    School,
    SupportUnit,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
LEVEL3_CODE = "l3-cti"
SOURCE_MAX = 500

#: English names of the directorate areas, by LDAP OU (for SupportUnit.name_en).
AREA_EN = {
    "dra": "Drama", "evr": "Evros", "kav": "Kavala", "rod": "Rhodope", "xan": "Xanthi",
    "chal": "Chalkidiki", "ima": "Imathia", "kil": "Kilkis", "pel": "Pella", "pie": "Pieria",
    "ser": "Serres", "thess-a": "Eastern Thessaloniki", "thess-v": "Western Thessaloniki",
    "flo": "Florina", "gre": "Grevena", "kas": "Kastoria", "koz": "Kozani", "art": "Arta",
    "ioa": "Ioannina", "pre": "Preveza", "thesp": "Thesprotia", "kar": "Karditsa",
    "lar": "Larissa", "mag": "Magnesia", "tri": "Trikala", "kef": "Kefalonia", "ker": "Corfu",
    "lef": "Lefkada", "zak": "Zakynthos", "ach": "Achaea", "ait": "Aetolia-Acarnania",
    "ilei": "Elis", "eyr": "Evrytania", "eyv": "Euboea", "fok": "Phocis", "fth": "Phthiotis",
    "voi": "Boeotia", "att-a": "Athens A", "att-anatol": "East Attica", "att-d": "Athens D",
    "att-dytik": "West Attica", "att-g": "Athens C", "att-peiraia": "Piraeus",
    "att-v": "Athens B", "arg": "Argolis", "ark": "Arcadia", "kor": "Corinthia",
    "lak": "Laconia", "mes": "Messinia", "chi": "Chios", "les": "Lesbos", "sam": "Samos",
    "dod": "Dodecanese", "kyk": "Cyclades", "chan": "Chania", "ira": "Heraklion",
    "las": "Lasithi", "reth": "Rethymno",
}

#: English names of the partners' current institutions (for SupportUnit.name_en).
PARTNER_EN = {
    "AUTH": "Aristotle University of Thessaloniki", "DUTH": "Democritus University of Thrace",
    "UOA": "National and Kapodistrian University of Athens",
    "NTUA": "National Technical University of Athens", "CTI": "CTI Diophantus",
    "AEGEAN": "University of the Aegean", "UTH": "University of Thessaly",
    "UOI": "University of Ioannina", "UOC": "University of Crete",
    "UOM": "University of Macedonia", "TEIATH": "University of West Attica",
    "TEITHE": "International Hellenic University", "TEILAR": "University of Thessaly",
}

#: The two sample schools published without a ΥΠΑΙΘ code get a synthetic one:
#: 19 (Thessaloniki) + 50 + the number of the source app's internal code SEK089/SEK090.
SYNTHETIC_CODES = {
    "mail@ek-evosm.thess.sch.gr": "1950089",
    "mail@1sek-neapol.thess.sch.gr": "1950090",
}


@cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    """Read one reference CSV of helpdesk/org/data as a tuple of dicts."""
    with open(DATA_DIR / name, encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def load_reference_data() -> dict[str, int]:
    """Create or update the reference organisation; return counts per table."""
    counts: dict[str, int] = {}
    regions = _sync(Region, _region_rows(), counts, "regions")
    directorates = _sync(Directorate, _directorate_rows(regions), counts, "directorates")
    units = _sync(SupportUnit, _unit_rows(directorates), counts, "support_units")
    _sync(PartnerArea, _partner_area_rows(directorates, units), counts, "partner_areas",
          key="directorate_id")
    _load_categories(counts)
    _sync(ResolutionType, _resolution_rows(), counts, "resolution_types")
    _sync(School, _school_rows(directorates), counts, "schools")
    return counts


def has_changes(counts: dict[str, int]) -> bool:
    """Tell whether a load created or updated anything."""
    return any(counts.values())


# --- the generic upsert ------------------------------------------------------------------

def _sync(model, wanted: dict, counts: dict[str, int], table: str, *, key: str = "code") -> dict:
    """Upsert ``wanted`` ({key: fields}) with one SELECT; touch only changed rows."""
    column = getattr(model, key)
    rows = db.session.scalars(select(model).where(column.in_(list(wanted))))
    existing = {getattr(o, key): o for o in rows}
    created = updated = 0
    for value, fields in wanted.items():
        obj = existing.get(value)
        if obj is None:
            obj = model(**{key: value}, **fields)
            db.session.add(obj)
            existing[value] = obj
            created += 1
        elif _apply(obj, fields):
            updated += 1
    db.session.flush()
    counts[f"{table}.created"] = counts.get(f"{table}.created", 0) + created
    counts[f"{table}.updated"] = counts.get(f"{table}.updated", 0) + updated
    return existing


def _apply(obj, fields: dict) -> bool:
    """Set the fields that differ; return whether any did."""
    changed = False
    for name, value in fields.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def source_note(*parts: str) -> str:
    """Join the non-empty source notes, cut to the column size."""
    return "; ".join(p for p in parts if p)[:SOURCE_MAX]


# --- regions and directorates ------------------------------------------------------------

def _region_rows() -> dict[str, dict]:
    """Build the wanted regions, by ISO code."""
    return {
        r["region_code"]: {"name_el": r["name_short_el"], "name_en": r["name_en"],
                           "source": source_note(r["source"])}
        for r in read_csv("regions.csv")
    }


def _directorate_rows(regions: dict[str, Region]) -> dict[str, dict]:
    """Build the wanted directorates, by code."""
    return {
        r["code"]: {
            "edu_level": r["level"], "name_el": r["name_el"], "short_name_el": r["short_name_el"],
            "region_id": regions[r["region_code"]].id, "ldap_ou": r["ldap_ou"],
            "sch_domain": r["sch_third_level_domain"], "registry_no": r["registry_no_ypaith"],
            "source": source_note(r["source"]),
        }
        for r in read_csv("directorates.csv")
    }


# --- support units -----------------------------------------------------------------------

def _unit_rows(directorates: dict[str, Directorate]) -> dict[str, dict]:
    """Build the wanted level-1, level-2 and level-3 support units, by code."""
    rows = {f"plinet-{r['code']}": _plinet(r, directorates[r["code"]])
            for r in read_csv("directorates.csv")}
    serving = {r["partner_code"] for r in read_csv("partner_regions.csv")}
    for p in read_csv("partners.csv"):
        if p["partner_code"] in serving:
            rows[partner_unit_code(p["partner_code"])] = _partner_unit(p)
    rows[LEVEL3_CODE] = {
        "level": 3, "name_el": "ΙΤΥΕ Διόφαντος — 3ο επίπεδο υποστήριξης",
        "name_en": "CTI Diophantus — 3rd-level support", "email": "", "directorate_id": None,
        "source": "PRODUCT.md; partners.csv CTI (helpdesk_tier L2;L3: ΙΤΥ became ΙΤΥΕ Διόφαντος)",
    }
    return rows


def partner_unit_code(partner_code: str) -> str:
    """Return the code of the level-2 unit of a ΠΣΔ partner."""
    return f"psd-{partner_code.lower()}"


def _plinet(row: dict[str, str], directorate: Directorate) -> dict:
    """Build the fields of the level-1 unit of one directorate."""
    kind = "Primary" if row["level"] == "PE" else "Secondary"
    area = AREA_EN.get(row["ldap_ou"], row["ldap_ou"])
    seen = row["website_host_observed"] and f"host seen: {row['website_host_source']}"
    return {
        "level": 1, "name_el": f"ΠΛΗΝΕΤ {row['short_name_el']}",
        "name_en": f"PLINET ICT support, {kind} Education of {area}",
        "email": f"plinet@{directorate_host(row)}", "directorate_id": directorate.id,
        "source": source_note("derived from directorates.csv (one ΠΛΗΝΕΤ per directorate)", seen),
    }


def directorate_host(row: dict[str, str]) -> str:
    """Return the directorate's mail host: the observed one, else dipe/dide.<domain>.sch.gr."""
    observed = row["website_host_observed"]
    if observed and not observed.startswith("srv"):
        return observed
    kind, domain, ou = row["code"][:4], row["sch_third_level_domain"], row["ldap_ou"]
    if ou != domain and ou.startswith(f"{domain}-"):
        return f"{kind}-{ou[len(domain) + 1:]}.{domain}.sch.gr"
    return f"{kind}.{domain}.sch.gr"


def _partner_unit(p: dict[str, str]) -> dict:
    """Build the fields of the level-2 unit of one ΠΣΔ partner."""
    institution = p["current_institution_el"].split(" (")[0]
    return {
        "level": 2, "name_el": f"Φορέας ΠΣΔ — {institution}",
        "name_en": f"GSN partner — {PARTNER_EN.get(p['partner_code'], p['partner_code'])}",
        "email": p["contact_email_2014"], "directorate_id": None,
        "source": source_note(
            f"partners.csv {p['partner_code']}: {p['name_el_mm2014']} ({p['initials_el']})",
            f"helpdesk_tier {p['helpdesk_tier']}",
            f"successor: {p['succession_note']} [{p['succession_confidence']}]", p["source"],
        ),
    }


def _partner_area_rows(directorates: dict[str, Directorate], units: dict[str, SupportUnit]) -> dict:
    """Build the wanted partner areas, by directorate id."""
    return {
        directorates[r["directorate_code"]].id: {
            "unit_id": units[partner_unit_code(r["partner_code"])].id, "as_of": r["as_of"],
            "source": source_note(r["source"], r["confidence_2014"], r["confidence_current"]),
        }
        for r in read_csv("partner_regions.csv")
    }


# --- categories, resolution types, schools -----------------------------------------------

def _load_categories(counts: dict[str, int]) -> None:
    """Upsert the category tree: the top level first, then the children."""
    rows = read_csv("request_categories.csv")
    top = _sync(Category, {r["code"]: _category(r, None) for r in rows if not r["parent_code"]},
                counts, "categories")
    children = {r["code"]: _category(r, top[r["parent_code"]].id) for r in rows if r["parent_code"]}
    _sync(Category, children, counts, "categories")


def _category(row: dict[str, str], parent_id: int | None) -> dict:
    """Build the fields of one category."""
    return {
        "parent_id": parent_id, "name_el": row["name_el"], "name_en": row["name_en"],
        "first_level": int(row["typical_first_tier"].removeprefix("L") or 1),
        "asset_link": asset_link(row["asset_link"]),
        "source": source_note(row["source"], f"basis: {row['basis']}" if row["basis"] else ""),
    }


def asset_link(raw: str) -> str:
    """Normalise the CSV's asset_link ("CPE (required)", "AP", "no") to none/optional/required."""
    text = raw.strip().lower()
    if not text or text == "no":
        return "none"
    return "required" if "required" in text else "optional"


def _resolution_rows() -> dict[str, dict]:
    """Build the wanted resolution types, by code."""
    return {r["code"]: {"name_el": r["name_el"], "name_en": r["name_en"]}
            for r in read_csv("resolution_types.csv")}


def _school_rows(directorates: dict[str, Directorate]) -> dict[str, dict]:
    """Build the real sample schools, by ministry code."""
    rows = {}
    for r in read_csv("sample_schools.csv"):
        email = r["official_email"].strip().lower()
        code = r["school_code_ypaith"] or SYNTHETIC_CODES[email]
        name, name_note = _clean_school_name(r["name_el"])
        rows[code] = {
            "name": name, "name_folded": fold(name), "school_type": r["school_type_code"],
            "email": email, "directorate_id": directorates[r["directorate_code"]].id,
            "source": source_note(r["source"], name_note,
                              "" if r["school_code_ypaith"] else "synthetic code",
                              "" if r["directorate_confidence"] == "high"
                              else f"directorate: {r['directorate_confidence']}"),
        }
    return rows


def _clean_school_name(raw: str) -> tuple[str, str]:
    """Split «(Γυμνάσιο Αγρού — name inferred …)» into a display name and a source note."""
    if raw.startswith("(") and raw.endswith(")"):
        name, _, note = raw[1:-1].partition(" — ")
        return name.strip(), note.strip()
    return raw.strip(), ""
