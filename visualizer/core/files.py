"""Reading and writing the files a user hands the app: bounded reads of regular files only, atomic writes.

A FIFO, a device such as /dev/zero or a file of gigabytes given where a small text file belongs must be a message,
never a hang or a MemoryError; a write never leaves a half-written file in place of a good one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from visualizer.core.errors import VisualizerError

KIB, MIB = 1024, 1024 * 1024


@contextlib.contextmanager
def open_regular(path: str | Path, what: str):
    """``(fd, size)`` of the regular file ``path`` (symlinks followed), opened for reading without ever blocking: a
    FIFO, a device or a folder is a VisualizerError naming the file and ``what`` it should be, raised before any
    read. The descriptor is closed on leaving."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO opens at once instead of waiting
    except FileNotFoundError:
        raise VisualizerError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise VisualizerError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    except ValueError:  # a NUL character in the name
        raise VisualizerError(f"{path!r}: not a usable file name for a {what} (it holds a NUL character)") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise VisualizerError(f"{path}: is {kind}; expected a {what}")
        yield fd, info.st_size
    finally:
        os.close(fd)


def regular_file_size(path: str | Path, what: str) -> int:
    """The size of the regular file ``path``; anything else (missing, a FIFO, a device, a folder) is a
    VisualizerError, found without reading or blocking."""
    with open_regular(path, what) as (_fd, size):
        return size


def read_head(path: str | Path, n: int, what: str) -> tuple[bytes, int]:
    """The first ``n`` bytes of the regular file ``path`` and its size (see ``open_regular``)."""
    try:
        with open_regular(path, what) as (fd, size), os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(n), size
    except OSError as exc:
        raise VisualizerError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None


def read_bytes_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path`` (symlinks followed), refusing anything else or more than ``limit``
    bytes with a VisualizerError that names the file and ``what`` it should be."""
    path = Path(path)
    try:
        with open_regular(path, what) as (fd, size):
            if size > limit:
                raise VisualizerError(f"{path}: {size:,} bytes is too large for a {what} (at most {limit:,})")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                data = fh.read(limit + 1)
    except OSError as exc:
        raise VisualizerError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise VisualizerError(f"{path}: more than {limit:,} bytes is too large for a {what}")
    return data


def read_text_bounded(path: str | Path, limit: int, what: str) -> str:
    """``read_bytes_bounded`` decoded as UTF-8 (a byte-order mark is dropped)."""
    data = read_bytes_bounded(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VisualizerError(f"{path}: the {what} is not UTF-8 text (byte {exc.start})") from None


def atomic_write_text(path: Path, text: str) -> Path:
    """Write text to a temporary file beside ``path`` and rename it into place."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, payload: bytes) -> Path:
    """Write bytes to a temporary file beside ``path`` and rename it into place, with the permissions a new file
    gets from the umask (mkstemp's 0600 would hide the user's own results from the rest of their system)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        give_umask_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def give_umask_permissions(path: str | Path) -> None:
    """The permissions a new file gets from the umask (mkstemp's 0600 would hide the user's results)."""
    os.chmod(path, 0o666 & ~_UMASK)


def _read_umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: done once, at import, and put straight back
    os.umask(mask)
    return mask


_UMASK = _read_umask()
