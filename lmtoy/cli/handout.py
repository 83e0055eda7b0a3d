"""``lmtoy tour --html FILE``: run the tour's steps and write them as one HTML handout.

Each step's command runs as in the tour, its output captured with the colours a
terminal 80 columns wide would get; the section's figure is drawn by
``lmtoy figure ARGS --svg``, the same command a user types. The page is built by
``lmtoy.render.handout`` and written atomically.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from lmtoy.errors import UsageError


def checked_path(path: Path) -> Path:
    """The handout's path made absolute, checked writable now (exit 2), before any step runs."""
    from lmtoy.cli.common import quoted
    from lmtoy.files import check_writable

    path = Path(path).absolute()
    if str(path).endswith(("/", "\\")) or path.is_dir():
        raise UsageError(f"--html: {quoted(path)} is a folder: give a file name, e.g. {quoted(path / 'tour.html')}")
    if path.exists() and not path.is_file():
        raise UsageError(f"--html: {quoted(path)} is not a regular file (a device or pipe): give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"--html: the folder {quoted(path.parent)} does not exist")
    try:
        check_writable(path)
    except OSError as error:
        raise UsageError(f"--html: {quoted(path)}: cannot write there ({error.strerror or error})") from None
    return path


def write_handout(steps, path: Path) -> None:
    """Run ``steps`` (tour Steps), capture what each prints and its figure, and write the page."""
    from lmtoy.cli.output import note
    from lmtoy.files import write_atomic
    from lmtoy.render.handout import HandoutStep, handout

    shown, section = [], None
    for step in steps:
        if step.section.split(".")[0] != section:
            section = step.section.split(".")[0]
            note(f"handout: section {section}")
        output, notes = _captured(step.command)
        figure = _figure(step.figure) if step.figure else ""
        shown.append(HandoutStep(step.section, step.caption, step.command, output, figure, step.figure, notes))
    write_atomic(path, handout(shown).encode("utf-8"))
    figures = sum(1 for s in shown if s.figure)
    note(f"wrote {path.name}: {len(shown)} steps, {figures} figures (open it in a browser, or print it)")


def _figure(arguments: str) -> str:
    """The SVG that `lmtoy figure ARGUMENTS --svg` writes (its terminal drawing is dropped)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lmtoy-figure-") as folder:
        svg = Path(folder) / "figure.svg"
        _captured(f"lmtoy figure {arguments} --svg {svg}")
        return svg.read_text(encoding="utf-8")


def _captured(command: str) -> tuple[str, str]:
    """What a command prints on stdout (with a terminal's colours) and on stderr (plain: no
    progress bar, the lines a pipe gets)."""
    import io

    from lmtoy.cli.tour import _captured as captured

    errors, real = io.StringIO(), sys.stderr
    sys.stderr = errors
    try:
        with _terminal_80():
            out = captured(command)
    finally:
        sys.stderr = real
    return out, errors.getvalue()


@contextmanager
def _terminal_80():
    """Output as on an 80-column colour terminal, whatever this one is (NO_COLOR aside: a page is not a terminal)."""
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "LINES", "NO_COLOR", "TERM", "COLORTERM")}
    os.environ.update(COLUMNS="80", LINES="50", TERM="xterm-256color", COLORTERM="truecolor")
    os.environ.pop("NO_COLOR", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
