"""``helpdesk storage move``: the stored files from one backend to the other.

Each file is copied (streamed, chunk by chunk), the copy is read back and its sha256
compared with the source's, and only then the source is removed. A file already at the
target with the same checksum is only removed from the source, so a run that stopped
half-way (or runs twice) finishes the move; a file whose copy does not match stays at
the source and is counted as failed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from helpdesk.core import filestore

log = logging.getLogger(__name__)


@dataclass
class Moved:
    moved: int = 0
    already: int = 0
    failed: int = 0
    bytes: int = 0
    failures: list[str] = field(default_factory=list)


def other(backend: str) -> str:
    return "local" if backend == "database" else "database"


def move(target: str, *, dry_run: bool = False, areas=filestore.AREAS) -> Moved:
    """Move every file of ``areas`` from the other backend to ``target``."""
    source, done = other(target), Moved()
    for area in areas:
        for name in filestore.names(area, source=source):
            try:
                _move_one(area, name, source, target, dry_run, done)
            except (OSError, ValueError) as exc:
                log.error("storage move: %s/%s failed: %s", area, name, exc)
                done.failed += 1
                done.failures.append(f"{area}/{name}: {type(exc).__name__}")
    return done


def _move_one(area: str, name: str, source: str, target: str, dry_run: bool,
              done: Moved) -> None:
    length = filestore.size(area, name, source=source) or 0
    there = filestore.size(area, name, source=target)
    if there is not None and there == length:
        if filestore.sha256(area, name, source=target) == filestore.sha256(area, name,
                                                                           source=source):
            done.already += 1
            if not dry_run:
                filestore.remove(area, name, source=source)
            return
    if dry_run:
        done.moved += 1
        done.bytes += length
        return
    expected = filestore.copy_to(area, name, source=source, target=target)
    if filestore.sha256(area, name, source=target) != expected:
        filestore.remove(area, name, source=target)
        done.failed += 1
        done.failures.append(f"{area}/{name}: checksum differs")
        return
    filestore.remove(area, name, source=source)
    done.moved += 1
    done.bytes += length
