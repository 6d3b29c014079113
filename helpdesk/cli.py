"""The ``helpdesk`` command: the Flask CLI group of this app, with our sub-commands."""
from __future__ import annotations

import importlib

from flask import Flask
from flask.cli import FlaskGroup

from helpdesk import create_app

#: Modules exposing a click group or command named ``cli``, or a list ``commands``
#: of commands to add at the top level.
COMMAND_MODULES = (
    "helpdesk.org.cli",
    "helpdesk.accounts.cli",
    "helpdesk.inventory.cli",
    "helpdesk.demo.cli",
    "helpdesk.api.cli",
    "helpdesk.i18n",
    "helpdesk.mail.cli",
    "helpdesk.ops.cli",
    "workers.cli",
)


def register_commands(app: Flask) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)  # a missing module is an error, not skipped
        for command in getattr(module, "commands", None) or [module.cli]:
            app.cli.add_command(command)


def _create_app():
    return create_app()


main = FlaskGroup(create_app=_create_app, help="Αρωγή helpdesk commands.")
