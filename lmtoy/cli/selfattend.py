"""Commands for basic self-attention (Bloem's first step) and the softmax (sections 9-10)."""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple, Optional

import typer

if TYPE_CHECKING:
    import numpy as np

from lmtoy.cli.common import Scale as ColourScale
from lmtoy.cli.common import Format, FormatOpt, KeepCase, ScaleOpt, Svg, SvgScaleOpt, bad_option, emit, handle_errors, quoted, split_words

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

MAX_WORDS = 1000  # selfattend: n x n scores and weights
MAX_VALUES = 1000  # softmax: an m x m Jacobian
D_MODEL, SEED = 8, 0  # --embedding random


class Embedding(str, Enum):
    onehot = "onehot"
    random = "random"


EmbeddingOpt = Annotated[Optional[Embedding], typer.Option("--embedding", "-e", help="The vectors when there is no --model: one-hot over the text's own words (the default), or random normal ones.")]
ModelOpt = Annotated[Optional[Path], typer.Option("--model", "-m", help="Use the embedding rows of a model written by 'lmtoy transformer train'.", dir_okay=False)]
DModel = Annotated[Optional[int], typer.Option("--d-model", "-d", min=1, max=4096, help=f"--embedding random: the vector width (default {D_MODEL}).")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", min=0, max=2**63 - 1, help=f"--embedding random: the seed (default {SEED}).")]
Scale = Annotated[bool, typer.Option("--scale", help="Divide the scores by sqrt(d), as the paper does.")]
Causal = Annotated[bool, typer.Option("--causal", help="Add the causal mask: each word averages over itself and earlier words only.")]


class Vectors(NamedTuple):
    tokens: list[str]  # (n,) the text's words
    dimensions: list[str]  # (d,) X's column labels: the words of a one-hot vector, else 1..d
    x: np.ndarray  # (n, d)
    source: str  # where the vectors came from, for the title of X


@app.command()
@handle_errors
def selfattend(
    text: Annotated[str, typer.Argument(help="The words, e.g. 'the cat saw the dog'.", show_default=False)],
    embedding: EmbeddingOpt = None,
    model: ModelOpt = None,
    d_model: DModel = None,
    seed: SeedOpt = None,
    scale: Scale = False,
    causal: Causal = False,
    keep_case: KeepCase = False,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    svg_scale: SvgScaleOpt = ColourScale.linear,
):
    """Basic self-attention (Bloem), no parameters: X, the scores X X^T, the weights and Y = W X (section 10).

    w'_ij = x_i . x_j, w_ij = softmax_j(w'_ij), y_i = sum_j w_ij x_j, each matrix labelled
    by word. With --embedding onehot (the default) the scores are 1 between equal words
    and 0 otherwise; --scale and --causal walk on to the paper's scaled, masked attention.
    """
    from lmtoy.render.selfattention import selfattend_view
    from lmtoy.selfattention import self_attention

    _check_choice(embedding, model, d_model, seed, keep_case)
    if model is not None:
        v = _model_vectors(model, text)
    else:
        v = _vectors(_words(text, keep_case), embedding or Embedding.onehot, d_model, seed)
    scores, weights, y = self_attention(v.x, scale=scale, causal=causal)
    onehot = model is None and embedding is not Embedding.random
    view = selfattend_view(v.tokens, v.dimensions, v.x, scores, weights, y, v.source, scale, causal, onehot)
    emit(view, fmt, svg=svg, scale=svg_scale)


def _check_choice(embedding, model, d_model, seed, keep_case) -> None:
    """--model or --embedding, not both; --d-model and --seed go with --embedding random."""
    if model is not None and embedding is not None:
        bad_option("--model gives the vectors: leave out --embedding", "--embedding")
    if model is not None and keep_case:
        bad_option("a model reads words as it was trained (its own keep_case): leave out --keep-case", "--keep-case")
    if embedding is not Embedding.random:
        for value, name in ((d_model, "--d-model"), (seed, "--seed")):
            if value is not None:
                bad_option("only --embedding random uses it", name)


def _words(text: str, keep_case: bool, tokenizer=None) -> list[str]:
    """The text's words (or a model's tokens); none, or more than MAX_WORDS, is a usage error."""
    tokens = split_words(text, "TEXT", keep_case, tokenizer)
    if len(tokens) > MAX_WORDS:
        bad_option(f"{len(tokens):,} words is more than {MAX_WORDS:,} (the scores and weights are n x n)", "TEXT")
    return tokens


def _vectors(tokens: list[str], embedding: Embedding, d_model: int | None, seed: int | None) -> Vectors:
    """One-hot vectors over the text's own words, or seeded random normal ones."""
    import numpy as np

    from lmtoy.selfattention import onehot_embedding, random_embedding

    if embedding is Embedding.onehot:
        words, x = onehot_embedding(tokens)
        return Vectors(tokens, words, x, f"one-hot vectors over the text's {len(words)} distinct words")
    d, s = d_model or D_MODEL, SEED if seed is None else seed
    x = random_embedding(tokens, d, np.random.default_rng(s))
    source = f"random N(0, 1) vectors, one per distinct word (seed {s})"
    return Vectors(tokens, [str(j + 1) for j in range(d)], x, source)


def _model_vectors(path: Path, text: str) -> Vectors:
    """A model's embedding rows for the text's words (read with the model's keep_case and tokenizer)."""
    from lmtoy.cli.model_options import COMMAND_OF_TASK, _load
    from lmtoy.corpus import Vocabulary

    saved = _load(path, tuple(COMMAND_OF_TASK))  # every model has word embeddings
    tokens = _words(text, saved.keep_case, saved.tokenizer)
    source = saved.config.task == "translate"  # a translation model reads the text as its encoder does
    vocab = Vocabulary(tuple(saved.source_vocabulary if source else saved.vocabulary))
    vocab.require(tokens)
    table = saved.params["source_embedding" if source else "embedding"]
    x = table[vocab.encode(tokens)].astype("float64")  # (n, d_model)
    d = x.shape[1]
    side = "source-side " if source else ""
    return Vectors(tokens, [str(j + 1) for j in range(d)], x,
                   f"the model's {side}embedding rows (no positions), d_model {d}")


@app.command(context_settings={"ignore_unknown_options": True})  # negative numbers are values, not options
@handle_errors
def softmax(
    x: Annotated[list[str], typer.Argument(help="The numbers, e.g. 1 2 3; negative ones too (-1 0 1).", show_default=False)],
    temperature: Annotated[float, typer.Option("--temperature", "-t", help="Divide by T before the softmax: below 1 sharper, above 1 flatter.")] = 1.0,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = ColourScale.linear,
):
    """The softmax step by step: the vector, e^x, the sum, the result and the Jacobian (section 9).

    softmax(x)_i = e^x_i / sum_j e^x_j, computed with the largest x subtracted first,
    which cannot overflow and gives the same ratio. Negative numbers may be given as they
    are (lmtoy softmax -1 0 1) or after '--'.
    """
    from lmtoy.render.selfattention import softmax_view
    from lmtoy.selfattention import softmax_steps

    values = _numbers(x)
    if not (math.isfinite(temperature) and temperature > 0):
        bad_option(f"{temperature:g} must be a finite number above 0", "--temperature")
    emit(softmax_view(softmax_steps(values, temperature)), fmt, svg=svg, scale=scale)


def _numbers(args: list[str]) -> list[float]:
    """The finite numbers of the arguments; anything else is a usage error naming it."""
    if not args:
        bad_option("give at least one number", "X")
    if len(args) > MAX_VALUES:
        bad_option(f"{len(args):,} numbers is more than {MAX_VALUES:,} (the Jacobian is m x m)", "X")
    values = []
    for arg in args:
        try:
            value = float(arg)
        except ValueError:
            bad_option(f"{quoted(arg)} is {_not_a_number(arg)}", "X")
        if not math.isfinite(value):
            bad_option(f"{quoted(arg)} is not a finite number", "X")
        values.append(value)
    return values


OPTIONS = ("-t", "--temperature", "-f", "--format", "--svg", "--scale", "-h", "--help")  # softmax's own


def _not_a_number(arg: str) -> str:
    if arg.split("=")[0] in OPTIONS:
        return "not a number (after '--' every argument is one: give options before it)"
    return "neither a number nor an option of softmax" if arg.startswith("-") else "not a number"
