"""The file store: every stored file (attachments, library files, signed census
statements, import files), in one of two backends chosen by ``STORAGE_BACKEND``.

``local`` (the default) keeps files in directories under ``instance/`` (attachments under
``ATTACHMENT_DIR`` when set). A file is written under a temporary name, synced and
renamed into place (never half a file under its real name); its path is remembered on
the session. The session's commit keeps the files; a rollback, or a session closed
without committing (an exception later in the request, a job that dies), deletes them,
so no orphan file outlives a failure. A file discarded in a transaction is removed only
after it commits.

``database`` keeps files in the table ``storage_blobs`` as chunks of ``CHUNK`` bytes, so
every web node and worker sees the same files with no shared filesystem. Written in the
session's transaction, they are kept or forgotten with it; they are read back one chunk
at a time (a download never holds a whole file in memory).

A full or unwritable disk is reported as ``StorageFailed``, a refusal the doors show as
a true message (nothing was recorded) with 507 or 503. ``helpdesk storage move`` moves
the files from one backend to the other (``copy_to``/``remove`` below).
"""
from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, LargeBinary, String, delete, event, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.exceptions import NotFound

from helpdesk.core.errors import DomainError
from helpdesk.extensions import db

log = logging.getLogger(__name__)
_WRITTEN = "filestore.written"
_DOOMED = "filestore.doomed"
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

#: The kinds of stored file; each is a directory of the local backend.
AREAS = ("attachments", "kb", "census_signed", "inventory_imports")
BACKENDS = ("local", "database")
#: Bytes per row of storage_blobs, and per read of a local file.
CHUNK = 256 * 1024


class StorageBlob(db.Model):
    """One chunk of a stored file (the ``database`` backend)."""

    __tablename__ = "storage_blobs"
    area: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StorageFailed(DomainError):
    """The file could not be written: the disk is full (507) or not writable (503)."""

    def __init__(self, exc: OSError):
        super().__init__(_l("The attachment was not saved: the server's storage is full or "
                            "cannot be written to, so nothing was recorded (neither your "
                            "request nor your message). Try again later, or without the "
                            "attachment."))
        self.status = 507 if exc.errno in _FULL else 503
        self.errno = exc.errno


def backend() -> str:
    """The configured backend: ``local`` or ``database``."""
    name = (current_app.config.get("STORAGE_BACKEND") or "local").strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")
    return name


def directory(area: str) -> Path:
    """The local backend's directory of ``area``."""
    instance = Path(current_app.instance_path)
    configured = current_app.config.get("ATTACHMENT_DIR")
    attachments = Path(configured) if configured else instance / "attachments"
    return {"attachments": attachments, "kb": attachments / "kb",
            "census_signed": instance / "census_signed",
            "inventory_imports": instance / "inventory_imports"}[area]


def _checked_name(name: str) -> str:
    if not name or not name.replace(".", "").isalnum() or name.startswith("."):
        raise ValueError("bad stored name")
    return name


# --- writing ---------------------------------------------------------------------------

def write(session: Session, area: str, data: bytes, *, suffix: str = "",
          to: str | None = None) -> str:
    """Store ``data`` under a new random name in ``area``, kept only if ``session``
    commits; return the name. Raises StorageFailed."""
    name = secrets.token_hex(16) + suffix
    if (to or backend()) == "database":
        _db_write(session, area, name, [data])
        return name
    session.connection()  # a transaction is open: its end decides the file's fate
    folder = directory(area)
    final, tmp = folder / name, folder / f".{name}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_synced(tmp, [data])
        tmp.replace(final)
    except OSError as exc:
        if _exists(tmp):
            tmp.unlink(missing_ok=True)
        log.error("cannot store a file in %s: %s", folder, exc)
        raise StorageFailed(exc) from exc
    session.info.setdefault(_WRITTEN, []).append(final)
    return name


def _db_write(session: Session, area: str, name: str, pieces) -> None:
    """Insert ``pieces`` (byte strings of any size) as chunks of at most CHUNK bytes."""
    seq = 0
    for piece in pieces:
        view = memoryview(piece)
        for start in range(0, max(len(view), 1), CHUNK):
            if not view and seq:
                break
            session.execute(insert(StorageBlob).values(
                area=area, name=name, seq=seq, data=bytes(view[start:start + CHUNK])))
            seq += 1


def _write_synced(path: Path, pieces) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        for piece in pieces:
            view = memoryview(piece)
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


# --- reading ---------------------------------------------------------------------------

def chunks(area: str, name: str, *, source: str | None = None) -> Iterator[bytes]:
    """The file's bytes, one chunk at a time; FileNotFoundError when it is not stored."""
    name = _checked_name(name)
    if (source or backend()) == "database":
        return _db_chunks(area, name)
    return _file_chunks(directory(area) / name)


def _file_chunks(path: Path) -> Iterator[bytes]:
    handle = open(path, "rb")  # noqa: SIM115 - closed by the generator

    def generate():
        with handle:
            while piece := handle.read(CHUNK):
                yield piece
    return generate()


