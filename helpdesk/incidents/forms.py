"""Forms of the known outages' pages (helpdesk.incidents.views)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from helpdesk.core.bounds import bounded_int
from helpdesk.core.display import INCIDENT_STATUS_LABELS, SCOPE_LABELS


class IncidentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=5, max=200)])
    body = TextAreaField(_l("What is known (the first entry of the public timeline)"),
                         validators=[DataRequired(), Length(min=5, max=5000)])
    scope_kind = SelectField(_l("Where"), choices=list(SCOPE_LABELS.items()),
                             default="directorates")
    regions = SelectMultipleField(_l("Regions"), coerce=bounded_int, validate_choice=False)
    directorates = SelectMultipleField(_l("Directorates"), coerce=bounded_int,
                                       validate_choice=False)
    partners = SelectMultipleField(_l("Partners' areas"), coerce=bounded_int,
                                   validate_choice=False)
    schools = TextAreaField(_l("Schools (7-digit codes, one per line or separated by commas)"),
                            validators=[Length(max=40000)])
    category = SelectField(_l("Category of the requests schools file with it"),
                           coerce=bounded_int, validators=[DataRequired()])
    ticket = HiddenField()


class UpdateForm(FlaskForm):
    body = TextAreaField(_l("Update"), validators=[DataRequired(), Length(min=5, max=5000)])
    status = SelectField(_l("Status"), choices=list(INCIDENT_STATUS_LABELS.items()))


class LinkRefsForm(FlaskForm):
    refs = TextAreaField(_l("Request references (one per line, or separated by commas)"),
                         validators=[DataRequired(), Length(max=200000)])


class UnlinkForm(FlaskForm):
    ref = HiddenField(validators=[DataRequired(), Length(max=40)])


class AffectedForm(FlaskForm):
    #: "" files a new request; else the id of one of the school's open requests.
    ticket = SelectField(_l("Which request"), validate_choice=False, default="")


class TicketLinkForm(FlaskForm):
    incident = SelectField(_l("Known outage"), coerce=bounded_int, validate_choice=False)


class QueueLinkForm(FlaskForm):
    incident = SelectField(_l("Link the selected requests to the outage"), coerce=bounded_int,
                           validate_choice=False)
    ticket = SelectMultipleField(coerce=bounded_int, validate_choice=False)
