from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from helpdesk.core.bounds import bounded_int, date_in_bounds
from helpdesk.core.text import by_label
from helpdesk.inventory import reference


class ItemForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=bounded_int, validators=[DataRequired()])
    manufacturer = StringField(_l("Manufacturer"), validators=[Length(max=120)])
    model = StringField(_l("Model"), validators=[Length(max=200)])
    serial_number = StringField(_l("Serial number"), validators=[Length(max=120)])
    registry_number = StringField(_l("Registry number (school inventory no.)"),
                                  validators=[Length(max=60)])
    location = StringField(_l("Location (lab, classroom, office)"), validators=[Length(max=120)])
    acquisition_date = DateField(_l("Acquisition date"), validators=[Optional(), date_in_bounds])
    funding_programme = SelectField(_l("Funding programme"), validate_choice=True)
    status = SelectField(_l("Status"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)])

    def fill_choices(self, categories, english: bool = False):
        self.category.choices = by_label((c.id, c.name_en if english else c.name_el)
                                         for c in categories)
        self.funding_programme.choices = [("", "—")] + by_label(
            (code, row["name_el"]) for code, row in reference.funding_programmes().items())
        self.status.choices = [(k, str(v)) for k, v in reference.STATUS_LABELS.items()]


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why is it withdrawn?"), validators=[Length(max=2000)])


class ImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[DataRequired()])
    school = StringField(_l("Only for the school with code (optional)"), validators=[Length(max=7)])


class LinkForm(FlaskForm):
    mark_faulty = BooleanField(_l("Mark the items as faulty"), default=True)


class SimpleForm(FlaskForm):
    pass
