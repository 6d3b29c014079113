"""Web door to the equipment registry: lists, item pages, import/export, ticket links."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.core.commit import commit_or_flash
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.core.types import utcnow
from helpdesk.extensions import db
from helpdesk.inventory import forms, importer, queries, reference, runs, services
from helpdesk.inventory.models import EquipmentItem, ItemStatus
from helpdesk.org.models import School
from helpdesk.permissions import (
    acts_for_school,
    can_edit_school_equipment,
    can_import_equipment,
    can_link_equipment,
    can_view_school_equipment,
    equipment_scope,
    school_of,
)
from helpdesk.tickets.queries import get_visible_ticket

bp = Blueprint("inventory", __name__)
IMPORT_STATUS_LABELS = {"queued": _l("Waiting its turn"), "running": _l("Importing"),
                        "done": _l("Finished"), "failed": _l("Failed")}


def _school_or_404(code: str) -> School:
    school = db.session.scalar(select(School).where(School.code == code))
    if school is None or not can_view_school_equipment(current_user, school.id):
        abort(404)
    return school


def _item_or_404(item_id: int) -> EquipmentItem:
    item = queries.get_visible_item(current_user, item_id)
    if item is None:
        abort(404)
    return item


def _english() -> bool:
    return str(get_locale()) == "en"


@bp.app_context_processor
def _labels():
    return {"ITEM_STATUS_LABELS": reference.STATUS_LABELS, "location_label": reference.location_label,
            "LAB_TYPES": reference.lab_types()}


@bp.route("/equipment")
@login_required
def home():
    if acts_for_school(current_user):
        return redirect(url_for("inventory.school_items", code=current_user.school.code))
    code = request.args.get("school", "").strip()
    if code:
        return redirect(url_for("inventory.school_items", code=code))
    return render_template("inventory/home.html")


@bp.route("/equipment/school/<code>")
@login_required
def school_items(code: str):
    school = _school_or_404(code)
    f = queries.ItemFilters.from_args(request.args)
    items, total = queries.list_items(current_user, school.id, f)
    return render_template("inventory/list.html", school=school, items=items, total=total,
                           filters=f, categories=queries.categories(),
                           locations=queries.school_locations(school.id),
                           can_edit=can_edit_school_equipment(current_user, school.id))


def _values(form: forms.ItemForm) -> dict:
    attrs = {k: request.form.get(f"attr_{k}", "") for k in reference.ATTRIBUTE_KEYS}
    return dict(category_id=form.category.data, manufacturer=form.manufacturer.data,
                model=form.model.data, serial_number=form.serial_number.data,
                registry_number=form.registry_number.data, location=form.location.data,
                acquisition_date=form.acquisition_date.data,
                funding_programme=form.funding_programme.data, status=form.status.data,
                notes=form.notes.data, attributes=attrs)


def _render_form(form, school, item=None, status=200):
    return render_template("inventory/form.html", form=form, school=school, item=item,
                           attributes=reference.ATTRIBUTES, attribute_keys=reference.ATTRIBUTE_KEYS,
                           kinds=reference.ATTRIBUTE_KINDS, attr_labels=_labels_for_attrs()), status


def _labels_for_attrs():
    return {k: label for fields in reference.ATTRIBUTES.values() for k, label, _ in fields}


@bp.route("/equipment/school/<code>/new", methods=["GET", "POST"])
@login_required
def new_item(code: str):
    school = _school_or_404(code)
    if not can_edit_school_equipment(current_user, school.id):
        abort(403)
    form = forms.ItemForm()
    form.fill_choices(queries.categories(), _english())
    if form.validate_on_submit():
        outcome = commit_or_flash(
            lambda: services.add_item(current_user, school, now=utcnow(), **_values(form)),
            done=_("The item was added to the registry."))
        if not outcome:
            return _render_form(form, school, status=outcome.error.status)
        return redirect(url_for("inventory.item", item_id=outcome.value.id))
    return _render_form(form, school, status=422 if form.is_submitted() else 200)


@bp.route("/equipment/<int:item_id>")
@login_required
def item(item_id: int):
    item = _item_or_404(item_id)
    return render_template("inventory/item.html", item=item, history=queries.item_history(item),
                           tickets=queries.item_tickets(current_user, item),
                           attr_labels=_labels_for_attrs(),
                           can_edit=can_edit_school_equipment(current_user, item.school_id),
                           withdraw_form=forms.WithdrawForm())


@bp.route("/equipment/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(item_id: int):
    item = _item_or_404(item_id)
    if not can_edit_school_equipment(current_user, item.school_id):
        abort(403)
    form = forms.ItemForm(obj=item if request.method == "GET" else None)
    form.fill_choices(queries.categories(), _english())
    if request.method == "GET":
        form.category.data = item.category_id
        form.serial_number.data = item.serial_number or ""
    if form.validate_on_submit():
        outcome = commit_or_flash(
            lambda: services.edit_item(current_user, item, now=utcnow(), **_values(form)),
            done=_("Saved."))
        if not outcome:
            return _render_form(form, item.school, item, status=outcome.error.status)
        return redirect(url_for("inventory.item", item_id=item.id))
    return _render_form(form, item.school, item, status=422 if form.is_submitted() else 200)


@bp.route("/equipment/<int:item_id>/withdraw", methods=["POST"])
@login_required
def withdraw(item_id: int):
    item = _item_or_404(item_id)
    form = forms.WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    commit_or_flash(
        lambda: services.withdraw_item(current_user, item, now=utcnow(),
                                       reason=form.reason.data or ""),
        done=_("The item was withdrawn."), abort_on=(PermissionDenied,))
    return redirect(url_for("inventory.item", item_id=item.id))


@bp.route("/equipment/school/<code>/export.<fmt>")
@login_required
def export(code: str, fmt: str):
    school = _school_or_404(code)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    stmt = _all_items(school.id)
    body = (importer.export_csv(stmt) if fmt == "csv"
            else importer.export_xlsx(stmt, sheet=_("Equipment")))
    mime = ("text/csv; charset=utf-8" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(body, content_type=mime, headers={
        "Content-Disposition": f'attachment; filename="equipment-{school.code}.{fmt}"'})


def _all_items(school_id: int):
    """Every item of the school the user may see, withdrawn ones included."""
    return select(EquipmentItem).where(EquipmentItem.school_id == school_id,
                                       equipment_scope(current_user))


# --- import ---------------------------------------------------------------------------------

@bp.route("/equipment/import", methods=["GET", "POST"])
@login_required
def import_upload():
    if not can_import_equipment(current_user):
        abort(403)
    form = forms.ImportForm()
    if form.validate_on_submit():
        school_id = school_of(current_user)
        code = (form.school.data or "").strip()
        if code and not acts_for_school(current_user):
            school_id = _school_or_404(code).id
        upload = request.files.get(form.file.name)
        data = upload.read() if upload else b""
        if not data:
            flash(_("Choose a CSV or XLSX file."), "error")
            return render_template("inventory/import.html", form=form), 422
        run = runs.create_run(current_user, upload.filename or "upload.csv", data, school_id=school_id)
        db.session.commit()
        runs.enqueue(run)
        return redirect(url_for("inventory.import_status", run_id=run.id))
    return render_template("inventory/import.html", form=form), 422 if form.is_submitted() else 200


def _run_or_404(run_id: int):
    run = queries.visible_import(current_user, run_id)
    if run is None:
        abort(404)
    return run


@bp.route("/equipment/import/<int:run_id>")
@login_required
def import_status(run_id: int):
    run = _run_or_404(run_id)
    errors = [{"row": e["row"], "messages": [importer.error_text(x) if x["code"] in importer.ERRORS
                                             else f'{x["code"]}: {x.get("value", "")}' for x in e["errors"]]}
              for e in run.errors or []]
    return render_template("inventory/import_status.html", run=run, errors=errors,
                           status_label=str(IMPORT_STATUS_LABELS.get(run.status, run.status)))


@bp.route("/equipment/import/<int:run_id>.json")
@login_required
def import_progress(run_id: int):
    run = _run_or_404(run_id)
    return jsonify(status=run.status, total=run.total_rows,
                   status_label=str(IMPORT_STATUS_LABELS.get(run.status, run.status)), processed=run.processed_rows,
                   created=run.created_count, updated=run.updated_count,
                   unchanged=run.unchanged_count, errors=run.error_count,
                   done=run.status in ("done", "failed"))


# --- tickets and equipment ------------------------------------------------------------------

def _ticket_or_404(ref: str):
    ticket = get_visible_ticket(current_user, ref)
    if ticket is None:
        abort(404)
    return ticket


@bp.route("/tickets/<ref>/equipment", methods=["POST"])
@login_required
def link(ref: str):
    ticket = _ticket_or_404(ref)
    form = forms.LinkForm()
    if not form.validate_on_submit():
        abort(400)
    ids = [int(i) for i in request.form.getlist("item_ids") if i.isdigit()]
    items = db.session.scalars(select(EquipmentItem).where(EquipmentItem.id.in_(ids))).all()
    if len(items) != len(set(ids)):
        abort(404)
    commit_or_flash(lambda: services.link_items(current_user, ticket, items, now=utcnow(),
                                                mark_faulty=bool(form.mark_faulty.data)),
                    done=_("The equipment was linked to the request."),
                    abort_on=(NotFound, PermissionDenied))
    return redirect(url_for("tickets.show", ref=ticket.ref))


@bp.route("/tickets/<ref>/equipment/<int:item_id>/unlink", methods=["POST"])
@login_required
def unlink(ref: str, item_id: int):
    ticket = _ticket_or_404(ref)
    if not forms.SimpleForm().validate_on_submit():
        abort(400)
    item = db.session.get(EquipmentItem, item_id)
    if item is None:
        abort(404)
    commit_or_flash(lambda: services.unlink_item(current_user, ticket, item, now=utcnow()),
                    done=_("The item was unlinked."), abort_on=(NotFound, PermissionDenied))
    return redirect(url_for("tickets.show", ref=ticket.ref))


@bp.route("/tickets/<ref>/equipment/restore", methods=["POST"])
@login_required
def restore(ref: str):
    ticket = _ticket_or_404(ref)
    if not forms.SimpleForm().validate_on_submit():
        abort(400)
    if not can_link_equipment(current_user, ticket):
        abort(403)
    n = services.restore_after_resolve(ticket, current_user, utcnow())
    db.session.commit()
    flash(_("%(n)s items are in use again.", n=n), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref))


def ticket_page_context(ticket) -> dict:
    """What the ticket page shows about equipment: a constant number of queries."""
    items = queries.ticket_items(ticket)
    may_link = can_link_equipment(current_user, ticket)
    linked = {i.id for i in items}
    candidates = ([i for i in queries.school_items_for_picker(ticket.school_id) if i.id not in linked]
                  if may_link else [])
    return {"equipment": items, "may_link_equipment": may_link, "equipment_candidates": candidates,
            "equipment_link_form": forms.LinkForm() if may_link else None,
            "equipment_simple_form": forms.SimpleForm() if may_link else None,
            "ItemStatus": ItemStatus}
