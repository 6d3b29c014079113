"""A scratch instance for a benchmark script: its own directory and database, migrated,
with the reference organisation loaded, and this process's environment pointed at it."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scratch_instance(prefix: str, database_url: str = "") -> tuple[Path, dict]:
    """(work directory, environment) of a fresh instance; SQLite inside it by default."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(os.environ, HELPDESK_INSTANCE_PATH=str(work),
               HELPDESK_DATABASE_URL=database_url or f"sqlite:///{work / 'bench.db'}")
    helpdesk = [str(ROOT / ".venv/bin/helpdesk")]
    subprocess.run(helpdesk + ["db", "upgrade", "heads"], env=env, check=True, capture_output=True)
    subprocess.run(helpdesk + ["org", "load"], env=env, check=True, capture_output=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    return work, env
