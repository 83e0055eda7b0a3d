"""Commands that score held-out text: perplexity (the ladder ranked) and score (one text)."""

from __future__ import annotations

import math
from enum import Enum
from typing import Annotated, List, Optional

import typer

from lmtoy.cli.completion import complete_corpus

from lmtoy.cli.common import (
    CorpusArg, FormatOpt, JoinLines, KeepCase, TextFormat, bad_option, corpus_bytes, corpus_from, emit,
    handle_errors, load_corpus, quoted,
)

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS


class Smoothing(str, Enum):  # lmtoy.smoothing.METHODS
    none = "none"
    add_k = "add-k"
    witten_bell = "witten-bell"
    kneser_ney = "kneser-ney"


class NgramModel(str, Enum):
    first_order = "first-order"
    second_order = "second-order"


SmoothingOpt = Annotated[Smoothing, typer.Option("--smoothing", "-s", case_sensitive=False, help="How unseen events get probability: none, add-k (--k), witten-bell or interpolated kneser-ney (D = n1/(n1+2 n2) per order, 0.75 when n1 or n2 is 0).")]
KOpt = Annotated[float, typer.Option("--k", help="The k of add-k smoothing (above 0).")]
ArpaSmoothingOpt = Annotated[Optional[Smoothing], typer.Option("--smoothing", "-s", case_sensitive=False, help="With --format arpa: the smoothing of the ARPA model (default kneser-ney); see lmtoy perplexity --help.")]
LAMBDA_HELP = "Weight of the skip vote in skips/masked-skips scores; the rest goes to the smoothed first-order row."
MODEL_HELP = ("A model to score with (repeatable): first-order, second-order, skips, masked-skips or "
              "transformer:FILE.npz. Default: the four counted models.")


def check_k(k: float, method: str | None = None) -> None:
    """--k: a finite number above 0, and (any value but the default 1) only with add-k."""
    if not (k > 0 and math.isfinite(k)):
        bad_option(f"{k:g} is not a finite number above 0", "--k")
    if method is not None and method != "add-k" and k != 1.0:
        bad_option(f"applies to --smoothing add-k, not {method}", "--k")


def with_arpa(view, corpus, kind: str, fmt, smoothing, k: float):
    """The view with its ARPA writer (first-order, second-order): the model smoothed by
    ``smoothing`` (kneser-ney when None); --smoothing without --format arpa is refused."""
    if fmt.value != "arpa":
        if smoothing is not None:
            bad_option("applies to --format arpa (the table shows the counted model, unsmoothed)", "--smoothing")
        return view
    check_k(k, (smoothing or Smoothing.kneser_ney).value)
    from lmtoy.arpa import write_arpa
    from lmtoy.smoothing import smooth

    model = smooth(corpus, kind, (smoothing or Smoothing.kneser_ney).value, k)
    view.arpa = lambda: write_arpa(model)
    if model.fallback:
        view.messages.append(f"{model.label}: a count of counts was 0, so D = 0.75 there")
    return view


@app.command()
@handle_errors
def perplexity(
    train: CorpusArg = None,
    held_out: Annotated[str, typer.Option("--held-out", help="The held-out text to score: a file or a bundled name (commands_heldout).", show_default=False, autocompletion=complete_corpus)] = ...,
    models: Annotated[Optional[List[str]], typer.Option("--model", "-m", help=MODEL_HELP)] = None,
    smoothing: SmoothingOpt = Smoothing.kneser_ney,
    k: KOpt = 1.0,
    lam: Annotated[float, typer.Option("--lambda", help=LAMBDA_HELP)] = 0.5,
    window: Annotated[Optional[int], typer.Option("--window", min=1, help="Skip features reach at most N words back.")] = None,
    per_sentence: Annotated[bool, typer.Option("--per-sentence", help="Also list each held-out sentence's log10 probability.")] = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    fmt: FormatOpt = TextFormat.table,
):
    """Held-out perplexity: train each model on TRAIN, score --held-out, rank them (lower is better)."""
    from lmtoy.evaluate import LADDER
    from lmtoy.render.evaluate import perplexity_view

    check_k(k, smoothing.value)
    if not (0 <= lam <= 1):
        bad_option(f"{lam:g} is not from 0 to 1", "--lambda")
    names = list(dict.fromkeys(models or LADDER))
    for name in names:
        if name not in LADDER and not name.startswith("transformer:"):
            bad_option(f"{quoted(name)} is not {', '.join(LADDER)} or transformer:FILE.npz", "--model")
    if held_out == "-" and train in (None, "-"):
        bad_option("standard input can be read only once: give the training corpus or the held-out text as a file",
                   "--held-out")
    corpus = load_corpus(train, join_lines, keep_case)
    held, texts = _held_out(held_out, join_lines, keep_case)
    scores = [_score(name, corpus, held, smoothing.value, k, lam, window) for name in names]
    view = perplexity_view(_shown(corpus.name), _shown(held.name), scores, texts if per_sentence else None)
    emit(view, fmt)