@contextmanager
def _connected(bind) -> Iterator[Connection]:
    """A pooled connection of ``bind`` (or ``bind`` itself: the tests' one connection)."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as conn:
        yield conn


def _db_chunks(area: str, name: str) -> Iterator[bytes]:
    """Each chunk in its own short query on a pooled connection: the generator may run
    after the request's session is gone (a streamed download)."""
    engine = db.engine
    with _connected(engine) as conn:
        count = conn.scalar(select(func.count()).select_from(StorageBlob)
                            .where(StorageBlob.area == area, StorageBlob.name == name))
    if not count:
        raise FileNotFoundError(f"{area}/{name}")

    def generate():
        for seq in range(count):
            with _connected(engine) as conn:
                piece = conn.scalar(select(StorageBlob.data).where(
                    StorageBlob.area == area, StorageBlob.name == name, StorageBlob.seq == seq))
            if piece is None:
                raise OSError(f"{area}/{name}: chunk {seq} is missing")
            yield bytes(piece)
    return generate()


def read(area: str, name: str) -> bytes:
    """The whole file (for the spreadsheet importer, which needs it all at once)."""
    return b"".join(chunks(area, name))


def size(area: str, name: str, *, source: str | None = None) -> int | None:
    """The file's size in bytes, None when it is not stored."""
    name = _checked_name(name)
    if (source or backend()) == "database":
        with _connected(db.engine) as conn:
            count, total = conn.execute(
                select(func.count(), func.sum(func.length(StorageBlob.data)))
                .where(StorageBlob.area == area, StorageBlob.name == name)).one()
        return int(total or 0) if count else None
    try:
        return (directory(area) / name).stat().st_size
    except FileNotFoundError:
        return None


def sha256(area: str, name: str, *, source: str | None = None) -> str:
    digest = hashlib.sha256()
    for piece in chunks(area, name, source=source):
        digest.update(piece)
    return digest.hexdigest()


class _ChunkReader(io.RawIOBase):
    """A read-only file over ``chunks`` (for ``send_file``, which streams a file object)."""

    def __init__(self, pieces: Iterator[bytes]):
        self._pieces, self._buffer = pieces, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            self._buffer = next(self._pieces, None)
            if self._buffer is None:
                self._buffer = b""
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def send(area: str, name: str, **options):
    """A streamed download of the stored file (``send_file``'s options); 404 when missing."""
    if backend() == "local":
        return send_file(directory(area) / _checked_name(name), **options)
    length = size(area, name)
    if length is None:
        raise NotFound()
    response = send_file(_ChunkReader(chunks(area, name)), **options)
    response.content_length = length
    return response


# --- removing --------------------------------------------------------------------------

def discard(session: Session, area: str, names) -> None:
    """Remove stored files with ``session``'s transaction: the rows at once (the database
    backend) or the files once it commits (local)."""
    names = [_checked_name(n) for n in names]
    if not names:
        return
    if backend() == "database":
        session.execute(delete(StorageBlob).where(StorageBlob.area == area,
                                                  StorageBlob.name.in_(names)))
        return
    folder = directory(area)
    session.info.setdefault(_DOOMED, []).extend(folder / n for n in names)


def names(area: str, *, source: str) -> Iterator[str]:
    """Every file stored in ``area`` of the backend ``source``."""
    if source == "database":
        with _connected(db.engine) as conn:
            found = list(conn.scalars(select(StorageBlob.name).where(StorageBlob.area == area)
                                      .distinct().order_by(StorageBlob.name)))
        return iter(found)
    folder = directory(area)
    if not folder.is_dir():
        return iter(())
    return iter(sorted(p.name for p in folder.iterdir()
                       if p.is_file() and not p.name.startswith(".")))


# --- moving between backends (``helpdesk storage move``) -------------------------------

def copy_to(area: str, name: str, *, source: str, target: str) -> str:
    """Copy one file from ``source`` to ``target`` (committed there), streamed; return
    the sha256 of what was read from the source."""
    digest = hashlib.sha256()

    def pieces():
        for piece in chunks(area, name, source=source):
            digest.update(piece)
            yield piece
    if target == "database":
        with Session(db.engine) as session, session.begin():
            session.execute(delete(StorageBlob).where(StorageBlob.area == area,
                                                      StorageBlob.name == name))
            _db_write(session, area, name, pieces())
        return digest.hexdigest()
    folder = directory(area)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.unlink(missing_ok=True)
    try:
        _write_synced(tmp, pieces())
        tmp.replace(folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    return digest.hexdigest()


def remove(area: str, name: str, *, source: str) -> None:
    """Delete one file from ``source`` now (committed)."""
    name = _checked_name(name)
    if source == "database":
        with Session(db.engine) as session, session.begin():
            session.execute(delete(StorageBlob).where(StorageBlob.area == area,
                                                      StorageBlob.name == name))
        return
    (directory(area) / name).unlink(missing_ok=True)


# --- the session hooks -----------------------------------------------------------------

def _keep(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_DOOMED, []):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.error("cannot remove %s after a commit: %s", path, exc)


def _discard_unless_committed(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit: its files go too."""
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_DOOMED, None)
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
