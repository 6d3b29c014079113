"""Reading the library: browse, search with snippets, suggestions, versions, choices.

Everything is scoped by helpdesk.permissions (``kb_scope``, ``kb_audiences``); a page
runs a fixed number of queries whatever the number of articles it shows.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from helpdesk import permissions
from helpdesk.core.text import sort_key
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentCategory
from helpdesk.kb import rules, search
from helpdesk.kb.models import ArticleStatus, KbArticle, KbVersion, kb_article_equipment
from helpdesk.org.models import Category, SupportUnit

#: Articles per browse or search page.
PAGE_SIZE = 20
#: Suggestions: how much a match of the request's category / equipment adds to the rank.
CATEGORY_BOOST = 0.3
EQUIPMENT_BOOST = 0.2


def audience_of(user) -> tuple[str, ...]:
    """The audiences ``user`` reads (anonymous: public only)."""
    return permissions.kb_audiences(user)


def get_article(slug: str) -> KbArticle | None:
    """The article at ``slug`` with what its page shows, or None (the caller asks
    helpdesk.permissions whether its reader may see it)."""
    return db.session.scalar(
        select(KbArticle).where(KbArticle.slug == slug).options(
            selectinload(KbArticle.attachments), selectinload(KbArticle.equipment_categories),
            selectinload(KbArticle.category), selectinload(KbArticle.owner_unit),
            selectinload(KbArticle.updated_by)))


# --- categories ----------------------------------------------------------------------------

@dataclass
class CategoryNode:
    category: Category
    count: int
    children: list[CategoryNode]

    @property
    def total(self) -> int:
        return self.count + sum(c.total for c in self.children)


def category_tree(actor) -> list[CategoryNode]:
    """The request categories as a tree, each with how many articles ``actor`` may read
    in it (two queries)."""
    counts = dict(db.session.execute(
        select(KbArticle.category_id, func.count()).where(permissions.kb_scope(actor))
        .group_by(KbArticle.category_id)).all())
    categories = db.session.scalars(select(Category).where(Category.is_active)).all()
    nodes = {c.id: CategoryNode(c, counts.get(c.id, 0), []) for c in categories}
    roots = []
    for c in sorted(categories, key=lambda c: c.code):
        node = nodes[c.id]
        parent = nodes.get(c.parent_id) if c.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def _subtree_ids(category_id: int) -> list[int]:
    rows = db.session.execute(select(Category.id, Category.parent_id)).all()
    ids, frontier = {category_id}, {category_id}
    while frontier:
        frontier = {i for i, parent in rows if parent in frontier} - ids
        ids |= frontier
    return sorted(ids)


# --- lists and search --------------------------------------------------------------------------

@dataclass
class Result:
    article: KbArticle
    score: float
    title: Markup
    snippet: Markup


def _conditions(actor, category_id: int | None, equipment_category_id: int | None) -> list:
    where = [permissions.kb_scope(actor)]
    if category_id:
        where.append(KbArticle.category_id.in_(_subtree_ids(category_id)))
    if equipment_category_id:
        where.append(KbArticle.id.in_(
            select(kb_article_equipment.c.article_id).where(
                kb_article_equipment.c.equipment_category_id == equipment_category_id)))
    return where


def browse(actor, *, category_id: int | None = None, equipment_category_id: int | None = None,
           limit: int = PAGE_SIZE) -> list[KbArticle]:
    """The newest articles ``actor`` may read (in a category's subtree)."""
    return list(db.session.scalars(
        select(KbArticle).where(*_conditions(actor, category_id, equipment_category_id))
        .options(selectinload(KbArticle.category))
        .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)))


def find(actor, query: str, *, category_id: int | None = None,
         equipment_category_id: int | None = None, limit: int = PAGE_SIZE) -> list[Result]:
    """The articles ``actor`` may read that match ``query``, best first, with the title
    and a snippet of the text highlighted (escaped first)."""
    hits = search.search(db.session(), query,
                         _conditions(actor, category_id, equipment_category_id), limit=limit)
    return _results(hits, rules.query_terms(query))


