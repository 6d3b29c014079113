"""Demo equipment: a plausible registry (~17 devices) for every demo school.

A secondary school gets a ΣΕΠΕΗΥ lab (a server, twelve workstations, a switch, a
printer, a projector), an office PC, a multifunction printer and its ΠΣΔ router; a
primary school a smaller set. Written in bulk (one INSERT per few hundred rows) with
the derived fields the services would compute. Flushes; the CLI commits.
"""
from __future__ import annotations

import random
from datetime import date

from sqlalchemy import insert, select

from helpdesk.core.text import fold
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentCategory, EquipmentItem
from helpdesk.inventory.services import search_text, serial_key
from helpdesk.org.models import School

#: (category code, location, how many, [(manufacturer, model)], funding programme)
_SECONDARY = (
    ("SERVER", "SEPEHY", 1, [("Dell", "PowerEdge T150"), ("HP", "ProLiant ML30 Gen10")], "PEP-1420"),
    ("PC-DESKTOP", "SEPEHY", 12, [("Dell", "OptiPlex 3080"), ("HP", "ProDesk 400 G7"),
                                  ("Lenovo", "ThinkCentre M70s")], "PEP-1420"),
    ("SWITCH", "SEPEHY", 1, [("TP-Link", "TL-SG1024D"), ("D-Link", "DGS-1100-24")], "PEP-1420"),
    ("PRINTER", "SEPEHY", 1, [("HP", "LaserJet Pro M404dn"), ("Brother", "HL-L5100DN")], "PSI-SYG"),
    ("PROJECTOR", "SEPEHY", 1, [("Epson", "EB-W06"), ("BenQ", "MW560")], "PSI-SYG"),
    ("PC-DESKTOP", "Γραφείο διεύθυνσης", 1, [("Dell", "OptiPlex 3070")], "RRF"),
    ("MFP", "Γραφείο καθηγητών", 1, [("Kyocera", "ECOSYS M2540dn"), ("Ricoh", "M 320F")], ""),
    ("CPE", "Γραφείο διεύθυνσης", 1, [("Cisco", "C1111-4P"), ("Huawei", "AR161F")], ""),
)
_PRIMARY = (
    ("PC-DESKTOP", "SEPEHY", 10, [("HP", "ProDesk 400 G6"), ("Dell", "OptiPlex 3080")], "PEP-1420"),
    ("PRINTER", "SEPEHY", 1, [("HP", "LaserJet Pro M404dn")], "PSI-SYG"),
    ("IWB", "DIADRASTIKO", 2, [("Promethean", "ActivPanel 65"), ("Smart", "SBID-MX265")], "RRF"),
    ("LAPTOP", "Γραφείο διεύθυνσης", 1, [("Lenovo", "ThinkPad E14")], "RRF"),
    ("MFP", "Γραφείο διεύθυνσης", 1, [("Brother", "MFC-L2710DW")], ""),
    ("SWITCH", "SEPEHY", 1, [("TP-Link", "TL-SG1016D")], ""),
    ("CPE", "Γραφείο διεύθυνσης", 1, [("Cisco", "C1111-4P")], ""),
)
_PRIMARY_KINDS = ("ΔΗΜ", "ΝΗΠ", "Δημοτικό", "Νηπιαγωγείο")


def _plan_for(school: School):
    name = school.name or ""
    return _PRIMARY if any(kind in name for kind in _PRIMARY_KINDS) else _SECONDARY


def create_equipment(schools: list[School], seed: int) -> int:
    """Register demo equipment for each of ``schools`` that has none; return how many."""
    if not schools:
        return 0
    categories = {c.code: c for c in db.session.scalars(select(EquipmentCategory))}
    if not categories:
        return 0
    have = set(db.session.scalars(select(EquipmentItem.school_id).where(
        EquipmentItem.school_id.in_([s.id for s in schools])).distinct()))
    rng = random.Random(seed * 7 + 17)
    now = utcnow()
    rows = []
    for school in schools:
        if school.id in have:
            continue
        for code, location, count, models, funding in _plan_for(school):
            category = categories.get(code)
            if category is None:
                continue
            manufacturer, model = rng.choice(models)
            year = rng.randint(2012, 2024)
            for n in range(count):
                serial = f"{manufacturer[:2].upper()}{school.code}{code[:3]}{n:02d}{rng.randint(100, 999)}"
                item = EquipmentItem(
                    school_id=school.id, category_id=category.id, manufacturer=manufacturer,
                    manufacturer_folded=fold(manufacturer), model=model, serial_number=serial,
                    serial_key=serial_key(serial), registry_number=f"{year}/{len(rows) % 997 + 1}",
                    location=location, acquisition_date=date(year, rng.randint(1, 12), 1),
                    funding_programme=funding, status="in_use", attributes={}, notes="",
                    is_pending=False, created_at=now, updated_at=now)
                item.search_text = search_text(item, category)
                rows.append({column: getattr(item, column) for column in (
                    "school_id", "category_id", "manufacturer", "manufacturer_folded", "model",
                    "serial_number", "serial_key", "registry_number", "location",
                    "acquisition_date", "funding_programme", "status", "attributes", "notes",
                    "is_pending", "search_text", "created_at", "updated_at")})
    for start in range(0, len(rows), 500):
        db.session.execute(insert(EquipmentItem), rows[start:start + 500])
    db.session.flush()
    return len(rows)
