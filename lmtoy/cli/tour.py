"""``lmtoy tour``: the worked examples, one captioned step after another.

Each step shows a command and runs exactly that command, through the same code
as when a user types it, on the bundled corpora (in a scratch folder, where the
transformer steps write their model.npz).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from lmtoy.cli.common import handle_errors
from lmtoy.cli.output import abandon_stdout, console, note, print_renderable, write_text
from lmtoy.cli.tour_steps import STEPS, Step
from lmtoy.errors import LmtoyError, UsageError

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

MODELS = ("model.npz", "pairs.npz", "intents.npz", "compiled.npz")  # the files the transformer steps train and read


def shell_lines(command: str, width: int = 80) -> str:
    """'$ command', broken before options with '\\' continuations so that it fits and still pastes."""
    lines = ["$"]
    for part in re.split(r" (?=--)", command):
        if len(lines[-1]) + 1 + len(part) > width - 2 and lines[-1] != "$":
            lines[-1] += " \\"
            lines.append("   ")
        lines[-1] += " " + part
    return "\n".join(lines)


def run_command(command: str) -> None:
    """Run an 'lmtoy ...' command line in this process, as if typed."""
    from lmtoy.cli.root import app as root

    code = typer.main.get_command(root).main(shlex.split(command)[1:], prog_name="lmtoy", standalone_mode=False)
    if code:
        raise LmtoyError(f"tour step failed (exit {code}): {command}")


@app.command()
@handle_errors
def tour(
    pause: Annotated[bool, typer.Option("--pause", help="Wait for Enter between steps, and before the output of a step taller than the terminal (on a terminal only).")] = False,
    section: Annotated[str, typer.Option("--section", "-s", help="Only the steps of this section, e.g. 3.")] = "",
    list_: Annotated[bool, typer.Option("--list", help="List the sections and their steps, and exit.")] = False,
    keep: Annotated[Optional[Path], typer.Option("--keep", help="Keep the model the tour trains in this folder (made if missing), so the commands it shows can be copied as they are.", file_okay=False)] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Write the tour as one self-contained HTML handout (contents, each step's command, its output in colour and the section's figure) instead of showing it.", dir_okay=False)] = None,
):
    """A tour of the worked examples: each step captioned, with the command it runs."""
    steps = [s for s in STEPS if not section or s.section.split(".")[0] == section.rstrip(".")]
    if not steps:
        raise UsageError(f"no tour section {section}: the sections are 1 to {STEPS[-1].section.split('.')[0]}")
    if list_:
        return print_renderable(_listing(steps))
    steps = _with_model(steps)
    if html is not None:
        from lmtoy.cli.handout import checked_path, write_handout

        html = checked_path(html)  # before any work, and before the tour moves to its scratch folder
        show = lambda shown: write_handout(shown, html)  # noqa: E731
    else:
        show = lambda shown: _run(shown, pause)  # noqa: E731
    if keep is not None:
        return show(_kept(steps, keep))
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="lmtoy-tour-") as scratch:  # removed on every way out
        os.chdir(scratch)
        try:
            show(steps)
        finally:
            os.chdir(here)
    if html is None and any(model in s.command for s in steps for model in MODELS):
        note("the model was trained in a scratch folder, now removed; 'lmtoy tour --keep DIR' keeps it")


def _run(steps: list[Step], pause: bool) -> None:
    """Show and run each step. A closed pipe (| head) stops quietly, after cleaning up."""
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN) if hasattr(signal, "SIGPIPE") else None
    try:
        _steps(steps, pause and sys.stdin is not None and sys.stdin.isatty())
    except BrokenPipeError:
        abandon_stdout()
        raise typer.Exit(141) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGPIPE, previous)


def _steps(steps: list[Step], interactive: bool) -> None:
    from rich.rule import Rule
    from rich.text import Text

    out = console()
    for i, step in enumerate(steps):
        print_renderable(Rule(Text(step.section, style="bold"), align="left"), out)
        print_renderable(Text(step.caption), out)
        print_renderable(Text(shell_lines(step.command, out.width), style="cyan"), out, soft_wrap=True)
        if interactive:
            shown = _captured(step.command)
            if len(shown.splitlines()) + 4 > out.height and not _wait("Press Enter for the output... "):
                return
            write_text(shown)
        else:
            run_command(step.command)
        print_renderable("", out)
        if interactive and i + 1 < len(steps) and not _wait():
            return


def _captured(command: str) -> str:
    """What a command prints, with the colours it would have on a terminal."""
    class Terminal(io.StringIO):
        encoding = getattr(sys.stdout, "encoding", "utf-8")

        def isatty(self) -> bool:
            return True

    buffer, real = Terminal(), sys.stdout
    sys.stdout = buffer
    try:
        run_command(command)
    finally:
        sys.stdout = real
    return buffer.getvalue()


def _kept(steps: list[Step], folder: Path) -> list[Step]:
    """The steps with the models kept in FOLDER (FOLDER/model.npz, ...), written out in every command."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--keep: cannot make the folder '{folder}' ({error.strerror})") from None
    def kept(command: str) -> str:
        for model in MODELS:
            command = command.replace(f" {model}", f" {shlex.quote(str(folder / model))}")
        return command

    return [s._replace(command=kept(s.command), figure=kept(" " + s.figure)[1:]) for s in steps]


def _listing(steps: list[Step]):
    """The sections, each with its steps' titles and how many commands it runs."""
    from rich.table import Table

    table = Table(title="The tour ('lmtoy tour --section N' shows one section)", title_justify="left",
                  box=None, title_style="bold")
    for name, justify in (("section", "right"), ("steps", "right"), ("what it shows", "left")):
        table.add_column(name, justify=justify)
    sections: dict[str, list[str]] = {}
    for step in steps:
        number, _, title = step.section.partition(". ")
        sections.setdefault(number, []).append(title)
    for number, titles in sections.items():
        table.add_row(number, str(len(titles)), "; ".join(dict.fromkeys(titles)))
    return table


def _wait(prompt: str = "Press Enter for the next step... ") -> bool:
    """Wait for Enter; False when the reader closed the input (Ctrl-D)."""
    try:
        input(prompt)
    except EOFError:
        note("")
        return False
    return True


def _with_model(steps: list[Step]) -> list[Step]:
    """The steps, preceded by the training step of each model file they use without training it."""
    first = []
    for model in MODELS:
        uses = any(f"--model {model}" in s.command for s in steps)
        if uses and not any(f"--out {model}" in s.command for s in steps):
            first += [s for s in STEPS if f"--out {model}" in s.command]
    return first + steps
