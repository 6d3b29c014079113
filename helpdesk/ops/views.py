"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: database, Redis,
storage, schema at head), for load balancers and systemd. No log-in, no session, no
personal data; each call is a few milliseconds."""
from __future__ import annotations

import ipaddress

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from helpdesk.extensions import limiter
from helpdesk.ops import metrics, readiness

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return _no_store(jsonify(status="alive"))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = readiness.all_checks(current_app._get_current_object())
    ready = all(c.ok for c in checks)
    body = {"status": "ready" if ready else "unready",
            "checks": {c.name: ("ok" if c.ok else c.detail or "failed") for c in checks}}
    return _no_store(jsonify(body)), 200 if ready else 503


@bp.get("/metrics")
@limiter.exempt
def prometheus():
    """Prometheus' scrape: only from the networks of METRICS_ALLOWED_NETWORKS."""
    if not _allowed(request.remote_addr, current_app.config.get("METRICS_ALLOWED_NETWORKS")):
        abort(404)
    return _no_store(Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST))


def _allowed(address: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks or ())


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
