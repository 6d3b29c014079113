"""Is this node ready to serve? The database, Redis, the file storage and the schema.

Each check is one cheap round trip (a load balancer asks every second) and answers
``Check(name, ok, detail)``; ``detail`` names the failure's kind, never a password or
an address. A dependency that comes back is seen by the next call: nothing is cached
except the migration head of the code, which cannot change while the process runs.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import redis
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from helpdesk.core import filestore, redisconn
from helpdesk.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@functools.cache
def code_heads() -> frozenset[str]:
    """The migration heads this code expects (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database() -> tuple[Check, Check]:
    """The database answers, and its schema is at the code's migration head."""
    try:
        versions = _versions_retrying()
    except SQLAlchemyError as exc:
        return _down("database", exc), Check("migrations", False, "database unreachable")
    finally:
        db.session.remove()
    if versions is None:
        return Check("database", True), Check("migrations", False, "no alembic_version table")
    heads = code_heads()
    if versions == heads:
        return Check("database", True), Check("migrations", True)
    return Check("database", True), Check(
        "migrations", False, f"database at {','.join(sorted(versions)) or '-'}, "
                             f"code at {','.join(sorted(heads))}")


def _versions_retrying() -> frozenset[str] | None:
    """One fresh try when the pooled connection was stale (the database restarted)."""
    try:
        return _database_versions()
    except DBAPIError as exc:
        db.session.rollback()
        if not exc.connection_invalidated:
            raise
    return _database_versions()


def _database_versions() -> frozenset[str] | None:
    try:
        rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(rows)
    except DBAPIError as exc:
        db.session.rollback()
        if _missing_table(exc):
            db.session.execute(text("SELECT 1"))
            return None
        raise


def _missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "alembic_version" in message and ("no such table" in message
                                            or "does not exist" in message)


def redis_server(app: Flask) -> Check:
    """Redis answers PING within a second (a client of its own: the shared one waits 5 s)."""
    try:
        client = redis.Redis.from_url(redisconn.redis_url(app), socket_connect_timeout=1,
                                      socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        return _down("redis", exc)
    return Check("redis", True)


def storage() -> Check:
    """The file store answers: its table can be read (STORAGE_BACKEND = database), or the
    attachment directory exists (or can be made) and can be written (local)."""
    try:
        kind = filestore.backend()
    except ValueError:
        return Check("storage", False, "unknown STORAGE_BACKEND")
    if kind == "database":
        try:
            db.session.execute(select(filestore.StorageBlob.seq).limit(1)).all()
        except SQLAlchemyError as exc:
            db.session.rollback()
            return _down("storage", exc)
        finally:
            db.session.remove()
        return Check("storage", True)
    directory = filestore.directory("attachments")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _down("storage", exc)
    if not os.access(directory, os.W_OK | os.X_OK):
        return Check("storage", False, "not writable")
    return Check("storage", True)


def _down(name: str, exc: BaseException) -> Check:
    """The failure's class only: messages of drivers may carry a host or a user name."""
    return Check(name, False, type(exc).__name__)


def all_checks(app: Flask) -> list[Check]:
    return [*database(), redis_server(app), storage()]
