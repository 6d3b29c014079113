"""The library report: requests a guide made unnecessary (deflections) and guides used in
tickets, per article and per category, over a period. Every figure is an SQL aggregate;
the page runs a fixed number of queries whatever the data.

Deflection rate = deflections / (deflections + requests filed after seeing suggestions):
of the filings where the school was shown guides, the share it gave up because a guide
solved its problem (helpdesk.kbuse.rules.deflection_rate).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select

from helpdesk import permissions
from helpdesk.core.text import sort_key
from helpdesk.extensions import db
from helpdesk.kb.models import KbArticle
from helpdesk.kbuse.models import USED, KbDeflection, TicketArticle, Use
from helpdesk.kbuse.rules import deflection_rate
from helpdesk.org.models import Category
from helpdesk.reports.filters import ReportFilters
from helpdesk.tickets.models import Ticket


@dataclass
class LibraryReport:
    deflections: int = 0
    filed_after_suggestions: int = 0
    rate: float | None = None
    #: dicts: title, slug, deflections, filed (after it was suggested), used (tickets)
    articles: list[dict] = field(default_factory=list)
    #: dicts: name, deflections, filed, rate
    categories: list[dict] = field(default_factory=list)


def library(actor, f: ReportFilters, locale: str) -> LibraryReport:
    """The report for what ``actor`` may see: deflections of the schools its units serve,
    tickets of its report scope, created within the period."""
    start, end = f.start_at, f.end_at
    deflected = [permissions.deflection_scope(actor, KbDeflection.school_id),
                 KbDeflection.created_at >= start, KbDeflection.created_at < end]
    tickets = [permissions.report_scope(actor), Ticket.created_at >= start,
               Ticket.created_at < end]
    linked = select(TicketArticle.article_id, TicketArticle.use, TicketArticle.ticket_id,
                    Ticket.category_id).join(Ticket, Ticket.id == TicketArticle.ticket_id) \
        .where(*tickets).subquery()

    by_article_deflections = dict(db.session.execute(
        select(KbDeflection.article_id, func.count()).where(*deflected)
        .group_by(KbDeflection.article_id)).all())
    by_article_use: dict[int, dict[str, int]] = {}
    for article_id, use, count in db.session.execute(
            select(linked.c.article_id, linked.c.use, func.count(distinct(linked.c.ticket_id)))
            .group_by(linked.c.article_id, linked.c.use)).all():
        by_article_use.setdefault(article_id, {})[use] = count
    used = dict(db.session.execute(
        select(linked.c.article_id, func.count(distinct(linked.c.ticket_id)))
        .where(linked.c.use.in_([str(u) for u in USED])).group_by(linked.c.article_id)).all())

    by_category_deflections = dict(db.session.execute(
        select(KbDeflection.category_id, func.count()).where(*deflected)
        .group_by(KbDeflection.category_id)).all())
    by_category_filed = dict(db.session.execute(
        select(linked.c.category_id, func.count(distinct(linked.c.ticket_id)))
        .where(linked.c.use == Use.SUGGESTED.value).group_by(linked.c.category_id)).all())
    filed_total = db.session.scalar(
        select(func.count(distinct(linked.c.ticket_id))).where(
            linked.c.use == Use.SUGGESTED.value)) or 0

    ids = set(by_article_deflections) | set(by_article_use)
    titles = {a.id: a for a in db.session.execute(
        select(KbArticle.id, KbArticle.title, KbArticle.slug).where(
            KbArticle.id.in_(sorted(ids)))).all()} if ids else {}
    report = LibraryReport(deflections=sum(by_article_deflections.values()),
                           filed_after_suggestions=filed_total)
    report.rate = deflection_rate(report.deflections, filed_total)
    report.articles = sorted((
        {"title": titles[i].title, "slug": titles[i].slug,
         "deflections": by_article_deflections.get(i, 0),
         "filed": by_article_use.get(i, {}).get(Use.SUGGESTED.value, 0),
         "used": used.get(i, 0)} for i in ids if i in titles),
        key=lambda r: (-r["deflections"], -r["used"], sort_key(r["title"])))
    cat_ids = set(by_category_deflections) | set(by_category_filed)
    names = {c.id: (c.name_en if locale == "en" else c.name_el) for c in db.session.scalars(
        select(Category).where(Category.id.in_(sorted(i for i in cat_ids if i))))} \
        if any(cat_ids) else {}
    report.categories = sorted((
        {"name": names.get(i, "—"), "deflections": by_category_deflections.get(i, 0),
         "filed": by_category_filed.get(i, 0),
         "rate": deflection_rate(by_category_deflections.get(i, 0), by_category_filed.get(i, 0))}
        for i in cat_ids), key=lambda r: (-r["deflections"], sort_key(r["name"])))
    return report
