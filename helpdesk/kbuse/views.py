"""The library's web door on requests: guides suggested while a school writes a request
(and "this solved it"), and the reply box's guide picker."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.core.bounds import parse_int
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import NotFound
from helpdesk.core.types import utcnow
from helpdesk.kbuse import queries, services
from helpdesk.permissions import can_get_kb_suggestions, can_use_kb_in_tickets

bp = Blueprint("kbuse", __name__)


def _ids(values) -> list[int]:
    return [i for i in (parse_int(v, low=1) for v in values) if i is not None]


@bp.route("/tickets/new/suggestions")
@login_required
def suggestions():
    """The guides for the request being written, as a piece of the filing page (fetched by
    kb-suggestions.js as the school types)."""
    if not can_get_kb_suggestions(current_user):
        abort(403)
    subject = (request.args.get("subject") or "").strip()[:200]
    category_id = parse_int(request.args.get("category"), low=1)
    articles = queries.suggestions(current_user, subject, category_id,
                                   _ids(request.args.getlist("equipment")))
    return render_template("kbuse/_suggestions.html", articles=articles, subject=subject,
                           category_id=category_id)


@bp.route("/tickets/new/solved", methods=["POST"])
@login_required
def solved():
    """"This solved it": no request is filed; the deflection is recorded."""
    if not can_get_kb_suggestions(current_user):
        abort(403)
    article_id = parse_int(request.form.get("article"), low=1)
    if article_id is None:
        abort(404)
    outcome = commit_or_flash(
        lambda: services.deflect(current_user, article_id,
                                 category_id=parse_int(request.form.get("category"), low=1),
                                 subject=request.form.get("subject") or "", now=utcnow()),
        done=_("We are glad the guide helped. No request was filed."), abort_on=(NotFound,))
    if not outcome:
        return redirect(url_for("tickets.new"))
    return redirect(url_for("tickets.queue"))


@bp.route("/tickets/guides")
@login_required
def picker():
    """The guides matching ``q`` for the reply box's picker, as JSON (kb-picker.js)."""
    if not can_use_kb_in_tickets(current_user):
        abort(403)
    query = (request.args.get("q") or "").strip()[:200]
    return jsonify(items=queries.picker(current_user, query))
