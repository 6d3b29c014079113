"""Web door to tickets: queues, filing, the ticket page and its actions."""
from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.canned import queries as canned
from helpdesk.core import filestore
from helpdesk.core.bounds import parse_int
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.incidents import views as incidents
from helpdesk.inventory import filing as equipment
from helpdesk.inventory.views import ticket_page_context
from helpdesk.kbuse import queries as kb_use
from helpdesk.kbuse import services as kb_use_services
from helpdesk.notify import services as notify
from helpdesk.org.models import Category, ResolutionType
from helpdesk.org.queries import find_schools
from helpdesk.permissions import (
    Perm,
    acts_for_school,
    can,
    can_file_for_own_school,
    can_file_on_behalf,
    can_get_kb_suggestions,
    can_use_canned_replies,
    can_use_kb_in_tickets,
    filing_school_ids,
    works_at_units,
)
from helpdesk.savedviews import queries as saved_views
from helpdesk.savedviews.services import normalise as normalise_view
from helpdesk.savedviews.views import queue_url as saved_view_url
from helpdesk.sla.views import time_left
from helpdesk.tickets import bulk_views, forms, queries, services
from helpdesk.tickets import confirm_views as confirmation
from helpdesk.tickets.attachments import Upload

bp = Blueprint("tickets", __name__)


def _uploads(field: str = "attachments") -> list[Upload]:
    limit = current_app.config["ATTACHMENT_MAX_BYTES"] + 1
    return [Upload(f.filename or "", f.read(limit)) for f in request.files.getlist(field)
            if f and f.filename]


@bp.route("/")
@login_required
def home():
    return redirect(url_for("tickets.queue"))


@bp.route("/tickets")
@login_required
def queue():
    names = queries.queues_for(current_user)
    default = "unassigned" if works_at_units(current_user) else "open"
    name = request.args.get("queue", default)
    if name not in names:
        name = default
    f = queries.Filters.from_args(request.args)
    now = utcnow()
    counts = queries.queue_counts(current_user, now)
    page = queries.list_queue(current_user, name, f, current_app.config["PAGE_SIZE"],
                              total=queries.known_total(current_user, name, f, counts), now=now)
    categories, directorates = queries.filter_choices(not acts_for_school(current_user))
    rows = page.items
    return render_template(
        "tickets/queue.html", page=page, queue=name, queues=names, filters=f, counts=counts,
        saved_views=saved_views.of(current_user), view_query=normalise_view(request.args),
        saved_view_url=saved_view_url,
        categories=categories, directorates=directorates,
        category_names=queries.row_names(rows, "category"),
        unit_names=queries.row_names(rows, "unit"),
        time_left={} if acts_for_school(current_user) else time_left(rows),
        bulk=bulk_views.page_context(current_user, rows),
        **(incidents.banner_context(current_user.school_id) if acts_for_school(current_user)
           else incidents.queue_context()))


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new():
    if not can_file_for_own_school(current_user):
        abort(403)
    return _file(forms.NewTicketForm(), current_user.school, "web")


@bp.route("/tickets/new/school")
@login_required
def new_for_school_search():
    """Pick the school to file for: by code or name (a plain form; school-search.js only
    fills the same list as the user types)."""
    if not can_file_on_behalf(current_user):
        abort(403)
    term = (request.args.get("q") or "").strip()[:100]
    schools = find_schools(term, filing_school_ids(current_user)) if term else []
    return render_template("tickets/new_for_school.html", q=term, schools=schools)


@bp.route("/tickets/new/school/lookup")
@login_required
def school_lookup():
    """The schools the actor may file for that match ``q``, as JSON (for school-search.js)."""
    if not can_file_on_behalf(current_user):
        abort(403)
    term = (request.args.get("q") or "").strip()[:100]
    schools = find_schools(term, filing_school_ids(current_user)) if term else []
    return jsonify(items=[{"code": s.code, "name": s.name,
                           "directorate": s.directorate.short_name_el,
                           "url": url_for("tickets.new_for_school", code=s.code)}
                          for s in schools])


@bp.route("/tickets/new/school/<code>", methods=["GET", "POST"])
@login_required
def new_for_school(code: str):
    """File for a school of the actor's area, as a phone call or a visit asked."""
    if not can_file_on_behalf(current_user):
        abort(403)
    school = next(iter(find_schools(code, filing_school_ids(current_user), limit=1)), None) \
        if code.isdigit() and len(code) == 7 else None
    if school is None:
        abort(404)
    form = forms.OnBehalfTicketForm()
    return _file(form, school, form.channel.data)


