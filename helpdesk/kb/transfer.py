"""Import a folder of Markdown/HTML guides into the library, and export it the same way.

Layout (what ``export`` writes and ``import_folder`` reads)::

    DIR/<category code>/<slug>.md          front matter, then the Markdown body
    DIR/<category code>/files/<slug>/<file>   the article's files, linked relatively

A guide is ``*.md``/``*.markdown`` or ``*.html``/``*.htm``. Its metadata comes from a
front matter block (``---`` lines, ``key: value``) or a sidecar ``<file>.json`` (which
wins): ``title``, ``slug``, ``summary``, ``category`` (request category code),
``audience``, ``status``, ``equipment`` (codes, comma separated), ``owner_unit`` (unit
code), ``files`` (more files to attach, comma separated). Without a title the first
heading is used (the <title> of an HTML file first), else the file name. HTML is converted to Markdown.
Images and files linked by a relative path that exists in the folder are stored as the
article's files and the links point to them.

Idempotent: an article is found again by its source key (the file's path in the folder)
or its slug; a file whose checksum (the guide, its sidecar and its linked files) has not
changed is skipped, a changed one updated (a new version only if something changed).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.accounts.system import SYSTEM
from helpdesk.core import filestore
from helpdesk.core.errors import DomainError
from helpdesk.extensions import db
from helpdesk.inventory.models import EquipmentCategory
from helpdesk.kb import htmlmd, render, search, services
from helpdesk.kb.models import ArticleStatus, Audience, KbArticle, KbVersion
from helpdesk.kb.services import ArticleInput
from helpdesk.org.models import Category, SupportUnit
from helpdesk.tickets.attachments import Upload

GUIDE_SUFFIXES = {".md", ".markdown", ".html", ".htm"}
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?", re.S)
#: Markdown links and images, and HTML src/href: the target is group "url".
_LINK = re.compile(r"(?P<pre>!?\[[^\]]*\]\()(?P<url>[^)\s]+)(?P<post>[^)]*\))")
_FILE_URL = re.compile(r"/kb/(?P<slug>[a-z0-9-]+)/files/(?P<id>\d+)")


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


# --- front matter ---------------------------------------------------------------------------

def parse_front_matter(text: str) -> tuple[dict, str]:
    """({key: value}, the rest) of a text that may start with a ``---`` block."""
    match = _FRONT.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            key, value = line.split(":", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = json.loads(value) if value[0] == '"' else value[1:-1]
            meta[key.strip().lower()] = value
    return meta, text[match.end():]


def front_matter(meta: dict) -> str:
    lines = ["---"]
    for key, value in meta.items():
        if value in (None, ""):
            continue
        text = str(value)
        if text != text.strip() or ":" in text or text[:1] in "\"'#[{":
            text = json.dumps(text, ensure_ascii=False)
        lines.append(f"{key}: {text}")
    return "\n".join(lines + ["---", ""])


def _list(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


# --- import ----------------------------------------------------------------------------------

class GuideError(ValueError):
    """A guide that cannot be imported: the reason, in words for the operator."""


@dataclass
class _Guide:
    key: str
    meta: dict
    body: str
    files: dict[str, Path]  # the link as written → the file
    checksum: str


def _read_guide(root: Path, path: Path) -> _Guide:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    meta, body = parse_front_matter(text)
    title_from_html = ""
    if path.suffix.lower() in (".html", ".htm"):
        body, title_from_html = htmlmd.to_markdown(body)
    sidecar = path.with_name(path.name + ".json")
    digest = hashlib.sha256(raw)
    if sidecar.exists():
        side = sidecar.read_bytes()
        digest.update(side)
        try:
            meta.update({k.lower(): v for k, v in json.loads(side.decode("utf-8")).items()})
        except (ValueError, AttributeError) as exc:
            raise GuideError(f"{sidecar.name}: not a JSON object ({exc})") from None
    if not meta.get("title"):
        heading = re.search(r"(?m)^#\s+(.+)$", body)
        meta["title"] = title_from_html or (heading.group(1).strip() if heading else path.stem)
    files = {}
    for link in [m.group("url") for m in _LINK.finditer(body)] + _list(meta.get("files")):
        target = _local_file(root, path.parent, link)
        if target is not None:
            files[link] = target
    for link in sorted(files):
        digest.update(link.encode() + b"\0" + files[link].read_bytes())
    return _Guide(PurePosixPath(path.relative_to(root)).as_posix(), meta, body, files,
                  digest.hexdigest())


def _local_file(root: Path, base: Path, link: str) -> Path | None:
    """The file a relative link names, if it is inside the folder."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", link, re.I):
        return None
    target = (base / link.split("#")[0].split("?")[0].replace("%20", " ")).resolve()
    if not target.is_file() or root.resolve() not in target.parents:
        return None
    return target


def _lookups() -> dict:
    return {
        "category": {c.code: c.id for c in db.session.scalars(select(Category))},
        "equipment": {c.code: c.id for c in db.session.scalars(select(EquipmentCategory))},
        "unit": {u.code: u.id for u in db.session.scalars(select(SupportUnit))},
    }


