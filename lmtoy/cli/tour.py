"""``lmtoy tour``: the worked examples, one captioned step after another, on the bundled corpora."""

from __future__ import annotations

import functools
import re
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


PROGRAM = "check the program log and find out whether it ran"
BATTERY = "check the battery log and find out whether it ran"


def _vote(prompt: str, masked: bool):
    from lmtoy import attention
    from lmtoy.ngrams import first_order, skips
    from lmtoy.render.attention import vote_view

    c = _corpus("program_log")
    model = skips(c)
    v = attention.vote(model, c.vocabulary.encode(prompt.split()))
    if masked:
        v = attention.masked(v, attention.auto_mask(v, attention.informative(model, first_order(c))))
    return vote_view(c.vocabulary.words, prompt.split(), v, masked)


def _attend(word: str):
    from lmtoy import attention
    from lmtoy.ngrams import first_order, skips
    from lmtoy.render.attention import attend_view

    c = _corpus("program_log")
    model = skips(c)
    k = attention.mask_matrix(model, attention.informative(model, first_order(c)))
    return attend_view(c.vocabulary.words, word, k, *attention.query_mask(k, c.vocabulary.id(word)))


def _feedforward(prompt: str):
    from lmtoy import attention
    from lmtoy.ngrams import first_order, skips
    from lmtoy.render.attention import feedforward_view

    c = _corpus("program_log")
    model = skips(c)
    ids = c.vocabulary.encode(prompt.split())
    ff = attention.feed_forward(model, int(ids[-1]), attention.informative(model, first_order(c)))
    return feedforward_view(c.vocabulary.words, prompt.split(), ff, *ff.forward(ids))


def _complete(prompt: str):
    from lmtoy.complete import Ladder, complete
    from lmtoy.render.attention import completion_view

    c = _corpus("show_me")
    result = complete(Ladder(c), "first-order", c.vocabulary.encode(prompt.split()), 5)
    return completion_view(c.vocabulary.words, prompt.split(), "first-order", result, True)


STEPS += [
    Step("4. Feature voting", "Sum the rows of the active features: the program prompt gets down 4, please 5. "
         "Right, but 4 vs 5 is a weak margin.", lambda: _vote(PROGRAM, False),
         f"lmtoy vote program_log --prompt '{PROGRAM}'"),
    Step("4. Feature voting", "The battery prompt: down 5, please 4.", lambda: _vote(BATTERY, False),
         f"lmtoy vote program_log --prompt '{BATTERY}'"),
    Step("5. Masking", "A mask keeps only the informative features, (battery, ran) and (program, ran): "
         "the vote becomes down 0, please 1. This selective masking is the first picture of attention.",
         lambda: _vote(PROGRAM, True), f"lmtoy vote program_log --prompt '{PROGRAM}' --auto-mask"),
    Step("5. Masking", "And for the battery prompt: down 1, please 0.", lambda: _vote(BATTERY, True),
         f"lmtoy vote program_log --prompt '{BATTERY}' --auto-mask"),
    Step("6. Attention as matrix multiplication", "Stack one mask per most-recent word as the columns of K; the "
         "one-hot query Q of 'ran' times K^T pulls out its mask: battery, program and ran itself.",
         lambda: _attend("ran"), "lmtoy attend program_log --query ran"),
    Step("7. Second-order model as matrix multiplications", "Feature creation W1 (with a bias input), a ReLU, "
         "then the features' transition rows W2: battery=1, program=0, ran=1 gives [1, -1], ReLU [1, 0], down 1.",
         lambda: _feedforward(BATTERY), f"lmtoy feedforward program_log --prompt '{BATTERY}'"),
    Step("7. Second-order model as matrix multiplications", "battery=0, program=1, ran=1 gives [-1, 1], "
         "ReLU [0, 1], please 1.", lambda: _feedforward(PROGRAM), f"lmtoy feedforward program_log --prompt '{PROGRAM}'"),
    Step("8. Sequence completion", "Pick the most likely next word, append it, repeat: 'show me my' grows "
         "'photos please', then stops, since nothing follows 'please'.", lambda: _complete("show me my"),
         "lmtoy complete show_me --prompt 'show me my' --explain"),
]


