"""The file store's two backends (STORAGE_BACKEND = local | database) and
``helpdesk storage move``: on the suite's database (SQLite, then PostgreSQL)."""
from __future__ import annotations

import hashlib
import io
import os

import pytest
from sqlalchemy import func, select

from helpdesk.core import filestore
from helpdesk.core.filestore import StorageBlob
from helpdesk.extensions import db as _db
from helpdesk.ops import readiness, storage_move
from helpdesk.tickets.models import Attachment
from tests.factories import World, category
from tests.web import csrf_token, login

BIG = os.urandom(filestore.CHUNK * 2 + 1234)  # three chunks


@pytest.fixture
def w(db):
    return World()


@pytest.fixture
def local_dirs(app, tmp_path, monkeypatch):
    """Every local area under tmp_path (attachments via ATTACHMENT_DIR, the rest via the
    instance path)."""
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture(params=["local", "database"])
def backend(request, app, local_dirs, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", request.param)
    return request.param


def _blob_rows(name):
    return _db.session.scalar(select(func.count()).select_from(StorageBlob)
                              .where(StorageBlob.name == name))


def test_a_file_is_kept_with_the_commit_and_read_back_in_chunks(db, backend):
    name = filestore.write(_db.session(), "attachments", BIG)
    _db.session.commit()
    pieces = list(filestore.chunks("attachments", name))
    assert b"".join(pieces) == BIG and max(map(len, pieces)) <= filestore.CHUNK
    assert filestore.size("attachments", name) == len(BIG)
    assert filestore.sha256("attachments", name) == hashlib.sha256(BIG).hexdigest()
    if backend == "database":
        assert _blob_rows(name) == 3


def test_a_rollback_forgets_the_file(db, backend):
    name = filestore.write(_db.session(), "kb", b"draft")
    _db.session.rollback()
    assert filestore.size("kb", name) is None
    with pytest.raises(FileNotFoundError):
        list(filestore.chunks("kb", name))


def test_a_discarded_file_goes_only_with_the_commit(db, backend):
    name = filestore.write(_db.session(), "census_signed", b"%PDF-1.4 x")
    _db.session.commit()
    filestore.discard(_db.session(), "census_signed", [name])
    _db.session.rollback()
    assert filestore.size("census_signed", name) == 10
    filestore.discard(_db.session(), "census_signed", [name])
    _db.session.commit()
    assert filestore.size("census_signed", name) is None


def test_the_database_backend_serves_a_streamed_download(client, w, app, local_dirs,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "database")
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", len(BIG) + 10)
    login(client, w.user_a)
    body = b"%PDF-1.4\n" + BIG
    answer = client.post("/tickets/new", content_type="multipart/form-data", data={
        "category": str(category("HW-PRN").id), "subject": "Σαρωτής", "description": "Δείτε τη σάρωση.",
        "priority": "2", "csrf_token": csrf_token(client, "/tickets/new"),
        "attachments": [(io.BytesIO(body), "σάρωση.pdf")]})
    assert answer.status_code == 302
    a = _db.session.scalar(select(Attachment).order_by(Attachment.id.desc()))
    assert _blob_rows(a.stored_name) == 3
    assert not (local_dirs / "attachments" / a.stored_name).exists()
    download = client.get(f"/attachments/{a.id}", buffered=False)
    assert download.status_code == 200 and download.is_streamed
    assert int(download.headers["Content-Length"]) == len(body)
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_data() == body
    download.close()


def test_readiness_checks_the_configured_backend(app, db, local_dirs, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "database")
    assert readiness.storage().ok
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "floppy")
    assert readiness.storage() == readiness.Check("storage", False, "unknown STORAGE_BACKEND")


def _store_everywhere(backend_name):
    """One file in each area, committed in ``backend_name``; returns {(area, name): data}."""
    stored = {}
    for i, area in enumerate(filestore.AREAS):
        data = BIG if area == "attachments" else f"file {i}".encode() * 1000
        stored[(area, filestore.write(_db.session(), area, data, to=backend_name))] = data
    _db.session.commit()
    return stored


def _all_at(stored, backend_name):
    return all(b"".join(filestore.chunks(a, n, source=backend_name)) == data
               for (a, n), data in stored.items())


def _none_at(stored, backend_name):
    return all(filestore.size(a, n, source=backend_name) is None for (a, n) in stored)


def test_moving_to_the_database_and_back(app, db, local_dirs, monkeypatch):
    stored = _store_everywhere("local")
    dry = storage_move.move("database", dry_run=True)
    assert (dry.moved, dry.already, dry.failed) == (4, 0, 0)
    assert _all_at(stored, "local") and _none_at(stored, "database")

    done = storage_move.move("database")
    assert (done.moved, done.already, done.failed) == (4, 0, 0)
    assert done.bytes == sum(map(len, stored.values()))
    assert _all_at(stored, "database") and _none_at(stored, "local")
    again = storage_move.move("database")
    assert (again.moved, again.already, again.failed) == (0, 0, 0)

    back = storage_move.move("local")
    assert (back.moved, back.failed) == (4, 0)
    assert _all_at(stored, "local") and _none_at(stored, "database")
    assert not list(local_dirs.rglob(".*.part"))


def test_an_interrupted_move_is_finished_by_the_next_run(app, db, local_dirs):
    stored = _store_everywhere("local")
    (area, name), data = next(iter(stored.items()))
    # the run stopped after copying this file, before removing its source
    filestore.copy_to(area, name, source="local", target="database")
    done = storage_move.move("database")
    assert (done.moved, done.already, done.failed) == (3, 1, 0)
    assert _all_at(stored, "database") and _none_at(stored, "local")


def test_a_copy_whose_checksum_differs_keeps_the_source(app, db, local_dirs, monkeypatch):
    stored = _store_everywhere("local")
    real = filestore.sha256

    def corrupted(area, name, *, source=None):
        return "0" * 64 if source == "database" else real(area, name, source=source)
    monkeypatch.setattr(filestore, "sha256", corrupted)
    done = storage_move.move("database")
    assert (done.moved, done.failed) == (0, 4)
    assert _all_at(stored, "local") and _none_at(stored, "database")


def test_the_move_command_reports_counts(app, db, local_dirs):
    _store_everywhere("local")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["storage", "move", "--to", "database", "--dry-run"])
    assert dry.exit_code == 0 and "would move 4 file(s)" in dry.output
    assert "nothing was changed" in dry.output
    done = runner.invoke(args=["storage", "move", "--to", "database"])
    assert done.exit_code == 0, done.output
    assert "moved 4 file(s)" in done.output and "0 failed" in done.output
    again = runner.invoke(args=["storage", "move", "--to", "database"])
    assert "moved 0 file(s)" in again.output
