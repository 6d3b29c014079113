"""The plumbing: embedded Redis, RQ, the periodic table, migrations, ``helpdesk serve``."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from alembic.script import ScriptDirectory
from flask import Flask
from rq import SimpleWorker

from helpdesk import ROOT
from helpdesk.core import redisconn
from helpdesk.extensions import db as _db
from workers import schedule

MIGRATIONS = ROOT / "migrations"


def add(a, b):
    return a + b


def bare_app(instance: Path, **config) -> Flask:
    app = Flask("bare", instance_path=str(instance))
    app.config.update(config)
    return app


@pytest.fixture
def instance(tmp_path):
    yield tmp_path / "instance"
    redisconn.stop_embedded(tmp_path / "instance")


# --- Redis ---------------------------------------------------------------------------

def test_without_redis_url_a_real_server_starts_once_and_rq_runs_a_job(instance):
    app = bare_app(instance)
    url = redisconn.redis_url(app)
    assert url == f"unix://{instance.resolve() / 'redis.sock'}"
    assert redisconn.redis_url(app) == url  # once per process
    with app.app_context():
        assert redisconn.get_redis().ping()
        queue = redisconn.get_queue("mail")
        job = queue.enqueue(add, 2, 3)
        SimpleWorker([queue], connection=redisconn.get_redis()).work(burst=True)
        assert job.return_value() == 5


def test_a_second_process_attaches_to_the_same_server(instance):
    app = bare_app(instance)
    redis.Redis.from_url(redisconn.redis_url(app)).set("greeting", "γεια")
    code = (
        "from flask import Flask; import redis; from helpdesk.core import redisconn\n"
        f"app = Flask('x', instance_path={str(instance)!r})\n"
        "url = redisconn.redis_url(app)\n"
        "print(url, redis.Redis.from_url(url).get('greeting').decode(), len(redisconn._servers))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=30, cwd=ROOT).stdout.split()
    assert out == [redisconn.redis_url(app), "γεια", "0"]  # attached, did not start one


def test_the_embedded_server_saves_on_stop_and_reloads(instance):
    app = bare_app(instance)
    redis.Redis.from_url(redisconn.redis_url(app)).set("kept", "1")
    redisconn.stop_embedded(instance)
    assert not (instance / "redis.sock").exists()
    assert (instance / "redis.rdb").exists()
    assert redis.Redis.from_url(redisconn.redis_url(app)).get("kept") == b"1"


def test_unknown_queue_is_refused(instance):
    with bare_app(instance, REDIS_URL="redis://127.0.0.1:1/0").app_context():
        with pytest.raises(ValueError):
            redisconn.get_queue("urgent")


@pytest.mark.parametrize("configured, expected", [
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("rediss://user:pw@host:6380/2", "rediss://user:pw@host:6380/2"),
    ("unix:///run/redis/redis.sock?db=1", "redis+unix:///run/redis/redis.sock?db=1"),
])
def test_limiter_storage_follows_redis_url(instance, configured, expected):
    assert redisconn.limiter_storage_uri(bare_app(instance, REDIS_URL=configured)) == expected


def test_limiter_storage_is_memory_and_starts_nothing_without_redis_url(instance):
    app = bare_app(instance, REDIS_URL="")
    assert redisconn.limiter_storage_uri(app) == "memory://"
    assert not (instance / "redis.sock").exists()
    url = redisconn.redis_url(app)  # once this process has the embedded server, use it
    assert redisconn.limiter_storage_uri(app) == url.replace("unix://", "redis+unix://")


def test_creating_the_app_starts_no_redis(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path / "instance", f"sqlite:///{tmp_path / 'unused.db'}")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert not (tmp_path / "instance" / "redis.sock").exists()


# --- jobs and the periodic table -----------------------------------------------------------

def test_periodic_table_is_valid():
    names = [entry.name for entry in schedule.PERIODIC]
    assert names and len(names) == len(set(names))
    for entry in schedule.PERIODIC:
        assert callable(entry.load()), entry.func
        assert entry.func.startswith("workers."), entry.func  # jobs live in workers/, not helpdesk/
        assert entry.queue in redisconn.QUEUES


def test_periodic_entries_are_checked():
    with pytest.raises(ValueError):
        schedule.Periodic("x", "workers.jobs.close_resolved_tickets", "default")
    with pytest.raises(ValueError):
        schedule.Periodic("x", "workers.jobs.close_resolved_tickets", "default", 60, "* * * * *")
    with pytest.raises(ValueError):
        schedule.Periodic("x", "workers.jobs.close_resolved_tickets", "urgent", 60)


def test_scheduler_registers_and_enqueues_the_table(redis_server):
    from rq import Queue

    connection = redis.Redis.from_url(redis_server)
    connection.flushdb()
    scheduler = schedule.build_scheduler(connection)
    assert [job.name for job in scheduler.get_jobs()] == [e.name for e in schedule.PERIODIC]
    scheduler.enqueue_jobs()  # interval jobs are due at start
    for entry in schedule.PERIODIC:
        if entry.interval:
            assert entry.func in [job.func_name for job in Queue(entry.queue,
                                                                  connection=connection).jobs]


def test_close_resolved_tickets_runs_through_rq(db, redis_server):
    from rq import Queue

    from workers.jobs import close_resolved_tickets

    connection = redis.Redis.from_url(redis_server)
    queue = Queue("slow", connection=connection)
    job = queue.enqueue(close_resolved_tickets)
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert job.get_status() == "finished", job.latest_result().exc_string
    assert job.return_value() >= 0
    assert close_resolved_tickets() == 0  # safe to run twice: nothing left


def test_jobs_cli_lists_the_table(app):
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    assert "close-resolved-tickets" in result.output


# --- migrations ----------------------------------------------------------------------------

def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def _require_revisions():
    if not list((MIGRATIONS / "versions").glob("*.py")):
        pytest.skip("migrations/versions/ has no revision yet (generate it with "
                    "`helpdesk db migrate`)")


def test_migrations_have_a_single_head():
    _require_revisions()
    assert len(_script().get_heads()) == 1, _script().get_heads()


def test_migrated_schema_matches_the_models(app):
    """The run's database was built by the migrations from empty, and autogenerate
    (with the filters of migrations/env.py) finds nothing left to do."""
    _require_revisions()
    from alembic import command

    with app.app_context():
        command.check(app.extensions["migrate"].migrate.get_config())


def test_migrations_upgrade_downgrade_and_upgrade_again(tmp_path):
    """From an empty SQLite file to head, back to base, and up again."""
    _require_revisions()
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from tests.conftest import make_app

    app = make_app(tmp_path / "instance", f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade()
        assert set(inspect(_db.engine).get_table_names()) >= set(_db.metadata.tables)
        downgrade(revision="base")
        assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        _db.engine.dispose()


def test_a_live_sqlite_database_upgrades_in_place(tmp_path):
    """Users with rows pointing at them (foreign keys on): the latest revisions must not
    rebuild a referenced table, which SQLite refuses ("FOREIGN KEY constraint failed")."""
    _require_revisions()
    from flask_migrate import upgrade
    from sqlalchemy import inspect, text

    from tests.conftest import make_app

    app = make_app(tmp_path / "instance", f"sqlite:///{tmp_path / 'live.db'}")
    with app.app_context():
        upgrade(revision="audit01log")
        with _db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, name, role, password_hash, locale, "
                "is_active_account, session_version, created_at) VALUES (1, 'a@sch.gr', "
                "'Α', 'admin', '', 'el', 1, 1, '2026-12-01 08:00:00')"))
            conn.execute(text(
                "INSERT INTO audit_log (id, actor_id, at, action, object_type, object_id, "
                "before, after) VALUES (1, 1, '2026-12-01 08:00:00', 'x', 'user', 1, "
                "'{}', '{}')"))
        upgrade()
        columns = {c["name"] for c in inspect(_db.engine).get_columns("users")}
        assert {"psd_uid", "name_folded"} <= columns
        with _db.engine.connect() as conn:
            assert conn.execute(text("SELECT name_folded FROM users")).scalar() == "α"
        _db.engine.dispose()


# --- helpdesk serve ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_web_worker_and_cron_and_stops_them_on_sigterm(tmp_path):
    port = _free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "HELPDESK_REDIS_URL", "DATABASE_URL", "HELPDESK_DATABASE_URL")}
    env.update(HELPDESK_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "workers", "serve", "--port", str(port),
                             "--web-workers", "1"], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "is serving at" in line:
                break
        assert f"is serving at http://127.0.0.1:{port}" in "".join(output), "".join(output)
        try:
            status = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10).status
        except urllib.error.HTTPError as exc:  # the app answered
            status = exc.code
        assert 200 <= status < 600
        assert (instance / "redis.sock").exists()
        children = _children_of(proc.pid)
        assert len(children) >= 3, children
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=40)
        output.append(rest)
    assert proc.returncode == 0, "".join(output)
    assert "stopped" in rest
    assert not _alive(children)
    assert not (instance / "redis.sock").exists()  # the embedded Redis saved and stopped


def _children_of(pid: int) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(pid).children()]


def _alive(pids: list[int]) -> list[int]:
    import psutil

    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


# --- the browser harness ------------------------------------------------------------------

@pytest.mark.browser
def test_chromium_reaches_the_live_server(page, live_server):
    response = page.goto(live_server + "/login")
    assert response is not None and response.status == 200
    assert page.locator("input[name=csrf_token]").count() >= 1  # CSRF is on


def test_two_schedulers_claim_each_due_run_once(redis_server):
    from rq import Queue

    connection = redis.Redis.from_url(redis_server)
    connection.flushdb()
    first, second = schedule.build_scheduler(connection), schedule.build_scheduler(connection)
    first.enqueue_jobs()
    second.enqueue_jobs()  # same moment: every interval job is already claimed
    for entry in schedule.PERIODIC:
        if entry.interval:
            queued = [job.func_name for job in Queue(entry.queue, connection=connection).jobs]
            assert queued.count(entry.func) == 1, entry.name
    # A crontab job due now is claimed for its minute: one of the two queues it.
    for scheduler in (first, second):
        job = next(j for j in scheduler.get_jobs() if j.cron)
        job.next_enqueue_time = job.latest_enqueue_time = None
    at = datetime(2026, 12, 3, 6, 15, tzinfo=UTC)
    due = [schedule.claim(connection, next(j for j in s.get_jobs() if j.cron), at)
           for s in (first, second)]
    assert due == [True, False]
