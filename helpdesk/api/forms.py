from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    read_only = BooleanField(_l("Read-only"))
    expires_days = IntegerField(_l("Expires after (days)"),
                                validators=[Optional(), NumberRange(min=1, max=3650)])


class WebhookForm(FlaskForm):
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=500)])
    events = SelectMultipleField(_l("Events"), validators=[DataRequired()],
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    allow_private = BooleanField(_l("Allow private or local addresses"))
