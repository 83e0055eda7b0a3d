"""``lmtoy tour``: the worked examples, one captioned step after another, on the bundled corpora."""

from __future__ import annotations

import sys
from typing import Annotated, Callable, NamedTuple

import typer

from lmtoy.cli.common import app, handle_errors, stdout


class Step(NamedTuple):
    section: str
    caption: str
    view: Callable  # () -> View
    command: str  # the command that shows the same thing


def _corpus(name: str):
    from lmtoy.corpus import bundled, read_corpus

    return read_corpus(bundled(name))


def _onehot(text: str, corpus: str | None = None, mix=None, lookup=False):
    import numpy as np

    from lmtoy.ngrams import first_order
    from lmtoy.render.counted import onehot_view

    tokens = text.split()
    c = _corpus(corpus) if corpus else None
    words = list(c.vocabulary.words) if c else sorted(set(tokens))
    ids = np.array([words.index(t) for t in tokens])
    table = ("first-order", first_order(c).dense()) if lookup else None
    return onehot_view(tokens, words, ids, mix, table)


def _model(kind: str, corpus: str, rows=None, title=None):
    from lmtoy import ngrams
    from lmtoy.render.counted import model_view

    model = ngrams.build(kind, _corpus(corpus))
    return model_view(model, rows(model) if rows else None, title)


def _lookup(corpus: str, word: str):
    from lmtoy import ngrams
    from lmtoy.render.counted import lookup_view

    model = ngrams.first_order(_corpus(corpus))
    return lookup_view(model, word, ngrams.lookup(model, [word]))


def _ran_rows(model):
    return model.rows_with_recent(model.vocabulary.id("ran"))


STEPS = [
    Step("1. One-hot encoding", "Vocabulary (files, find, my) counted from one: 'find my files' is [2, 3, 1]; "
         "each word becomes a row with a single 1. A one-hot row dotted with itself is 1, with another 0.",
         lambda: _onehot("find my files"), "lmtoy onehot 'find my files'"),
    Step("1. Matrix multiplication as lookup", "One-hot rows with their 1 in columns 1, 4, 3 pull out rows 1, 4, 3 "
         "of a matrix; dotted with a weighted mix, a one-hot row returns that word's weight.",
         lambda: _onehot("directories my me", "show_me", {"directories": 0.2, "files": 0.3, "photos": 0.5}, True),
         "lmtoy onehot 'directories my me' --corpus show_me --lookup --mix directories=0.2,files=0.3,photos=0.5"),
    Step("2. First-order sequence model", "Show me my directories/files/photos please (0.2/0.3/0.5): every row is "
         "0/1 except 'my'; nothing follows 'please', so its row is all zero.",
         lambda: _model("first-order", "show_me"), "lmtoy first-order show_me"),
    Step("2. Lookup", "one-hot(my) times the transition matrix pulls out the row of 'my': 0.2, 0.3, 0.5.",
         lambda: _lookup("show_me", "my"), "lmtoy first-order show_me --word my"),
    Step("3. First-order, for contrast", "Check whether the battery ran down / the program ran please (0.4/0.6): "
         "after 'ran' the first-order model can only say down 0.4, please 0.6.",
         lambda: _model("first-order", "battery"), "lmtoy first-order battery"),
    Step("3. Second-order sequence model", "One row per pair of words: 64 in principle, 7 observed. Only "
         "(whether, the) has fractions; (battery, ran) -> down and (program, ran) -> please are certain.",
         lambda: _model("second-order", "battery"), "lmtoy second-order battery"),
    Step("4. Second-order with skips", "Features pair the most recent word with every earlier word of the sentence. "
         "For 'ran', only (battery, ran) and (program, ran) are decisive; the other eight say 0.5/0.5.",
         lambda: _model("skips", "program_log", _ran_rows, "Skip features whose most recent word is 'ran'"),
         "lmtoy skips program_log --word ran"),
]


def register(step: Step) -> None:
    """Later sections add their steps here."""
    STEPS.append(step)


@app.command()
@handle_errors
def tour(
    pause: Annotated[bool, typer.Option("--pause", help="Wait for Enter between steps (on a terminal only).")] = False,
    section: Annotated[str, typer.Option("--section", "-s", help="Only the steps whose section starts with this, e.g. '3'.")] = "",
):
    """A tour of the worked examples: each step captioned, with the command that shows it."""
    from rich.rule import Rule
    from rich.text import Text

    out = stdout()
    steps = [s for s in STEPS if s.section.startswith(section)]
    if not steps:
        from lmtoy.errors import UsageError

        raise UsageError(f"no tour section starts with '{section}'")
    interactive = pause and sys.stdin is not None and sys.stdin.isatty()
    for i, step in enumerate(steps):
        out.print(Rule(Text(step.section, style="bold"), align="left"))
        out.print(Text(step.caption))
        out.print(Text(f"$ {step.command}", style="cyan"))
        out.print(step.view().table(out.width))
        out.print()
        if interactive and i + 1 < len(steps):
            input("Press Enter for the next step... ")
