"""Organisation reads: a school's escalation chain and which units serve which schools."""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import joinedload

from helpdesk.core.refcache import TableCache
from helpdesk.core.text import like_pattern
from helpdesk.extensions import db
from helpdesk.org.models import Directorate, PartnerArea, School, SupportUnit
from helpdesk.org.routing import Chain


def chain_for_school(school: School) -> Chain:
    """Return the school's chain: its directorate's level-1 unit, its partner, level 3."""
    return chain_for_directorate(school.directorate_id)


def chain_for_directorate(directorate_id: int) -> Chain:
    """Return the chain of every school of a directorate: from the per-process copy of all
    chains (checked by the one reference-data statement of the transaction), else by one
    query."""
    chain = _CHAINS.get(db.session()).get(directorate_id)
    return chain if chain is not None else _chain_query(directorate_id)


def _chain_query(directorate_id: int) -> Chain:
    partner_units = select(PartnerArea.unit_id).where(PartnerArea.directorate_id == directorate_id)
    rows = db.session.execute(
        select(SupportUnit.id, SupportUnit.level)
        .where(or_(
            and_(SupportUnit.level == 1, SupportUnit.directorate_id == directorate_id),
            and_(SupportUnit.level == 2, SupportUnit.id.in_(partner_units)),
            SupportUnit.level == 3,
        ))
        .order_by(SupportUnit.level, SupportUnit.id)
    ).all()
    first: dict[int, int] = {}
    for unit_id, level in rows:
        first.setdefault(level, unit_id)
    return Chain(l1=first.get(1), l2=first.get(2), l3=first.get(3))


def chains_for_directorates(directorate_ids) -> dict[int, Chain]:
    """``chain_for_directorate`` of many directorates at once, in one query."""
    ids = set(directorate_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(SupportUnit.id, SupportUnit.level, SupportUnit.directorate_id,
               PartnerArea.directorate_id)
        .outerjoin(PartnerArea, and_(PartnerArea.unit_id == SupportUnit.id,
                                     PartnerArea.directorate_id.in_(ids)))
        .where(or_(
            and_(SupportUnit.level == 1, SupportUnit.directorate_id.in_(ids)),
            and_(SupportUnit.level == 2, PartnerArea.directorate_id.is_not(None)),
            SupportUnit.level == 3,
        ))
        .order_by(SupportUnit.level, SupportUnit.id)
    ).all()
    first: dict[tuple[int, int | None], int] = {}
    for unit_id, level, own, partner in rows:
        first.setdefault((level, {1: own, 2: partner, 3: None}[level]), unit_id)
    top = first.get((3, None))
    return {d: Chain(l1=first.get((1, d)), l2=first.get((2, d)), l3=top) for d in ids}


def _all_chains(session) -> dict[int, Chain]:
    return chains_for_directorates(session.scalars(select(Directorate.id)).all())


#: Every directorate's chain, kept per process and rebuilt when the units, the partner
#: areas or the directorates change (in any process).
_CHAINS = TableCache(("support_units", "partner_areas", "directorates"), _all_chains)


def units_serving_school(school_id: int | ColumnElement[int]) -> Select:
    """Select the ids of the support units whose scope includes the school.

    ``school_id`` may be a column (e.g. ``EquipmentItem.school_id``) to correlate.
    """
    directorate = select(School.directorate_id).where(School.id == school_id).scalar_subquery()
    partner_units = select(PartnerArea.unit_id).where(PartnerArea.directorate_id == directorate)
    return select(SupportUnit.id).where(or_(
        and_(SupportUnit.level == 1, SupportUnit.directorate_id == directorate),
        and_(SupportUnit.level == 2, SupportUnit.id.in_(partner_units)),
        SupportUnit.level == 3,
    ))


def schools_served_by_units(unit_ids) -> Select:
    """Select the ids of the schools that any of ``unit_ids`` serves.

    Level 1 serves its directorate's schools, level 2 the schools of its partner
    area, level 3 every school.
    """
    ids = list(unit_ids)
    if not ids:
        return select(School.id).where(false())
    level1_dirs = select(SupportUnit.directorate_id).where(
        SupportUnit.id.in_(ids), SupportUnit.level == 1
    )
    level2_dirs = select(PartnerArea.directorate_id).where(PartnerArea.unit_id.in_(ids))
    national = exists().where(SupportUnit.id.in_(ids), SupportUnit.level == 3)
    return select(School.id).where(or_(
        School.directorate_id.in_(level1_dirs),
        School.directorate_id.in_(level2_dirs),
        national,
    ))


def find_schools(term: str, within: Select | None, *, limit: int = 20) -> list[School]:
    """Active schools by code (its first digits) or by name, accent- and case-insensitive
    (every word of ``term`` somewhere in the name), among ``within`` (a select of ids, from
    helpdesk.permissions; None for all); by name, at most ``limit``."""
    words = term.split()
    if not words:
        return []
    if len(words) == 1 and words[0].isdigit():
        match = School.code.startswith(words[0][:7], autoescape=True)
    else:
        match = and_(*[School.name_folded.like(like_pattern(w), escape="\\") for w in words[:8]])
    stmt = select(School).where(School.is_active.is_(True), match)
    if within is not None:
        stmt = stmt.where(School.id.in_(within))
    return list(db.session.scalars(stmt.options(joinedload(School.directorate))
                                   .order_by(School.name, School.code).limit(limit)))
