"""Sign-in through the ΠΣΔ (CAS): /login/cas, its callback, and single log-out.

- ``/login/cas`` checks that the CAS server answers, then sends the browser to its log-in
  page with our ``service`` URL (from the configuration).
- ``/login/cas/callback`` (GET) takes the service ticket: used once, validated with the CAS
  server, mapped to a user (helpdesk.accounts.cas_mapping), then a new session.
- ``/login/cas/callback`` (POST) is where the CAS server sends its single log-out: the
  session that the named ticket opened ends at its next request.
Every refusal is a page in Greek with the English below it, and changes nothing.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from helpdesk.accounts import cas, cas_services
from helpdesk.accounts.cas_mapping import Ask, Reason, read_identity
from helpdesk.core.types import utcnow
from helpdesk.extensions import csrf, db, limiter

log = logging.getLogger(__name__)
bp = Blueprint("cas", __name__)

#: The session key of the ticket (its hash) that opened a ΠΣΔ session.
SESSION_KEY = "cas_ticket"

#: What each refusal says: (title, text).
_PAGES = {
    "disabled": (_l("Sign-in through the ΠΣΔ is not available"),
                 _l("This installation of Arogi does not use the ΠΣΔ sign-in. Log in with "
                    "your e-mail and password.")),
    "misconfigured": (_l("Sign-in through the ΠΣΔ is not available"),
                      _l("The ΠΣΔ sign-in is not set up correctly here. Please tell the "
                         "administrators of Arogi.")),
    "unavailable": (_l("The ΠΣΔ sign-in does not answer"),
                    _l("The ΠΣΔ sign-in service (sso.sch.gr) did not answer. Please try again "
                       "in a few minutes. Administrators can still log in with their "
                       "password.")),
    "rejected": (_l("The ΠΣΔ did not confirm this sign-in"),
                 _l("The sign-in link was not accepted: it was already used, it expired, or it "
                    "was not issued for Arogi. Start again from the log-in page.")),
    "reused": (_l("This sign-in link was already used"),
               _l("Each ΠΣΔ sign-in link works once. Start again from the log-in page.")),
    Reason.UNREADABLE: (_l("We could not read your ΠΣΔ account"),
                        _l("The ΠΣΔ did not send the details we need (user name, school code). "
                           "Please tell the administrators of Arogi.")),
    Reason.UNKNOWN_SCHOOL: (_l("Your school is not in the Arogi registry"),
                            _l("The ΠΣΔ account is of a school unit that Arogi does not know. "
                               "Please ask your directorate's ΠΛΗΝΕΤ to add the school, then "
                               "sign in again.")),
    Reason.SCHOOL_INACTIVE: (_l("Your school is closed in the Arogi registry"),
                             _l("Please ask your directorate's ΠΛΗΝΕΤ if this is a mistake.")),
    Reason.MISMATCH: (_l("This ΠΣΔ account does not match the account in Arogi"),
                      _l("An Arogi account with this e-mail or school is registered for another "
                         "ΠΣΔ account. Please ask the administrators of Arogi.")),
    Reason.INACTIVE: (_l("Your Arogi account is deactivated"),
                      _l("Please ask the administrators of Arogi (or your unit's manager) to "
                         "reactivate it.")),
    (Reason.NO_ACCOUNT, Ask.SCHOOL): (
        _l("You have no account in Arogi yet"),
        _l("Teachers get their account from their school: ask your school to add you with "
           "your ΠΣΔ user name or e-mail, then sign in again. Your school can also file "
           "requests with its own ΠΣΔ account.")),
    (Reason.NO_ACCOUNT, Ask.ADMIN): (
        _l("You have no account in Arogi yet"),
        _l("Support staff get their account from the administrators of Arogi (or their "
           "unit's manager): ask them to add you with your ΠΣΔ user name or e-mail. "
           "Schools sign in with the school's own ΠΣΔ account.")),
}


def _refused(key, status: int = 403, detail: str = ""):
    """A refusal page in the visitor's language, with the English below the Greek."""
    title, text = _PAGES[key]
    texts = [(str(get_locale() or "el"), str(title), str(text))]
    if texts[0][0] != "en":
        with force_locale("en"):
            texts.append(("en", str(title), str(text)))
    name = "-".join(map(str, key)) if isinstance(key, tuple) else str(key)
    return render_template("accounts/cas_refused.html", texts=texts, detail=detail,
                           key=name), status


