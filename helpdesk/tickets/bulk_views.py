"""Web door to the bulk actions of a queue (helpdesk.tickets.bulk).

The queue page shows a checkbox per ticket and the form of the registered actions; the
POST runs the chosen action on each checked ticket through its own service call, here
(up to BULK_INLINE_MAX tickets) or as a job on the ``bulk`` RQ queue, and says which
tickets changed and why each of the others did not.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from rq.job import Job as RqJob
from sqlalchemy import select

from helpdesk.accounts.models import UnitMembership, User
from helpdesk.core import aftercommit
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.display import localized_by_id
from helpdesk.core.errors import ValidationFailed
from helpdesk.core.redisconn import get_redis
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.org.models import ResolutionType
from helpdesk.permissions import can_act_in_bulk
from helpdesk.tickets import bulk, queries
from helpdesk.tickets.forms import PRIORITY_CHOICES

bp = Blueprint("bulk", __name__)
#: Up to this many tickets are changed during the request; more go to the bulk queue.
INLINE_MAX = 200


class BulkForm(FlaskForm):
    """Only its CSRF token: the action's fields come from the registry (helpdesk.tickets.bulk)."""


def page_context(actor, rows) -> dict:
    """What the queue page needs for the bulk form (three small queries), or {} for those
    who have no bulk actions."""
    if not can_act_in_bulk(actor):
        return {}
    unit_ids = sorted({t.unit_id for t in rows})
    assignees = [tuple(row) for row in db.session.execute(
        select(User.id, User.name).join(UnitMembership)
        .where(UnitMembership.unit_id.in_(unit_ids), User.is_active_account.is_(True))
        .distinct().order_by(User.name, User.id))] if unit_ids else []
    kinds = list(db.session.scalars(select(ResolutionType).where(  # a guide: one by one
        ResolutionType.code != ResolutionType.GUIDE)))
    names = localized_by_id(kinds)
    return {"form": BulkForm(prefix="bulk"), "actions": bulk.actions(), "choices": {
        "assignees": assignees, "priorities": PRIORITY_CHOICES,
        "categories": queries.filter_choices(False)[0],
        "resolution_types": [(k.id, names[k.id]) for k in kinds]}}


def _back():
    target = request.form.get("next") or ""
    if not target.startswith("/tickets") or target.startswith("//"):
        target = url_for("tickets.queue")
    return redirect(target)


@bp.route("/tickets/bulk", methods=["POST"])
@login_required
def run():
    if not can_act_in_bulk(current_user):
        abort(403)
    if not BulkForm(prefix="bulk").validate_on_submit():
        flash(_("The form expired: please try again."), "error")
        return _back()
    name = request.form.get("action", "")
    action = bulk.REGISTRY.get(name)
    values = {f.name: request.form.get(f"{name}-{f.name}", "") for f in
              (action.fields if action else ())}
    try:
        ids = bulk.ticket_ids(request.form.getlist("ticket_ids"))
        action, arguments = bulk.prepare(name, values)
    except ValidationFailed as exc:
        flash(str(exc), "error")
        return _back()
    limit = current_app.config.get("BULK_INLINE_MAX", INLINE_MAX)
    if len(ids) > limit:
        return _queue_job(name, values, ids)
    outcome = commit_or_flash(lambda: bulk.apply(current_user, action, arguments, ids,
                                                 now=utcnow()))
    if outcome:
        _report(outcome.value.done, outcome.value.failed)
    return _back()


def _report(done: list[str], failed: list) -> None:
    if done:
        flash(ngettext("%(num)d request changed.", "%(num)d requests changed.", len(done)),
              "info")
    for ref, why in failed:
        flash(_("%(ref)s not changed: %(why)s", ref=ref, why=why), "error")


def _queue_job(name: str, values: dict, ids: list[int]):
    job_id = f"bulk-{current_user.id}-{secrets.token_hex(8)}"
    queued = aftercommit.enqueue(aftercommit.Job(
        "bulk", "workers.bulk_jobs.run_bulk", (current_user.id, name, values, ids),
        job_id=job_id, timeout=3600, result_ttl=7 * 86400, failure_ttl=7 * 86400,
        owner=__name__, what="bulk action", fallback="nothing was changed"))
    if not queued:
        flash(_("The action could not be queued; nothing was changed. Please try again later."),
              "error")
        return _back()
    flash(ngettext("%(num)d request will be changed in the background.",
                   "%(num)d requests will be changed in the background.", len(ids)), "info")
    return redirect(url_for("bulk.job", job_id=job_id))


@bp.route("/tickets/bulk/<job_id>")
@login_required
def job(job_id: str):
    """The outcome of a bulk action run in the background: its actor's only."""
    if not can_act_in_bulk(current_user) or not job_id.startswith(f"bulk-{current_user.id}-"):
        abort(404)
    try:
        found = RqJob.fetch(job_id, connection=get_redis())
    except Exception:  # noqa: BLE001 - expired, unknown or Redis down: nothing to show
        abort(404)
    status = found.get_status()
    result = found.return_value() if status == "finished" else None
    return render_template("tickets/bulk_job.html", status=status, result=result or {})
