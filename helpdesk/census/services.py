"""Census writers: open a campaign, submit (freeze the registry), upload the signed
statement, send the reminders that are due. They flush; the caller commits."""
from __future__ import annotations

import io
import logging
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select

from helpdesk import bus
from helpdesk.accounts.models import User
from helpdesk.census import queries, rules
from helpdesk.census.models import Census, CensusReminder, CensusSnapshotItem, CensusSubmission
from helpdesk.core import filestore
from helpdesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from helpdesk.events import CensusReminderDue
from helpdesk.extensions import db
from helpdesk.inventory.models import ACTIVE_STATUSES, EquipmentCategory, EquipmentItem
from helpdesk.org.models import Directorate, Region, School
from helpdesk.permissions import (
    can_manage_census,
    can_submit_census_for,
    can_view_census_school,
    require_census_submit,
)
from helpdesk.tickets import attachments as files

EDU_LEVELS = ("PE", "DE")
#: Largest signed statement accepted (bytes) unless CENSUS_SIGNED_MAX_BYTES says otherwise.
SIGNED_MAX_BYTES = 10 * 1024 * 1024


# --- campaigns ---------------------------------------------------------------------------------

def open_census(actor: User | None, *, title: str, opens_on: date, deadline: date, now: datetime,
                reminder_days=(), edu_level: str = "", school_types=(), region_ids=(),
                directorate_ids=()) -> Census:
    """Open a campaign for the schools matching every given criterion (none: all schools)."""
    if not can_manage_census(actor):
        raise PermissionDenied()
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed("title", "Give the campaign a title.")
    if deadline < opens_on:
        raise ValidationFailed("deadline", "The deadline cannot be before the opening date.")
    if deadline < rules.athens_day(now):
        raise ValidationFailed("deadline", "The deadline has already passed.")
    if edu_level not in ("", *EDU_LEVELS):
        raise ValidationFailed("edu_level", "Unknown education level.")
    days = sorted({int(n) for n in reminder_days}, reverse=True)
    if any(not 0 <= n <= rules.MAX_REMINDER_DAYS for n in days):
        raise ValidationFailed("reminder_days", "Reminder days must be between 0 and %(max)s.",
                               max=rules.MAX_REMINDER_DAYS)
    census = Census(title=title[:200], opens_on=opens_on, deadline=deadline, reminder_days=days,
                    target_edu_level=edu_level, target_school_types=sorted(set(school_types)),
                    target_region_ids=sorted({int(i) for i in region_ids}),
                    target_directorate_ids=sorted({int(i) for i in directorate_ids}),
                    created_by_id=actor.id, created_at=now)
    _check_known(Region, census.target_region_ids, "regions")
    _check_known(Directorate, census.target_directorate_ids, "directorates")
    if not queries.count_targets(census):
        raise ValidationFailed("target", "No school matches the chosen target.")
    db.session.add(census)
    db.session.flush()
    return census


def _check_known(model, ids: list[int], field: str) -> None:
    if ids and len(db.session.scalars(select(model.id).where(model.id.in_(ids))).all()) != len(ids):
        raise ValidationFailed(field, "Unknown region or directorate.")


# --- submitting ----------------------------------------------------------------------------

def snapshot_of(school: School, census: Census, now: datetime) -> dict:
    """The school's current registry (every item not withdrawn) as plain JSON values."""
    d = school.directorate
    rows = db.session.execute(
        select(EquipmentItem, EquipmentCategory)
        .join(EquipmentCategory, EquipmentCategory.id == EquipmentItem.category_id)
        .where(EquipmentItem.school_id == school.id,
               EquipmentItem.status.in_([str(s) for s in ACTIVE_STATUSES]))
        .order_by(EquipmentCategory.code, EquipmentItem.id)).all()
    items = [{
        "id": item.id, "category_id": cat.id, "category_code": cat.code,
        "category_el": cat.name_el, "category_en": cat.name_en,
        "manufacturer": item.manufacturer or "", "model": item.model or "",
        "serial_number": item.serial_number or "", "registry_number": item.registry_number or "",
        "location": item.location or "",
        "acquisition_date": item.acquisition_date.isoformat() if item.acquisition_date else None,
        "funding_programme": item.funding_programme or "", "status": str(item.status),
        "attributes": dict(item.attributes or {}), "notes": item.notes or "",
    } for item, cat in rows]
    return {
        "taken_at": now.isoformat(),
        "census": {"id": census.id, "title": census.title, "deadline": census.deadline.isoformat()},
        "school": {"id": school.id, "code": school.code, "name": school.name,
                   "email": school.email, "school_type": school.school_type,
                   "directorate": d.name_el, "region": d.region.name_el},
        "items": items,
    }


