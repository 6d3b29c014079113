"""The form of a canned reply."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from helpdesk.canned.services import BODY_MAX, TITLE_MAX


class CannedReplyForm(FlaskForm):
    unit = SelectField(_l("Whose reply"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(min=2, max=BODY_MAX)])


class DeleteForm(FlaskForm):
    pass
