"""Census forms: open a campaign, submit, upload the signed statement."""
from __future__ import annotations

import csv

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from helpdesk.census import rules
from helpdesk.core.bounds import bounded_int, date_in_bounds
from helpdesk.core.text import by_label
from helpdesk.extensions import db
from helpdesk.org.models import Directorate, Region, School
from helpdesk.org.services import DATA_DIR as ORG_DATA

EDU_LEVEL_CHOICES = [("", _l("Both levels")), ("PE", _l("Primary education")),
                     ("DE", _l("Secondary education"))]


def _reminder_days(form, field):
    try:
        field.parsed = rules.parse_reminder_days(field.data or "")
    except ValueError as err:
        raise ValidationError(_l("Write whole numbers of days between 0 and 90, separated by commas.")) from err


class CensusForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Opens on"), validators=[DataRequired(), date_in_bounds])
    deadline = DateField(_l("Deadline (last day)"), validators=[DataRequired(), date_in_bounds])
    reminder_days = StringField(_l("Reminders, days before the deadline (e.g. 7, 1)"),
                                default="7, 1", validators=[_reminder_days])
    edu_level = SelectField(_l("Education level"), choices=EDU_LEVEL_CHOICES)
    school_types = SelectMultipleField(_l("School types (none selected: all)"))
    regions = SelectMultipleField(_l("Regions (none selected: all)"), coerce=bounded_int)
    directorates = SelectMultipleField(_l("Directorates (none selected: all)"), coerce=bounded_int)

    def fill_choices(self, english: bool = False) -> None:
        self.school_types.choices = school_type_choices()
        self.regions.choices = by_label(tuple(r) for r in db.session.execute(
            select(Region.id, Region.name_en if english else Region.name_el)))
        self.directorates.choices = by_label(tuple(r) for r in db.session.execute(
            select(Directorate.id, Directorate.short_name_el)))


def school_type_choices() -> list[tuple[str, str]]:
    """The school types in use, named from school_types.csv."""
    names = {}
    path = ORG_DATA / "school_types.csv"
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            names = {r["code"]: r["name_el"] for r in csv.DictReader(fh)}
    codes = db.session.scalars(select(School.school_type).distinct().order_by(School.school_type))
    return by_label((code, names.get(code, code)) for code in codes)


class SubmitForm(FlaskForm):
    """Only a CSRF token: the snapshot is taken from the registry."""


class SignedForm(FlaskForm):
    signed_file = FileField(_l("Signed statement (PDF)"), validators=[DataRequired()])
