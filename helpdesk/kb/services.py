"""The library's one writer: create and edit articles (a version per save), their files.

Every write asks helpdesk.permissions, keeps the search columns and index current
(helpdesk.kb.search.index) and flushes; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from helpdesk import permissions
from helpdesk.core import filestore
from helpdesk.core.errors import PermissionDenied, ValidationFailed
from helpdesk.core.text import fold
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentCategory
from helpdesk.kb import render, rules, search
from helpdesk.kb.models import ArticleStatus, Audience, KbArticle, KbAttachment, KbVersion
from helpdesk.org.models import Category, SupportUnit
from helpdesk.tickets import attachments as files

#: Addresses an article may not take: they are pages of the library.
RESERVED_SLUGS = frozenset({"new", "search", "files", "drafts"})
#: Images an article's body may show inline (the rest are downloads).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass
class ArticleInput:
    """What an author writes: the form's fields, checked by ``_check``."""

    title: str
    body: str = ""
    summary: str = ""
    category_id: int | None = None
    audience: str = Audience.STAFF
    status: str = ArticleStatus.DRAFT
    owner_unit_id: int | None = None
    equipment_category_ids: list[int] = field(default_factory=list)
    note: str = ""

    def state(self) -> dict:
        return {"title": self.title, "summary": self.summary, "body": self.body,
                "category_id": self.category_id, "audience": self.audience,
                "status": self.status, "equipment": sorted(set(self.equipment_category_ids))}


def files_directory() -> Path:
    """Where the local backend keeps articles' files: ``kb`` beside the attachments."""
    return filestore.directory("kb")


def _check(data: ArticleInput) -> ArticleInput:
    data.title = " ".join((data.title or "").split())
    data.summary = " ".join((data.summary or "").split())
    data.body = (data.body or "").replace("\r\n", "\n")
    if not data.title:
        raise ValidationFailed("title", "The title is required.")
    if len(data.title) > 200:
        raise ValidationFailed("title", "The title may have at most %(n)s characters.", n=200)
    if len(data.summary) > 500:
        raise ValidationFailed("summary", "The summary may have at most %(n)s characters.",
                               n=500)
    if len(data.body) > 200_000:
        raise ValidationFailed("body", "The text is too long.")
    if data.audience not in set(Audience):
        raise ValidationFailed("audience", "Unknown audience.")
    if data.status not in set(ArticleStatus):
        raise ValidationFailed("status", "Unknown state.")
    if data.category_id is not None and db.session.get(Category, data.category_id) is None:
        raise ValidationFailed("category_id", "Unknown category.")
    if data.owner_unit_id is not None and db.session.get(SupportUnit, data.owner_unit_id) is None:
        raise ValidationFailed("owner_unit_id", "Unknown unit.")
    wanted = set(data.equipment_category_ids or [])
    if wanted:
        found = set(db.session.scalars(
            select(EquipmentCategory.id).where(EquipmentCategory.id.in_(wanted))))
        if found != wanted:
            raise ValidationFailed("equipment_category_ids", "Unknown equipment category.")
    data.equipment_category_ids = sorted(wanted)
    return data


def _unique_slug(title: str) -> str:
    base = rules.slugify(title)
    if base in RESERVED_SLUGS:
        base = f"{base}-1"
    taken = set(db.session.scalars(select(KbArticle.slug).where(
        (KbArticle.slug == base) | KbArticle.slug.like(f"{base}-%"))))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _apply(article: KbArticle, data: ArticleInput, actor, now: datetime) -> None:
    article.title = data.title
    article.summary = data.summary
    article.body = data.body
    article.category_id = data.category_id
    article.audience = data.audience
    if data.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    article.status = data.status
    article.title_folded = fold(data.title)[:200]
    article.plain_text = render.to_text(data.body)
    article.updated_at = now
    article.updated_by_id = getattr(actor, "id", None)
    if [c.id for c in article.equipment_categories] != data.equipment_category_ids:
        article.equipment_categories = list(db.session.scalars(
            select(EquipmentCategory).where(
                EquipmentCategory.id.in_(data.equipment_category_ids or [-1]))))


