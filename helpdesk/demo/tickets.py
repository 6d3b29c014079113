"""Demo tickets, played through the ticket services with explicit past times.

Each ticket follows a plan drawn from the seed: who takes it, whether the technician
asks the school something, whether it climbs to level 2 or 3, comes back down, is
resolved, reopened. Steps happen in Athens working hours; a step that would fall after
``now`` is not played, so recent tickets stay new, open or waiting.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from helpdesk.accounts.models import Role, UnitMembership, User
from helpdesk.demo import texts
from helpdesk.extensions import db
from helpdesk.org.models import Category, ResolutionType, School
from helpdesk.tickets import services
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.states import Priority

ATHENS = ZoneInfo("Europe/Athens")
HISTORY_DAYS = 540

#: Relative frequency of each leaf category.
CATEGORY_WEIGHTS = {
    "NET-LINE": 10, "NET-CPE": 5, "NET-LAN": 6, "NET-WIFI": 8, "NET-IP": 1, "NET-FILTER": 3,
    "ACC-NEW": 4, "ACC-PWD": 9, "ACC-UNIT": 2, "ACC-ROLE": 2, "MAIL": 4, "WEB": 3, "ECLASS": 5,
    "CONF": 2, "VOIP": 2, "HW-PC": 10, "HW-PRN": 10, "HW-PROJ": 7, "HW-WARRANTY": 2,
    "SW-OS": 4, "SW-LTSP": 5, "SW-SEC": 2, "LAB": 4, "INV": 3, "NEWEQ": 3, "EGOV": 3,
    "TRAIN": 1, "EVENT": 1, "PSD-APP": 1,
}
#: Categories a kindergarten does not ask about.
NOT_FOR_NIP = frozenset({"SW-LTSP", "LAB", "ECLASS"})
URGENT_CATEGORIES = frozenset({"NET-LINE", "NET-CPE"})


@dataclass
class Cast:
    """The demo population the tickets are played by."""

    schools: list[School]
    school_weights: list[float]
    accounts: dict[int, User]  #: school id → the school's account
    staff: dict[int, list[User]]  #: unit id → members, managers first
    categories: list[Category]
    resolution_types: dict[str, ResolutionType]
    #: The school whose account the demo log-ins show: busier, and it gets the forced tickets.
    favourite: School | None = None


def load_cast(rng: random.Random, favourite_email: str | None = None) -> Cast:
    """Read the demo schools, their accounts and the staff of the units from the database."""
    accounts = {u.school_id: u for u in db.session.scalars(
        select(User).where(User.role == Role.SCHOOL).order_by(User.id))}
    schools = list(db.session.scalars(
        select(School).where(School.id.in_(list(accounts))).order_by(School.id)))
    favourite = next((s for s in schools if s.email == favourite_email), None)
    weights = [5.0 if s is favourite else rng.lognormvariate(0, 0.6) for s in schools]
    staff: dict[int, list[User]] = {}
    rows = db.session.execute(
        select(UnitMembership.unit_id, User).join(User, User.id == UnitMembership.user_id)
        .where(User.is_active_account.is_(True))
        .order_by(UnitMembership.unit_id, UnitMembership.is_manager.desc(), User.id))
    for unit_id, user in rows:
        staff.setdefault(unit_id, []).append(user)
    child = aliased(Category)
    leaves = list(db.session.scalars(
        select(Category).where(Category.is_active.is_(True),
                               ~exists().where(child.parent_id == Category.id))
        .order_by(Category.code)))
    types = {t.code: t for t in db.session.scalars(select(ResolutionType))}
    return Cast(schools, weights, accounts, staff, leaves, types, favourite)


#: Targets of a few tickets filed 7–9 days ago, so that any load of eight tickets or
#: more has one in every status (older ones close, recent ones are in every state).
FORCED_TARGETS = ("resolved", "waiting", "open", "new")
#: Share of tickets filed in the last two weeks (the live backlog).
RECENT_SHARE = 0.05


def schedule(count: int, now: datetime, rng: random.Random) -> list[tuple[datetime, str | None]]:
    """Draw filing times (with a forced target or None) over the last ~18 months, in order."""
    now = now.replace(microsecond=0)
    forced = FORCED_TARGETS if count >= 2 * len(FORCED_TARGETS) else ()
    recent = min(count - len(forced), max(math.ceil(count * RECENT_SHARE), 8))
    items = [(working_time(now - timedelta(days=9 - index * 0.5), rng), target)
             for index, target in enumerate(forced)]
    items += [(t, None) for t in _times(recent, now - timedelta(days=14), now, rng, growth=False)]
    start = now - timedelta(days=HISTORY_DAYS)
    rest = count - len(forced) - recent
    items += [(t, None) for t in _times(rest, start, now - timedelta(days=14), rng, growth=True)]
    return sorted(items, key=lambda item: item[0])


def _times(count: int, start: datetime, end: datetime, rng: random.Random, *,
           growth: bool) -> list[datetime]:
    """Draw ``count`` working-hour times in [start, end); fewer in summer, more later if growing."""
    span = (end - start).total_seconds()
    times: list[datetime] = []
    while len(times) < count:
        share = rng.random()
        if growth and rng.random() < 0.5:
            share = math.sqrt(share)  # more tickets as more schools use the helpdesk
        t = working_time(start + timedelta(seconds=round(share * span)), rng)
        if t.astimezone(ATHENS).month in (7, 8) and rng.random() < 0.8:
            continue
        if t < end - timedelta(minutes=30):
            times.append(t)
    return times


def working_time(t: datetime, rng: random.Random) -> datetime:
    """Return ``t`` if in Athens working hours (Mon–Fri 08–16), else the next working morning."""
    local = t.astimezone(ATHENS)
    while local.weekday() >= 5 or local.hour < 8 or local.hour >= 16:
        if local.hour >= 8:
            local += timedelta(days=1)
        local = local.replace(hour=8, minute=0, second=0, microsecond=0)
        local += timedelta(minutes=rng.randint(0, 150))
    return local.astimezone(t.tzinfo)


@dataclass(frozen=True)
class Plan:
    """How one ticket's story goes."""

    target: str  #: new, open, waiting or resolved (resolved ones close later)
    climbs: int  #: levels it is escalated: 0, 1 or 2
    returned: bool  #: level 2 sends it back to level 1 with instructions
    asks: bool  #: the technician asks the school something and waits
    notes: bool
    reopened: bool
    assigned: bool  #: the manager assigns it rather than a technician claiming it


