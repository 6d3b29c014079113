"""Saved views on the web: save the queue's filters, rename and delete them (/my-views).
The list of links sits above the queue (helpdesk.tickets.views.queue)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import NotFound
from helpdesk.core.types import utcnow
from helpdesk.permissions import can_keep_saved_views
from helpdesk.savedviews import queries, services
from helpdesk.savedviews.forms import DeleteViewForm, RenameViewForm, SaveViewForm

bp = Blueprint("savedviews", __name__)


def queue_url(query: str) -> str:
    base = url_for("tickets.queue")
    return f"{base}?{query}" if query else base


def _refused(form) -> None:
    for field, errors in form.errors.items():
        label = getattr(form, field).label.text if hasattr(form, field) else field
        flash(f"{label}: {errors[0]}", "error")


@bp.route("/my-views", methods=["GET", "POST"])
@login_required
def index():
    if not can_keep_saved_views(current_user):
        abort(404)
    form = SaveViewForm()
    if form.is_submitted():
        query = services.normalise(form.query.data or "")
        if not form.validate():
            _refused(form)
            return redirect(queue_url(query))
        outcome = commit_or_flash(
            lambda: services.save(current_user, form.name.data, query, now=utcnow()).query,
            done=_("The view was saved."))
        return redirect(queue_url(outcome.value if outcome else query))
    views = queries.of(current_user)
    return render_template("savedviews/index.html", views=views, queue_url=queue_url,
                           rename_form=RenameViewForm(), delete_form=DeleteViewForm())


@bp.route("/my-views/<int:view_id>/rename", methods=["POST"])
@login_required
def rename(view_id: int):
    if not can_keep_saved_views(current_user):
        abort(404)
    form = RenameViewForm()
    if not form.validate_on_submit():
        _refused(form)
    else:
        commit_or_flash(lambda: services.rename(current_user, view_id, form.name.data),
                        done=_("The view was renamed."), abort_on=(NotFound,))
    return redirect(url_for("savedviews.index"))


@bp.route("/my-views/<int:view_id>/delete", methods=["POST"])
@login_required
def delete(view_id: int):
    if not can_keep_saved_views(current_user):
        abort(404)
    if not DeleteViewForm().validate_on_submit():
        abort(400)
    commit_or_flash(lambda: services.delete(current_user, view_id),
                    done=_("The view was deleted."), abort_on=(NotFound,))
    return redirect(url_for("savedviews.index"))
