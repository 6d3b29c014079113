"""Demo schools: the real sample schools plus generated ones that follow the real patterns.

Generated schools get a 7-digit code (secondary: the 2-digit area code, a 2-digit type
block and a serial; primary: 9, the area code and a 4-digit serial) and an address
``mail@<host>.<domain>.sch.gr`` whose host is built like the real ones
(``2gym-kalamar``, ``1dim-patron``, ``lyk-esp-komot``, ``ek-evosm``).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sqlalchemy import select

from helpdesk.core.text import fold
from helpdesk.demo.places import TOWNS, Town
from helpdesk.extensions import db
from helpdesk.org.models import Directorate, School
from helpdesk.org.services import read_csv

GENERATED_SOURCE = "demo data (generated, not a real school)"
#: Generated schools per directorate the demo aims at before it spreads to more.
SCHOOLS_PER_DIRECTORATE = 14


@dataclass(frozen=True)
class Variant:
    """A kind of school: its type, how its name and host are written, its code block."""

    school_type: str
    name: str  #: template with {ord} ("3ο " or "") and {town}
    host: str  #: template with {num} ("3" or "") and {stem}
    numbered: bool
    block: str  #: secondary code block (2 digits); "" for primary schools
    weight: int
    city_only: bool = False


PRIMARY = (
    Variant("DIM", "{ord}Δημοτικό Σχολείο {town}", "{num}dim-{stem}", True, "", 56),
    Variant("NIP", "{ord}Νηπιαγωγείο {town}", "{num}nip-{stem}", True, "", 44),
)
SECONDARY = (
    Variant("GYM", "{ord}Γυμνάσιο {town}", "{num}gym-{stem}", True, "01", 36),
    Variant("GEL", "{ord}Γενικό Λύκειο {town}", "{num}lyk-{stem}", True, "44", 26),
    Variant("EPAL", "{ord}ΕΠΑΛ {town}", "{num}epal-{stem}", True, "40", 16),
    Variant("GYM", "Εσπερινό Γυμνάσιο {town}", "gym-esp-{stem}", False, "02", 3, True),
    Variant("GEL", "Εσπερινό ΓΕΛ {town}", "lyk-esp-{stem}", False, "45", 4, True),
    Variant("EPAL", "Εσπερινό ΕΠΑΛ {town}", "epal-esp-{stem}", False, "42", 3, True),
    Variant("GYM", "Μουσικό Σχολείο {town}", "gym-mous-{stem}", False, "15", 2, True),
    Variant("EK", "ΕΚ {town}", "ek-{stem}", False, "50", 6),
    Variant("EEEEK", "ΕΕΕΕΚ {town}", "eeeek-{stem}", False, "41", 4),
)


def area_code(directorate: Directorate) -> str:
    """Return the 2-digit ΥΠΑΙΘ area code from 99NN101 (Δ.Π.Ε.) / NN001x5 (Δ.Δ.Ε.)."""
    reg = directorate.registry_no
    return reg[2:4] if directorate.edu_level == "PE" else reg[:2]


@dataclass
class _Namer:
    """Hands out unique names, hosts and codes, remembering what is taken."""

    rng: random.Random
    codes: set[str]
    emails: set[str]
    numbers: dict[tuple, int] = field(default_factory=dict)
    serials: dict[tuple, int] = field(default_factory=dict)

    def code(self, directorate: Directorate, variant: Variant) -> str:
        """Hand out a free 7-digit code for a school of this directorate and kind."""
        area = area_code(directorate)
        key = (area, variant.block)
        if directorate.edu_level == "PE":
            serial = self.serials.get(key) or self.rng.randint(100, 1500)
            while (code := f"9{area}{serial:04d}") in self.codes:
                serial += self.rng.randint(1, 9)
        else:
            serial = self.serials.get(key) or self.rng.randint(10, 300)
            while (code := f"{area}{variant.block}{serial:03d}") in self.codes:
                serial += 1
        self.serials[key] = serial
        self.codes.add(code)
        return code

    def place(self, directorate: Directorate, variant: Variant, town: Town):
        """Hand out (name, e-mail) for the next school of this kind in the town; None if full."""
        label, stem, is_city = town
        key = (directorate.ldap_ou, stem, variant.host)
        for _ in range(30):
            number = self.numbers.get(key, 0) + 1
            self.numbers[key] = number
            numbered = variant.numbered and is_city
            if number > 1 and not numbered:
                return None
            host = variant.host.format(num=number if numbered else "", stem=stem)
            email = f"mail@{host}.{directorate.sch_domain}.sch.gr"
            if email not in self.emails:
                self.emails.add(email)
                ordinal = f"{number}ο " if numbered else ""
                return variant.name.format(ord=ordinal, town=label), email
        return None


def pick_directorates(directorates: list[Directorate], generated: int,
                      rng: random.Random) -> list[Directorate]:
    """Choose the sample schools' directorates and Π.Ε./Δ.Ε. siblings, more for big loads."""
    sample_codes = {r["directorate_code"] for r in read_csv("sample_schools.csv")}
    sample_ous = {d.ldap_ou for d in directorates if d.code in sample_codes}
    base = sorted((d for d in directorates if d.ldap_ou in sample_ous), key=lambda d: d.code)
    wanted = min(len(directorates), max(len(base), math.ceil(generated / SCHOOLS_PER_DIRECTORATE)))
    rest = sorted((d for d in directorates if d.ldap_ou not in sample_ous), key=lambda d: d.code)
    return base + rng.sample(rest, wanted - len(base))


def plan_school(namer: _Namer, directorates: list[Directorate], rng: random.Random) -> dict:
    """Plan one generated school, following the real naming and code patterns."""
    weights = [1.3 if d.edu_level == "PE" else 1.0 for d in directorates]
    while True:
        directorate = rng.choices(directorates, weights)[0]
        variants = PRIMARY if directorate.edu_level == "PE" else SECONDARY
        variant = rng.choices(variants, [v.weight for v in variants])[0]
        towns = [t for t in TOWNS[directorate.ldap_ou] if t[2] or not variant.city_only]
        town = rng.choices(towns, [3 if t[2] else 1 for t in towns])[0]
        placed = namer.place(directorate, variant, town)
        if placed is not None:
            name, email = placed
            return {"code": namer.code(directorate, variant), "name": name,
                    "name_folded": fold(name), "school_type": variant.school_type,
                    "email": email, "directorate_id": directorate.id, "source": GENERATED_SOURCE}


def sample_schools(limit: int) -> list[School]:
    """Return the real sample schools (loaded from sample_schools.csv), in file order."""
    emails = [r["official_email"].strip().lower() for r in read_csv("sample_schools.csv")][:limit]
    found = {s.email: s for s in db.session.scalars(select(School).where(School.email.in_(emails)))}
    return [found[e] for e in emails if e in found]


def create_schools(total: int, rng: random.Random) -> list[School]:
    """Return the demo's schools: the sample ones first, then new generated ones up to ``total``."""
    schools = sample_schools(total)
    generated = total - len(schools)
    if generated <= 0:
        return schools
    directorates = list(db.session.scalars(select(Directorate).order_by(Directorate.code)))
    chosen = pick_directorates(directorates, generated, rng)
    namer = _Namer(rng, set(db.session.scalars(select(School.code))),
                   set(db.session.scalars(select(School.email))))
    for _ in range(generated):
        school = School(**plan_school(namer, chosen, rng))
        db.session.add(school)
        schools.append(school)
    db.session.flush()
    return schools
