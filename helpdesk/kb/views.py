"""The library's pages: browse and search (open to everyone for public articles), an
article, its history and versions, writing and editing, and its files."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.core import filestore
from helpdesk.core.bounds import parse_int
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.types import utcnow
from helpdesk.kb import forms, queries, render, rules, services
from helpdesk.kb.models import KbArticle
from helpdesk.kbuse.queries import used_in
from helpdesk.permissions import (
    can_author_kb,
    can_edit_kb_article,
    can_use_kb_in_tickets,
    can_view_kb_article,
)
from helpdesk.tickets.attachments import Upload

bp = Blueprint("kb", __name__, url_prefix="/kb")


def _english() -> bool:
    return str(get_locale()) == "en"


def _labels() -> dict:
    return {"AUDIENCE_LABELS": forms.AUDIENCE_LABELS, "KB_STATUS_LABELS": forms.STATUS_LABELS,
            "FIELD_LABELS": forms.FIELD_LABELS}


def _readable(slug: str) -> KbArticle:
    """The article at ``slug`` if the reader may see it; 404 otherwise (a draft or a
    staff article does not reveal that it exists)."""
    article = queries.get_article(slug)
    if article is None or not can_view_kb_article(current_user, article):
        abort(404)
    return article


@bp.route("")
def index():
    query = (request.args.get("q") or "").strip()[:200]
    category_id = parse_int(request.args.get("category"), low=1)
    results = queries.find(current_user, query, category_id=category_id) if query else None
    articles = None if query else queries.browse(current_user, category_id=category_id)
    return render_template(
        "kb/index.html", query=query, category_id=category_id, results=results,
        articles=articles, tree=queries.category_tree(current_user),
        drafts=queries.drafts(current_user, limit=10) if can_author_kb(current_user) else [],
        can_write=can_author_kb(current_user), **_labels())


@bp.route("/<slug>")
def show(slug: str):
    article = _readable(slug)
    used = used_in(article.id) if can_use_kb_in_tickets(current_user) else None
    return render_template("kb/show.html", article=article, body=render.to_html(article.body),
                           can_edit=can_edit_kb_article(current_user, article), used_in=used,
                           **_labels())


def _uploads() -> list[Upload]:
    limit = current_app.config["KB_ATTACHMENT_MAX_BYTES"] + 1
    return [Upload(f.filename or "", f.read(limit)) for f in request.files.getlist("files")
            if f and f.filename]


def _form(article: KbArticle | None) -> forms.ArticleForm:
    form = forms.ArticleForm(obj=None)
    if article is not None and request.method == "GET":
        form.title.data, form.summary.data, form.body.data = (
            article.title, article.summary, article.body)
        form.category.data, form.audience.data, form.status.data = (
            article.category_id, article.audience, article.status)
        form.owner_unit.data = article.owner_unit_id
        form.equipment.data = [c.id for c in article.equipment_categories]
    english = _english()
    units = queries.owner_unit_choices(current_user, english)
    if article is not None and article.owner_unit_id and article.owner_unit_id not in dict(units):
        units.append((article.owner_unit_id, article.owner_unit.name_en if english
                      else article.owner_unit.name_el))
    form.fill_choices(categories=queries.category_choices(english),
                      equipment=queries.equipment_choices(english), units=units,
                      attachments=article.attachments if article is not None else ())
    return form


def _input(form: forms.ArticleForm) -> services.ArticleInput:
    return services.ArticleInput(
        title=form.title.data or "", summary=form.summary.data or "", body=form.body.data or "",
        category_id=form.category.data, audience=form.audience.data, status=form.status.data,
        owner_unit_id=form.owner_unit.data, equipment_category_ids=form.equipment.data or [],
        note=form.note.data or "")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not can_author_kb(current_user):
        abort(403)
    form = _form(None)
    if request.method == "GET":
        form.audience.data = "schools"
    if form.validate_on_submit():
        def write():
            now = utcnow()
            article = services.create_article(current_user, _input(form), now=now)
            services.add_files(current_user, article, _uploads(), now=now)
            return article

        outcome = commit_or_flash(write, done=_("The article was saved."), raise_5xx=True)
        if outcome:
            return redirect(url_for("kb.show", slug=outcome.value.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("kb/form.html", form=form, article=None, **_labels()), status


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    article = _readable(slug)
    if not can_edit_kb_article(current_user, article):
        abort(403)
    form = _form(article)
    if form.validate_on_submit():
        def write():
            now = utcnow()
            changed = services.update_article(current_user, article, _input(form), now=now)
            removed = services.remove_files(current_user, article, form.remove_files.data or [])
            added = services.add_files(current_user, article, _uploads(), now=now)
            return changed or removed or added

        outcome = commit_or_flash(write, done=lambda changed: _("The article was saved.")
                                  if changed else _("Nothing changed."), raise_5xx=True)
        if outcome:
            return redirect(url_for("kb.show", slug=article.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("kb/form.html", form=form, article=article, **_labels()), status


@bp.route("/<slug>/history")
def history(slug: str):
    article = _readable(slug)
    return render_template("kb/history.html", article=article,
                           versions=queries.versions(article), **_labels())


@bp.route("/<slug>/v/<int:number>")
def version(slug: str, number: int):
    article = _readable(slug)
    shown = queries.version(article, number)
    if shown is None:
        abort(404)
    previous = queries.version(article, number - 1) if number > 1 else None
    diff = {"title": rules.line_diff(previous.title, shown.title),
            "summary": rules.line_diff(previous.summary, shown.summary),
            "body": rules.line_diff(previous.body, shown.body)} if previous else None
    return render_template("kb/version.html", article=article, shown=shown, previous=previous,
                           body=render.to_html(shown.body), diff=diff, **_labels())


@bp.route("/<slug>/files/<int:attachment_id>")
def download(slug: str, attachment_id: int):
    article = _readable(slug)
    attachment = next((a for a in article.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    inline = attachment.content_type in services.IMAGE_TYPES
    response = filestore.send("kb", attachment.stored_name, mimetype=attachment.content_type if inline
                         else "application/octet-stream", as_attachment=not inline,
                         download_name=attachment.filename, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
