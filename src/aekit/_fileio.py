"""Atomic file writes: a reader (or a crash) never sees a half-written file, and a failed write leaves
the earlier file in place."""

import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# what open() would give a new file; mkstemp's files are private (0600), which would keep a model
# or a report from the colleagues a user's umask lets read them
_NEW_FILE_MODE = 0o666 & ~_umask()


def _write_temp(path, write):
    """Call ``write(tmp)`` for a temporary file beside ``path`` (same folder: the rename is atomic).
    The file gets the mode of the file it replaces, or that of a new file."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected the name of a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.fchmod(fd, stat.S_IMODE(path.stat().st_mode) if path.is_file() else _NEW_FILE_MODE)
        finally:
            os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    os.replace(_write_temp(path, write), path)


def atomic_write_files(contents: Mapping[str | os.PathLike, bytes]) -> None:
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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_write`)."""
    atomic_write_bytes(path, text.encode("utf-8"))
