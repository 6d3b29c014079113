"""Forms of the SLA administration pages (targets are entered in working hours)."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, TimeField
from wtforms.validators import InputRequired, Optional, ValidationError

from helpdesk.core.bounds import bounded_int, date_in_bounds
from helpdesk.sla.admin import TARGET_FIELDS, Targets
from helpdesk.sla.wording import WEEKDAYS  # noqa: F401 - the views read it from here too

ACTION_CHOICES = [("escalate", _l("Escalate to the next level")),
                  ("warn", _l("Only warn the unit manager"))]


def _int_or_none(value):
    """A select's value as an int; "" (none chosen) as None."""
    if value in (None, "", "None"):
        return None
    return bounded_int(value)


def hours_decimal(minutes: int) -> Decimal:
    """Working minutes as hours with at most two decimals and no trailing zeros (90 → 1.5)."""
    return Decimal(f"{minutes / 60:.2f}".rstrip("0").rstrip("."))


def _finite(form, field):
    if field.data is not None and not field.data.is_finite():
        raise ValidationError(_l("Enter a number of hours."))


def _hours(label):
    return DecimalField(label, places=None, validators=[Optional(), _finite],
                        render_kw={"inputmode": "decimal"})


class PolicyForm(FlaskForm):
    first_response_minutes = _hours(_l("First response (working hours)"))
    resolution_minutes = _hours(_l("Resolution (working hours)"))
    level1_minutes = _hours(_l("Time at level 1 (working hours)"))
    level2_minutes = _hours(_l("Time at level 2 (working hours)"))
    level3_minutes = _hours(_l("Time at level 3 (working hours)"))
    warn_percent = IntegerField(_l("Warn at (percent of each target)"), validators=[InputRequired()])
    action = SelectField(_l("When a level's time runs out"), choices=ACTION_CHOICES)

    def fill(self, policy) -> None:
        """Show a policy's targets in working hours (on GET only)."""
        for name in TARGET_FIELDS:
            minutes = getattr(policy, name)
            getattr(self, name).data = None if minutes is None else hours_decimal(minutes)
        self.warn_percent.data = round((policy.warn_ratio or 0.75) * 100)
        self.action.data = policy.action_on_level_breach or "escalate"

    def targets(self) -> Targets:
        """The entered targets in minutes (hours × 60, rounded to the minute)."""
        minutes = {name: (None if getattr(self, name).data is None
                          else int(round(getattr(self, name).data * 60)))
                   for name in TARGET_FIELDS}
        return Targets(**minutes, warn_ratio=self.warn_percent.data / 100,
                       action_on_level_breach=self.action.data)

    #: Service field names → form fields, for showing a refusal next to its field.
    ERROR_FIELDS = {"warn_ratio": "warn_percent", "action_on_level_breach": "action"}


class OverrideForm(PolicyForm):
    priority = SelectField(_l("Priority"), coerce=bounded_int)
    # The service checks the category (a clear "Unknown category." message).
    category_id = SelectField(_l("Category"), coerce=_int_or_none, validate_choice=False)


class HoursForm(FlaskForm):
    unit_id = SelectField(_l("Applies to"), coerce=_int_or_none, validate_choice=False)
    weekday = SelectField(_l("Weekday"), coerce=bounded_int, choices=WEEKDAYS)
    start_time = TimeField(_l("Start"), validators=[InputRequired()])
    end_time = TimeField(_l("End"), validators=[InputRequired()])


class ClosureForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(), date_in_bounds])
    unit_id = SelectField(_l("Applies to"), coerce=_int_or_none, validate_choice=False)
    description = StringField(_l("Description"))
