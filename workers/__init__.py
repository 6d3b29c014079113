"""Background work: RQ jobs, the periodic table and the worker entry points.

``workers`` depends on ``helpdesk``, never the reverse. A job runs in an app context
from ``app_context()``; the app is built once per process, or is the one a test gave
to ``set_app``.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from helpdesk import create_app

_app: Flask | None = None


def set_app(app: Flask | None) -> None:
    """Use ``app`` for jobs run in this process (tests); None forgets it."""
    global _app
    _app = app


def get_app() -> Flask:
    """The app jobs run in: the one given to ``set_app``, else ``create_app()`` once."""
    global _app
    if _app is None:
        _app = create_app()
    return _app


@contextmanager
def app_context() -> Iterator[Flask]:
    """Push an app context for one job; its session is removed (rolled back) after."""
    app = get_app()
    with app.app_context():
        yield app
