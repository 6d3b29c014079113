"""The library at work on requests: guides used in tickets, and requests a guide made
unnecessary (deflections).

``TicketArticle`` links a ticket to an article, with how: ``suggested`` (the school was
shown it while filing, and filed anyway), ``reply`` (staff sent it in a reply) or
``resolution`` (the ticket was resolved by that guide). ``KbDeflection`` is a request
never filed: the school read a suggested guide and said "this solved it".
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.org.models import ResolutionType

#: The resolution type (helpdesk.org.models.ResolutionType.code) "resolved by a guide".
GUIDE_RESOLUTION = ResolutionType.GUIDE


class Use(StrEnum):
    SUGGESTED = "suggested"    #: shown to the school while it filed the request
    REPLY = "reply"            #: linked in a reply by support staff
    RESOLUTION = "resolution"  #: the guide that resolved the ticket

#: The uses that count as "used in N tickets".
USED = (Use.REPLY, Use.RESOLUTION)


class TicketArticle(db.Model):
    __tablename__ = "ticket_kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    #: Use
    use: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("ticket_id", "article_id", "use", name="uq_ticket_kb_articles_use"),
        Index("ix_ticket_kb_articles_article_use", "article_id", "use"),
    )


class KbDeflection(db.Model):
    """A request not filed: the school read a suggested guide and said it solved it."""

    __tablename__ = "kb_deflections"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"),
                                            index=True)
    #: The category chosen on the filing form (if any).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The support unit the request would have gone to (level 1 of the school), if known.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("support_units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The subject typed so far (what the school was about to ask).
    subject: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
