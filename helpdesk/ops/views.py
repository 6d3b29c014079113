"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: database, Redis,
storage, schema at head), for load balancers and systemd. No log-in, no session, no
personal data; each call is a few milliseconds."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from helpdesk.extensions import limiter
from helpdesk.ops import readiness
from helpdesk.tickets.services import attachments_directory

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return _no_store(jsonify(status="alive"))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = readiness.all_checks(current_app._get_current_object(), attachments_directory())
    ready = all(c.ok for c in checks)
    body = {"status": "ready" if ready else "unready",
            "checks": {c.name: ("ok" if c.ok else c.detail or "failed") for c in checks}}
    return _no_store(jsonify(body)), 200 if ready else 503


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
