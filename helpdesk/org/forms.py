"""The partner-change form of /admin/organisation (choices filled by the view)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired


class PartnerForm(FlaskForm):
    directorate = SelectField(_l("Directorate"), choices=[], coerce=int,
                              validators=[DataRequired()])
    unit = SelectField(_l("New partner (level 2)"), choices=[], coerce=int,
                       validators=[DataRequired()])
    #: The partner the preview was made against: applying refuses if it changed since.
    current = HiddenField()