def forced_plan(target: str) -> Plan:
    """Plan a plain level-1 story that ends in ``target``."""
    return Plan(target, 0, False, asks=False, notes=True, reopened=False, assigned=False)


def draw_plan(rng: random.Random, age: timedelta, category: Category) -> Plan:
    """Draw a plan: old tickets are mostly resolved, recent ones in every state."""
    days = age.total_seconds() / 86400
    if days > 30:
        target = rng.choices(["resolved", "open", "waiting"], [97, 2, 1])[0]
    elif days > 10:
        target = rng.choices(["resolved", "open", "waiting"], [80, 10, 10])[0]
    else:
        target = rng.choices(["new", "open", "waiting", "resolved"], [30, 25, 15, 30])[0]
    ltsp = category.code == "SW-LTSP"
    climbs = 0
    if rng.random() < (0.55 if ltsp else 0.30):
        climbs = 2 if rng.random() < (0.35 if ltsp else 0.09) else 1
    returned = climbs == 1 and target != "new" and rng.random() < 0.15
    return Plan(target, climbs, returned, asks=rng.random() < 0.35, notes=rng.random() < 0.45,
                reopened=target == "resolved" and rng.random() < 0.05,
                assigned=rng.random() < 0.2)


@dataclass
class Story:
    """One ticket being played: its clock, its cast and its texts."""

    cast: Cast
    rng: random.Random
    now: datetime
    clock: datetime
    school_user: User
    scenario: texts.Scenario
    slots: dict[str, str]
    ticket: Ticket | None = None
    tech: User | None = None
    resolution: str = ""
    fix_prefix: str = ""

    def wait(self, low_minutes: float, high_minutes: float) -> bool:
        """Move the clock on; False when the next step would be after ``now``."""
        minutes = self.rng.uniform(low_minutes, high_minutes)
        later = self.clock + timedelta(seconds=round(minutes * 60))
        later = working_time(later, self.rng)
        if later >= self.now:
            return False
        self.clock = later
        return True

    def text(self, template: str) -> str:
        """Fill a template with this ticket's slots."""
        return template.format(**self.slots)


def play_ticket(cast: Cast, rng: random.Random, created_at: datetime, now: datetime,
                target: str | None = None) -> Ticket:
    """File one ticket at ``created_at`` and play its story (ending in ``target``) up to ``now``.

    A ticket with a forced ``target`` is filed by the favourite school, so that the demo
    school account has a ticket in every status.
    """
    school = (target and cast.favourite) or rng.choices(cast.schools, cast.school_weights)[0]
    category = _pick_category(cast, school, rng)
    scenario = rng.choice(texts.SCENARIOS[category.code])
    story = Story(cast, rng, now, created_at, cast.accounts[school.id], scenario, texts.slots(rng))
    story.resolution = rng.choice(scenario.resolutions)
    story.ticket = services.open_ticket(
        story.school_user, school=school, category=category,
        subject=story.text(scenario.subject), description=story.text(scenario.body),
        priority=_priority(rng, category), now=created_at,
        channel="email" if rng.random() < 0.15 else "web",
    )
    plan = forced_plan(target) if target else draw_plan(rng, now - created_at, category)
    for step in (_first_level, _climb, _come_back, _finish):
        if not step(story, plan):
            break
    return story.ticket


