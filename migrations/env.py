"""Alembic environment: the app's engine and metadata, via Flask-Migrate."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy.types import TypeDecorator

config = context.config
# The CLI logs to stderr; under tests the app's logging stays as pytest set it.
if config.config_file_name and not current_app.testing:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    return target_db.engine


config.set_main_option(
    "sqlalchemy.url",
    get_engine().url.render_as_string(hide_password=False).replace("%", "%%"),
)


def render_item(type_, obj, autogen_context):
    """Write the app's TypeDecorators as their underlying SQLAlchemy type."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy."):
            return f"sa.{impl!r}"
    return False


#: PostgreSQL-only columns and indexes made by hand (migrations perf03stayunits, perf04openunits).
_PG_ONLY = {("column", "stay_units"), ("index", "ix_tickets_open_stay_units")}


def include_object(obj, name, type_, reflected, compare_to):
    """Skip what the migrations create by hand for one database only: PostgreSQL's
    trigram and full-text indexes (``*_trgm``, ``*_tsv``), generated tsvector columns
    (``*_tsv``) and the tickets' stay units (``_PG_ONLY``), SQLite's FTS5 tables (``*_fts``
    and their ``*_fts_*`` shadow tables)."""
    name = name or ""
    if type_ == "index" and name.endswith(("_trgm", "_tsv")):
        return False
    if type_ == "column" and name.endswith("_tsv"):
        return False
    if (type_, name) in _PG_ONLY:
        return False
    return not (type_ == "table" and (name.endswith("_fts") or "_fts_" in name))


def configure_args(dialect_name: str) -> dict:
    args = {
        "target_metadata": target_db.metadata,
        "compare_type": True,
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
        "include_object": include_object,
    }
    args.update(current_app.extensions["migrate"].configure_args)
    return args


def process_revision_directives(context_, revision, directives):
    """Write no file when autogenerate finds nothing to do."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


def run_migrations_offline():
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, literal_binds=True, **configure_args(get_engine().dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with get_engine().connect() as connection:
        args = configure_args(connection.dialect.name)
        args.setdefault("process_revision_directives", process_revision_directives)
        context.configure(connection=connection, **args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