def _file(form, school, channel: str):
    """The filing form of ``school``: shown, or filed through services.open_ticket with
    the picked equipment (inventory.filing) and then the ticket page."""

    form.category.choices = queries.filter_choices(False)[0]
    # The equipment fields do not check their choices (link_from_form checks the items),
    # so the school's items are read only when the form is shown.
    if form.validate_on_submit():
        def write():
            now = utcnow()
            ticket = services.open_ticket(
                current_user, school=school,
                category=db.session.get(Category, form.category.data), subject=form.subject.data,
                description=form.description.data, priority=form.priority.data, now=now,
                attachments=_uploads(), channel=channel)
            equipment.link_from_form(current_user, ticket, form, now)
            kb_use_services.record_suggested(
                current_user, ticket, [int(i) for i in (request.form.get("suggested") or "")
                                       .split(",") if i.strip().isdigit()], now)
            return ticket.ref  # read before the commit expires the ticket

        if acts_for_school(current_user):
            done = lambda ref: _("Your request was filed as %(ref)s.", ref=ref)  # noqa: E731
        else:
            done = lambda ref: _("The request was filed as %(ref)s.", ref=ref)  # noqa: E731
        outcome = commit_or_flash(write, done=done)
        if not outcome:
            return _filing_page(form, school, outcome.error.status)
        return redirect(url_for("tickets.show", ref=outcome.value))
    return _filing_page(form, school, 422 if form.is_submitted() else 200)


def _filing_page(form, school, status: int):
    suggestions_url = (url_for("kbuse.suggestions") if can_get_kb_suggestions(current_user)
                       and not hasattr(form, "channel") else None)
    return render_template("tickets/new.html", form=form, school=school,
                           suggestions_url=suggestions_url,
                           **incidents.banner_context(school.id),
                           **equipment.prepare_form(form, school.id)), status


def _ticket_or_404(ref: str):
    ticket = queries.get_visible_ticket(current_user, ref)
    if ticket is None:
        abort(404)
    return ticket


@bp.route("/tickets/<ref>")
@login_required
def show(ref: str):
    ticket = _ticket_or_404(ref)
    entries, loose = queries.timeline(current_user, ticket)

    forms_ = _action_forms(ticket)
    names = queries.names_for_events(
        entries, members_of=ticket.unit_id if "assign_form" in forms_ else None)
    if "assign_form" in forms_:
        forms_["assign_form"].assignee.choices = names.members
    if "resolve_form" in forms_:
        forms_["resolve_form"].resolution_type.choices = names.resolution_choices
    staff_text = Perm.VIEW_INTERNAL in forms_["allowed"]
    canned_replies = _canned_replies(ticket, forms_.get("reply_form"))
    guides = _guides(ticket, forms_)
    return render_template("tickets/show.html", ticket=ticket, entries=entries, loose=loose,
                           names=names, staff_text=staff_text, canned_replies=canned_replies,
                           **guides,
                           failed_notifications=notify.list_failed(ticket.id) if staff_text else [],
                           **forms_, **ticket_page_context(ticket),
                           **incidents.ticket_context(ticket))


def _canned_replies(ticket, reply_form) -> list[tuple[int, str, str]]:
    """The canned replies the user may insert in the reply box, as (id, title, text filled
    in for this ticket); ``?canned=<id>`` (the insert button without JavaScript) puts one
    in the box."""
    if reply_form is None or not can_use_canned_replies(current_user):
        return []
    replies = [(r.id, r.title, canned.rendered(r, ticket, current_user))
               for r in canned.usable(current_user)]
    wanted = request.args.get("canned", "")
    if wanted:
        text = next((t for i, _title, t in replies if str(i) == wanted), None)
        if text is None:
            flash(_("That canned reply does not exist or is not yours to use."), "error")
        else:
            reply_form.body.data = text
    return replies


def _guides(ticket, forms_) -> dict:
    """The library on the ticket page (staff): the guides used in it (one statement), the reply box's
    picker (``?guide_q=`` searches and ``?guide=<id>`` puts one in the box: the picker
    without JavaScript) and the resolve form's guide choices."""
    reply_form, resolve_form = forms_.get("reply_form"), forms_.get("resolve_form")
    if not can_use_kb_in_tickets(current_user):
        return {"guides_used": [], "guide_picker": False, "guide_results": [], "guide_q": ""}
    used = kb_use.ticket_guides(ticket.id)
    if resolve_form is not None:
        resolve_form.guide.choices = [(0, "—")] + [(a.id, a.title) for a, _uses in used]
    query = (request.args.get("guide_q") or "").strip()[:200]
    results = kb_use.picker(current_user, query) if reply_form is not None and query else []
    wanted = parse_int(request.args.get("guide"), low=1)
    if reply_form is not None and wanted:
        article = kb_use.article_by_id(current_user, wanted)
        if article is None:
            flash(_("That guide does not exist or is not yours to read."), "error")
        else:
            reply_form.body.data = kb_use.inserted(article)
    return {"guides_used": used, "guide_picker": reply_form is not None, "guide_results": results,
            "guide_q": query}


