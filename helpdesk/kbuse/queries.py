"""Reading the library's work on requests: suggestions for a request being written, the
picker's search, and how many tickets used an article."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import distinct, func, select

from helpdesk import permissions
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentItem
from helpdesk.kb import queries as kb
from helpdesk.kb.models import KbArticle
from helpdesk.kbuse import rules
from helpdesk.kbuse.models import USED, TicketArticle

#: Guides suggested to a school while it writes a request.
SUGGESTIONS = 5
#: Results of the reply box's guide picker.
PICKER_SIZE = 10


def suggestions(actor, subject: str, category_id: int | None,
                equipment_item_ids) -> list[KbArticle]:
    """Up to five guides ``actor`` (a school filing) may read for the request it is
    writing: its subject's words, lifted by its category and its equipment's kinds."""
    item_ids = [i for i in (equipment_item_ids or []) if isinstance(i, int)][:50]
    kinds = db.session.scalars(select(distinct(EquipmentItem.category_id)).where(
        EquipmentItem.id.in_(item_ids), EquipmentItem.school_id == actor.school_id)).all() \
        if item_ids else []
    return kb.suggest(subject or "", category_id, kinds, permissions.kb_audiences(actor),
                      limit=SUGGESTIONS)


def picker(actor, query: str) -> list[dict]:
    """The guides matching ``query`` that ``actor`` may read, each with the text the
    picker inserts (title, link, summary)."""
    results = kb.find(actor, query, limit=PICKER_SIZE) if query else []
    rows = []
    for r in results:
        rows.append({"id": r.article.id, "slug": r.article.slug, "title": r.article.title,
                     "summary": r.article.summary, "audience": r.article.audience,
                     "url": url_for("kb.show", slug=r.article.slug, _external=True),
                     "text": inserted(r.article)})
    return rows


def inserted(article: KbArticle) -> str:
    """The text a guide puts in the reply box: its title and link, then its summary."""
    return rules.inserted_text(article.title, url_for("kb.show", slug=article.slug,
                                                      _external=True), article.summary)


def article_by_id(actor, article_id: int) -> KbArticle | None:
    return db.session.scalar(select(KbArticle).where(
        KbArticle.id == article_id, permissions.kb_scope(actor)))


def used_in(article_id: int) -> int:
    """In how many tickets the article was sent in a reply or resolved one."""
    return db.session.scalar(select(func.count(distinct(TicketArticle.ticket_id))).where(
        TicketArticle.article_id == article_id, TicketArticle.use.in_(USED))) or 0


def ticket_guides(ticket_id: int) -> list[tuple[KbArticle, set[str]]]:
    """The guides used in a ticket (sent or resolving it), with how, oldest first."""
    rows = db.session.execute(
        select(KbArticle, TicketArticle.use).join(
            TicketArticle, TicketArticle.article_id == KbArticle.id)
        .where(TicketArticle.ticket_id == ticket_id, TicketArticle.use.in_(USED))
        .order_by(TicketArticle.id)).all()
    found: dict[int, tuple[KbArticle, set[str]]] = {}
    for article, use in rows:
        found.setdefault(article.id, (article, set()))[1].add(use)
    return list(found.values())