def _shown(name: str) -> str:
    """A bundled corpus by its name ('commands'), any other file by its path as given."""
    from pathlib import Path

    from lmtoy.corpus import bundled

    stem = Path(name).stem
    return stem if bundled(stem) == Path(name) else name


def _held_out(source: str, join_lines: bool, keep_case: bool):
    """The held-out corpus and its sentences as text (words joined by spaces)."""
    from lmtoy.errors import CorpusError
    from lmtoy.evaluate import check_held_out

    data, name = corpus_bytes(source, "--held-out")
    try:
        held = corpus_from(data, name, join_lines, keep_case)
    except CorpusError as error:
        if "no words" in str(error):
            raise CorpusError(f"{name}: the held-out file has no words: nothing to score") from None
        raise
    check_held_out(held)
    return held, [" ".join(held.sentence(s)) for s in range(held.n_sentences)]


def _score(name: str, corpus, held, method: str, k: float, lam: float, window):
    from lmtoy import evaluate
    from lmtoy.smoothing import smooth

    if name.startswith("transformer:"):
        from lmtoy.transformer.io import load_model

        return evaluate.score_transformer(load_model(name.removeprefix("transformer:")), held, name)
    if name in ("first-order", "second-order"):
        return evaluate.score_ngram(smooth(corpus, name, method, k), held)
    first = smooth(corpus, "first-order", method, k)
    return evaluate.score_skips(first, corpus, held, name == "masked-skips", lam, window)


@app.command()
@handle_errors
def score(
    train: Annotated[str, typer.Argument(help="The training corpus: a file, '-' or a bundled name.", show_default=False, autocompletion=complete_corpus)],
    text: Annotated[str, typer.Argument(help="The sentence to score, e.g. 'show me my photos please'.", show_default=False)],
    model: Annotated[NgramModel, typer.Option("--model", "-m", case_sensitive=False, help="The n-gram model.")] = NgramModel.first_order,
    smoothing: SmoothingOpt = Smoothing.kneser_ney,
    k: KOpt = 1.0,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    fmt: FormatOpt = TextFormat.table,
):
    """Score one sentence: each word's log10 probability (and </s>'s), like KenLM's full_scores, and the sum."""
    from lmtoy.corpus import parse_corpus, tokenize
    from lmtoy.evaluate import matched_orders, score_ngram
    from lmtoy.render.evaluate import score_view
    from lmtoy.smoothing import smooth

    check_k(k, smoothing.value)
    words = tokenize(text, keep_case)
    if not words:
        bad_option(f"{quoted(text)} has no words", "TEXT")
    smoothed = smooth(load_corpus(train, join_lines, keep_case), model.value, smoothing.value, k)
    held = parse_corpus(" ".join(words), name="TEXT", keep_case=True)  # one sentence: its ends were dropped
    result = score_ngram(smoothed, held)
    shown = [w if smoothed.id(w) != smoothed.unk else "<unk>" for w in words] + ["</s>"]
    view = score_view(model.value, smoothed.label, [*words, "</s>"], shown, result.log10.tolist(),
                      matched_orders(smoothed, held))
    emit(view, fmt)
