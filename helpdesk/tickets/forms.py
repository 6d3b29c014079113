from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from helpdesk.core.bounds import bounded_int

PRIORITY_CHOICES = [(1, _l("Low")), (2, _l("Normal")), (3, _l("High")), (4, _l("Urgent"))]


class NewTicketForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=bounded_int, validators=[DataRequired()])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(min=3, max=200)])
    description = TextAreaField(_l("Description"),
                                validators=[DataRequired(), Length(min=5, max=20000)])
    priority = SelectField(_l("Priority"), coerce=bounded_int, choices=PRIORITY_CHOICES, default=2)
    attachments = MultipleFileField(_l("Attachments"))
    #: Items of the school's own registry the request is about (checkboxes, validated by the service).
    equipment = SelectMultipleField(_l("Equipment concerned"), coerce=bounded_int, validate_choice=False)
    not_in_registry = BooleanField(_l("The device is not in the registry"))
    equipment_category = SelectField(_l("Kind of device"), coerce=bounded_int, validate_choice=False,
                                     default=0)
    equipment_description = TextAreaField(_l("Describe the device (make, model, serial, where it is)"),
                                          validators=[Length(max=2000)])


#: How the school asked, when support staff file for it (helpdesk.tickets.states).
ON_BEHALF_CHOICES = [("phone", _l("Phone")), ("visit", _l("Visit")), ("other", _l("Other channel"))]


class OnBehalfTicketForm(NewTicketForm):
    """The filing form support staff fill in for a school (the school is in the URL)."""

    channel = SelectField(_l("How did the school ask?"), choices=ON_BEHALF_CHOICES,
                          default="phone", validators=[DataRequired()])


class CategoryForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=bounded_int, validators=[DataRequired()])
    reason = StringField(_l("Why (only support staff read it)"), validators=[Length(max=500)])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply"), validators=[DataRequired(), Length(max=20000)])
    await_school = BooleanField(_l("Wait for the school's answer"))
    attachments = MultipleFileField(_l("Attachments"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=20000)])


class ClaimForm(FlaskForm):
    pass


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), coerce=bounded_int, validators=[DataRequired()])


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), coerce=bounded_int, choices=PRIORITY_CHOICES)


class EscalateForm(FlaskForm):
    reason = TextAreaField(_l("Reason for escalation"),
                           validators=[DataRequired(), Length(min=5, max=5000)])
    #: Off: only support staff read the reason (the school sees that the request moved).
    tell_school = BooleanField(_l("Show the reason to the school too"), default=False)


class ReturnForm(FlaskForm):
    instructions = TextAreaField(_l("Instructions for the lower level"),
                                 validators=[DataRequired(), Length(min=5, max=5000)])
    #: Off: only support staff read the instructions (the school sees that the request moved).
    tell_school = BooleanField(_l("Show the instructions to the school too"), default=False)


class ResolveForm(FlaskForm):
    resolution_type = SelectField(_l("Resolution"), coerce=bounded_int, validators=[DataRequired()])
    #: "Resolved by a guide": the guide (an article used in the ticket; or the answer's link).
    guide = SelectField(_l("Guide that solved it"), coerce=bounded_int, validate_choice=False,
                        default=0)
    text = TextAreaField(_l("Answer to the school"),
                         validators=[DataRequired(), Length(min=5, max=20000)])


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Why reopen"), validators=[DataRequired(), Length(min=5, max=5000)])


#: The school's rating of a resolution: none, or 1 (poor) to 5 (excellent).
RATING_CHOICES = [(0, _l("No rating")), (5, _l("5 – excellent")), (4, _l("4 – good")),
                  (3, _l("3 – fair")), (2, _l("2 – poor")), (1, _l("1 – very poor"))]


class ConfirmForm(FlaskForm):
    """The school's answer to a resolution: one of the two buttons, with an optional
    rating and comment (the ticket page and the page of the mail's link)."""

    rating = SelectField(_l("How would you rate our help?"), coerce=bounded_int,
                         choices=RATING_CHOICES, default=0)
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=2000)])
    solved = SubmitField(_l("Yes, it is solved"))
    not_solved = SubmitField(_l("No, it is not solved"))
