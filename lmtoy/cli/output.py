"""Standard output and standard error, checked: nothing written is lost silently.

Data goes to stdout, messages to stderr. A write to stdout that fails (a full disk,
a closed stdout, an encoding that cannot hold the text) raises ``OutputError``, which
the commands turn into ``error: cannot write output: REASON`` and exit 1. A closed
pipe (``| head``) is left to SIGPIPE, which ends the process quietly. Messages are
never parsed as rich markup: a file name like ``x[/b].npz`` is printed as it is.
"""

from __future__ import annotations

import errno
import os
import sys

from lmtoy.errors import OutputFileError


class OutputError(OutputFileError):
    """Standard output could not be written in full (exit 1)."""


def _reason(error: OSError) -> str:
    return f"cannot write output: {error.strerror or error}"


def abandon_stdout() -> None:
    """After a failed write, point stdout at /dev/null so the exit flush neither fails again
    nor prints 'Exception ignored'."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _check_open():
    if sys.stdout is None or getattr(sys.stdout, "closed", False):
        raise OutputError("cannot write output: standard output is closed")
    return sys.stdout


def _checked(write) -> None:
    """Run ``write()``; turn a failed write into OutputError."""
    try:
        write()
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise
        abandon_stdout()
        raise OutputError(_reason(error)) from None
    except UnicodeEncodeError as error:
        abandon_stdout()
        bad = error.object[error.start : error.end]
        raise OutputError(f"cannot write output: the output encoding ({error.encoding}) cannot hold {bad!r}; "
                          "set PYTHONIOENCODING=utf-8, or use --format json") from None


def write_text(text: str, ascii_fallback=None) -> None:
    """Write ``text`` to stdout and flush. When stdout's encoding cannot hold it and
    ``ascii_fallback`` is given (() -> str: JSON with \\u escapes), write that instead."""
    out = _check_open()
    encoding = getattr(out, "encoding", None) or "utf-8"
    if ascii_fallback is not None:
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            text = ascii_fallback()
        except LookupError:
            pass
    _checked(lambda: (out.write(text), out.flush()))


def console(**kw):
    """A rich Console on stdout (fails with OutputError when stdout is closed)."""
    from rich.console import Console

    return Console(file=_check_open(), **kw)


def print_renderable(renderable, console_=None, **kw) -> None:
    """Print a rich renderable to stdout, checked and flushed."""
    out = console_ or console()
    _checked(lambda: (out.print(renderable, **kw), out.file.flush()))


def flush_stdout() -> None:
    """Flush whatever is still buffered on stdout (at exit), checked."""
    if sys.stdout is None or getattr(sys.stdout, "closed", False):
        return
    _checked(sys.stdout.flush)


def stderr():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def note(message: str, style: str = "dim") -> None:
    """A message on stderr, printed as it is (never as markup)."""
    from rich.text import Text

    _print_err(Text(message, style=style))


def report(message: str) -> None:
    """``error: message`` on stderr."""
    from rich.text import Text

    _print_err(Text.assemble(("error:", "bold red"), " ", message))


def _print_err(text) -> None:
    try:
        stderr().print(text, soft_wrap=True)
    except (OSError, ValueError, UnicodeEncodeError):
        pass  # stderr itself is gone: nowhere left to say it
