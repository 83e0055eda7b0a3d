"""Writing files without ever leaving half of one: a temporary file beside the target, then a rename.

A failed write (a full disk, a folder that does not exist, a name too long) raises
``OutputFileError`` naming the file and the reason, and leaves the target as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from lmtoy.errors import OutputFileError

NAME_MAX = 255  # bytes in one file name on the usual file systems


def write_with(path: str | Path, write: Callable, replace: Callable | None = None, what: str = "") -> Path:
    """Write ``path`` atomically: ``write(file)`` fills a temporary binary file beside it,
    which is flushed to disk, then ``replace(temporary, path) -> Path`` (default: one
    ``os.replace``) puts it in place; returns the path written.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` is untouched; an
    OSError becomes OutputFileError("PATH: cannot write WHAT (REASON)").
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a rename would put the file in place of a device or pipe
        raise OutputFileError(f"{shorten(str(path))}: cannot write{f' {what}' if what else ''} (not a regular file)")
    temporary = temporary_for(path)  # same folder: the rename is atomic
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if replace is None:
            os.replace(temporary, path)
            return path
        return replace(temporary, path)
    except BaseException as error:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass  # e.g. the folder is a file (NotADirectoryError again): nothing was written
        if isinstance(error, OSError):
            what = f" {what}" if what else ""
            raise OutputFileError(f"{shorten(str(path))}: cannot write{what} ({error.strerror or error})") from None
        raise


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``write_with``)."""
    write_with(path, lambda file: file.write(data))


def fit_name(name: str, room: int) -> str:
    """``name`` cut (whole characters) so that it takes at most ``room`` bytes in the file system."""
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return name


def temporary_for(path: Path) -> Path:  # ".NAME.PID.tmp" beside path, within NAME_MAX bytes
    tail = f".{os.getpid()}.tmp"
    return path.with_name("." + fit_name(path.name, NAME_MAX - 1 - len(tail)) + tail)


def check_writable(path: str | Path) -> None:
    """Create and remove the temporary file ``write_with`` would write beside ``path``, and
    ``path`` itself when nothing is there: a folder one may not write in, or a name the file
    system refuses (too long), fails now with OSError rather than after long work."""
    path = Path(path)
    for probe in [temporary_for(path)] + ([] if os.path.lexists(path) else [path]):
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to about ``limit`` characters, the middle replaced by '…' (for messages)."""
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit // 2 - 1) :]