def _allowed(ticket) -> set[Perm]:
    """What the current user may do to the ticket now."""
    window = timedelta(days=current_app.config["REOPEN_WINDOW_DAYS"])
    now = utcnow()
    return {p for p in Perm if can(current_user, p, ticket, now=now, reopen_window=window)}


def _action_forms(ticket) -> dict:
    """The forms of the actions this user may take now, keyed ``<action>_form`` (the assign
    and resolve forms' choices are filled by the caller, from names_for_events)."""
    allowed = _allowed(ticket)
    result: dict = {"allowed": allowed}
    for name, (form_cls, perm, _fn) in ACTIONS.items():
        if perm in allowed:
            result[f"{name}_form"] = form_cls(prefix=name)
    if "priority_form" in result:
        result["priority_form"].priority.data = ticket.priority
    if "category_form" in result:
        result["category_form"].category.choices = queries.filter_choices(False)[0]
        result["category_form"].category.data = ticket.category_id
    return result


def _resolve(actor, ticket, form, now):
    return kb_use_services.resolve(
        actor, ticket, db.session.get(ResolutionType, form.resolution_type.data), form.text.data,
        now=now, guide_id=form.guide.data or None)


def _assign(actor, ticket, form, now):
    return services.assign(actor, ticket, db.session.get(User, form.assignee.data), now=now)


def _recategorise(actor, ticket, form, now):
    return services.change_category(actor, ticket, db.session.get(Category, form.category.data),
                                    now=now, reason=form.reason.data)


#: action -> (form, permission, call)
ACTIONS = {
    "reply": (forms.ReplyForm, Perm.REPLY, lambda a, t, f, n: kb_use_services.reply(
        a, t, f.body.data, now=n, await_school=bool(f.await_school.data) and not acts_for_school(a),
        attachments=_uploads("reply-attachments"))),
    "note": (forms.NoteForm, Perm.NOTE, lambda a, t, f, n: services.add_note(a, t, f.body.data, now=n)),
    "claim": (forms.ClaimForm, Perm.CLAIM, lambda a, t, f, n: services.claim(a, t, now=n)),
    "assign": (forms.AssignForm, Perm.ASSIGN, _assign),
    "priority": (forms.PriorityForm, Perm.PRIORITY,
                 lambda a, t, f, n: services.change_priority(a, t, f.priority.data, now=n)),
    "escalate": (forms.EscalateForm, Perm.ESCALATE,
                 lambda a, t, f, n: services.escalate(a, t, f.reason.data, now=n,
                                                      tell_school=bool(f.tell_school.data))),
    "return": (forms.ReturnForm, Perm.RETURN,
               lambda a, t, f, n: services.return_to_lower(a, t, f.instructions.data, now=n,
                                                           tell_school=bool(f.tell_school.data))),
    "category": (forms.CategoryForm, Perm.RECATEGORISE, _recategorise),
    "resolve": (forms.ResolveForm, Perm.RESOLVE, _resolve),
    "reopen": (forms.ReopenForm, Perm.REOPEN,
               lambda a, t, f, n: services.reopen(a, t, f.reason.data, now=n)),
    "confirm": (forms.ConfirmForm, Perm.CONFIRM,
                lambda a, t, f, n: confirmation.answer(a, t, f, "web", n)),
}

@bp.route("/tickets/<ref>/<action>", methods=["POST"])
@login_required
def act(ref: str, action: str):
    if action not in ACTIONS:
        abort(404)
    ticket = _ticket_or_404(ref)
    form_cls, perm, call = ACTIONS[action]
    window = timedelta(days=current_app.config["REOPEN_WINDOW_DAYS"])
    if not can(current_user, perm, ticket, now=utcnow(), reopen_window=window):
        abort(403)
    form = form_cls(prefix=action)
    if action == "assign":
        form.assignee.choices = [(u.id, u.name) for u in queries.unit_members(ticket.unit_id)]
    if action == "category":
        form.category.choices = queries.filter_choices(False)[0]
    if action == "resolve":
        form.resolution_type.choices = [(t.id, t.code) for t in db.session.scalars(select(ResolutionType))]
    back = redirect(url_for("tickets.show", ref=ticket.ref))
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text if hasattr(form, field) else field}: {errors[0]}", "error")
        return back
    # "Done." is translated before the commit, which expires the user the locale comes from.
    # A 5xx refusal means nothing was recorded: the error page says so with that status.
    commit_or_flash(lambda: call(current_user, ticket, form, utcnow()), done=_("Done."),
                    abort_on=(NotFound, PermissionDenied), raise_5xx=True)
    return back


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = queries.visible_attachment(current_user, attachment_id)
    if attachment is None:
        abort(404)
    response = filestore.send("attachments", attachment.stored_name, mimetype="application/octet-stream", as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