def _record_version(article: KbArticle, data: ArticleInput, changed: list[str], actor,
                    now: datetime) -> KbVersion:
    version = KbVersion(article_id=article.id, number=article.version, title=data.title,
                        summary=data.summary, body=data.body, category_id=data.category_id,
                        audience=data.audience, status=data.status, changed=changed,
                        note=(data.note or "")[:300], author_id=getattr(actor, "id", None),
                        created_at=now)
    db.session.add(version)
    return version


def create_article(actor, data: ArticleInput, *, now: datetime, slug: str | None = None,
                   source_key: str | None = None,
                   source_checksum: str | None = None) -> KbArticle:
    """A new article (version 1). The system (the import command) writes any unit's."""
    data = _check(data)
    system = permissions.is_system(actor)
    if not system and not permissions.can_write_kb_for(actor, data.owner_unit_id):
        raise PermissionDenied()
    article = KbArticle(slug=slug if slug and _slug_free(slug) else _unique_slug(data.title),
                        owner_unit_id=data.owner_unit_id, version=1,
                        created_by_id=getattr(actor, "id", None), created_at=now,
                        source_key=source_key, source_checksum=source_checksum)
    _apply(article, data, actor, now)
    db.session.add(article)
    db.session.flush()
    _record_version(article, data, ["created"], actor, now)
    search.index(db.session(), article)
    db.session.flush()
    return article


def _slug_free(slug: str) -> bool:
    return (slug == rules.slugify(slug) and slug not in RESERVED_SLUGS
            and db.session.scalar(select(KbArticle.id).where(KbArticle.slug == slug)) is None)


def state_of(article: KbArticle) -> dict:
    return {"title": article.title, "summary": article.summary, "body": article.body,
            "category_id": article.category_id, "audience": article.audience,
            "status": article.status,
            "equipment": sorted(c.id for c in article.equipment_categories)}


def update_article(actor, article: KbArticle, data: ArticleInput, *, now: datetime,
                   source_checksum: str | None = None) -> list[str]:
    """Save an edit: a new version naming the changed fields; nothing when nothing
    changed. The owner unit changes only by someone who may write for both units."""
    system = permissions.is_system(actor)
    if not system:
        permissions.require_kb_edit(actor, article)
    data = _check(data)
    if data.owner_unit_id != article.owner_unit_id and not system and not (
            permissions.can_write_kb_for(actor, data.owner_unit_id)
            and permissions.can_write_kb_for(actor, article.owner_unit_id)):
        raise PermissionDenied()
    changed = rules.changed_fields(state_of(article), data.state())
    if data.owner_unit_id != article.owner_unit_id:
        article.owner_unit_id = data.owner_unit_id
        changed.append("owner_unit")
    if source_checksum is not None:
        article.source_checksum = source_checksum
    if not changed:
        db.session.flush()
        return []
    article.version += 1
    _apply(article, data, actor, now)
    _record_version(article, data, changed, actor, now)
    db.session.flush()
    search.index(db.session(), article)
    return changed


def add_files(actor, article: KbArticle, uploads, *, now: datetime) -> list[KbAttachment]:
    """Attach files (checked as the tickets' attachments are, with the library's limits)."""
    if not permissions.is_system(actor):
        permissions.require_kb_edit(actor, article)
    cfg = current_app.config
    checked = files.check_uploads(uploads, max_bytes=cfg["KB_ATTACHMENT_MAX_BYTES"],
                                  max_count=cfg["KB_ATTACHMENT_MAX_COUNT"],
                                  extensions=cfg["KB_ATTACHMENT_EXTENSIONS"])
    added = []
    for up in checked:
        row = KbAttachment(article_id=article.id, filename=up.filename,
                           stored_name=filestore.write(db.session(), "kb", up.data),
                           content_type=up.content_type, size=len(up.data), sha256=up.sha256,
                           uploaded_by_id=getattr(actor, "id", None), created_at=now)
        db.session.add(row)
        added.append(row)
    db.session.flush()
    return added


def remove_files(actor, article: KbArticle, attachment_ids) -> int:
    """Detach files from the article (the rows go; the stored bytes are left to the
    housekeeping of orphans). Returns how many."""
    if not permissions.is_system(actor):
        permissions.require_kb_edit(actor, article)
    ids = {int(i) for i in attachment_ids}
    gone = [a for a in article.attachments if a.id in ids]
    for row in gone:
        db.session.delete(row)
    db.session.flush()
    db.session.expire(article, ["attachments"])
    return len(gone)