def _pick_category(cast: Cast, school: School, rng: random.Random) -> Category:
    """Pick a leaf category, weighted by how often schools ask about it."""
    choices = [c for c in cast.categories
               if c.code in texts.SCENARIOS and c.code in CATEGORY_WEIGHTS
               and not (school.school_type == "NIP" and c.code in NOT_FOR_NIP)]
    return rng.choices(choices, [CATEGORY_WEIGHTS[c.code] for c in choices])[0]


def _priority(rng: random.Random, category: Category) -> Priority:
    """Pick a priority: mostly normal; outages more often high or urgent."""
    weights = [5, 35, 45, 15] if category.code in URGENT_CATEGORIES else [12, 60, 22, 6]
    return rng.choices(list(Priority), weights)[0]


def _take(story: Story, assigned: bool, low: float, high: float) -> bool:
    """Have a technician of the ticket's unit claim it, or the manager assign it."""
    members = story.cast.staff.get(story.ticket.unit_id, [])
    if not members or not story.wait(low, high):
        return False
    tech = story.rng.choice(members[1:] or members)
    if assigned and tech is not members[0]:
        services.assign(members[0], story.ticket, tech, now=story.clock)
    else:
        services.claim(tech, story.ticket, now=story.clock)
    story.tech = tech
    return True


def _first_level(story: Story, plan: Plan) -> bool:
    """Play the first unit: take it, answer, maybe ask the school, maybe note something."""
    if plan.target == "new" and plan.climbs == 0:
        return False
    if not _take(story, plan.assigned, 10, 600):
        return False
    ticket, rng = story.ticket, story.rng
    if rng.random() < 0.7:
        if not story.wait(5, 120):
            return False
        services.reply(story.tech, ticket, rng.choice(texts.FIRST_REPLIES), now=story.clock)
    if plan.asks:
        if not story.wait(5, 240):
            return False
        services.reply(story.tech, ticket, story.text(story.scenario.ask), now=story.clock,
                       await_school=True)
        if (plan.target == "waiting" and plan.climbs == 0) or not story.wait(60, 2880):
            return False
        services.reply(story.school_user, ticket, story.text(story.scenario.answer),
                       now=story.clock)
    if plan.notes:
        if not story.wait(5, 240):
            return False
        services.add_note(story.tech, ticket, story.text(story.scenario.note), now=story.clock)
    return True


def _climb(story: Story, plan: Plan) -> bool:
    """Escalate level by level; the receiving unit takes it and notes its findings."""
    ticket, rng = story.ticket, story.rng
    for step in range(plan.climbs):
        if ticket.level >= 3 or not story.wait(30, 2880):
            return ticket.level >= 3
        reason = (story.text(story.scenario.escalate) if ticket.level == 1
                  else rng.choice(texts.LEVEL3_REASONS))
        services.escalate(story.tech, ticket, reason, now=story.clock)
        story.resolution = "REMOTE"
        if plan.target == "new" and step == plan.climbs - 1:
            return False
        if not _take(story, plan.assigned, 30, 2880) or not story.wait(10, 600):
            return False
        notes = texts.LEVEL2_NOTES if ticket.level == 2 else texts.LEVEL3_NOTES
        services.add_note(story.tech, ticket, rng.choice(notes), now=story.clock)
    return True


def _come_back(story: Story, plan: Plan) -> bool:
    """Return it from level 2 with instructions; level 1 then fixes it on site."""
    if not plan.returned or story.ticket.level < 2:
        return True
    if not story.wait(60, 2880):
        return False
    services.return_to_lower(story.tech, story.ticket, story.rng.choice(texts.RETURN_INSTRUCTIONS),
                             now=story.clock)
    if not _take(story, False, 60, 1440):
        return False
    story.resolution, story.fix_prefix = "ONSITE", texts.ON_SITE_PREFIX
    return True


def _finish(story: Story, plan: Plan) -> bool:
    """Leave it open or waiting, or resolve it (and sometimes reopen and resolve again)."""
    ticket, rng = story.ticket, story.rng
    if plan.target == "open":
        if rng.random() < 0.3 and story.wait(600, 2880):
            services.reply(story.school_user, ticket, rng.choice(texts.SCHOOL_NUDGES),
                           now=story.clock)
        return False
    if plan.target == "waiting":
        if story.wait(10, 600):
            services.reply(story.tech, ticket, rng.choice(texts.FOLLOW_UPS), now=story.clock,
                           await_school=True)
        return False
    if plan.target != "resolved" or not story.wait(60, 4320):
        return False
    _resolve(story, story.fix_prefix + story.text(story.scenario.fix))
    if not plan.reopened or not story.wait(600, 2880):
        return True
    services.reopen(story.school_user, ticket, rng.choice(texts.REOPEN_REASONS), now=story.clock)
    if story.wait(60, 1440):
        _resolve(story, rng.choice(texts.REFIXES))
    return True


def _resolve(story: Story, body: str) -> None:
    """Resolve with the story's resolution type."""
    types = story.cast.resolution_types
    kind = types.get(story.resolution) or types[sorted(types)[0]]
    services.resolve(story.tech, story.ticket, kind, body, now=story.clock)
