"""Commands for sections 1-4: onehot, first-order, second-order, skips."""

from __future__ import annotations

import math
from typing import Annotated, Optional

import typer

from lmtoy.cli.common import (
    CorpusArg, Format, FormatOpt, JoinLines, KeepCase, MaxRows, NgramFormatOpt, Sparse, Scale, ScaleOpt, Svg, TokenizerOpt,
    bad_option, emit, handle_errors, load_corpus, one_word, quoted, split_words, tokenizer_from,
)
from lmtoy.cli.evaluate import ArpaSmoothingOpt, KOpt, with_arpa

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

ALL_ROWS_LIMIT = 10_000  # pair rows --all-rows will show


@app.command()
@handle_errors
def onehot(
    text: Annotated[str, typer.Argument(help="The words to encode, e.g. 'find my files'.")],
    corpus: Annotated[Optional[str], typer.Option("--corpus", "-c", help="Use this corpus's vocabulary (file, '-' or bundled name).")] = None,
    mix: Annotated[Optional[str], typer.Option("--mix", help="A weighted mix of words to dot with, e.g. 'files=0.3,photos=0.5'.")] = None,
    lookup: Annotated[bool, typer.Option("--lookup", help="Multiply the one-hot rows by the corpus's first-order matrix (needs --corpus).")] = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """One-hot encoding: the number sequence and one-hot rows of TEXT (section 1)."""
    from lmtoy.corpus import Vocabulary
    from lmtoy.render.counted import onehot_view

    tok = tokenizer_from(tokenizer)
    tokens = split_words(text, "TEXT", keep_case, tok)
    if corpus is None:
        if lookup:
            bad_option("--lookup needs --corpus: the matrix comes from a corpus", "--lookup")
        words = sorted(set(tokens))
    else:
        from lmtoy.ngrams import first_order

        counted = load_corpus(corpus, keep_case=keep_case, tokenizer=tok)
        words = list(counted.vocabulary.words)
    vocabulary = Vocabulary(tuple(words))
    ids = vocabulary.encode(tokens)
    model = first_order(counted) if lookup else None
    emit(onehot_view(tokens, words, ids, _parse_mix(mix, vocabulary, keep_case, tok), model), fmt, svg=svg, scale=scale)


def _parse_mix(mix: str | None, vocabulary, keep_case: bool, tok=None) -> dict[str, float] | None:
    """'files=0.3,photos=0.5' -> {files: 0.3, photos: 0.5}; every word must be in the vocabulary
    (chars, BPE: each name is a token's text, as --word takes it)."""
    if mix is None:
        return None
    out = {}
    for item in mix.split(","):
        word, sep, value = item.partition("=")
        if tok is not None and tok.kind != "words":
            word = tok.token(word.strip(), keep_case)  # a space in a name: type ␣
        else:
            word = word.strip() if keep_case else word.strip().lower()
        try:
            out[word] = float(value)
        except ValueError:
            bad_option(f"{quoted(item)} is not word=weight", "--mix")
        if not sep or not word or not math.isfinite(out[word]):
            bad_option(f"{quoted(item)} is not word=weight with a finite weight", "--mix")
        vocabulary.id(word)
    return out


@app.command("first-order")
@handle_errors
def first_order_cmd(
    corpus: CorpusArg = None,
    word: Annotated[Optional[str], typer.Option("--word", "-w", help="Show the lookup: one-hot(WORD) times the matrix, and the row it pulls out.")] = None,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: NgramFormatOpt = Format.table,
    smoothing: ArpaSmoothingOpt = None,
    k: KOpt = 1.0,
    sparse: Sparse = False,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
    max_rows: MaxRows = 40,
):
    """First-order (Markov) model: the N x N transition matrix, word -> next word (section 2)."""
    from lmtoy.ngrams import first_order, lookup
    from lmtoy.render.counted import lookup_view, model_view

    tok = tokenizer_from(tokenizer)
    counted = load_corpus(corpus, join_lines, keep_case, tok)
    model = first_order(counted)
    if word is None:
        return emit(with_arpa(model_view(model), counted, "first-order", fmt, smoothing, k), fmt, sparse, svg, max_rows, scale=scale)
    word = one_word(word, "--word", keep_case, tok)
    emit(lookup_view(model, word, lookup(model, [word])), fmt, sparse, svg, max_rows, scale=scale)


@app.command("second-order")
@handle_errors
def second_order_cmd(
    corpus: CorpusArg = None,
    words: Annotated[Optional[str], typer.Option("--words", "-w", help="One row: the pair, e.g. 'battery ran'.")] = None,
    all_rows: Annotated[bool, typer.Option("--all-rows", help=f"Show all N^2 pair rows, unobserved ones zero (N^2 <= {ALL_ROWS_LIMIT:,}).")] = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: NgramFormatOpt = Format.table,
    smoothing: ArpaSmoothingOpt = None,
    k: KOpt = 1.0,
    sparse: Sparse = False,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
    max_rows: Annotated[Optional[int], typer.Option("--max-rows", min=0, help="Rows the table view shows (0: all; default 40, all with --all-rows).")] = None,
):
    """Second-order model: one row per observed word pair -> next word (section 3)."""
    import numpy as np

    from lmtoy.ngrams import lookup, second_order
    from lmtoy.render.counted import all_pairs_view, model_view

    tok = tokenizer_from(tokenizer)
    counted = load_corpus(corpus, join_lines, keep_case, tok)
    model = second_order(counted)
    rows_shown = 40 if max_rows is None else max_rows
    if words is not None:
        pair = split_words(words, "--words", keep_case, tok)
        if len(pair) != 2:
            bad_option(f"{quoted(words)} is {len(pair)} word{'s' * (len(pair) != 1)}; give two, e.g. 'battery ran'", "--words")
        chosen = f"--words '{' '.join(pair)}' picks its row"
        return emit(model_view(model, np.array([lookup(model, pair)]), chosen=chosen), fmt, sparse, svg, rows_shown, scale=scale)
    if not all_rows:
        return emit(with_arpa(model_view(model), counted, "second-order", fmt, smoothing, k), fmt, sparse, svg, rows_shown, scale=scale)
    if model.possible_rows > ALL_ROWS_LIMIT:
        from lmtoy.errors import TooLargeError

        raise TooLargeError(
            f"--all-rows would show {model.possible_rows:,} pair rows (N = {len(model.vocabulary):,}); "
            f"the limit is {ALL_ROWS_LIMIT:,}: drop --all-rows to see the {model.n_rows:,} observed rows"
        )
    emit(all_pairs_view(model), fmt, sparse, svg, max_rows=0 if max_rows is None else max_rows, scale=scale)


@app.command()
@handle_errors
def skips(
    corpus: CorpusArg = None,
    word: Annotated[Optional[str], typer.Option("--word", "-w", help="Only the features whose most recent word is WORD (the article's view).")] = None,
    window: Annotated[Optional[int], typer.Option("--window", min=1, max=1_000_000_000, help="A feature reaches at most N words back (long sentences have (L-1)(L-2)/2 features).")] = None,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: NgramFormatOpt = Format.table,
    sparse: Sparse = False,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
    max_rows: MaxRows = 40,
):
    """Second-order with skips: features (earlier word, most recent word) -> next word (section 4)."""
    from lmtoy.ngrams import skips as build_skips
    from lmtoy.render.counted import model_view

    tok = tokenizer_from(tokenizer)
    if fmt is Format.arpa:
        bad_option("the skip model has no ARPA form (its rows are features (earlier, recent), not n-grams): "
                   "use first-order or second-order --format arpa", "--format")
    model = build_skips(load_corpus(corpus, join_lines, keep_case, tok), window)
    if word is None:
        return emit(model_view(model), fmt, sparse, svg, max_rows, scale=scale)
    recent = one_word(word, "--word", keep_case, tok)
    rows = model.rows_with_recent(model.vocabulary.id(recent))
    if not len(rows):
        from lmtoy.errors import VocabularyError

        raise VocabularyError(f"no feature has '{recent}' as its most recent word: it never has both an earlier "
                              "word and a next word in one sentence")
    chosen = f"--word {recent} picks the features whose most recent word is '{recent}'"
    view = model_view(model, rows, title=f"Skip features whose most recent word is '{recent}'", chosen=chosen)
    emit(view, fmt, sparse, svg, max_rows, scale=scale)
