"""Row generators for bench/generate.py: schools, users, equipment, tickets and their history.

Everything is produced as tuples of strings in COPY text form from pools computed once
(rendered Greek texts with their folded forms, timestamp pieces), so a ticket with its
stays, messages, events and attachments costs a few dozen microseconds of Python.
"""
from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from helpdesk.core.text import fold
from helpdesk.demo import texts
from helpdesk.demo.people import random_person
from helpdesk.demo.schools import GENERATED_SOURCE, _Namer, plan_school
from helpdesk.demo.tickets import CATEGORY_WEIGHTS

N = "\\N"
DAY = 86400
DEMO_PASSWORD = "arogi-demo-2026"
ADMIN_EMAIL = "arogi-admin@sch.gr"

SCHOOL_COLS = ("id", "code", "name", "name_folded", "school_type", "email", "directorate_id",
               "is_active", "source")
USER_COLS = ("id", "email", "name", "password_hash", "role", "school_id", "locale",
             "is_active_account", "created_at")
MEMBER_COLS = ("user_id", "unit_id", "is_manager")
TICKET_COLS = ("id", "ref", "school_id", "category_id", "subject", "description", "priority",
               "status", "level", "unit_id", "assignee_id", "created_by_id", "channel",
               "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at",
               "resolution_type_id", "search_text", "first_response_due_at",
               "resolution_due_at", "level_due_at", "sla_state", "first_response_minutes",
               "resolution_minutes", "first_response_breached", "resolution_breached")
STAY_COLS = ("id", "ticket_id", "unit_id", "level", "arrived_at", "left_at", "left_how")
MESSAGE_COLS = ("id", "ticket_id", "author_id", "body", "is_internal", "channel", "created_at")
EVENT_COLS = ("id", "ticket_id", "actor_id", "at", "kind", "field", "old_value", "new_value",
              "reason", "is_internal")
ATTACH_COLS = ("id", "ticket_id", "message_id", "filename", "stored_name", "content_type",
               "size", "sha256", "is_internal", "uploaded_by_id", "created_at")
ITEM_COLS = ("id", "school_id", "category_id", "manufacturer", "manufacturer_folded", "model",
             "serial_number", "serial_key", "registry_number", "location", "acquisition_date",
             "funding_programme", "status", "attributes", "notes", "is_pending", "search_text",
             "created_at", "updated_at")
LINK_COLS = ("ticket_id", "item_id", "linked_by_id", "linked_at")

#: SLA targets in working minutes per priority: first response, resolution, per level.
FR_MIN = {1: 960, 2: 480, 3: 240, 4: 60}
RES_MIN = {1: 9600, 2: 4800, 3: 1920, 4: 480}
LEVEL_MIN = {1: 2400, 2: 4800, 3: 9600}
#: Wall-clock seconds per working minute (35 working hours in a 168-hour week).
WALL = 60 * 168 / 35
#: Categories whose tickets point at a registered device.
EQUIPMENT_CATEGORIES = {"HW-PC", "HW-PRN", "HW-PROJ", "HW-WARRANTY", "NET-CPE", "NET-WIFI",
                        "LAB", "SW-LTSP"}


def esc(text: str) -> str:
    """COPY text-format escaping."""
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


