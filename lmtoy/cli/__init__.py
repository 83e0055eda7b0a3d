"""The lmtoy command line: thin typer commands that parse, call the core, and print a view."""

from __future__ import annotations

import os
import signal
import sys

from lmtoy.cli.common import app
from lmtoy.cli import counted, attention, transformer, tour  # noqa: F401, I001  (registers the commands, in this order)


def main() -> None:
    """Entry point: run the app; a closed pipe (``| head``) or Ctrl-C ends quietly."""
    if hasattr(signal, "SIGPIPE"):  # like cat or grep: a closed pipe ends the process silently
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app()
    except KeyboardInterrupt as interrupt:
        sys.stderr.write(f"interrupted{': ' + str(interrupt) if str(interrupt) else ''}\n")
        sys.exit(130)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
