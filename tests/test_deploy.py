"""deploy/: the files an operator installs are consistent with the code, and the backup
scripts really back up and restore (PostgreSQL runs: pg_dump into a directory, the drill
restores the dump into a scratch database, the counts match)."""
from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpdesk import ROOT
from helpdesk.cli import main
from tests.conftest import test_database_url as pg_url

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8").replace("\\\n", " "))
    return parser


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_a_real_helpdesk_command(path):
    unit = _unit(path)
    service = unit["Service"]
    assert service["EnvironmentFile"] == "/etc/arogi/arogi.env"
    assert "helpdesk check --settings-only" in service["ExecStartPre"]
    argv = shlex.split(service["ExecStart"].replace("%i", "mail,default"))
    program = Path(argv[0]).name
    assert program in {"helpdesk", "gunicorn"}
    if program == "helpdesk":
        # The command and its options exist (click parses them without running anything).
        context = main.make_context("helpdesk", [*argv[1:], "--help"], resilient_parsing=True)
        command = main
        for name in argv[1:]:
            if name.startswith("-"):
                break
            command = command.get_command(context, name) if hasattr(command, "get_command") \
                else command
            assert command is not None, f"{path.name}: no command {name}"
    else:
        assert argv[-1] == "helpdesk:create_app()"


def test_env_example_names_only_settings_the_app_reads():
    config_keys = {line.split("=")[0].strip() for line in
                   (ROOT / "config" / "default.py").read_text(encoding="utf-8").splitlines()
                   if line and line[0].isupper() and "=" in line}
    for line in (DEPLOY / "arogi.env.example").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("=")[0]
        if name in {"DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"}:
            continue
        assert name.startswith("HELPDESK_"), name
        key = name[len("HELPDESK_"):]
        assert key in config_keys or key == "INSTANCE_PATH", f"{name} is read by nothing"


@pytest.mark.skipif(not pg_url() or not shutil.which("pg_dump"),
                    reason="PostgreSQL runs with pg_dump installed")
def test_backup_and_restore_drill(app, tmp_path):
    url = make_url(pg_url())
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    scratch = url.set(database=f"{url.database}_restore")
    admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))
        connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    files = tmp_path / "files"
    (files / "attachments").mkdir(parents=True)
    (files / "attachments" / "abc").write_bytes(b"an attachment")
    try:
        out = subprocess.run([DEPLOY / "backup" / "arogi-backup.sh", libpq, files,
                              tmp_path / "backups", "30"], check=True, capture_output=True,
                             text=True).stdout
        dump = Path(out.split("backup: ")[1].strip())
        assert dump.stat().st_size > 0 and not list((tmp_path / "backups").glob(".*part"))
        listing = subprocess.run(["tar", "-tf", str(dump).replace(".dump", ".files.tar")],
                                 check=True, capture_output=True, text=True).stdout
        assert "./attachments/abc" in listing
        drill = subprocess.run(
            [DEPLOY / "backup" / "restore-drill.sh", tmp_path / "backups",
             scratch.set(drivername="postgresql").render_as_string(hide_password=False)],
            check=True, capture_output=True, text=True).stdout
        assert "restored" in drill
        counts = []
        for target in (url, scratch):
            engine = create_engine(target.set(drivername="postgresql+psycopg"))
            with engine.connect() as connection:
                counts.append([connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                               for table in ("schools", "directorates", "alembic_version")])
            engine.dispose()
        assert counts[0] == counts[1] and counts[0][0] > 0
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}"'))
        admin.dispose()
