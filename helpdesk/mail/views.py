"""The quarantine: administrators list, inspect, download, assign, reprocess, discard."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.core.errors import DomainError
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.mail import parse, process, queries, services, wording
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.org.models import School
from helpdesk.outbox import suppressions as suppression
from helpdesk.outbox.models import Suppression
from helpdesk.permissions import admin_only

bp = Blueprint("mail_admin", __name__, url_prefix="/admin/mail")


@bp.before_request
@admin_only
def _admins_only():
    """Every page of the quarantine is for administrators (helpdesk.permissions.admin_only)."""


def _row(inbound_id: int) -> InboundMessage:
    return db.session.get(InboundMessage, inbound_id) or abort(404)


@bp.context_processor
def _wording() -> dict:
    return {"mail_status_labels": wording.STATUS_LABELS, "mail_reason": wording.reason_label,
            "mail_source": wording.source_label}


@bp.route("/")
def index():
    status = request.args.get("status", InboundStatus.QUARANTINED)
    if status not in {s.value for s in InboundStatus}:
        status = InboundStatus.QUARANTINED
    return render_template("mail/admin/index.html", rows=queries.list_messages(status),
                           status=status, counts=queries.count_by_status(),
                           statuses=[s.value for s in InboundStatus])


@bp.route("/<int:inbound_id>")
def show(inbound_id):
    row = _row(inbound_id)
    mail = parse.parse(row.raw)
    return render_template("mail/admin/show.html", row=row, mail=mail,
                           can_reprocess=row.status in (InboundStatus.QUARANTINED,
                                                        InboundStatus.IGNORED))


@bp.route("/<int:inbound_id>/raw")
def raw(inbound_id):
    row = _row(inbound_id)
    return send_file(io.BytesIO(row.raw), mimetype="application/octet-stream",
                     as_attachment=True, download_name=f"inbound-{row.id}.eml")


def _act(inbound_id: int, action) -> object:
    row = _row(inbound_id)
    try:
        action(row)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("mail_admin.show", inbound_id=inbound_id))
    if row.status == InboundStatus.RECEIVED:
        status = process.run(row.id, now=utcnow())
        flash(_("Processed again: %(status)s.",
                status=wording.STATUS_LABELS.get(status, status)), "info")
    else:
        flash(_("Done."), "info")
    return redirect(url_for("mail_admin.show", inbound_id=inbound_id))


@bp.route("/<int:inbound_id>/assign", methods=["POST"])
def assign(inbound_id):
    code = (request.form.get("school_code") or "").strip()
    school = db.session.scalar(select(School).where(School.code == code)) if code else None
    if school is None:
        flash(_("No school with the code %(code)s.", code=code), "error")
        return redirect(url_for("mail_admin.show", inbound_id=inbound_id))
    return _act(inbound_id, lambda row: services.assign_school(current_user, row, school,
                                                               now=utcnow()))


@bp.route("/<int:inbound_id>/reprocess", methods=["POST"])
def reprocess(inbound_id):
    return _act(inbound_id, lambda row: services.reprocess(current_user, row, now=utcnow()))


@bp.route("/<int:inbound_id>/discard", methods=["POST"])
def discard(inbound_id):
    return _act(inbound_id, lambda row: services.discard(current_user, row, now=utcnow()))


@bp.route("/suppressions")
def suppressions():
    return render_template("mail/admin/suppressions.html",
                           rows=suppression.list_suppressions())


@bp.route("/suppressions/<int:suppression_id>/clear", methods=["POST"])
def clear_suppression(suppression_id):
    row = db.session.get(Suppression, suppression_id) or abort(404)
    suppression.clear(current_user, row.address, now=utcnow())
    db.session.commit()
    flash(_("%(address)s will be mailed again.", address=row.address), "info")
    return redirect(url_for("mail_admin.suppressions"))
