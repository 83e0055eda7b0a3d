"""Commands for sections 4-8: vote, attend, feedforward, complete, compare."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from lmtoy.cli.common import (
    CorpusArg, Format, FormatOpt, JoinLines, KeepCase, Scale, ScaleOpt, Svg, bad_option, emit, handle_errors, load_corpus,
    Seed, Steps, Temperature, TokenizerOpt, TopK, one_word, quoted, sampler, split_words, tokenizer_from,
)
from lmtoy.cli.output import note

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

Prompt = Annotated[str, typer.Option("--prompt", "-p", help="The words so far, e.g. 'check the battery log and find out whether it ran'.")]
Window = Annotated[Optional[int], typer.Option("--window", min=1, max=1_000_000_000, help="Skip features reach at most N words back.")]
MIN_GAIN = 0.25  # = lmtoy.attention.DEFAULT_MIN_GAIN (not imported here: it would load numpy at start-up)
ATTEND_LIMIT = 3000  # words: K is N x N
MinGain = Annotated[float, typer.Option("--min-gain", min=0.0, max=1.0, help="A feature is informative when its next-word distribution is more than this (total-variation distance) away from the first-order row of its most recent word.")]
IgnoreUnknown = Annotated[bool, typer.Option("--ignore-unknown", help="Skip models: ignore earlier prompt words that are not in the vocabulary.")]


def _prompt_ids(corpus, prompt: str, keep_case: bool, ignore_unknown: bool, can_ignore: bool = True, tok=None):
    """The prompt's words and ids; unknown words are an error (or dropped, except the last)."""
    words = split_words(prompt, "--prompt", keep_case, tok)
    vocab = corpus.vocabulary
    if not (ignore_unknown and words[-1] in vocab):
        vocab.require(words, " (--ignore-unknown drops earlier ones)" if can_ignore and not ignore_unknown else "")
    unknown = [w for w in words if w not in vocab]
    if unknown:
        note(f"ignoring words not in the vocabulary: {', '.join(unknown)}")
        words = [w for w in words if w in vocab]
    return words, vocab.encode(words)


def _parse_keep(values: list[str], keep_case: bool, tok=None) -> list[list[str]]:
    """'battery,ran' -> [battery, ran]; with chars or a BPE file each side is one token's text."""
    pairs = []
    for value in values:
        if tok is not None and tok.kind != "words":
            words = [one_word(side, "--keep", keep_case, tok) for side in value.split(",")]
        else:
            words = split_words(value.replace(",", " "), "--keep", keep_case)
        if len(words) != 2:
            bad_option(f"{quoted(value)} is not a feature: give 'earlier,recent', e.g. 'battery,ran'", "--keep")
        pairs.append(words)
    return pairs


