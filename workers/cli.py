"""``helpdesk worker``, ``helpdesk cron``, ``helpdesk serve`` and ``helpdesk jobs …``."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

import workers
from helpdesk.core import logs, redisconn
from helpdesk.core.metrics import prepare_multiprocess_dir
from helpdesk.extensions import db
from workers import resilient
from workers import serve as runner
from workers.schedule import PERIODIC, build_scheduler, get_periodic


def _log_to_stderr() -> None:
    logs.configure(current_app.config.get("LOG_FORMAT", "text"))


def _use_redis(app) -> str:
    """Resolve the Redis URL (starting the embedded server if needed) for this process."""
    url = redisconn.redis_url(app)
    os.environ.setdefault("REDIS_URL", url)
    return url


def _queue_names(ctx, param, values) -> tuple[str, ...]:
    names = tuple(name.strip() for value in values for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in redisconn.QUEUES]
    if unknown:
        raise click.BadParameter(f"unknown queue {', '.join(unknown)}; known: "
                                 f"{', '.join(redisconn.QUEUES)}")
    return names


@click.command("worker")
@click.option("-q", "--queue", "queues", multiple=True, callback=_queue_names,
              help="Queue to serve (repeatable, or comma-separated: mail,default); all of "
                   f"them by default, mail first. Known: {', '.join(redisconn.QUEUES)}.")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--fork/--no-fork", default=False, show_default=True,
              help="Run each job in a forked work horse (RQ's Worker) instead of in this "
                   "process (SimpleWorker).")
@with_appcontext
def worker(queues, burst, fork):
    """Run an RQ worker on our queues, with RQ's scheduler for delayed jobs.

    By default jobs run in the worker process itself: a fork per job costs ~0.2 s, which
    caps a worker at a few notifications per second, while our jobs are short, take ids,
    commit or roll back whole and hold no state between runs. A crashed worker is
    restarted (by `helpdesk serve` or the service manager) and RQ marks its job abandoned;
    the outbox and inbound-mail sweeps queue the work again."""
    _log_to_stderr()
    app = current_app._get_current_object()
    _use_redis(app)
    # Forked work horses must not inherit pooled database connections, so the pool is
    # empty when the worker starts.
    db.engine.dispose()
    workers.set_app(app)
    names = queues or redisconn.QUEUES
    worker_class = resilient.HelpdeskForkWorker if fork else resilient.HelpdeskSimpleWorker
    connection = redisconn.get_redis()
    resilient.run_worker(
        lambda: worker_class([redisconn.get_queue(name) for name in names],
                             connection=connection),
        connection, burst=burst, name=f"worker ({', '.join(names)})")


@click.command("cron")
@with_appcontext
def cron():
    """Run the cron scheduler that enqueues the periodic jobs of workers.schedule."""
    _log_to_stderr()
    app = current_app._get_current_object()
    _use_redis(app)
    connection = redisconn.get_redis()
    tick = app.config.get("CRON_TICK_SECONDS") or None
    resilient.run_cron(lambda: build_scheduler(connection, tick=tick), connection)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--web-workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes.")
@with_appcontext
def serve(host, port, web_workers):
    """Run the web server, RQ workers and the cron scheduler until Ctrl-C."""
    app = current_app._get_current_object()
    if not runner.port_is_free(host, port):
        raise click.ClickException(f"{host}:{port} is already in use; pass --port")
    redis_url = _use_redis(app)
    metrics_dir = Path(app.instance_path) / "metrics"
    prepare_multiprocess_dir(metrics_dir)
    env = dict(os.environ, REDIS_URL=redis_url, HELPDESK_INSTANCE_PATH=app.instance_path,
               PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
               PYTHONUNBUFFERED="1")
    supervisor = runner.Supervisor(runner.children(host, port, web_workers), env)
    supervisor.install_signal_handlers()
    supervisor.start()
    try:
        url = f"http://{host}:{port}"
        ready = supervisor.wait_until_ready(host, port, redis_url)
        if supervisor.stop_signal is None:
            logins, note = runner.demo_logins()
            # The parent keeps no transaction open: on SQLite a job-context session holds
            # BEGIN IMMEDIATE, i.e. the database's write lock, until it is closed.
            db.session.remove()
            db.engine.dispose()
            database = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
            click.echo(runner.banner(url, redis_url, database.render_as_string(), logins, note))
            if not ready:
                click.echo(f"helpdesk serve: not all parts were ready after "
                           f"{runner.START_TIMEOUT}s (web at {url}, workers, cron); "
                           "they are restarted as they fail", err=True)
            supervisor.wait()
    finally:
        supervisor.stop()
    click.echo("helpdesk serve: stopped")


@click.group("jobs")
def cli():
    """List or run the periodic jobs."""


@cli.command("list")
def list_jobs():
    """Show the periodic job table."""
    for entry in PERIODIC:
        when = f"every {entry.interval}s" if entry.interval else f"cron '{entry.cron}'"
        click.echo(f"{entry.name:<28} {entry.queue:<8} {when:<16} {entry.func}")


@cli.command("run")
@click.argument("name")
@with_appcontext
def run_job(name):
    """Run one periodic job now, in this process."""
    try:
        entry = get_periodic(name)
    except KeyError:
        raise click.BadParameter(f"no periodic job named {name!r}", param_hint="NAME") from None
    workers.set_app(current_app._get_current_object())
    click.echo(f"{name}: {entry.load()()!r}")


#: Registered at the top level of ``helpdesk`` (see helpdesk.cli).
commands = [cli, worker, cron, serve]