@bp.before_app_request
def _end_logged_out_sessions():
    """A session opened by a ticket that the CAS server logged out (or that expired) ends."""
    ticket_hash = session.get(SESSION_KEY)
    if ticket_hash and not cas_services.session_is_live(ticket_hash, now=utcnow()):
        logout_user()
        session.clear()


@bp.route("/login/cas")
def start():
    if not cas.is_enabled():
        return _refused("disabled", 404)
    if current_user.is_authenticated:
        return redirect(url_for("tickets.home"))
    try:
        cas.check_reachable()
        return redirect(cas.login_url())
    except cas.CasMisconfigured as exc:
        log.error("CAS settings: %s", exc)
        return _refused("misconfigured", 503)
    except cas.CasUnavailable as exc:
        log.warning("CAS server unreachable: %s", exc)
        return _refused("unavailable", 503)


def _callback_limit():
    return current_app.config["CAS_CALLBACK_RATE_LIMIT"]


@bp.route("/login/cas/callback", methods=["GET"])
@limiter.limit(_callback_limit, key_func=lambda: f"cas:{request.remote_addr or '-'}")
def callback():
    if not cas.is_enabled():
        return _refused("disabled", 404)
    ticket = request.args.get("ticket", "")
    if not ticket or len(ticket) > cas.MAX_TICKET:
        return _refused("rejected", 400)
    ticket_hash = cas.ticket_hash(ticket)
    if cas_services.ticket_was_used(ticket_hash):
        log.warning("CAS ticket reused")
        return _refused("reused", 403)
    try:
        answer = cas.validate(ticket)
    except cas.CasMisconfigured as exc:
        log.error("CAS settings: %s", exc)
        return _refused("misconfigured", 503)
    except cas.CasUnavailable as exc:
        log.warning("CAS validation failed: %s", exc)
        return _refused("unavailable", 503)
    if answer.user is None:
        log.info("CAS ticket refused by the server: %s", answer.failure)
        return _refused("rejected", 403)
    return _sign_in(read_identity(answer.user, answer.attributes), ticket_hash)


def _sign_in(identity, ticket_hash: str):
    try:
        outcome = cas_services.sign_in(identity, ticket_hash=ticket_hash, now=utcnow(),
                                       session_lifetime=current_app.permanent_session_lifetime)
    except (cas_services.TicketReused, IntegrityError):
        db.session.rollback()
        return _refused("reused", 403)
    if isinstance(outcome, cas_services.mapping.Refuse):
        db.session.rollback()  # nothing is created or changed
        log.info("ΠΣΔ sign-in of %s refused: %s", identity.uid, outcome.reason)
        key = (outcome.reason, outcome.ask) if outcome.reason == Reason.NO_ACCOUNT else outcome.reason
        return _refused(key, 403, outcome.detail)
    db.session.commit()
    lang = session.get("lang")
    session.clear()  # a new session at sign-in: no fixation
    if lang:
        session["lang"] = lang
    login_user(outcome)
    session[SESSION_KEY] = ticket_hash
    return redirect(url_for("tickets.home"))


@bp.route("/login/cas/callback", methods=["POST"])
@csrf.exempt
def single_logout():
    """The CAS server's back-channel log-out: ``logoutRequest`` names the service ticket."""
    index = cas.logout_session_index(request.form.get("logoutRequest", ""))
    if index and cas_services.end_ticket_session(cas.ticket_hash(index), now=utcnow()):
        db.session.commit()
    return "", 200


def end_this_session() -> str | None:
    """At our log-out: end this session's ticket record and return the CAS server's log-out
    URL (the person leaves the ΠΣΔ too), or None for a local session."""
    ticket_hash = session.get(SESSION_KEY)
    if not ticket_hash:
        return None
    cas_services.end_ticket_session(ticket_hash, now=utcnow())
    try:
        return cas.logout_url(cas.site_url("/login"))
    except cas.CasMisconfigured:
        return None