class Clock:
    """Timestamp formatting by table look-up: day strings and second-of-day strings."""

    def __init__(self, first: int, last: int):
        self.d0 = first // DAY
        days = range(self.d0, last // DAY + 2)
        self.days = [datetime.fromtimestamp(d * DAY, UTC).strftime("%Y-%m-%d ") for d in days]
        self.years = [str(datetime.fromtimestamp(d * DAY, UTC).year) for d in days]
        self.hms = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]

    def fmt(self, ts: int) -> str:
        return self.days[ts // DAY - self.d0] + self.hms[ts % DAY]

    def athens_year(self, ts: int) -> str:
        return self.years[(ts + 7200) // DAY - self.d0]


# --- organisation -------------------------------------------------------------------------

@dataclass
class Org:
    directorates: list
    l1_by_dir: dict
    l2_by_dir: dict
    l3: int
    unit_level: dict
    unit_code: dict
    categories: list  #: (id, code, first_level) of leaf categories with texts
    resolution_types: dict  #: code -> id
    existing_schools: list
    equipment_categories: list = field(default_factory=list)
    max_school_id: int = 0


def read_org(sink) -> Org:
    dirs = [SimpleNamespace(id=r[0], code=r[1], edu_level=r[2], ldap_ou=r[3], sch_domain=r[4],
                            registry_no=r[5])
            for r in sink.query("SELECT id, code, edu_level, ldap_ou, sch_domain, registry_no "
                                "FROM directorates ORDER BY code")]
    units = sink.query("SELECT id, level, directorate_id, code FROM support_units")
    l1 = {d: u for u, lv, d, _c in units if lv == 1 and d}
    l3 = next(u for u, lv, _d, _c in units if lv == 3)
    l2 = dict(sink.query("SELECT directorate_id, unit_id FROM partner_areas"))
    cats = [(cid, code, fl or 1) for cid, code, fl in sink.query(
        "SELECT id, code, first_level FROM categories WHERE parent_id IS NOT NULL OR code IN "
        "(SELECT c.code FROM categories c WHERE NOT EXISTS "
        "(SELECT 1 FROM categories k WHERE k.parent_id = c.id))") if code in texts.SCENARIOS]
    res = dict((code, rid) for rid, code in sink.query("SELECT id, code FROM resolution_types"))
    schools = sink.query("SELECT id, code, name, name_folded, school_type, email, directorate_id "
                         "FROM schools ORDER BY id")
    eq = []
    if sink.has_table("equipment_categories"):
        eq = sink.query('SELECT id, code, name_el, "group" FROM equipment_categories '
                        "WHERE is_active ORDER BY id")
    return Org(dirs, l1, l2, l3, {u: lv for u, lv, _d, _c in units},
               {u: c for u, _lv, _d, c in units}, cats, res, schools, eq,
               max((s[0] for s in schools), default=0))


@dataclass
class School:
    id: int
    code: str
    name: str
    name_folded: str
    email: str
    directorate_id: int
    chain: tuple  #: (None, l1 unit, l2 unit, l3 unit): index by level
    is_new: bool
    row: tuple = ()


def plan_schools(org: Org, total: int, rng: random.Random) -> list[School]:
    """The sample schools from the reference data plus generated ones across all directorates."""
    out = []
    for sid, code, name, folded, _type, email, did in org.existing_schools[:total]:
        out.append(School(sid, code, name, folded, email, did,
                          (None, org.l1_by_dir.get(did), org.l2_by_dir.get(did), org.l3), False))
    namer = _Namer(rng, {s.code for s in out}, {s.email for s in out})
    next_id = org.max_school_id + 1
    # Every directorate gets schools: first one round-robin, then by plan_school's weights.
    for i in range(total - len(out)):
        pool = [org.directorates[i]] if i < len(org.directorates) else org.directorates
        p = plan_school(namer, pool, rng)
        did = p["directorate_id"]
        s = School(next_id, p["code"], p["name"], p["name_folded"], p["email"], did,
                   (None, org.l1_by_dir.get(did), org.l2_by_dir.get(did), org.l3), True)
        s.row = (str(next_id), p["code"], esc(p["name"]), esc(p["name_folded"]),
                 p["school_type"], p["email"], str(did), "t", GENERATED_SOURCE)
        out.append(s)
        next_id += 1
    return out


@dataclass
class Users:
    rows: list
    memberships: list
    school_user: dict  #: school id -> user id
    techs: dict  #: unit id -> [user ids]
    emails: dict  #: user id -> e-mail
    admin_id: int


def staff_count(level: int, schools_served: int) -> int:
    if level == 1:
        return max(3, min(40, schools_served // 8))
    if level == 2:
        return max(8, min(80, schools_served // 40))
    return 60


def plan_users(org: Org, schools: list[School], rng: random.Random) -> Users:
    """One account per school, technicians per unit (sized by schools served), an admin."""
    from helpdesk.accounts.passwords import hash_password

    pw = hash_password(DEMO_PASSWORD)  # hashed once, shared by every account
    created = "2016-09-01 08:00:00+00"
    rows, members, school_user, techs, emails = [], [], {}, defaultdict(list), {}
    uid = itertools.count(1)
    for s in schools:
        u = next(uid)
        rows.append((str(u), s.email, esc(s.name), pw, "school", str(s.id), "el", "t", created))
        school_user[s.id] = u
        emails[u] = s.email
    served = defaultdict(int)
    for s in schools:
        for unit in s.chain[1:]:
            if unit:
                served[unit] += 1
    taken = set(emails.values())
    for unit in sorted(served, key=lambda u: (org.unit_level[u], u)):
        level = org.unit_level[unit]
        domain = "cti.gr" if level == 3 else "sch.gr"
        for i in range(staff_count(level, served[unit])):
            name, login = random_person(rng)
            email, n = f"{login}@{domain}", 1
            while email in taken:
                n += 1
                email = f"{login}{n}@{domain}"
            taken.add(email)
            u = next(uid)
            role = "manager" if i == 0 else "technician"
            rows.append((str(u), email, esc(name), pw, role, N, "el", "t", created))
            members.append((str(u), str(unit), "t" if i == 0 else "f"))
            techs[unit].append(u)
            emails[u] = email
    admin = next(uid)
    rows.append((str(admin), ADMIN_EMAIL, "Διαχειριστής Αρωγής", pw, "admin", N, "el", "t",
                 created))
    emails[admin] = ADMIN_EMAIL
    return Users(rows, members, school_user, dict(techs), emails, admin)


# --- equipment ------------------------------------------------------------------------------

MODELS = {
    "Η/Υ": [("Dell", "OptiPlex 3020"), ("HP", "ProDesk 400 G5"), ("Lenovo", "ThinkCentre M720s"),
            ("Fujitsu", "Esprimo P558"), ("Turbo-X", "Office"), ("Lenovo", "ThinkPad E14"),
            ("HP", "ProBook 450 G8"), ("Dell", "Latitude 3520")],
    "Εκτυπωτές": [("HP", "LaserJet Pro M404dn"), ("Kyocera", "ECOSYS M2040dn"),
                  ("Brother", "HL-L2350DW"), ("Canon", "i-SENSYS MF443dw")],
    "": [("Epson", "EB-X41"), ("BenQ", "MX550"), ("Ubiquiti", "UniFi AP AC Lite"),
         ("TP-Link", "EAP225"), ("Cisco", "C1111-4P"), ("Aruba", "Instant On AP11"),
         ("D-Link", "DGS-1210-24"), ("Optoma", "X400")],
}
LOCATIONS = ["SEPEHY", "ETP", "OFFICE", "LIB", "CLASSROOM", "Αίθουσα Α1", "Αίθουσα Β2",
             "Γραφείο Διευθυντή", "Γραφείο Καθηγητών", "Αίθουσα Πολλαπλών Χρήσεων"]
FUNDING = ["", "KTP", "PSI-SYG", "PEP-1420", "RRF", "DONATION", "SCHOOL-FUNDS"]


@dataclass
class Items:
    start: dict  #: school id -> first item id
    size: dict  #: school id -> item count
    count: int


def plan_items(sink, schools: list[School], total: int, rng: random.Random, now) -> Items:
    """``total`` registered devices spread over the schools, written in chunks."""
    cats = [(cid, code, name, group) for cid, code, name, group in
            (tuple(r) for r in _equipment_categories(sink))]
    start, size, iid = {}, {}, 0
    rows, written = [], 0
    day0 = date(2008, 1, 1).toordinal()
    span = now.date().toordinal() - day0
    folded_cat = {cid: fold(name) for cid, _c, name, _g in cats}
    weights = [0.3 + rng.random() for _ in schools]
    per_school = Counter(rng.choices(range(len(schools)), weights=weights, k=total))
    for idx, s in enumerate(schools):
        n = per_school.get(idx, 0)
        if n <= 0:
            continue
        start[s.id], size[s.id] = iid + 1, n
        for k in range(n):
            iid += 1
            cid, ccode, cname, group = rng.choice(cats)
            manu, model = rng.choice(MODELS.get(group) or MODELS[""])
            serial = f"{ccode[:2]}{iid:09d}"
            regno = f"{s.code}-{k + 1:04d}"
            loc = rng.choice(LOCATIONS)
            acq = date.fromordinal(day0 + rng.randrange(span)).isoformat()
            st = "in_use" if rng.random() < 0.9 else rng.choice(("faulty", "in_repair",
                                                                   "withdrawn"))
            search = " ".join((folded_cat[cid], manu.lower(), fold(model), serial.lower(),
                               regno.lower(), fold(loc)))
            rows.append((str(iid), str(s.id), str(cid), manu, manu.lower(), esc(model), serial,
                         serial.upper(), regno, esc(loc), acq, rng.choice(FUNDING), st, "{}", "",
                         "f", esc(search), "2024-01-15 09:00:00+00", "2024-01-15 09:00:00+00"))
        if len(rows) >= 50000:
            written += sink.copy("equipment_items", ITEM_COLS, rows)
            rows = []
    written += sink.copy("equipment_items", ITEM_COLS, rows)
    return Items(start, size, written)


def _equipment_categories(sink):
    return sink.query('SELECT id, code, name_el, "group" FROM equipment_categories '
                      "WHERE is_active ORDER BY id")


# --- texts ----------------------------------------------------------------------------------

@dataclass
class Text:
    subject: str
    subject_f: str
    body: str
    body_f: str
    ask: str
    answer: str
    note: str
    escalate: str
    fix: str
    resolutions: tuple


def render_pool(rng: random.Random, per_scenario: int = 6) -> dict[str, list[Text]]:
    """Rendered (escaped and folded) texts per category code."""
    pool = {}
    for code, scenarios in texts.SCENARIOS.items():
        out = []
        for sc in scenarios:
            for _ in range(per_scenario):
                sl = texts.slots(rng)
                f = lambda t: t.format(**sl)  # noqa: E731
                subj, body = f(sc.subject), f(sc.body)
                out.append(Text(esc(subj), esc(fold(subj)), esc(body), esc(fold(body)),
                                esc(f(sc.ask)), esc(f(sc.answer)), esc(f(sc.note)),
                                esc(f(sc.escalate)), esc(f(sc.fix)), sc.resolutions))
        pool[code] = out
    return pool


# --- tickets --------------------------------------------------------------------------------

class TicketGenerator:
    """Tickets over ten years with their stays, messages, events, attachments, links."""

    batch_size = 20000

    def __init__(self, org: Org, schools, users: Users, items: Items | None, now: datetime,
                 rng: random.Random, years: int = 10, stay_units: bool = False):
        self.org, self.schools, self.users, self.items, self.rng = org, schools, users, items, rng
        #: PostgreSQL: write tickets.stay_units with the ticket (the load runs with triggers
        #: off, so migration perf03stayunits's trigger does not fill it).
        self.stay_units = stay_units
        self.ticket_cols = TICKET_COLS + (("stay_units",) if stay_units else ())
        self.now_ts = int(now.timestamp())
        self.start_ts = int((now - timedelta(days=365 * years)).timestamp())
        self.clock = Clock(self.start_ts, self.now_ts + 90 * DAY)
        self.pool = render_pool(rng)
        self.ids = defaultdict(int)
        self.counts = defaultdict(int)
        self.done = 0
        self.facts = {"long_tickets": [], "now": now.isoformat()}
        cats = [(cid, code, fl) for cid, code, fl in org.categories if code in CATEGORY_WEIGHTS]
        self.cats = cats
        self.cat_cum = list(itertools.accumulate(CATEGORY_WEIGHTS[c[1]] for c in cats))
        # Some schools file far more than others (Pareto weights).
        self.school_cum = list(itertools.accumulate(rng.paretovariate(1.6) for _ in schools))
        self.hexes = [f"{rng.getrandbits(256):064x}" for _ in range(997)]
        self.files = [("screenshot.png", "image/png"), ("lixnies-router.jpg", "image/jpeg"),
                      ("sfalma.txt", "text/plain"), ("apografi.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                      ("eggrafo.pdf", "application/pdf")]

    def _created_times(self, n: int) -> list[int]:
        """n creation times: weekdays, school hours (Athens), growing over the years, seasonal."""
        rng = self.rng
        days, weights = [], []
        first, last = self.start_ts // DAY + 1, self.now_ts // DAY
        season = {1: 1.0, 2: 1.1, 3: 1.1, 4: 0.9, 5: 1.0, 6: 0.7, 7: 0.3, 8: 0.15, 9: 1.5,
                  10: 1.3, 11: 1.1, 12: 0.8}
        for d in range(first, last + 1):
            dt = date.fromordinal(date(1970, 1, 1).toordinal() + d)
            w = (0.06 if dt.weekday() >= 5 else 1.0) * season[dt.month]
            w *= 0.35 + 0.65 * (d - first) / max(1, last - first)
            days.append(d)
            weights.append(w)
        cum = list(itertools.accumulate(weights))
        picked = rng.choices(days, cum_weights=cum, k=n)
        lo, hi = 5 * 3600, 13 * 3600
        out = sorted(d * DAY + lo + int(rng.random() * (hi - lo)) for d in picked)
        cap = self.now_ts - 60
        return [min(t, cap - (len(out) - i)) for i, t in enumerate(out)]

    def batches(self, total: int):
        times = self._created_times(total)
        for lo in range(0, total, self.batch_size):
            yield self._batch(times[lo:lo + self.batch_size], lo)

    def bench_facts(self) -> dict:
        return dict(self.facts, counts=dict(self.counts))

    def _batch(self, times: list[int], offset: int):
        rng, clock, org, users = self.rng, self.clock, self.org, self.users
        fmt = clock.fmt
        rand = rng.random
        now_ts = self.now_ts
        schools = rng.choices(self.schools, cum_weights=self.school_cum, k=len(times))
        cats = rng.choices(self.cats, cum_weights=self.cat_cum, k=len(times))
        tickets, stays, msgs, events, atts, links = [], [], [], [], [], []
        ids = self.ids
        techs = users.techs
        res_ids = org.resolution_types
        hexes = self.hexes
        items = self.items
        for k, t0 in enumerate(times):
            tid = offset + k + 1
            school, (cid, ccode, first_level) = schools[k], cats[k]
            text = rng.choice(self.pool[ccode])
            su = users.school_user[school.id]
            chain = school.chain
            pr = 2 if rand() < 0.7 else (3 if rand() < 0.6 else (1 if rand() < 0.6 else 4))
            r = rand()
            channel = "web" if r < 0.7 else ("email" if r < 0.95 else "api")
            is_long = rand() < 0.002
            # ---- the plan: levels visited, conversation length, durations
            level = first_level if chain[first_level] else 1
            hops = []
            if level == 1 and (is_long or rand() < 0.33):
                hops.append(2)
                if is_long or rand() < 0.10:
                    hops.append(3)
            elif level == 2 and rand() < 0.08:
                hops.append(3)
            returned = bool(hops) and rand() < 0.05
            extra = 11 if is_long else (0 if rand() < 0.45 else (1 if rand() < 0.64 else 2))
            slow = rand()
            # scale of this ticket's durations: most quick, a tail of slow ones
            scale = 1.0 if slow < 0.8 else (4.0 if slow < 0.97 else 25.0)
            # ---- play it until now
            evs, ms = [], []  # evs: (at, actor, kind, field, old, new, reason, internal)
            unit = chain[level]
            status, assignee = "new", None
            st_list = [[unit, level, t0, None, None]]
            evs.append((t0, su, "created", "status", None, "new", None))
            t = t0 + int((600 + rand() * rand() * 86400) * scale)
            fr_at = None
            resolved_at = closed_at = None
            att_msg = None
            level_arrived = t0
            alive = True

            def claim(t, unit):
                tech = rng.choice(techs[unit])
                evs.append((t, tech, "claim", "status", "new", "open", None))
                evs.append((t, tech, "claim", "assignee", None, str(tech), None))
                return tech

            if t < now_ts:
                assignee = claim(t, unit)
                status = "open"
                ms.append((t, assignee, text.ask, False))
                fr_at = t
                if rand() < 0.2:
                    evs.append((t, assignee, "await_school", "status", "open", "waiting", None))
                    status = "waiting"
                t += int((1800 + rand() * 30000) * scale)
            else:
                alive = False
            if alive and t < now_ts:
                ms.append((t, su, text.answer, False))
                if rand() < 0.05:
                    att_msg = len(ms) - 1
                if status == "waiting":
                    evs.append((t, su, "school_reply", "status", "waiting", "open", None))
                    status = "open"
                t += int((600 + rand() * 7200) * scale)
            elif alive:
                alive = False
            if alive and t < now_ts and rand() < 0.3:
                ms.append((t, assignee, text.note, True))
                t += int(rand() * 3600 * scale)
            for _ in range(extra):
                if not alive or t >= now_ts:
                    alive = False
                    break
                ms.append((t, assignee, text.ask, False))
                t += int((1800 + rand() * 20000) * scale)
                if t >= now_ts:
                    alive = False
                    break
                ms.append((t, su, text.answer, False))
                t += int((600 + rand() * 5000) * scale)
            for nxt in hops:
                if not alive or t >= now_ts:
                    alive = False
                    break
                new_unit = chain[nxt]
                if new_unit is None:
                    break
                reason = text.escalate
                evs.append((t, assignee, "escalate", "status", status, "new", reason))
                if assignee is not None:
                    evs.append((t, assignee, "escalate", "assignee", str(assignee), None, None))
                evs.append((t, assignee, "escalate", "level", str(level), str(nxt), reason))
                evs.append((t, assignee, "escalate", "unit", str(unit), str(new_unit), None))
                st_list[-1][3], st_list[-1][4] = t, "escalated"
                st_list.append([new_unit, nxt, t, None, None])
                level, unit, status, assignee, level_arrived = nxt, new_unit, "new", None, t
                t += int((3600 + rand() * 86400) * scale * (nxt - 0.5))
                if t >= now_ts:
                    alive = False
                    break
                assignee = claim(t, unit)
                status = "open"
                ms.append((t, assignee, text.ask, False))
                t += int((3600 + rand() * 40000) * scale)
            if alive and returned and t < now_ts:
                back = level - 1
                reason = text.fix
                evs.append((t, assignee, "return", "status", status, "new", reason))
                evs.append((t, assignee, "return", "assignee", str(assignee), None, None))
                evs.append((t, assignee, "return", "level", str(level), str(back), reason))
                evs.append((t, assignee, "return", "unit", str(unit), str(chain[back]), None))
                st_list[-1][3], st_list[-1][4] = t, "returned"
                level, unit = back, chain[back]
                st_list.append([unit, level, t, None, None])
                status, assignee, level_arrived = "new", None, t
                t += int((1800 + rand() * 20000) * scale)
                if t < now_ts:
                    assignee = claim(t, unit)
                    status = "open"
                    t += int((1800 + rand() * 20000) * scale)
                else:
                    alive = False
            res_code = None
            if alive and t < now_ts and rand() < 0.25:  # stalls: parts, suppliers, the school
                if status == "open" and rand() < 0.4:
                    evs.append((t, assignee, "await_school", "status", "open", "waiting", None))
                    status = "waiting"
                t += int(rng.expovariate(1 / (200 * DAY)))
            if alive and t < now_ts:
                if assignee is None:
                    assignee = claim(t, unit)
                ms.append((t, assignee, text.fix, False))
                res_code = rng.choice(text.resolutions)
                if res_code not in res_ids:
                    res_code = next(iter(res_ids))
                evs.append((t, assignee, "resolve", "status", status, "resolved", text.fix))
                evs.append((t, assignee, "resolve", "resolution_type", None, res_code, None))
                status, resolved_at = "resolved", t
                fr_at = fr_at or t
                tc = t + 10 * DAY + 3600
                if tc < now_ts:
                    evs.append((tc, None, "close", "status", "resolved", "closed", "auto-close"))
                    status, closed_at = "closed", tc
            # ---- rows
            ref = f"ΑΡ-{clock.athens_year(t0)}-{tid:06d}"
            last = max(evs[-1][0], ms[-1][0] if ms else 0)
            fr_due = t0 + int(FR_MIN[pr] * WALL)
            res_due = t0 + int(RES_MIN[pr] * WALL)
            is_open = status in ("new", "open", "waiting")
            lvl_due = level_arrived + int(LEVEL_MIN[level] * WALL) if is_open else None
            if status == "waiting":
                sla = "paused"
            elif is_open and now_ts > lvl_due:
                sla = "breached"
            elif is_open and now_ts > level_arrived + 0.75 * (lvl_due - level_arrived):
                sla = "warning"
            else:
                sla = "ok"
            fr_min = int((fr_at - t0) / WALL) if fr_at else None
            res_min = int((resolved_at - t0) / WALL) if resolved_at else None
            tickets.append((
                str(tid), ref, str(school.id), str(cid), text.subject, text.body, str(pr),
                status, str(level), str(unit), str(assignee) if assignee else N, str(su),
                channel, fmt(t0), fmt(last), fmt(fr_at) if fr_at else N,
                fmt(resolved_at) if resolved_at else N, fmt(closed_at) if closed_at else N,
                str(res_ids[res_code]) if res_code else N,
                f"αρ-{clock.athens_year(t0)}-{tid:06d} {text.subject_f} {text.body_f} "
                f"{school.code} {school.name_folded}",
                fmt(fr_due), fmt(res_due), fmt(lvl_due) if lvl_due else N, sla,
                str(fr_min) if fr_min is not None else N,
                str(res_min) if res_min is not None else N,
                N if fr_min is None else ("t" if fr_min > FR_MIN[pr] else "f"),
                N if res_min is None else ("t" if res_min > RES_MIN[pr] else "f")))
            if self.stay_units:
                tickets[-1] += ("{" + ",".join(str(u) for u in sorted({s[0] for s in st_list}))
                                + "}",)
            for u, lv, arr, left, how in st_list:
                ids["stay"] += 1
                stays.append((str(ids["stay"]), str(tid), str(u), str(lv), fmt(arr),
                              fmt(left) if left else N, how or N))
            first_msg = ids["msg"] + 1
            for at, author, body, internal in ms:
                ids["msg"] += 1
                msgs.append((str(ids["msg"]), str(tid), str(author), body,
                             "t" if internal else "f",
                             channel if author == su and channel == "email" else "web", fmt(at)))
            for at, actor, kind, fld, old, new, reason in evs:
                ids["event"] += 1
                events.append((str(ids["event"]), str(tid), str(actor) if actor else N, fmt(at),
                               kind, fld, old or N, new or N, reason or N, "f"))
            if rand() < 0.10 or att_msg is not None:
                ids["att"] += 1
                a = ids["att"]
                fname, ctype = self.files[a % len(self.files)]
                if att_msg is not None:
                    mid, at = str(first_msg + att_msg), ms[att_msg][0]
                else:
                    mid, at = N, t0
                atts.append((str(a), str(tid), mid, fname, f"{hexes[a % 997][:24]}{a:08x}.bin",
                             ctype, str(20000 + a % 900000), hexes[(a * 7) % 997], "f", str(su),
                             fmt(at)))
            if items is not None and ccode in EQUIPMENT_CATEGORIES and school.id in items.start:
                item = items.start[school.id] + int(rand() * items.size[school.id])
                links.append((str(tid), str(item), str(su), fmt(t0)))
            if is_long and len(self.facts["long_tickets"]) < 40:
                self.facts["long_tickets"].append(
                    {"ref": ref, "unit": unit, "status": status, "entries": len(ms) + len(
                        {(e[0], e[1], e[2]) for e in evs if e[2] not in ("reply", "note")})})
        self.done += len(times)
        c = self.counts
        c["tickets"] += len(tickets)
        c["stays"] += len(stays)
        c["messages"] += len(msgs)
        c["events"] += len(events)
        c["attachments"] += len(atts)
        c["equipment_links"] += len(links)
        out = [("tickets", self.ticket_cols, tickets), ("ticket_stays", STAY_COLS, stays),
               ("messages", MESSAGE_COLS, msgs), ("ticket_events", EVENT_COLS, events),
               ("attachments", ATTACH_COLS, atts)]
        if items is not None:
            out.append(("ticket_equipment", LINK_COLS, links))
        return out
