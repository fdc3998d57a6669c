"""Atomic file writes: a reader (or a crash) never sees a half-written file, and a failed write leaves
the earlier file in place."""

import os
import tempfile
from pathlib import Path


def _write_temp(path, write):
    """Call ``write(tmp)`` for a temporary file beside ``path`` (same folder: the rename is atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def atomic_write(path, write):
    """Call ``write(tmp_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    os.replace(_write_temp(path, write), path)


def atomic_write_files(contents):
    """Write several files ``{path: bytes}`` as one step: all are written in full before any is renamed
    into place, so a failure while writing leaves every earlier file as it was."""
    temps = []
    try:
        for path, data in contents.items():
            temps.append((_write_temp(Path(path), lambda tmp, data=data: Path(tmp).write_bytes(data)), path))
    except BaseException:
        for tmp, _ in temps:
            os.unlink(tmp)
        raise
    for tmp, path in temps:
        os.replace(tmp, path)


def atomic_write_bytes(path, data: bytes):
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))
