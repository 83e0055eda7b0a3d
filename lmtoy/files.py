"""Writing files without ever leaving half of one: a temporary file beside the target, then a rename.

A failed write (a full disk, a folder that does not exist, a name too long) raises
``OutputFileError`` naming the file and the reason, and leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from lmtoy.errors import OutputFileError


@contextlib.contextmanager
def atomic_file(path: str | Path):
    """Yield a binary file to write; on success it replaces ``path`` in one rename.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` is untouched;
    an OSError becomes OutputFileError("PATH: cannot write (REASON)").
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name[:200]}.{os.getpid()}.tmp")  # same folder: the rename is atomic
    try:
        with open(temporary, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(error, OSError):
            raise OutputFileError(f"{shorten(str(path))}: cannot write ({error.strerror or error})") from None
        raise


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_file``)."""
    with atomic_file(path) as file:
        file.write(data)


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to about ``limit`` characters, the middle replaced by '…' (for messages)."""
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit // 2 - 1) :]
