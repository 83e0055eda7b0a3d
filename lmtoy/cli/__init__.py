"""The lmtoy command line: thin typer commands that parse, call the core, and print a view.

This module is the console script's entry point and imports nothing at start-up:
a Ctrl-C while typer and rich load still ends with one line and exit 130. The
root app and its lazily loaded commands live in ``lmtoy.cli.root``.
"""

from __future__ import annotations


def main() -> None:
    """Entry point: run the app; a closed pipe (``| head``) ends quietly, Ctrl-C with exit 130,
    and output that cannot be written (a full disk) with one line and exit 1."""
    import sys

    try:
        from lmtoy.cli.root import run

        code = run()
    except KeyboardInterrupt as interrupt:
        sys.stderr.write(f"interrupted{': ' + str(interrupt) if str(interrupt) else ''}\n")
        code = 130
    sys.exit(code)


def __getattr__(name: str):
    if name == "app":  # the root typer app, for tests and the tour
        from lmtoy.cli.root import app

        return app
    raise AttributeError(f"module 'lmtoy.cli' has no attribute '{name}'")
