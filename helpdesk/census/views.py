"""Web door to census campaigns: admin lists and opens them, dashboards and reports for
staff, and the school's page (review, submit, statement PDF, signed upload)."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from helpdesk.census import exports, forms, pdf, queries, rules, services
from helpdesk.census.models import Census
from helpdesk.core import filestore
from helpdesk.core.bounds import bounded_int
from helpdesk.core.commit import commit_or_flash
from helpdesk.core.types import utcnow
from helpdesk.extensions import db, limiter
from helpdesk.org.models import Directorate, Region, School
from helpdesk.permissions import (
    acts_for_school,
    admin_only,
    can_manage_census,
    can_view_census,
    can_view_census_reports,
    can_view_census_school,
    school_of,
)
from helpdesk.tickets import attachments as files

bp = Blueprint("census", __name__, url_prefix="/census")

GROUP_LABELS = {"region": _l("Region"), "directorate": _l("Directorate"), "school": _l("School"),
                "all": _l("All schools")}


def _english() -> bool:
    return str(get_locale()) == "en"


def _census_or_404(census_id: int) -> Census:
    census = queries.get_census(census_id)
    if census is None:
        abort(404)
    if not can_view_census(current_user, census, now=utcnow()):
        abort(404 if acts_for_school(current_user) else 403)
    return census


def _require_reports() -> None:
    if not can_view_census_reports(current_user):
        abort(403)


@bp.route("")
@login_required
def index():
    if acts_for_school(current_user):
        rows = queries.list_for_school(current_user.school_id, utcnow())
        return render_template("census/school_index.html", rows=rows, now=utcnow(),
                               is_late=rules.is_late)
    _require_reports()
    return render_template("census/index.html", censuses=queries.list_censuses(),
                           can_manage=can_manage_census(current_user),
                           count_targets=queries.count_targets)


@bp.route("/new", methods=["GET", "POST"])
@admin_only(status=403)  # the campaigns are known to staff: they may not, rather than nothing here
def new():
    form = forms.CensusForm()
    form.fill_choices(_english())
    if form.validate_on_submit():
        outcome = commit_or_flash(
            lambda: services.open_census(
                current_user, title=form.title.data, opens_on=form.opens_on.data,
                deadline=form.deadline.data, now=utcnow(),
                reminder_days=form.reminder_days.parsed, edu_level=form.edu_level.data,
                school_types=form.school_types.data, region_ids=form.regions.data,
                directorate_ids=form.directorates.data),
            done=lambda census: _("The campaign “%(title)s” is open.", title=census.title))
        if not outcome:
            return render_template("census/new.html", form=form), outcome.error.status
        return redirect(url_for("census.show", census_id=outcome.value.id))
    return render_template("census/new.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/<int:census_id>")
@login_required
def show(census_id: int):
    census = _census_or_404(census_id)
    if acts_for_school(current_user):
        now = utcnow()
        return render_template("census/school.html", census=census, school=current_user.school,
                               submission=queries.get_submission(census.id, current_user.school_id),
                               is_late=rules.is_late(census.deadline, now),
                               submit_form=forms.SubmitForm(), signed_form=forms.SignedForm())
    region_id = request.args.get("region", type=bounded_int)
    directorate_id = request.args.get("directorate", type=bounded_int)
    total, regions = queries.completion(current_user, census)
    missing = queries.missing_schools(current_user, census, region_id=region_id,
                                      directorate_id=directorate_id, limit=500)
    return render_template("census/dashboard.html", census=census, total=total, regions=regions,
                           missing=missing, region_id=region_id, directorate_id=directorate_id,
                           targets=_target_labels(census))


def _target_labels(census: Census) -> list[str]:
    """The campaign's criteria in words, for its page."""
    labels = []
    if census.target_edu_level:
        labels.append(str(dict(forms.EDU_LEVEL_CHOICES)[census.target_edu_level]))
    if census.target_school_types:
        names = dict(forms.school_type_choices())
        labels.append(", ".join(names.get(c, c) for c in census.target_school_types))
    for model, ids, col in ((Region, census.target_region_ids, Region.name_el),
                            (Directorate, census.target_directorate_ids, Directorate.short_name_el)):
        if ids:
            labels.append(", ".join(db.session.scalars(select(col).where(model.id.in_(ids)))))
    return labels or [_("All schools")]


@bp.route("/<int:census_id>/submit", methods=["POST"])
@login_required
def submit(census_id: int):
    census = _census_or_404(census_id)
    if not forms.SubmitForm().validate_on_submit():
        abort(400)
    commit_or_flash(
        lambda: services.submit(current_user, census, current_user.school, now=utcnow()),
        done=lambda submission: ngettext(
            "Your registry was submitted (%(num)s item). Download the statement, have it "
            "signed and upload it.",
            "Your registry was submitted (%(num)s items). Download the statement, have it "
            "signed and upload it.", submission.item_count))
    return redirect(url_for("census.show", census_id=census.id))