def shell_lines(command: str, width: int = 80) -> str:
    """'$ command', broken before options with '\\' continuations so that it fits and still pastes."""
    lines = ["$"]
    for part in re.split(r" (?=--)", command):
        if len(lines[-1]) + 1 + len(part) > width - 2 and lines[-1] != "$":
            lines[-1] += " \\"
            lines.append("   ")
        lines[-1] += " " + part
    return "\n".join(lines)


@functools.cache
def _trained():
    """The tour's transformer: program_log with the default settings, seed 0 (about a second)."""
    from lmtoy.transformer import train_corpus

    return train_corpus(_corpus("program_log"), seed=0)


def _losses():
    from lmtoy.render.transformer import loss_view

    return loss_view(_trained()[3])


def _predict(prompt: str):
    from lmtoy.render.transformer import predict_view
    from lmtoy.transformer import next_distribution

    params, config, vocabulary, _ = _trained()
    ids = [vocabulary.index(w) for w in prompt.split()]
    return predict_view(prompt.split(), vocabulary, next_distribution(params, config, ids), 4)


def _attention_row(prompt: str):
    from lmtoy.render.transformer import attention_row_view
    from lmtoy.transformer import attention_weights

    params, config, vocabulary, _ = _trained()
    return attention_row_view(prompt.split(), attention_weights(params, config, [vocabulary.index(w) for w in prompt.split()]))


def _posenc(pair=None):
    from lmtoy.render.transformer import posenc_view
    from lmtoy.transformer import sinusoidal_positions

    return posenc_view(sinusoidal_positions(12, 8), pair)


def _shapes():
    from lmtoy.render.transformer import shapes, _shape_table
    from lmtoy.render.views import View

    config = _trained()[1]
    return View([_shape_table(shapes(config, len(BATTERY.split())))], dict)


STEPS += [
    Step("9. Positional encoding", "PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...): added to the "
         "embedding, it tells the model where each word is.", lambda: _posenc(), "lmtoy posenc --positions 12 --d-model 8"),
    Step("9. Positional encoding", "Each pair of dimensions traces a circle at its own frequency.",
         lambda: _posenc(0), "lmtoy posenc --positions 12 --d-model 8 --pair 0"),
    Step("10. A transformer, trained by hand", "Embedding, sinusoidal positions, 2-head causal self-attention, add & "
         "norm, feed-forward, de-embedding and softmax, trained with hand-written gradients and Adam on "
         "program_log: 300 steps, about a second.", _losses, "lmtoy transformer train program_log --out model.npz"),
    Step("10. Shapes", "Every matrix of the model, beside the paper's sizes.", _shapes,
         f"lmtoy transformer trace --model model.npz --prompt '{BATTERY}'"),
    Step("11. Learned, not counted", "After the battery prompt the model predicts 'down'...",
         lambda: _predict(BATTERY), f"lmtoy transformer predict --model model.npz --prompt '{BATTERY}'"),
    Step("11. Learned, not counted", "...and after the program prompt, 'please'.",
         lambda: _predict(PROGRAM), f"lmtoy transformer predict --model model.npz --prompt '{PROGRAM}'"),
    Step("11. Attention, learned", "The attention row of 'ran': a head has learned to look back at the word "
         "that decides what comes next, as the hand-built mask did.", lambda: _attention_row(BATTERY),
         f"lmtoy transformer attention --model model.npz --prompt '{BATTERY}'"),
]


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
        out.print(Text(shell_lines(step.command, out.width), style="cyan"), soft_wrap=True)
        out.print(step.view().table(out.width))
        out.print()
        if interactive and i + 1 < len(steps):
            input("Press Enter for the next step... ")
