"""The root app: commands are registered by name and loaded on first use.

``lmtoy --help`` lists the commands from ``COMMANDS`` without importing them,
and a command imports only its own module (and that module only what it runs),
so start-up stays close to the bare cost of typer. Each command module holds a
``typer.Typer`` named ``app`` whose commands (or sub-apps) carry the names below.
"""

from __future__ import annotations

import errno
import os
import signal
from typing import Annotated

import typer
from typer.core import TyperGroup

from lmtoy.errors import LmtoyError

# name -> (module, the one-line help shown by `lmtoy --help`); a test checks each line
# against the command's own docstring, and this order is the order of the listing.
COMMANDS = {
    "onehot": ("lmtoy.cli.counted", "One-hot encoding: the number sequence and one-hot rows of TEXT (section 1)."),
    "first-order": ("lmtoy.cli.counted", "First-order (Markov) model: the N x N transition matrix, word -> next word (section 2)."),
    "second-order": ("lmtoy.cli.counted", "Second-order model: one row per observed word pair -> next word (section 3)."),
    "skips": ("lmtoy.cli.counted", "Second-order with skips: features (earlier word, most recent word) -> next word (section 4)."),
    "vote": ("lmtoy.cli.attention", "Feature voting: the active features' rows, their totals and the winner (sections 4-5)."),
    "attend": ("lmtoy.cli.attention", "Attention as matrix multiplication: masks stacked in K, a one-hot query Q, and Q K^T (section 6)."),
    "feedforward": ("lmtoy.cli.attention", "The second-order model as matrix multiplications: feature creation, ReLU, transition rows (section 7)."),
    "complete": ("lmtoy.cli.attention", "Sequence completion: append the predicted next word, again and again (section 8)."),
    "compare": ("lmtoy.cli.attention", "The model ladder: next-word prediction and margin under each counted model, side by side."),
    "posenc": ("lmtoy.cli.transformer", "Sinusoidal positional encoding (section 9): the table as a heatmap, or one pair's circle."),
    "embed": ("lmtoy.cli.transformer", "A trained model's word embeddings projected to 2-D (PCA), as a labelled scatter plot."),
    "softmax": ("lmtoy.cli.selfattend", "The softmax step by step: the vector, e^x, the sum, the result and the Jacobian (section 9)."),
    "selfattend": ("lmtoy.cli.selfattend", "Basic self-attention (Bloem), no parameters: X, the scores X X^T, the weights and Y = W X (section 10)."),
    "transformer": ("lmtoy.cli.transformer", "A tiny NumPy transformer: train it on a corpus, then predict, generate and look inside (sections 9-11)."),
    "bpe": ("lmtoy.cli.bpe", "Byte pair encoding: train a tokenizer on a corpus, replay its merges, encode and decode text (section 12)."),
    "figure": ("lmtoy.cli.figure", "The article's figures by name: drawn in the terminal, or saved as a standalone SVG for slides."),
    "perplexity": ("lmtoy.cli.evaluate", "Held-out perplexity: train each model on TRAIN, score --held-out, rank them (lower is better)."),
    "score": ("lmtoy.cli.evaluate", "Score one sentence: each word's log10 probability (and </s>'s), like KenLM's full_scores, and the sum."),
    "explain": ("lmtoy.cli.explain", "Where a number comes from: the count, the row total, the formula and the value behind one entry."),
    "tour": ("lmtoy.cli.tour", "A tour of the worked examples: each step captioned, with the command it runs."),
}  # fmt: skip


class LazyGroup(TyperGroup):
    """A group whose commands are imported when one is run (or its own help is asked for).

    Listing them (``lmtoy --help``) uses the one-line helps of ``COMMANDS`` instead.
    """

    _listing = False

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, name: str):
        if name not in COMMANDS:
            return None
        module, short = COMMANDS[name]
        if self._listing:
            return typer.core.TyperCommand(name, help=short, short_help=short)
        return load_command(name)

    def format_help(self, ctx, formatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


_GROUPS: dict[str, object] = {}


def load_command(name: str):
    """The click command ``name``, built from its module's typer app (once per module)."""
    import importlib

    module = COMMANDS[name][0]
    if module not in _GROUPS:
        _GROUPS[module] = _plain(typer.main.get_group(importlib.import_module(module).app))
    return _GROUPS[module].commands[name]


def _plain(command):
    """Plain help (click's layout, which rewraps paragraphs at 80 columns and never splits a
    word) with short metavars: N, X, FILE, TEXT, an argument's own name; choices as a|b|c."""
    command.rich_markup_mode = None
    if not command.short_help and command.help:  # a group lists it whole, wrapped, not cut at 45 columns
        command.short_help = " ".join(command.help.split("\n\n")[0].split())
    for param in command.params:
        if param.metavar is None and not getattr(param, "is_flag", False):
            param.metavar = _metavar(param)
        if param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None  # the name says it: CORPUS, not CORPUS <str>
            if param.required:  # usage 'lmtoy onehot TEXT', as click writes it, not '{TEXT}'
                param._usage_display_name = lambda name=param.metavar: name
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)
    return command


def _metavar(param) -> str:
    import pathlib

    desc = param.type_descriptor
    if param.param_type_name == "argument":
        return param.name.upper()
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    kind = desc.annotation
    kind = next((a for a in getattr(kind, "__args__", ()) if a is not type(None)), kind)  # list[str], Optional[int]
    return {int: "N", float: "X", pathlib.Path: "FILE"}.get(kind, "TEXT")


app = typer.Typer(
    name="lmtoy",
    cls=LazyGroup,
    help="Run the worked examples of 'Transformers from Scratch' in a terminal.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion: lmtoy.cli.completion fills in corpora and models
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 80},
)


def _version(value: bool) -> None:
    if value:
        from lmtoy import __version__

        from lmtoy.cli.output import write_text

        write_text(f"lmtoy {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Run the worked examples of 'Transformers from Scratch' in a terminal."""


def run() -> int:
    """Run the app as the console script does; the exit code.

    A closed pipe (``| head``) ends the process silently, like cat or grep. Output
    that could not be written in full (a full disk) is an error: one line, exit 1.
    """
    _sane_size("COLUMNS")
    _sane_size("LINES")
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app(prog_name="lmtoy")  # also under python -m lmtoy: usage lines, and the completion script's _LMTOY_COMPLETE
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except LmtoyError as error:  # raised outside a command (--version to a full disk)
        from lmtoy.cli.output import report

        report(str(error))
        return error.exit_code
    except OSError as error:  # click's own writes (--help, usage errors) to a stdout that fails
        from lmtoy.cli.output import abandon_stdout, report

        abandon_stdout()
        if error.errno == errno.EPIPE:
            return 141
        report(f"cannot write output: {error.strerror or error}")
        return 1
    return finish_output(code)


def finish_output(code: int) -> int:
    """Flush stdout; when that fails, say why on stderr and make the exit code 1."""
    from lmtoy.cli.output import OutputError, flush_stdout

    try:
        flush_stdout()
    except OutputError as error:
        from lmtoy.cli.output import report

        report(str(error))
        return code or 1
    return code


def _sane_size(name: str) -> None:
    """A terminal size in the environment that makes no sense (0, -3, 'abc') is ignored."""
    value = os.environ.get(name)
    if value is not None and not (value.isdigit() and 10 <= int(value) <= 100_000):
        del os.environ[name]
