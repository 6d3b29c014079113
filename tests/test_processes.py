"""The runner's parts as real processes: supervision, Redis outages, a SIGKILLed worker.

Each test starts real processes (Python children, ``helpdesk worker`` / ``cron`` on a
private redis-server started here) and no mocks.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import redis

from helpdesk import ROOT
from workers import resilient
from workers import serve as runner


def test_restart_delay_doubles_to_a_cap_and_resets_after_a_healthy_run():
    assert runner.next_restart_delay(1, ran_for=0.5) == 2
    assert runner.next_restart_delay(32, ran_for=3) == runner.RESTART_MAX
    assert runner.next_restart_delay(60, ran_for=runner.HEALTHY_AFTER + 1) == runner.RESTART_FIRST
    delays = resilient.backoff_delays(1, 2, 30)
    assert [next(delays) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def _grandchild_script(marker: Path) -> str:
    return ("import subprocess, sys, time; "
            f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
            f"open({str(marker)!r}, 'w').write(str(p.pid)); time.sleep(120)")


def test_a_dying_child_is_restarted_and_does_not_stop_the_others(tmp_path, capfd):
    marker = tmp_path / "grandchild.pid"
    steady = runner.Child("steady", [sys.executable, "-c", _grandchild_script(marker)])
    crashing = runner.Child("crashing", [sys.executable, "-c", "import sys; sys.exit(3)"])
    supervisor = runner.Supervisor([steady, crashing], dict(os.environ))
    supervisor.start()
    try:
        first_pid = steady.process.pid
        deadline = time.monotonic() + 8
        while crashing.restarts < 2 and time.monotonic() < deadline:
            supervisor.supervise_once()
            time.sleep(0.1)
        assert crashing.restarts >= 2
        assert steady.is_running and steady.process.pid == first_pid
        assert crashing.next_delay >= 2  # backing off
        while not marker.exists():
            time.sleep(0.05)
        grandchild = int(marker.read_text())
        assert psutil.pid_exists(grandchild)
    finally:
        supervisor.stop()
    err = capfd.readouterr().err
    assert "crashing exited (code 3)" in err and "crashing started again" in err
    time.sleep(0.3)
    # The whole group went, the grandchild included.
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == "zombie"


def _helpdesk(tmp_path, redis_url, *args, **settings) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")
           and k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(REDIS_URL=redis_url, HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'instance' / 'h.db'}", PYTHONUNBUFFERED="1")
    env.update({f"HELPDESK_{key}": str(value) for key, value in settings.items()})
    return subprocess.Popen([sys.executable, "-m", "workers", *args], env=env, cwd=ROOT,
                            stdout=open(tmp_path / f"{args[0]}.log", "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def stop_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise


def test_cron_rides_out_a_redis_outage_and_runs_again(tmp_path, private_redis):
    from rq.cron import CronScheduler

    cron = _helpdesk(tmp_path, private_redis.url, "cron", CRON_TICK_SECONDS=2)
    try:
        _wait(lambda: any(c.pid == cron.pid for c in CronScheduler.all(private_redis.client)),
              30, "cron registered")
        private_redis.stop()
        time.sleep(4)
        assert cron.poll() is None, (tmp_path / "cron.log").read_text()
        private_redis.restart()
        # Registered again on the new server, and the periodic jobs queued (catch-up).
        _wait(lambda: any(c.pid == cron.pid for c in CronScheduler.all(private_redis.client)),
              40, "cron registered again after the outage")
        _wait(lambda: private_redis.client.llen("rq:queue:mail") > 0, 10, "jobs queued")
    finally:
        stop_group(cron)
    log = (tmp_path / "cron.log").read_text()
    assert "Redis answers again" in log
    assert cron.returncode == 0, log[-2000:]


def test_a_sigkilled_worker_leaves_no_scheduler_holding_the_lock(tmp_path, private_redis):
    worker = _helpdesk(tmp_path, private_redis.url, "worker", "-q", "mail")
    lock = "rq:scheduler-lock:mail"
    try:
        _wait(lambda: private_redis.client.exists(lock), 30, "the scheduler took its lock")
        _wait(lambda: psutil.Process(worker.pid).children(), 10, "the scheduler child")
        scheduler_child = psutil.Process(worker.pid).children()[0]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(5)
        _wait(lambda: not scheduler_child.is_running()
              or scheduler_child.status() == psutil.STATUS_ZOMBIE, 15, "the scheduler stopped")
        _wait(lambda: not private_redis.client.exists(lock), 5, "the lock released")
    finally:
        stop_group(worker)


def test_a_worker_rides_out_a_redis_outage(tmp_path, private_redis):
    from rq import Queue, Worker

    worker = _helpdesk(tmp_path, private_redis.url, "worker", "-q", "mail")
    try:
        _wait(lambda: any(w.pid == worker.pid for w in Worker.all(connection=private_redis.client)),
              30, "the worker registered")
        private_redis.stop()
        time.sleep(5)
        assert worker.poll() is None
        private_redis.restart()
        # The same process takes work again (jobs run in the worker process itself).
        job = Queue("mail", connection=private_redis.client).enqueue("os.getpid")
        _wait(lambda: job.get_status(refresh=True) == "finished", 90, "the job ran")
        assert job.return_value() == worker.pid
    finally:
        stop_group(worker)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-2000:]


def test_two_schedulers_run_each_periodic_job_once(tmp_path, private_redis):
    """Two ``helpdesk cron`` processes on one Redis (two machines): every interval job is
    queued once per interval, not twice."""
    from rq.cron import get_cron_job_ids

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    crons = [_helpdesk(tmp_path / name, private_redis.url, "cron", CRON_TICK_SECONDS=3)
             for name in ("a", "b")]
    try:
        _wait(lambda: len(get_cron_job_ids("outbox-sweep", private_redis.client)) >= 1, 30,
              "the first run queued")
        started = time.monotonic()
        time.sleep(10)
        elapsed = time.monotonic() - started
        assert all(c.poll() is None for c in crons)
    finally:
        for cron in crons:
            stop_group(cron)
    runs = len(get_cron_job_ids("outbox-sweep", private_redis.client))
    # One scheduler alone: a run every 3 s (and the first); two uncoordinated: twice that.
    assert 2 <= runs <= elapsed / 3 + 2, runs
