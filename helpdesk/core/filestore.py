"""Files written with a database transaction: they stay only if it commits.

A file is written under a temporary name, synced and renamed into place (never half a
file under its real name); its path is remembered on the session. The session's commit
keeps the files; a rollback, or a session closed without committing (an exception later
in the request, a job that dies), deletes them, so no orphan file outlives a failure.
A full or unwritable disk is reported as ``StorageFailed``, a refusal the doors show as
a true message (nothing was recorded) with 507 or 503."""
from __future__ import annotations

import errno
import logging
import os
import secrets
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from helpdesk.core.errors import DomainError

log = logging.getLogger(__name__)
_WRITTEN = "filestore.written"
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class StorageFailed(DomainError):
    """The file could not be written: the disk is full (507) or not writable (503)."""

    def __init__(self, exc: OSError):
        super().__init__(_l("The attachment was not saved: the server's storage is full or "
                            "cannot be written to, so nothing was recorded (neither your "
                            "request nor your message). Try again later, or without the "
                            "attachment."))
        self.status = 507 if exc.errno in _FULL else 503
        self.errno = exc.errno


def write(session: Session, directory: Path, data: bytes) -> str:
    """Write ``data`` under a new random name in ``directory``, kept only if ``session``
    commits; return the name. Raises StorageFailed."""
    name = secrets.token_hex(16)
    final, tmp = directory / name, directory / f".{name}.part"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write_synced(tmp, data)
        tmp.replace(final)
    except OSError as exc:
        if _exists(tmp):
            tmp.unlink(missing_ok=True)
        log.error("cannot store a file in %s: %s", directory, exc)
        raise StorageFailed(exc) from exc
    session.info.setdefault(_WRITTEN, []).append(final)
    return name


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _keep(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


def _discard_unless_committed(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit: its files go too."""
    if transaction.parent is not None or transaction.nested:
        return
    for path in session.info.pop(_WRITTEN, []):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.error("cannot remove %s after a rollback: %s", path, exc)


def register() -> None:
    """Install the hooks on every session (idempotent)."""
    if not event.contains(Session, "after_commit", _keep):
        event.listen(Session, "after_commit", _keep)
        event.listen(Session, "after_transaction_end", _discard_unless_committed)
