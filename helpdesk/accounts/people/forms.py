"""Forms of the people pages; their choices are filled by the view for the actor."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

LANGUAGES = [("el", "Ελληνικά"), ("en", "English")]


class PersonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(min=2, max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    school_code = StringField(_l("School code (7 digits, for school users)"),
                              validators=[Optional(), Regexp(r"^\d{7}$", message=_l("Seven digits."))])
    locale = SelectField(_l("Language"), choices=LANGUAGES)


class NewPersonForm(PersonForm):
    unit = SelectField(_l("Support unit (for technicians and managers)"), choices=[],
                       validators=[Optional()])
    is_manager = BooleanField(_l("Manager of this unit"))
    send_invite = BooleanField(_l("Send a link to set the password"), default=True)


class MembershipForm(FlaskForm):
    unit = SelectField(_l("Support unit"), choices=[], validators=[DataRequired()])
    is_manager = BooleanField(_l("Manager of this unit"))


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (deactivate, reactivate, remove)."""
