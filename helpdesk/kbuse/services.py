"""Writing the library's work on requests: the guides shown to a school that filed anyway,
the guides sent in replies or that resolved a ticket, and the requests a guide made
unnecessary. Services flush, never commit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk import permissions
from helpdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from helpdesk.extensions import db
from helpdesk.kb.models import KbArticle
from helpdesk.kbuse import rules
from helpdesk.kbuse.models import GUIDE_RESOLUTION, KbDeflection, TicketArticle, Use
from helpdesk.org import routing
from helpdesk.org.models import Category, ResolutionType
from helpdesk.org.queries import chain_for_school
from helpdesk.tickets import services as tickets
from helpdesk.tickets.models import Message, Ticket

#: At most this many suggested guides are recorded for one filing.
MAX_SUGGESTED = 5


def _link(actor, ticket: Ticket, article_ids, use: Use, now: datetime) -> None:
    """Add the (ticket, article, use) rows not there yet (one read, one insert)."""
    wanted = list(dict.fromkeys(article_ids))
    if not wanted:
        return
    have = set(db.session.scalars(select(TicketArticle.article_id).where(
        TicketArticle.ticket_id == ticket.id, TicketArticle.use == use,
        TicketArticle.article_id.in_(wanted))))
    db.session.add_all(TicketArticle(ticket_id=ticket.id, article_id=a, use=use,
                                     actor_id=getattr(actor, "id", None), created_at=now)
                       for a in wanted if a not in have)
    db.session.flush()


def record_suggested(actor, ticket: Ticket, article_ids, now: datetime) -> None:
    """The guides the school was shown while filing ``ticket`` (it filed anyway): those
    of ``article_ids`` it may read."""
    ids = [i for i in article_ids if isinstance(i, int)][:MAX_SUGGESTED]
    if not ids or not permissions.can_get_kb_suggestions(actor):
        return
    readable = db.session.scalars(select(KbArticle.id).where(
        KbArticle.id.in_(ids), permissions.kb_scope(actor))).all()
    _link(actor, ticket, readable, Use.SUGGESTED, now)


def _linked_articles(actor, text: str) -> list[KbArticle]:
    slugs = rules.linked_slugs(text)
    if not slugs:
        return []
    found = {a.slug: a for a in db.session.scalars(select(KbArticle).where(
        KbArticle.slug.in_(slugs), permissions.kb_scope(actor)))}
    return [found[s] for s in slugs if s in found]


def record_links(actor, ticket: Ticket, text: str, now: datetime) -> list[KbArticle]:
    """The guides a staff reply links to (``…/kb/<slug>``), recorded as used in ``ticket``.
    A school's own reply records nothing."""
    if not permissions.can_use_kb_in_tickets(actor):
        return []
    articles = _linked_articles(actor, text)
    _link(actor, ticket, [a.id for a in articles], Use.REPLY, now)
    return articles


def reply(actor, ticket: Ticket, body: str, *, now: datetime, **options) -> Message:
    """tickets.services.reply, then the guides the reply links to are recorded."""
    message = tickets.reply(actor, ticket, body, now=now, **options)
    record_links(actor, ticket, body, now)
    return message


def resolve(actor, ticket: Ticket, resolution_type: ResolutionType | None, text: str, *,
            now: datetime, guide_id: int | None = None) -> Message:
    """tickets.services.resolve, recording the guides the answer links to; resolved "by a
    guide" (resolution type GUIDE) it names the guide: ``guide_id`` or else the first
    article the answer links to."""
    guide = None
    if resolution_type is not None and resolution_type.code == GUIDE_RESOLUTION:
        if guide_id:
            guide = db.session.scalar(select(KbArticle).where(
                KbArticle.id == guide_id, permissions.kb_scope(actor)))
        else:
            guide = next(iter(_linked_articles(actor, text)), None)
        if guide is None:
            raise ValidationFailed("guide", "Name the guide that solved the request.")
    message = tickets.resolve(actor, ticket, resolution_type, text, now=now)
    record_links(actor, ticket, text, now)
    if guide is not None:
        _link(actor, ticket, [guide.id], Use.RESOLUTION, now)
    return message


def deflect(actor, article_id: int, *, category_id: int | None, subject: str,
            now: datetime) -> KbDeflection:
    """The school read a suggested guide and says it solved its problem: no request is
    filed, a deflection is recorded."""
    if not permissions.can_get_kb_suggestions(actor):
        raise PermissionDenied()
    article = db.session.scalar(select(KbArticle).where(
        KbArticle.id == article_id, permissions.kb_scope(actor)))
    if article is None:
        raise NotFound()
    category = db.session.get(Category, category_id) if category_id else None
    school = actor.school
    unit_id = None
    if category is not None:
        try:
            _level, unit_id = routing.start(chain_for_school(school), category.first_level)
        except routing.NoHigherLevel:
            unit_id = None
    deflection = KbDeflection(article_id=article.id, category_id=category.id if category else None,
                              school_id=school.id, unit_id=unit_id, user_id=actor.id,
                              subject=(subject or "").strip()[:200], created_at=now)
    db.session.add(deflection)
    db.session.flush()
    return deflection
