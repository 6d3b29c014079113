"""The library's forms: an article (new or edited) and the search box."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from helpdesk.core.bounds import parse_int
from helpdesk.kb.models import ArticleStatus, Audience

AUDIENCE_LABELS = {Audience.PUBLIC: _l("Everyone (no log-in)"),
                   Audience.SCHOOLS: _l("Schools and staff"),
                   Audience.STAFF: _l("Staff only")}
STATUS_LABELS = {ArticleStatus.DRAFT: _l("Draft"), ArticleStatus.PUBLISHED: _l("Published")}
#: What a version lists as changed.
FIELD_LABELS = {"created": _l("created"), "title": _l("title"), "summary": _l("summary"),
                "body": _l("text"), "category_id": _l("category"), "audience": _l("audience"),
                "status": _l("state"), "equipment": _l("equipment"),
                "owner_unit": _l("owner unit")}


def optional_id(value) -> int | None:
    """A select's value: a positive id, or None for «—»."""
    number = parse_int(value, low=1)
    return number


def id_list(value) -> int:
    number = parse_int(value, low=1)
    if number is None:
        raise ValueError("not an id")
    return number


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary (one or two sentences, shown in lists and suggestions)"),
                            validators=[Length(max=500)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=200_000)])
    category = SelectField(_l("Category"), coerce=optional_id, validate_choice=True)
    equipment = SelectMultipleField(_l("Equipment it applies to"), coerce=id_list,
                                    validate_choice=True)
    audience = SelectField(_l("Who may read it"), validate_choice=True,
                           choices=[(str(k), v) for k, v in AUDIENCE_LABELS.items()])
    status = SelectField(_l("State"), validate_choice=True,
                         choices=[(str(k), v) for k, v in STATUS_LABELS.items()])
    owner_unit = SelectField(_l("Kept by"), coerce=optional_id, validate_choice=True)
    files = MultipleFileField(_l("Attach files (PDF guides, images)"))
    remove_files = SelectMultipleField(_l("Remove files"), coerce=id_list, validate_choice=True)
    note = StringField(_l("What changed (optional note)"), validators=[Length(max=300)])

    def fill_choices(self, *, categories, equipment, units, attachments=()):
        self.category.choices = [(None, "—")] + list(categories)
        self.equipment.choices = list(equipment)
        self.owner_unit.choices = [(None, _l("Shared by all units"))] + list(units)
        self.remove_files.choices = [(a.id, a.filename) for a in attachments]
