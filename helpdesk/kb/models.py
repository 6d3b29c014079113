"""The library of guides (Βιβλιοθήκη): articles, their versions, files and equipment.

An article is addressed by its ``slug`` (stable: renaming the title keeps it), read by an
audience (public, schools, staff), drafted then published, and may belong to a support
unit (``owner_unit_id``: only that unit's people edit it). Each save writes a new
``KbVersion`` row with the whole text, so every earlier version is readable.

Search columns are kept by helpdesk.kb.services on every write: ``title_folded`` (for the
trigram index on PostgreSQL, and typo matching on SQLite) and ``plain_text`` (the
rendered body without markup, for snippets). PostgreSQL also has a generated tsvector
column ``search_tsv`` and SQLite an FTS5 table ``kb_fts``; both are made by the
migration only (not mapped here; migrations/env.py skips them).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.models import User
from helpdesk.core.types import UTCDateTime, utcnow
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentCategory
from helpdesk.org.models import Category, SupportUnit


class Audience(StrEnum):
    """Who may read an article: anyone (no log-in), schools and staff, or staff only."""

    PUBLIC = "public"
    SCHOOLS = "schools"
    STAFF = "staff"


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


kb_article_equipment = Table(
    "kb_article_equipment",
    db.metadata,
    Column("article_id", ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True),
    Column("equipment_category_id", ForeignKey("equipment_categories.id"), primary_key=True,
           index=True),
)


class KbArticle(db.Model):
    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The article's address (/kb/<slug>); set once, never changed by an edit.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: One or two plain sentences: shown in lists, suggestions and when inserted in a reply.
    summary: Mapped[str] = mapped_column(String(500), default="")
    #: Markdown; rendered and sanitised on display (helpdesk.kb.render).
    body: Mapped[str] = mapped_column(Text, default="")
    #: A request category (the tree of helpdesk.org.models.Category).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    #: Audience
    audience: Mapped[str] = mapped_column(String(10), default=Audience.STAFF)
    #: ArticleStatus
    status: Mapped[str] = mapped_column(String(10), default=ArticleStatus.DRAFT)
    #: A unit's own article: only its members and managers (and administrators) edit it.
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("support_units.id"),
                                                      index=True)
    #: The number of the current KbVersion.
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Imported articles: the file's path relative to the imported folder, and the
    #: checksum of what was imported (re-import skips an unchanged file).
    source_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    source_checksum: Mapped[str | None] = mapped_column(String(64))
    #: helpdesk.core.text.fold(title): trigram matching of typos in titles.
    title_folded: Mapped[str] = mapped_column(String(200), default="")
    #: The rendered body as plain text: snippets and the search index read it.
    plain_text: Mapped[str] = mapped_column(Text, default="")

    category: Mapped[Category | None] = relationship()
    owner_unit: Mapped[SupportUnit | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    equipment_categories: Mapped[list[EquipmentCategory]] = relationship(
        secondary=kb_article_equipment, order_by=EquipmentCategory.code)
    attachments: Mapped[list[KbAttachment]] = relationship(
        back_populates="article", order_by="KbAttachment.id")

    __table_args__ = (
        Index("ix_kb_articles_status_audience", "status", "audience"),
        Index("ix_kb_articles_updated_at", "updated_at"),
    )


class KbVersion(db.Model):
    """One saved state of an article: who, when, what changed, and the whole text."""

    __tablename__ = "kb_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    audience: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    #: The fields this save changed, e.g. ["title", "body"]; ["created"] for the first.
    changed: Mapped[list] = mapped_column(JSON, default=list)
    #: The author's note on the change (optional).
    note: Mapped[str] = mapped_column(String(300), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("article_id", "number",
                                       name="uq_kb_versions_article_number"),)


class KbAttachment(db.Model):
    """A file of an article (a PDF guide, an image the body shows)."""

    __tablename__ = "kb_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"),
                                            index=True)
    #: The sanitised name (helpdesk.tickets.attachments.clean_filename).
    filename: Mapped[str] = mapped_column(String(200))
    #: Generated name under the store (instance/kb_files); never from user input.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[KbArticle] = relationship(back_populates="attachments")