def _input(guide: _Guide, lookups: dict) -> ArticleInput:
    meta = guide.meta

    def code_of(kind, code):
        if not code:
            return None
        if code not in lookups[kind]:
            raise GuideError(f"unknown {kind} code {code!r}")
        return lookups[kind][code]

    audience = meta.get("audience") or Audience.STAFF
    status = meta.get("status") or ArticleStatus.PUBLISHED
    if audience not in set(Audience) or status not in set(ArticleStatus):
        raise GuideError(f"audience must be one of {', '.join(Audience)}; "
                         f"status one of {', '.join(ArticleStatus)}")
    return ArticleInput(
        title=str(meta["title"]), summary=str(meta.get("summary") or ""), body=guide.body,
        category_id=code_of("category", meta.get("category")), audience=audience,
        status=status, owner_unit_id=code_of("unit", meta.get("owner_unit")),
        equipment_category_ids=[code_of("equipment", c) for c in _list(meta.get("equipment"))],
        note="import")


def _attach(article: KbArticle, guide: _Guide, now: datetime) -> dict[str, str]:
    """Store the guide's files on the article (reusing one with the same name and
    content) and return the link → the file's address."""
    have = {(a.filename, a.sha256): a for a in article.attachments}
    urls = {}
    for link, path in guide.files.items():
        data = path.read_bytes()
        row = have.get((path.name, hashlib.sha256(data).hexdigest()))
        if row is None:
            [row] = services.add_files(SYSTEM, article, [Upload(path.name, data)], now=now)
            have[(row.filename, row.sha256)] = row
        urls[link] = f"/kb/{article.slug}/files/{row.id}"
    return urls


def _rewrite(body: str, urls: dict[str, str]) -> str:
    def swap(match):
        url = urls.get(match.group("url"))
        return f"{match.group('pre')}{url}{match.group('post')}" if url else match.group(0)

    return _LINK.sub(swap, body)


def import_folder(root: Path, *, now: datetime) -> Report:
    """Import every guide under ``root`` (flushes after each; the caller commits). A guide
    that fails is reported and the others go on."""
    report = Report()
    lookups = _lookups()
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in GUIDE_SUFFIXES
                       and p.is_file() and not any(part.startswith(".") for part in
                                                   p.relative_to(root).parts)):
        key = PurePosixPath(path.relative_to(root)).as_posix()
        try:
            with db.session.begin_nested():
                outcome = _import_one(root, path, lookups, now)
        except (GuideError, UnicodeDecodeError, OSError) as exc:
            report.failed.append((key, str(exc)))
            continue
        except DomainError as exc:
            report.failed.append((key, str(exc)))
            continue
        getattr(report, outcome).append(key)
    return report


def _import_one(root: Path, path: Path, lookups: dict, now: datetime) -> str:
    guide = _read_guide(root, path)
    slug = str(guide.meta.get("slug") or "") or None
    article = db.session.scalar(select(KbArticle).where(KbArticle.source_key == guide.key))
    if article is None and slug:
        article = db.session.scalar(select(KbArticle).where(KbArticle.slug == slug))
    if article is not None and article.source_checksum == guide.checksum:
        return "unchanged"
    data = _input(guide, lookups)
    if article is None:
        wanted_body = data.body
        data.body = ""  # the links need the article's files, which need the article
        article = services.create_article(SYSTEM, data, now=now, slug=slug,
                                          source_key=guide.key, source_checksum=guide.checksum)
        data.body = _rewrite(wanted_body, _attach(article, guide, now))
        _replace_first_version(article, data)
        return "created"
    if article.source_key is None and db.session.scalar(
            select(KbArticle.id).where(KbArticle.source_key == guide.key)) is None:
        article.source_key = guide.key
    data.body = _rewrite(data.body, _attach(article, guide, now))
    changed = services.update_article(SYSTEM, article, data, now=now,
                                      source_checksum=guide.checksum)
    return "updated" if changed else "unchanged"


def _replace_first_version(article: KbArticle, data: ArticleInput) -> None:
    """A new article's body, with its file links, is part of its first version."""
    article.body = data.body
    article.plain_text = render.to_text(data.body)
    first = db.session.scalar(select(KbVersion).where(
        KbVersion.article_id == article.id, KbVersion.number == article.version))
    first.body = data.body
    db.session.flush()
    search.index(db.session(), article)


# --- export ----------------------------------------------------------------------------------

def export_folder(root: Path) -> list[str]:
    """Write every article (drafts too) under ``root``; returns the files written."""
    written = []
    articles = db.session.scalars(select(KbArticle).options(
        selectinload(KbArticle.attachments), selectinload(KbArticle.category),
        selectinload(KbArticle.equipment_categories), selectinload(KbArticle.owner_unit))
        .order_by(KbArticle.id))
    for article in articles:
        folder = root / (article.category.code if article.category else "_")
        names, links = {}, {}
        for a in article.attachments:
            name = a.filename if a.filename not in names.values() else f"{a.id}-{a.filename}"
            names[a.id] = name
            target = folder / "files" / article.slug / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                for piece in filestore.chunks("kb", a.stored_name):
                    out.write(piece)
            written.append(target.relative_to(root).as_posix())
            links[a.id] = f"files/{article.slug}/{name}"

        def local(match, article=article, links=links):
            if match.group("slug") == article.slug and int(match.group("id")) in links:
                return links[int(match.group("id"))]
            return match.group(0)

        body = _FILE_URL.sub(local, article.body)
        linked = {links[i] for i in links if links[i] in body}
        meta = {"title": article.title, "slug": article.slug, "summary": article.summary,
                "category": article.category.code if article.category else "",
                "audience": article.audience, "status": article.status,
                "equipment": ", ".join(c.code for c in article.equipment_categories),
                "owner_unit": article.owner_unit.code if article.owner_unit else "",
                "files": ", ".join(v for v in links.values() if v not in linked)}
        path = folder / f"{article.slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(front_matter(meta) + body, encoding="utf-8")
        written.append(path.relative_to(root).as_posix())
    return written