def submit(actor: User | None, census: Census, school: School, *, now: datetime) -> CensusSubmission:
    """Freeze ``school``'s registry for ``census``; again before the deadline replaces it."""
    require_census_submit(actor, school.id)
    if not queries.is_targeted(census, school.id):
        raise NotFound()
    if not rules.has_opened(census.opens_on, now):
        raise Conflict(_l("The campaign has not opened yet."))
    late = rules.is_late(census.deadline, now)
    submission = queries.get_submission(census.id, school.id)
    if submission is not None and late:
        raise Conflict(_l("The deadline has passed; your submission can no longer be replaced."))
    snapshot = snapshot_of(school, census, now)
    if submission is None:
        submission = CensusSubmission(census_id=census.id, school_id=school.id)
        db.session.add(submission)
    else:
        db.session.execute(delete(CensusSnapshotItem)
                           .where(CensusSnapshotItem.submission_id == submission.id))
        # A statement signed for the previous snapshot no longer matches this one.
        if submission.signed_stored_name:
            filestore.discard(db.session(), "census_signed", [submission.signed_stored_name])
        submission.signed_stored_name = submission.signed_filename = None
        submission.signed_uploaded_at = None
    submission.submitted_at = now
    submission.submitted_by_id = actor.id
    submission.is_late = late
    submission.snapshot = snapshot
    submission.item_count = len(snapshot["items"])
    db.session.flush()
    db.session.add_all(CensusSnapshotItem(
        submission_id=submission.id, item_id=i["id"], category_id=i["category_id"],
        manufacturer=i["manufacturer"][:120], model=i["model"][:200], status=i["status"],
        acquisition_date=date.fromisoformat(i["acquisition_date"]) if i["acquisition_date"] else None,
    ) for i in snapshot["items"])
    db.session.flush()
    return submission


def signed_directory() -> Path:
    """Where the local backend keeps the signed statements."""
    return filestore.directory("census_signed")


def upload_signed(actor: User | None, submission: CensusSubmission, upload: files.Upload | None, *,
                  now: datetime) -> CensusSubmission:
    """Keep the principal's signed statement (one PDF) with the submission."""
    if not can_view_census_school(actor, submission.school_id):
        raise NotFound()
    if not can_submit_census_for(actor, submission.school_id):
        raise PermissionDenied()
    if upload is None or not (upload.filename or upload.data):
        raise ValidationFailed("signed_file", "Choose the signed PDF to upload.")
    max_bytes = current_app.config.get("CENSUS_SIGNED_MAX_BYTES", SIGNED_MAX_BYTES)
    (checked,) = files.check_uploads([upload], max_bytes=max_bytes, max_count=1,
                                     extensions={"pdf"})
    if not is_readable_pdf(checked.data):
        raise ValidationFailed("signed_file", "The file %(name)s is not a readable PDF document. "
                               "Scan or save the signed statement as a PDF and upload it again.",
                               name=checked.filename)
    if submission.signed_stored_name:
        filestore.discard(db.session(), "census_signed", [submission.signed_stored_name])
    submission.signed_stored_name = filestore.write(db.session(), "census_signed", checked.data)
    submission.signed_filename = checked.filename
    submission.signed_uploaded_at = now
    db.session.flush()
    return submission


def is_readable_pdf(data: bytes) -> bool:
    """The bytes parse as a PDF with at least one page (pypdf), not merely start with ``%PDF``."""
    from pypdf import PdfReader  # heavy, and only the signed upload needs it

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # a damaged file is our answer, not a log warning
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return False
        return len(reader.pages) > 0
    except Exception:  # noqa: BLE001 (pypdf raises many kinds on a damaged file)
        return False
    finally:
        pypdf_log.setLevel(level)


# --- reminders -------------------------------------------------------------------------------

def send_due_reminders(now: datetime, *, batch: int = 500) -> int:
    """Queue the reminders due today (Athens) for every open campaign; safe to run twice.

    One e-mail per school and reminder day, to the school's official address, for the
    targeted schools that have not submitted. Returns how many were queued.
    """
    today = rules.athens_day(now)
    sent = 0
    for census in db.session.scalars(select(Census).where(Census.opens_on <= today,
                                                          Census.deadline >= today)):
        days = rules.due_reminder(census.reminder_days or [], census.opens_on, census.deadline, today)
        if days is None:
            continue
        days_left = (census.deadline - today).days
        schools = db.session.scalars(
            select(School).where(
                queries.target_condition(census),
                ~exists().where(CensusSubmission.census_id == census.id,
                                CensusSubmission.school_id == School.id),
                ~exists().where(CensusReminder.census_id == census.id,
                                CensusReminder.school_id == School.id,
                                CensusReminder.days_before == days))
            .order_by(School.id)).all()
        for n, school in enumerate(schools, 1):
            sent += sum(bus.handle(CensusReminderDue(census.id, school.id, days, days_left, now)))
            if n % batch == 0:
                db.session.flush()
    db.session.flush()
    return sent
