"""The door of the web app: trusted proxies, cookies and response headers."""
from __future__ import annotations

from flask import Flask, current_app, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

_PROXY_SETTINGS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


def init_app(app: Flask) -> None:
    _trust_proxies(app)
    _secure_cookies(app)
    app.after_request(_door_headers)


def _secure_cookies(app: Flask) -> None:
    """Cookies only over HTTPS when the site is served over HTTPS (PREFERRED_URL_SCHEME)
    or SECURE_COOKIES says so (true/false; null: follow the scheme)."""
    wanted = app.config.get("SECURE_COOKIES")
    if wanted is None:
        wanted = app.config.get("PREFERRED_URL_SCHEME") == "https"
    if wanted:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _door_headers(response):
    """HSTS on HTTPS; pages of a logged-in user are never stored by a browser or proxy
    (a shared school computer's back button, a caching proxy)."""
    cfg = current_app.config
    if cfg.get("HSTS_SECONDS") and (request.is_secure or cfg.get("HSTS_ALWAYS")):
        response.headers.setdefault("Strict-Transport-Security",
                                     f"max-age={int(cfg['HSTS_SECONDS'])}; includeSubDomains")
    if request.endpoint != "static" and _authenticated():
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def _authenticated() -> bool:
    """A logged-in user or an API token made this request. No query: the session's user
    id or the header first, then whether the request loaded a user at all (its
    ``is_authenticated`` reads ``is_active``, a column a commit has expired: asking it
    here reloaded the user after every write)."""
    if "_user_id" in session or "Authorization" in request.headers:
        return True
    user = g.get("_login_user")
    return user is not None and not getattr(user, "is_anonymous", True)


def _trust_proxies(app: Flask) -> None:
    """X-Forwarded-* headers are believed only from as many proxies as configured
    (PROXY_FIX_X_FOR …; 0 = not at all): the client address (log-in limits, logs) and
    the scheme (secure cookies, HSTS) come from them."""
    counts = {name: int(app.config.get(f"PROXY_FIX_{name.upper()}", 0) or 0)
              for name in _PROXY_SETTINGS}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)
