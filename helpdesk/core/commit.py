"""The write step of a form view: call the service, then commit, or undo and say why.

    outcome = commit_or_flash(lambda: services.add_item(current_user, school, now=utcnow()),
                              done=_("The item was added to the registry."))
    if not outcome:
        return _render_form(form, school, status=outcome.error.status)
    return redirect(url_for("inventory.item", item_id=outcome.value.id))
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash

from helpdesk.core.errors import DomainError
from helpdesk.extensions import db


@dataclass
class Outcome:
    """What the write returned, or the refusal; true when the write was committed."""

    value: Any = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None


def commit_or_flash(write: Callable[[], Any], *, done: str | Callable[[Any], str] | None = None,
                    abort_on: tuple[type[DomainError], ...] = (),
                    raise_5xx: bool = False) -> Outcome:
    """Run ``write`` (service calls that flush). On success commit and flash ``done``
    (a text, or a function of the returned value, evaluated before the commit expires the
    objects it may read). On a refusal roll back, then: an error of one of ``abort_on``
    becomes abort(its status), one with a 5xx status is raised again when ``raise_5xx``
    (the error page says nothing was recorded), any other is flashed."""
    try:
        value = write()
    except DomainError as exc:
        db.session.rollback()
        if raise_5xx and exc.status >= 500:
            raise
        if isinstance(exc, abort_on):
            abort(exc.status)
        flash(str(exc), "error")
        return Outcome(error=exc)
    message = done(value) if callable(done) else done
    db.session.commit()
    if message:
        flash(message, "success")
    return Outcome(value=value)
