"""Web door to the school's answer to a resolution: its ticket page and the mail's link.

The link (helpdesk.tickets.confirm_links) works without logging in: its GET shows the
question and changes nothing (mail scanners fetch links); the answer is the page's POST,
with its CSRF token. The school then acts by its official address, as by mail.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import ValidationFailed
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.mail.queries import SchoolAddress
from helpdesk.tickets import confirm_links, services
from helpdesk.tickets.forms import ConfirmForm
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.states import Status

bp = Blueprint("confirm", __name__)


def answer(actor, ticket: Ticket, form: ConfirmForm, via: str, now=None):
    """The one service call of either button (the ticket page's "confirm" action too)."""
    now = now or utcnow()
    if form.not_solved.data:
        return services.not_solved(actor, ticket, now=now, comment=form.comment.data, via=via)
    if not form.solved.data:
        raise ValidationFailed("answer", "Say whether the problem is solved.")
    return services.confirm(actor, ticket, now=now, rating=form.rating.data or None,
                            comment=form.comment.data, via=via)


def _done(form: ConfirmForm) -> str:
    if form.not_solved.data:
        return _("Thank you. The request was reopened and support will look at it again.")
    return _("Thank you for confirming. The request is closed.")


# --- the mail's link ------------------------------------------------------------------------

def _refuse(title: str, text: str, status: int):
    return render_template("error.html", title=title, text=text), status


def _target(token: str):
    """(ticket, None) for a usable link, else (None, the refusal page)."""
    try:
        target = confirm_links.read_token(token)
    except confirm_links.LinkExpired:
        return None, _refuse(_("The link has expired"), _(
            "This link is no longer valid. Sign in to answer on the request's page, or "
            "reply to our e-mail."), 410)
    except confirm_links.LinkInvalid:
        return None, _refuse(_("The link is not valid"), _(
            "This link is not valid: it may have been cut or altered. Nothing was changed. "
            "Open it again from our e-mail, or sign in to answer on the request's page."), 400)
    ticket = db.session.get(Ticket, target.ticket_id)
    if ticket is None or ticket.school_id != target.school_id:
        return None, _refuse(_("The link is not valid"), _(
            "This link is not valid: it may have been cut or altered. Nothing was changed. "
            "Open it again from our e-mail, or sign in to answer on the request's page."), 400)
    return ticket, None


def _is_current(ticket: Ticket, token: str) -> bool:
    """The link answers the ticket's current resolution, and it still waits for one."""
    target = confirm_links.read_token(token)
    return (ticket.status == Status.RESOLVED
            and confirm_links.resolved_stamp(ticket.resolved_at) == target.resolved)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def by_link(token: str):
    """The page of the resolution mail's links; its POST records the answer."""
    ticket, refusal = _target(token)
    if refusal is not None:
        return refusal
    form = ConfirmForm(prefix="confirm")
    if not _is_current(ticket, token):
        return render_template("tickets/confirm.html", ticket=ticket, form=None,
                               answered=ticket.confirmed_at is not None), 200
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Your answer was not recorded: please try again."), "error")
            return render_template("tickets/confirm.html", ticket=ticket, form=form,
                                   preselect=None), 422
        actor = SchoolAddress(ticket.school_id, ticket.school.email)
        done = _done(form)
        outcome = commit_or_flash(lambda: answer(actor, ticket, form, "link"), done=done)
        if not outcome:
            return render_template("tickets/confirm.html", ticket=ticket, form=form,
                                   preselect=None), outcome.error.status
        return redirect(url_for("confirm.by_link", token=token))
    preselect = request.args.get("answer")
    return render_template("tickets/confirm.html", ticket=ticket, form=form,
                           preselect=preselect if preselect in confirm_links.ANSWERS else None)
