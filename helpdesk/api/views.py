"""Loads the API's endpoint modules onto the blueprint, and the token pages."""
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from helpdesk.api import equipment, incidents, org, tickets  # noqa: F401 (routes register on import)
from helpdesk.api import tokens as token_services
from helpdesk.api import webhooks as webhook_services
from helpdesk.api.core import bp as api_bp  # noqa: F401
from helpdesk.api.forms import TokenForm, WebhookForm
from helpdesk.api.webhook_models import EVENTS, WebhookSubscription
from helpdesk.api.webhook_wording import EVENT_LABELS, STATUS_LABELS, failure_text
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.display import translated
from helpdesk.core.errors import DomainError
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.permissions import admin_only

pages = Blueprint("api_tokens", __name__)


@pages.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        now = utcnow()
        expires = now + timedelta(days=form.expires_days.data) if form.expires_days.data else None
        outcome = commit_or_flash(
            lambda: token_services.create_token(current_user, form.name.data, now=now,
                                                read_only=form.read_only.data, expires_at=expires),
            done=_("Copy the token now: it is not shown again."))
        if outcome:
            _token, secret = outcome.value
    return render_template("api/tokens.html", form=form, secret=secret,
                           tokens=token_services.list_tokens(current_user))


@pages.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    try:
        token_services.revoke_token(current_user, token_id, now=utcnow())
    except DomainError:
        db.session.rollback()
        return render_template("error.html", code=404, title=_("Not found"), text=""), 404
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for("api_tokens.tokens"))


@pages.route("/admin/webhooks", methods=["GET", "POST"])
@admin_only
def webhooks():
    form = _webhook_form()
    secret = None
    if form.validate_on_submit():
        outcome = commit_or_flash(
            lambda: webhook_services.subscribe(current_user, form.url.data, form.events.data,
                                               now=utcnow(), allow_private=form.allow_private.data),
            done=_("Copy the signing secret now: it is not shown again."))
        if outcome:
            _sub, secret = outcome.value
    return render_template("api/webhooks.html", form=form, secret=secret,
                           subscriptions=webhook_services.list_subscriptions(current_user),
                           deliveries=webhook_services.recent_deliveries(current_user),
                           event_labels=translated(EVENT_LABELS),
                           status_labels=translated(STATUS_LABELS), failure_text=failure_text)


@pages.route("/admin/webhooks/<int:sub_id>", methods=["GET", "POST"])
@admin_only
def webhook_edit(sub_id: int):
    sub = db.session.get(WebhookSubscription, sub_id)
    if sub is None:
        return _not_found()
    form = _webhook_form(obj=sub)
    if form.validate_on_submit():
        if commit_or_flash(
                lambda: webhook_services.update_subscription(
                    current_user, sub.id, form.url.data, form.events.data, now=utcnow(),
                    allow_private=form.allow_private.data),
                done=_("The webhook was saved.")):
            return redirect(url_for("api_tokens.webhooks"))
    return render_template("api/webhook_edit.html", form=form, sub=sub)


#: action -> (service call, message once done)
_WEBHOOK_ACTIONS = {
    "pause": (lambda actor, sub_id, now: webhook_services.set_active(actor, sub_id, False, now=now),
              _l("The webhook was paused: no new deliveries are written.")),
    "resume": (lambda actor, sub_id, now: webhook_services.set_active(actor, sub_id, True, now=now),
               _l("The webhook was resumed.")),
    "test": (lambda actor, sub_id, now: webhook_services.send_test(actor, sub_id, now=now),
             _l("A test delivery is on its way; its outcome appears under recent deliveries.")),
    "delete": (lambda actor, sub_id, now: webhook_services.delete_subscription(actor, sub_id, now=now),
               _l("The webhook was deleted.")),
}


@pages.route("/admin/webhooks/<int:sub_id>/<any(pause, resume, test, delete):action>",
             methods=["POST"])
@admin_only
def webhook_action(sub_id: int, action: str):
    call, done = _WEBHOOK_ACTIONS[action]
    try:
        call(current_user, sub_id, utcnow())
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            return _not_found()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(str(done), "success")
    return redirect(url_for("api_tokens.webhooks"))


def _webhook_form(obj=None) -> WebhookForm:
    form = WebhookForm(obj=obj)
    form.events.choices = [(e, str(EVENT_LABELS.get(e, e))) for e in EVENTS]
    return form


def _not_found():
    return render_template("error.html", code=404, title=_("Not found"), text=""), 404
