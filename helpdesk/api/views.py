"""Loads the API's endpoint modules onto the blueprint, and the token pages."""
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.api import equipment, org, tickets  # noqa: F401 (routes register on import)
from helpdesk.api import tokens as token_services
from helpdesk.api.core import bp as api_bp  # noqa: F401
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.api import webhooks as webhook_services
from helpdesk.api.forms import TokenForm, WebhookForm
from helpdesk.api.webhook_models import EVENTS, WebhookDelivery, WebhookSubscription
from helpdesk.core.errors import DomainError
from helpdesk.core.types import utcnow
from helpdesk.extensions import db

pages = Blueprint("api_tokens", __name__)


@pages.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        now = utcnow()
        expires = now + timedelta(days=form.expires_days.data) if form.expires_days.data else None
        try:
            _token, secret = token_services.create_token(current_user, form.name.data, now=now,
                                                         read_only=form.read_only.data,
                                                         expires_at=expires)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Copy the token now: it is not shown again."), "success")
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
@login_required
def webhooks():
    if not current_user.is_admin:
        return render_template("error.html", code=404, title=_("Not found"), text=""), 404
    form = WebhookForm()
    form.events.choices = [(e, e) for e in EVENTS]
    secret = None
    if form.validate_on_submit():
        try:
            _sub, secret = webhook_services.subscribe(current_user, form.url.data, form.events.data,
                                                      now=utcnow(), allow_private=form.allow_private.data)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Copy the signing secret now: it is not shown again."), "success")
    subs = db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    recent = db.session.scalars(select(WebhookDelivery).options(joinedload(WebhookDelivery.subscription))
                                .order_by(WebhookDelivery.id.desc()).limit(30)).all()
    return render_template("api/webhooks.html", form=form, secret=secret, subscriptions=subs,
                           deliveries=recent)
