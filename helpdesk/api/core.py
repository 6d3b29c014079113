"""The API's plumbing: bearer authentication, JSON in/out, problem details, commit."""
from __future__ import annotations

import functools
import logging
import re
from datetime import date, timedelta

from flask import Blueprint, Response, current_app, g, json, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from helpdesk.api import tokens
from helpdesk.api.registry import Endpoint, Param, declare
from helpdesk.api.schemas import FieldError, Problem
from helpdesk.core import bounds
from helpdesk.core.errors import DomainError, ValidationFailed
from helpdesk.core.types import utcnow
from helpdesk.extensions import csrf, db, limiter

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
FORMATS = FormatChecker()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
csrf.exempt(bp)

_TITLES = {400: _l("Bad request"), 401: _l("Unauthorized"), 403: _l("Forbidden"),
           404: _l("Not found"), 405: _l("Method not allowed"), 409: _l("Conflict"),
           413: _l("Too large"), 422: _l("Invalid input"), 429: _l("Too many requests"),
           500: _l("Server error")}


def problem(status: int, detail: str | None = None, errors=()) -> Response:
    body = Problem(title=str(_TITLES.get(status, _l("Error"))), status=status, detail=detail,
                   errors=[FieldError(field=f, message=m) for f, m in errors])
    return Response(body.model_dump_json(), status=status, mimetype="application/problem+json")


def token_key() -> str:
    header = request.headers.get("Authorization", "")
    return "tok:" + tokens.digest(header[7:]) if header.startswith("Bearer ") else "ip:" + (
        request.remote_addr or "-")


def _authenticate() -> Response | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return problem(401, _("Send an API token as “Authorization: Bearer <token>”."))
    found = tokens.authenticate(header[7:].strip(), now=utcnow())
    if found is None:
        return problem(401, _("The token is unknown, expired or revoked."))
    g.api_user, g.api_token = found
    _touch(g.api_token)
    if g.api_token.is_read_only and request.method not in ("GET", "HEAD"):
        return problem(403, _("This token is read-only."))
    return None


def _touch(token) -> None:
    """Record when a token was last used, at most every five minutes."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
        try:
            db.session.commit()
        except OperationalError:  # best effort: a busy database must not fail the request
            db.session.rollback()
            log.warning("could not record the use of token %s", token.prefix)


def actor():
    return g.api_user


def endpoint(method: str, path: str, summary: str, *, response=None, body=None,
             params: list[Param] = (), status: int = 200, tag: str = "tickets"):
    """Declare an endpoint (for the OpenAPI document) and route it."""
    declare(Endpoint(method, path, summary, response, body, list(params), status, tag))
    rule = path
    for p in params:
        if p.where == "path":
            converter = "int:" if p.schema.get("type") == "integer" else ""
            rule = rule.replace(f"{{{p.name}}}", f"<{converter}{p.name}>")

    def decorate(fn):
        @functools.wraps(fn)
        def view(**kwargs):
            denied = _authenticate()
            if denied is not None:
                return denied
            if not _path_in_range(params, kwargs):
                return problem(404)
            try:
                _check_query(params)
                payload = _parse(body) if body is not None else None
                result = fn(payload, **kwargs) if body is not None else fn(**kwargs)
            except ValidationError as exc:
                db.session.rollback()
                return problem(422, None, [(".".join(map(str, e["loc"])) or "body", e["msg"])
                                           for e in exc.errors()])
            except ValidationFailed as exc:
                db.session.rollback()
                return problem(422, str(exc), [(exc.field, str(exc))])
            except DomainError as exc:
                db.session.rollback()
                return problem(exc.status, str(exc))
            if method != "GET":
                db.session.commit()
            if result is None:
                return Response(status=204)
            return Response(result.model_dump_json(), status=status, mimetype="application/json")

        view.__name__ = f"{method.lower()}_{fn.__name__}"
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
        return view

    return decorate


def _check_query(params) -> None:
    """Only declared query parameters, each matching its schema (unknown ones are errors)."""
    known = {p.name for p in params if p.where == "query"}
    for name in request.args:
        if name not in known:
            raise ValidationFailed(name[:50] or "?", "Unknown parameter.")
    for param in params:
        if param.where != "query" or param.name not in request.args:
            continue
        values = request.args.getlist(param.name)
        if len(values) > 1:
            raise ValidationFailed(param.name, "Give this parameter once.")
        value = values[0]
        if param.schema.get("format") == "date-time" and not _RFC3339.match(value):
            raise ValidationFailed(param.name, "Use an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z.")
        if param.schema.get("format") == "date" and not _is_date(value):
            raise ValidationFailed(param.name, "Use a date such as 2026-09-01.")
        if param.schema.get("type") == "integer":
            if bounds.parse_int(value) is None:
                raise ValidationFailed(param.name, "Must be a whole number.")
            value = int(value)
        error = best_match(Draft202012Validator(param.schema, format_checker=FORMATS).iter_errors(value))
        if error is not None:
            raise ValidationFailed(param.name, "Invalid value.")


def _path_in_range(params, values: dict) -> bool:
    """Integer path parameters within their schema's bounds (else there is no such object)."""
    for p in params:
        if p.where == "path" and p.schema.get("type") == "integer":
            value = values.get(p.name)
            if not p.schema.get("minimum", 0) <= value <= p.schema.get("maximum", 2**31 - 1):
                return False
    return True


def _is_date(value: str) -> bool:
    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _parse(model: type[BaseModel]) -> BaseModel:
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise ValidationFailed("body", "The body is not valid JSON.") from None
    return model.model_validate(data)


@bp.errorhandler(404)
def _not_found(exc):
    return problem(404)


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"],
              key_func=token_key)(bp)
