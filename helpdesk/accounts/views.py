"""Log-in, log-out, language and the account page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import joinedload

from helpdesk import permissions
from helpdesk.accounts import cas_views, services
from helpdesk.accounts.forms import ForgotForm, LoginForm, PasswordForm, ResetForm
from helpdesk.accounts.models import User
from helpdesk.core.errors import ValidationFailed
from helpdesk.core.types import utcnow
from helpdesk.extensions import db, limiter, login_manager

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session cookie "<id>:<session version>", while that version holds."""
    uid, _sep, version = user_id.partition(":")
    if not (uid.isdigit() and version.isdigit()) or len(uid) > 18 or len(version) > 18:
        return None
    # One statement: the user with their unit memberships (staff) or school joined.
    user = db.session.get(User, int(uid),
                          options=[joinedload(User.memberships), joinedload(User.school)])
    if user is None or user.session_version != int(version):
        return None
    return user


def _account() -> str:
    return (request.form.get("email") or "").strip().lower()[:200] or "-"


def _address() -> str:
    """The client's address (the peer's, or the one a trusted proxy gave: see door.py)."""
    return request.remote_addr or "-"


def _failed(response) -> bool:
    """Only failed attempts count: a school's staff logging in do not use up its quota."""
    return response.status_code != 302


#: (setting, bucket): per (address, account) pair, per account, per address.
_LOGIN_LIMITS = (
    ("LOGIN_RATE_LIMIT", lambda: f"pair:{_address()}|{_account()}"),
    ("LOGIN_ACCOUNT_RATE_LIMIT", lambda: f"account:{_account()}"),
    ("LOGIN_ADDRESS_RATE_LIMIT", lambda: f"address:{_address()}"),
)


def _login_limits(view):
    for setting, key in _LOGIN_LIMITS:
        view = limiter.limit(lambda setting=setting: current_app.config[setting], key_func=key,
                             methods=["POST"], deduct_when=_failed)(view)
    return view


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("tickets.home")


def _local_password_allowed(user: User) -> bool:
    """With the ΠΣΔ sign-in on and CAS_LOCAL_PASSWORDS off, only administrators."""
    config = current_app.config
    local = not config.get("CAS_ENABLED") or config.get("CAS_LOCAL_PASSWORDS", True)
    return permissions.can_use_local_password(user, local_passwords=bool(local))


@bp.route("/login", methods=["GET", "POST"])
@_login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tickets.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data, now=utcnow())
        if user is not None and not _local_password_allowed(user):
            db.session.rollback()
            user = None  # the same answer as a wrong password: no hint which passwords are right
        if user is None:
            flash(_("Wrong e-mail or password."), "error")
            return render_template("accounts/login.html", form=form), 401
        lang = session.get("lang")
        session.clear()  # a new session on log-in: no fixation
        if lang:
            session["lang"] = lang
        login_user(user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    cas_logout = cas_views.end_this_session()  # a ΠΣΔ session: leave the ΠΣΔ too
    if current_user.is_authenticated:
        services.end_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(cas_logout or url_for("accounts.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            services.set_locale(current_user, code)
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.new.data, now=utcnow())
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            user = current_user._get_current_object()
            db.session.commit()
            login_user(user)  # this session goes on with the new version; the others end
            flash(_("Your password was changed."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form)


# --- password reset by e-mail -----------------------------------------------------------------

def _reset_account() -> str:
    return f"reset-account:{_account()}"


def _reset_limits(view):
    """Every request counts, found or not: per client address and per account."""
    view = limiter.limit(lambda: current_app.config["PASSWORD_RESET_ACCOUNT_RATE_LIMIT"],
                         key_func=_reset_account, methods=["POST"])(view)
    return limiter.limit(lambda: current_app.config["PASSWORD_RESET_RATE_LIMIT"],
                         key_func=lambda: f"reset-address:{_address()}", methods=["POST"])(view)


@bp.route("/password/forgot", methods=["GET", "POST"])
@_reset_limits
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, now=utcnow())
        db.session.commit()
        return render_template("accounts/forgot.html", form=None, sent=True)
    return render_template("accounts/forgot.html", form=form, sent=False)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.user_for_reset(token) is None:
        return render_template("accounts/reset.html", form=None), 404
    form = ResetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.new.data, now=utcnow())
        except ValidationFailed as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password was set. Log in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form)
