"""Αρωγή: the helpdesk of the Greek school network's technical support."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config/ defaults, then HELPDESK_* variables, then ``overrides``."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "helpdesk" / "static"),
        instance_path=os.environ.get("HELPDESK_INSTANCE_PATH", str(ROOT / "instance")),
    )
    app.config.from_pyfile(str(ROOT / "config" / "default.py"))
    app.config.from_prefixed_env("HELPDESK")
    for plain in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(plain) and not os.environ.get(f"HELPDESK_{plain}"):
            app.config["SQLALCHEMY_DATABASE_URI" if plain == "DATABASE_URL" else plain] = (
                os.environ[plain]
            )
    if os.environ.get("HELPDESK_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["HELPDESK_DATABASE_URL"]
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'helpdesk.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Short OLTP statements: PostgreSQL's JIT compiles a costly-looking plan (the search
        # page's) for ~300 ms and never earns it back.
        engine = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        engine.setdefault("connect_args", {}).setdefault("options", "-c jit=off")

    if app.config.get("PRODUCTION"):
        _refuse_unsafe_production(app.config)

    # Here, not at the top: app_setup imports every feature, and each imports this package.
    from helpdesk.app_setup import init_app

    init_app(app)
    return app


def _normalise_db_url(url: str) -> str:
    """postgres:// and postgresql:// use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _refuse_unsafe_production(config) -> None:
    # Here, not at the top: the check is a feature module, which imports this package.
    from helpdesk.ops.settings import production_problems

    problems = production_problems(config)
    if problems:
        raise SystemExit("Αρωγή will not start in production with these settings "
                         "(see deploy/README.md):\n  " + "\n  ".join(problems))