def _results(hits, terms) -> list[Result]:
    if not hits:
        return []
    by_id = {a.id: a for a in db.session.scalars(
        select(KbArticle).where(KbArticle.id.in_([h.article_id for h in hits]))
        .options(selectinload(KbArticle.category)))}
    return [Result(by_id[h.article_id], h.score, rules.highlight(by_id[h.article_id].title, terms),
                   rules.snippet(by_id[h.article_id].plain_text, terms))
            for h in hits if h.article_id in by_id]


def suggest(text: str, category_id: int | None, equipment_category_ids, audiences,
            limit: int = 5) -> list[KbArticle]:
    """Up to ``limit`` published articles for a request being written: those matching its
    words first, lifted when they are of its category or its equipment's categories; with
    no matching words, the newest of that category or equipment.

    ``audiences``: what the reader may read (``audience_of(user)``)."""
    equipment = set(equipment_category_ids or [])
    where = [KbArticle.status == ArticleStatus.PUBLISHED,
             KbArticle.audience.in_([str(a) for a in audiences])]
    hits = search.search(db.session(), text or "", where, limit=max(limit * 5, 25))
    if not hits:
        related = []
        if category_id:
            related.append(KbArticle.category_id.in_(_subtree_ids(category_id)))
        if equipment:
            related.append(KbArticle.id.in_(
                select(kb_article_equipment.c.article_id).where(
                    kb_article_equipment.c.equipment_category_id.in_(equipment))))
        if not related:
            return []
        return list(db.session.scalars(
            select(KbArticle).where(*where, or_(*related))
            .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)))
    ids = [h.article_id for h in hits]
    articles = {a.id: a for a in db.session.scalars(
        select(KbArticle).where(KbArticle.id.in_(ids))
        .options(selectinload(KbArticle.equipment_categories)))}
    subtree = set(_subtree_ids(category_id)) if category_id else set()

    def boosted(hit):
        article = articles[hit.article_id]
        bonus = CATEGORY_BOOST if article.category_id in subtree else 0.0
        if equipment & {c.id for c in article.equipment_categories}:
            bonus += EQUIPMENT_BOOST
        return -(hit.score + bonus), hit.article_id

    return [articles[h.article_id] for h in sorted(hits, key=boosted)[:limit]]


def drafts(actor, limit: int = 50) -> list[KbArticle]:
    """The drafts ``actor`` may edit, newest first."""
    return list(db.session.scalars(
        select(KbArticle).where(permissions.kb_drafts_scope(actor))
        .order_by(KbArticle.updated_at.desc()).limit(limit)))


# --- versions ------------------------------------------------------------------------------

def versions(article: KbArticle) -> list[KbVersion]:
    return list(db.session.scalars(
        select(KbVersion).where(KbVersion.article_id == article.id)
        .options(selectinload(KbVersion.author)).order_by(KbVersion.number.desc())))


def version(article: KbArticle, number: int) -> KbVersion | None:
    return db.session.scalar(select(KbVersion).where(
        KbVersion.article_id == article.id, KbVersion.number == number)
        .options(selectinload(KbVersion.author)))


# --- the form's choices --------------------------------------------------------------------

def category_choices(english: bool) -> list[tuple[int, str]]:
    rows = db.session.scalars(select(Category).where(Category.is_active)).all()
    by_id = {c.id: c for c in rows}

    def label(c):
        name = c.name_en if english else c.name_el
        parent = by_id.get(c.parent_id)
        return f"{(parent.name_en if english else parent.name_el)} › {name}" if parent else name

    return sorted(((c.id, label(c)) for c in rows), key=lambda p: sort_key(p[1]))


def equipment_choices(english: bool) -> list[tuple[int, str]]:
    rows = db.session.scalars(select(EquipmentCategory).where(EquipmentCategory.is_active)).all()
    return sorted(((c.id, c.name_en if english else c.name_el) for c in rows),
                  key=lambda p: sort_key(p[1]))


def owner_unit_choices(actor, english: bool) -> list[tuple[int, str]]:
    """The units whose own articles ``actor`` may write."""
    allowed = permissions.kb_owner_units(actor)
    stmt = select(SupportUnit)
    if allowed is not None:
        stmt = stmt.where(SupportUnit.id.in_(allowed or [-1]))
    return sorted(((u.id, u.name_en if english else u.name_el)
                   for u in db.session.scalars(stmt)), key=lambda p: sort_key(p[1]))
