"""Canned replies on the web: the list, writing and deleting them (/canned-replies).

Insertion into a ticket's reply box is on the ticket page (helpdesk.tickets.views.show:
``?canned=<id>`` prefills the box; canned-replies.js inserts at the cursor instead)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.audit.queries import for_object
from helpdesk.canned import placeholders, queries, services
from helpdesk.canned.forms import CannedReplyForm, DeleteForm
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import ValidationFailed
from helpdesk.core.types import utcnow
from helpdesk.permissions import (
    can_edit_canned_reply,
    can_use_canned_replies,
    may_write_canned_replies,
)

bp = Blueprint("canned", __name__)


def _guard() -> None:
    if not can_use_canned_replies(current_user):
        abort(404)


def _unit_of(value: str) -> int | None:
    return None if value == queries.SHARED else int(value)


def _placeholder_help() -> list[tuple[str, str]]:
    labels = {"school": _("the school's name"), "school_code": _("the school's code"),
              "ref": _("the request's number"), "subject": _("the request's subject"),
              "technician": _("your name"), "unit": _("the support unit of the request"),
              "category": _("the request's category")}
    return [(" ".join(f"{{{n}}}" for n in names), labels[key])
            for key, names in placeholders.NAMES.items()]


@bp.route("/canned-replies")
@login_required
def index():
    _guard()
    return render_template("canned/index.html", replies=queries.usable(current_user),
                           help=_placeholder_help())


def _save(form, reply=None):
    """Validate and write; the view's answer (a redirect, or the form again)."""
    choices = queries.writable_units(current_user)
    form.unit.choices = choices
    if form.validate_on_submit():
        unit_id = _unit_of(form.unit.data)
        if reply is None:
            write = lambda: services.create(  # noqa: E731
                current_user, unit_id=unit_id, title=form.title.data, body=form.body.data,
                now=utcnow()).id
        else:
            reply_id = reply.id
            write = lambda: services.update(  # noqa: E731
                current_user, reply, unit_id=unit_id, title=form.title.data,
                body=form.body.data, now=utcnow()) and reply_id
        outcome = commit_or_flash(write, done=_("The canned reply was saved."))
        if outcome:
            unknown = placeholders.unknown(form.body.data)
            if unknown:
                flash(_("These placeholders are unknown and stay as typed: %(names)s",
                        names=", ".join(unknown)), "warning")
            return redirect(url_for("canned.index"))
        if isinstance(outcome.error, ValidationFailed) and hasattr(form, outcome.error.field):
            getattr(form, outcome.error.field).errors = [str(outcome.error)]
        status = outcome.error.status
    else:
        status = 422 if form.is_submitted() else 200
    return render_template("canned/edit.html", form=form, reply=reply, help=_placeholder_help(),
                           history=for_object("canned_reply", reply.id) if reply else []), status


@bp.route("/canned-replies/new", methods=["GET", "POST"])
@login_required
def new():
    _guard()
    if not may_write_canned_replies(current_user):
        abort(403)
    return _save(CannedReplyForm())


def _editable_reply(reply_id: int):
    """The reply the current user may edit: 404 when they cannot see it, 403 when they may
    only use it."""
    _guard()
    reply = queries.visible_reply(current_user, reply_id)
    if reply is None:
        abort(404)
    if not can_edit_canned_reply(current_user, reply.unit_id):
        abort(403)
    return reply


@bp.route("/canned-replies/<int:reply_id>", methods=["GET", "POST"])
@login_required
def edit(reply_id: int):
    reply = _editable_reply(reply_id)
    form = CannedReplyForm(obj=reply)
    if not form.is_submitted():
        form.unit.data = queries.SHARED if reply.unit_id is None else str(reply.unit_id)
    return _save(form, reply)


@bp.route("/canned-replies/<int:reply_id>/delete", methods=["POST"])
@login_required
def delete(reply_id: int):
    reply = _editable_reply(reply_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    commit_or_flash(lambda: services.delete(current_user, reply, now=utcnow()),
                    done=_("The canned reply was deleted."))
    return redirect(url_for("canned.index"))