@app.command()
@handle_errors
def vote(
    corpus: CorpusArg = None,
    prompt: Prompt = ...,
    keep: Annotated[Optional[list[str]], typer.Option("--keep", help="Mask: keep only this feature, 'earlier,recent' (repeatable).")] = None,
    auto_mask: Annotated[bool, typer.Option("--auto-mask", help="Mask: keep only the informative features (see --min-gain).")] = False,
    min_gain: MinGain = MIN_GAIN,
    window: Window = None,
    ignore_unknown: IgnoreUnknown = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Feature voting: the active features' rows, their totals and the winner (sections 4-5).

    With --keep or --auto-mask, a mask keeps some features and hides the rest. A feature is
    informative when its next-word distribution differs from the first-order row of the most
    recent word by a total-variation distance above --min-gain.
    """
    from lmtoy import attention
    from lmtoy.complete import Ladder
    from lmtoy.render.attention import vote_view

    if keep and auto_mask:
        bad_option("use --keep or --auto-mask, not both", "--auto-mask")
    tok = tokenizer_from(tokenizer)
    c = load_corpus(corpus, join_lines, keep_case, tok)
    words, ids = _prompt_ids(c, prompt, keep_case, ignore_unknown, tok=tok)
    ladder = Ladder(c, window, min_gain)
    v = attention.vote(ladder.get("skips"), ids)
    if not len(v.rows):
        from lmtoy.errors import VocabularyError

        if len(words) == 1:
            bad_option("a one-word prompt has no earlier words, so no features: give two words or more", "--prompt")
        raise VocabularyError(f"no feature of this prompt was seen in the corpus: no (earlier word, '{words[-1]}') "
                              "was ever followed by a word")
    if auto_mask:
        v = attention.masked(v, attention.auto_mask(v, ladder.get("informative")))
    elif keep:
        v = attention.masked(v, _keep_mask(c.vocabulary, v, _parse_keep(keep, keep_case, tok)))
    emit(vote_view(c.vocabulary.words, words, v, bool(keep or auto_mask), window), fmt, svg=svg, scale=scale)


def _keep_mask(vocab, v, pairs: list[list[str]]):
    import numpy as np

    from lmtoy.errors import VocabularyError

    active = [(vocab.words[a], vocab.words[b]) for a, b in v.features]
    named = [tuple(p) for p in pairs]
    missing = [p for p in named if p not in active]
    if len(missing) == len(named):
        shown = "; ".join(", ".join(p) for p in active)
        raise VocabularyError(f"no --keep feature is active in this prompt; active: {shown}")
    if missing:
        note("ignoring --keep features not active here: " + "; ".join(", ".join(p) for p in missing))
    return np.array([1.0 if f in named else 0.0 for f in active])


@app.command()
@handle_errors
def attend(
    corpus: CorpusArg = None,
    query: Annotated[str, typer.Option("--query", "-q", help="The most recent word, e.g. 'ran'.")] = ...,
    min_gain: MinGain = MIN_GAIN,
    window: Window = None,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Attention as matrix multiplication: masks stacked in K, a one-hot query Q, and Q K^T (section 6)."""
    from lmtoy import attention
    from lmtoy.complete import Ladder
    from lmtoy.render.attention import attend_view

    tok = tokenizer_from(tokenizer)
    c = load_corpus(corpus, join_lines, keep_case, tok)
    word = one_word(query, "--query", keep_case, tok)
    word_id = c.vocabulary.id(word)
    if len(c.vocabulary) > ATTEND_LIMIT:
        from lmtoy.errors import TooLargeError

        raise TooLargeError(f"attend builds K, an N x N matrix: N = {len(c.vocabulary):,} words is more than "
                            f"{ATTEND_LIMIT:,}; 'lmtoy vote CORPUS --prompt ... --auto-mask' shows one prompt's mask")
    ladder = Ladder(c, window, min_gain)
    k = attention.mask_matrix(ladder.get("skips"), ladder.get("informative"))
    q, qkt = attention.query_mask(k, word_id)
    emit(attend_view(c.vocabulary.words, word, k, q, qkt), fmt, svg=svg, scale=scale)


@app.command()
@handle_errors
def feedforward(
    corpus: CorpusArg = None,
    prompt: Prompt = ...,
    min_gain: MinGain = MIN_GAIN,
    window: Window = None,
    ignore_unknown: IgnoreUnknown = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """The second-order model as matrix multiplications: feature creation, ReLU, transition rows (section 7)."""
    from lmtoy import attention
    from lmtoy.complete import Ladder
    from lmtoy.render.attention import feedforward_view

    tok = tokenizer_from(tokenizer)
    c = load_corpus(corpus, join_lines, keep_case, tok)
    words, ids = _prompt_ids(c, prompt, keep_case, ignore_unknown, tok=tok)
    ladder = Ladder(c, window, min_gain)
    ff = attention.feed_forward(ladder.get("skips"), int(ids[-1]), ladder.get("informative"))
    emit(feedforward_view(c.vocabulary.words, words, ff, *ff.forward(ids)), fmt, svg=svg, scale=scale)


class Model(str, Enum):
    first_order = "first-order"
    second_order = "second-order"
    skips = "skips"
    masked_skips = "masked-skips"


@app.command()
@handle_errors
def complete(
    corpus: CorpusArg = None,
    prompt: Prompt = ...,
    model: Annotated[Model, typer.Option("--model", "-m", help="Which counted model predicts each next word.")] = Model.first_order,
    steps: Steps = 10,
    sample: Annotated[bool, typer.Option("--sample", help="Sample each word instead of taking the highest (greedy); --temperature, --top-k or --seed imply it.")] = False,
    temperature: Temperature = None,
    top_k: TopK = None,
    seed: Seed = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the distribution or vote totals behind each step.")] = False,
    min_gain: MinGain = MIN_GAIN,
    window: Window = None,
    ignore_unknown: IgnoreUnknown = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Sequence completion: append the predicted next word, again and again (section 8)."""
    from lmtoy.complete import Ladder, complete as grow
    from lmtoy.render.attention import completion_view

    rng = sampler(steps, temperature, top_k, seed, sample)
    tok = tokenizer_from(tokenizer)
    c = load_corpus(corpus, join_lines, keep_case, tok)
    skip_model = model in (Model.skips, Model.masked_skips)
    words, ids = _prompt_ids(c, prompt, keep_case, ignore_unknown and skip_model, skip_model, tok)
    result = grow(Ladder(c, window, min_gain), model.value, ids, steps, rng, temperature or 1.0, top_k)
    decode = None if tok.kind == "words" else tok.text
    emit(completion_view(c.vocabulary.words, words, model.value, result, explain, decode), fmt, svg=svg, scale=scale)


@app.command()
@handle_errors
def compare(
    corpus: CorpusArg = None,
    prompt: Prompt = ...,
    min_gain: MinGain = MIN_GAIN,
    window: Window = None,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """The model ladder: next-word prediction and margin under each counted model, side by side."""
    from lmtoy.complete import MODELS, Ladder, dead_end, next_scores
    from lmtoy.errors import UsageError
    from lmtoy.render.attention import ladder_view

    tok = tokenizer_from(tokenizer)
    c = load_corpus(corpus, join_lines, keep_case, tok)
    words, ids = _prompt_ids(c, prompt, keep_case, False, False, tok)
    ladder = Ladder(c, window, min_gain)
    results = {}
    for kind in MODELS:
        try:
            scores = next_scores(ladder, kind, ids)
        except UsageError as error:
            scores = str(error)
        results[kind] = scores if scores is not None else dead_end(ladder, kind, ids)
    emit(ladder_view(c.vocabulary.words, words, results), fmt, svg=svg, scale=scale)
