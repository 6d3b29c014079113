"""Forms of saved views."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from helpdesk.savedviews.services import NAME_MAX


class SaveViewForm(FlaskForm):
    name = StringField(_l("Name of the view"), validators=[DataRequired(), Length(max=NAME_MAX)])
    #: The queue page's query string when the form was shown.
    query = HiddenField()


class RenameViewForm(FlaskForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(max=NAME_MAX)])


class DeleteViewForm(FlaskForm):
    pass