@bp.route("/<int:census_id>/signed", methods=["POST"])
@login_required
def upload_signed(census_id: int):
    census = _census_or_404(census_id)
    school_id = school_of(current_user)
    submission = queries.get_submission(census.id, school_id) if school_id is not None else None
    if submission is None:
        abort(404)
    form = forms.SignedForm()
    if not form.validate_on_submit():
        flash(_("Choose the signed PDF to upload."), "error")
        return redirect(url_for("census.show", census_id=census.id))
    limit = current_app.config.get("CENSUS_SIGNED_MAX_BYTES", services.SIGNED_MAX_BYTES) + 1
    upload = files.Upload(form.signed_file.data.filename or "", form.signed_file.data.read(limit))
    commit_or_flash(lambda: services.upload_signed(current_user, submission, upload, now=utcnow()),
                    done=_("The signed statement was uploaded."))
    return redirect(url_for("census.show", census_id=census.id))


def _submission_or_404(census_id: int, code: str):
    census = queries.get_census(census_id)
    school = db.session.scalar(select(School).where(School.code == code))
    if census is None or school is None or not can_view_census_school(current_user, school.id):
        abort(404)
    submission = queries.get_submission(census.id, school.id)
    if submission is None:
        abort(404)
    return census, school, submission


@bp.route("/<int:census_id>/school/<code>")
@login_required
def snapshot(census_id: int, code: str):
    census, school, submission = _submission_or_404(census_id, code)
    return render_template("census/snapshot.html", census=census, school=school,
                           submission=submission, code=queries.statement_code(submission))


@bp.route("/<int:census_id>/school/<code>/statement.pdf")
@login_required
def statement(census_id: int, code: str):
    census, school, submission = _submission_or_404(census_id, code)
    try:
        body = pdf.statement_pdf(submission)
    except pdf.FontMissing as exc:
        current_app.logger.error("census statement: %s", exc)
        abort(500)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="census-{census.id}-{school.code}.pdf"'})


@bp.route("/<int:census_id>/school/<code>/signed.pdf")
@login_required
def signed_file(census_id: int, code: str):
    census, school, submission = _submission_or_404(census_id, code)
    if not submission.signed_stored_name:
        abort(404)
    return filestore.send("census_signed", submission.signed_stored_name, mimetype="application/pdf", as_attachment=True,
                     download_name=f"census-{census.id}-{school.code}-signed.pdf")


@bp.route("/verify")
@limiter.limit(lambda: current_app.config.get("CENSUS_VERIFY_RATE_LIMIT", "30/minute"))
def verify():
    """Public: is this the statement a school submitted? (no log-in; shows nothing private)."""
    code = (request.args.get("code") or "").strip()[:80]
    submission = queries.verified_submission(code) if code else None
    return render_template("census/verify.html", code=code, submission=submission,
                           snapshot=submission.snapshot if submission else None,
                           when=pdf.statement_time)


@bp.route("/<int:census_id>/missing.<any(csv, xlsx):fmt>")
@login_required
def missing_export(census_id: int, fmt: str):
    census = _census_or_404(census_id)
    _require_reports()
    rows = queries.missing_schools(current_user, census, limit=None,
                                   region_id=request.args.get("region", type=bounded_int),
                                   directorate_id=request.args.get("directorate", type=bounded_int))
    table = queries.Table(["code", "school", "email", "directorate", "region"], [
        {"code": s.code, "school": s.name, "email": s.email, "directorate": d, "region": r}
        for s, d, r in rows])
    return _download(table, fmt, f"census-{census.id}-missing",
                     _("Schools that have not submitted"))


@bp.route("/<int:census_id>/procurement")
@login_required
def procurement(census_id: int):
    census = _census_or_404(census_id)
    _require_reports()
    by, fault_by = _report_args()
    return render_template(
        "census/procurement.html", census=census, by=by, fault_by=fault_by,
        counts=queries.equipment_counts(current_user, census, by, _english()),
        faults=queries.fault_rates(current_user, census, fault_by, _english()),
        window=queries.fault_window(census), headers=exports.HEADERS, groups=GROUP_LABELS)


def _report_args() -> tuple[str, str]:
    by = request.args.get("by", "region")
    fault_by = request.args.get("fault_by", "model")
    return (by if by in queries.GROUPS else "region",
            fault_by if fault_by in ("category", "model") else "model")


@bp.route("/<int:census_id>/procurement/<any(counts, faults):name>.<any(csv, xlsx):fmt>")
@login_required
def procurement_export(census_id: int, name: str, fmt: str):
    census = _census_or_404(census_id)
    _require_reports()
    by, fault_by = _report_args()
    if name == "counts":
        table = queries.equipment_counts(current_user, census, by, _english())
    else:
        table = queries.fault_rates(current_user, census, fault_by, _english())
    return _download(table, fmt, f"census-{census.id}-{name}",
                     _("Equipment by category, status and age") if name == "counts"
                     else _("Fault rates"))


def _download(table: queries.Table, fmt: str, stem: str, sheet: str) -> Response:
    if fmt == "csv":
        body, mimetype = exports.to_csv(table), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(table, sheet), exports.XLSX_MIMETYPE
    return Response(body, content_type=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})
