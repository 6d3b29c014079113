"""The door of the web app: trusted proxies, cookies and response headers."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

_PROXY_SETTINGS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


def init_app(app: Flask) -> None:
    _trust_proxies(app)


def _trust_proxies(app: Flask) -> None:
    """X-Forwarded-* headers are believed only from as many proxies as configured
    (PROXY_FIX_X_FOR …; 0 = not at all): the client address (log-in limits, logs) and
    the scheme (secure cookies, HSTS) come from them."""
    counts = {name: int(app.config.get(f"PROXY_FIX_{name.upper()}", 0) or 0)
              for name in _PROXY_SETTINGS}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)
