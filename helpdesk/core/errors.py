"""Domain errors every door (web, mail, API, CLI) translates into its own answer."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError


class DomainError(Exception):
    """A refusal with a message meant for the user (a lazy translation)."""

    status = 400

    def __init__(self, message, **params):
        super().__init__(str(message))
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


class BadInput(DomainError):
    """A request no view should see: out of bounds, NUL characters, JSON nested too deep."""

    status = 400


class ValidationFailed(DomainError):
    """Bad input: names the field and why."""

    status = 422

    def __init__(self, field: str, message, **params):
        super().__init__(_l(message) if isinstance(message, str) else message, **params)
        self.field = field


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message=None):
        super().__init__(message or _l("You may not do this."))


class NotFound(DomainError):
    status = 404

    def __init__(self, message=None):
        super().__init__(message or _l("Not found."))


class Conflict(DomainError):
    """The object is not in a state that allows this (e.g. an illegal transition)."""

    status = 409


def register_error_handlers(app: Flask, *,
                            api_problem: Callable[[int, str], Response] | None = None) -> None:
    """Error pages; under /api/ the answer is ``api_problem(status, detail)`` (the API's
    problem document, passed in by app setup: this layer does not know the API)."""
    def page(code: int, title, text):
        if api_problem is not None and request.path.startswith("/api/"):
            return api_problem(code, str(text))
        return make_response(render_template("error.html", code=code, title=title, text=text), code)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return page(400, _l("The form has expired"),
                    _l("The security token of the form was missing or stale. Reload the page and try again."))

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return page(exc.status, _l("The request was refused"), str(exc))

    @app.errorhandler(403)
    def _forbidden(exc):
        return page(403, _l("Not allowed"), _l("You may not do this."))

    @app.errorhandler(404)
    def _not_found(exc):
        return page(404, _l("Not found"), _l("There is nothing here, or you may not see it."))

    @app.errorhandler(405)
    def _method(exc):
        response = page(405, _l("Not allowed"), _l("This address does not accept that method."))
        if getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(413)
    def _too_large(exc):
        return page(413, _l("Too large"), _l("The upload is larger than allowed."))

    @app.errorhandler(429)
    def _rate(exc):
        return page(429, _l("Too many attempts"), _l("Too many attempts. Wait a minute and try again."))

    @app.errorhandler(500)
    def _server(exc):
        return page(500, _l("Something went wrong"),
                    _l("Something failed on our side and what you sent was not recorded. "
                       "Try again in a moment."))
