"""The article's table figures (sections 1-7), each computed from a corpus by the core
and laid out by the same views the commands print (lmtoy.render.counted, .attention).

The default corpus is the worked example's; with ``--corpus`` a figure is redrawn on
any corpus, its prompts then taken from the corpus's own sentences (all but the last
word of the first two sentences), its query word from the first prompt's last word.
"""

from __future__ import annotations

import numpy as np

from lmtoy.corpus import Corpus
from lmtoy.errors import CorpusError
from lmtoy.render.figures import FigureResult, Options, article_corpus, register
from lmtoy.render.figures.parts import result
from lmtoy.render.matrix import Grid

C = ("corpus",)
PROGRAM = "check the program log and find out whether it ran"  # the article's prompts (section 4)
BATTERY = "check the battery log and find out whether it ran"


def _corpus(options: Options, default: str) -> Corpus:
    return options.corpus if options.corpus is not None else article_corpus(default)


def _prompts(options: Options, corpus: Corpus) -> list[list[str]]:
    """The two prompts: the article's, or all but the last word of the corpus's first two sentences."""
    if options.corpus is None:
        return [PROGRAM.split(), BATTERY.split()]
    out = [corpus.sentence(s)[:-1] for s in range(min(2, corpus.n_sentences))]
    out = [p for p in out if len(p) >= 2]
    if not out:
        raise CorpusError(f"{corpus.name}: no sentence of three words or more to take a prompt from")
    return out


def _ladder(corpus: Corpus):
    from lmtoy.complete import Ladder

    return Ladder(corpus, None, 0.25)  # the commands' defaults (--window, --min-gain)


@register("one_hot_vocabulary", "The vocabulary, and a sentence as numbers and one-hot rows", "1", C)
def one_hot_vocabulary(options: Options) -> FigureResult:
    from lmtoy.render.counted import onehot_view

    corpus = _corpus(options, "find_my_files")
    tokens = corpus.sentence(0)
    view = onehot_view(tokens, list(corpus.vocabulary.words), corpus.vocabulary.encode(tokens), None)
    return result(view.parts[:3], "One-hot encoding", options.scale)


@register("dot_product", "Dot products: one-hot with one-hot is 1 or 0; with a weighted mix, the word's weight", "1", C)
def dot_product(options: Options) -> FigureResult:
    from lmtoy.render.counted import onehot_view

    corpus = _corpus(options, "show_me")
    words = list(corpus.vocabulary.words)
    model = _first(corpus)
    mix_word = _query_word(options, corpus, "my")
    row = model.row(model.find((corpus.vocabulary.id(mix_word),)))
    mix = {w: float(v) for w, v in zip(words, row) if v}  # the row of 'my': files 0.3, photos 0.5, ...
    view = onehot_view(words, words, np.arange(len(words)), mix)
    return result(view.parts[3:], f"Dot products (the mix is the transition row of '{mix_word}')", options.scale)


@register("matrix_mult_three_row_two_col", "One-hot rows times a matrix pull out its rows in that order", "1", C)
def matrix_mult_three_row_two_col(options: Options) -> FigureResult:
    from lmtoy.onehot import lookup, one_hot

    corpus = _corpus(options, "show_me")
    words = list(corpus.vocabulary.words)
    m = min(4, len(words))  # the article's [3 x 4] times [4 x 2]: B is the first m rows of the transition matrix,
    ids = np.array([0, 3, 2]) % m  # in its two heaviest columns; A's rows have their 1 in columns 1, 4, 3
    hot = one_hot(ids, m)  # (3, m)
    rows = _first(corpus).dense(np.arange(m))  # (m, N)
    cols = _two_columns(rows)
    b = rows[:, cols]  # (m, 2)
    labels = [f"one-hot({words[i]})" for i in ids]
    pulled = lookup(hot, b)  # (3, 2)
    names = [words[j] for j in cols]
    parts = [Grid.of(hot, labels, words[:m], title=f"A [3 x {m}]: one-hot rows with their 1 in columns "
                     f"{', '.join(str(i + 1) for i in ids)}", hide_zeros=False),
             Grid.of(b, [f"{k + 1} {w}" for k, w in enumerate(words[:m])], names, row_header="row", hide_zeros=False,
                     title=f"B [{m} x 2]: rows 1-{m} of the first-order transition matrix, columns {', '.join(names)}"),
             Grid.of(pulled, [f"row {i + 1} ({words[i]})" for i in ids], names, hide_zeros=False,
                     title=f"A B [3 x 2]: rows {', '.join(str(i + 1) for i in ids)} of B")]
    return result(parts, "Matrix multiplication as lookup", options.scale)


def _two_columns(rows: np.ndarray) -> np.ndarray:  # (m, N) -> (2,) sorted column ids
    """The two columns (of the 8 heaviest) that leave fewest rows all zero, then show the most
    distinct values, then weigh most: on show_me 'photos' and 'please' (rows 1, 2, 4 non-zero)."""
    from itertools import combinations

    heavy = np.argsort(-rows.sum(axis=0), kind="stable")[:8]
    if len(heavy) < 2:
        return np.sort(heavy)
    def merit(pair):
        block = rows[:, list(pair)]
        return ((block != 0).any(axis=1).sum(), len(set(block[block != 0].tolist())), block.sum())

    return np.sort(np.array(max(combinations(heavy.tolist(), 2), key=merit)))


def _first(corpus: Corpus):
    from lmtoy.ngrams import first_order

    return first_order(corpus)


def _query_word(options: Options, corpus: Corpus, default: str) -> str:
    """The article's word, or with another corpus the most recent word of the first prompt."""
    return default if options.corpus is None else _prompts(options, corpus)[0][-1]


@register("transition_matrix", "First-order transition matrix: word -> next word", "2", C)
def transition_matrix(options: Options) -> FigureResult:
    from lmtoy.render.counted import model_view

    return result(model_view(_first(_corpus(options, "show_me"))).parts, "", options.scale)


@register("transition_lookups", "one-hot(my) times the transition matrix pulls out the row of my", "2", C)
def transition_lookups(options: Options) -> FigureResult:
    from lmtoy.ngrams import lookup
    from lmtoy.render.counted import lookup_view

    corpus = _corpus(options, "show_me")
    model, word = _first(corpus), _query_word(options, corpus, "my")
    return result(lookup_view(model, word, lookup(model, [word])).parts, "Transition lookup", options.scale)


@register("transition_matrix_second_order", "Second-order transition matrix: word pair -> next word", "3", C)
def transition_matrix_second_order(options: Options) -> FigureResult:
    from lmtoy.ngrams import second_order
    from lmtoy.render.counted import model_view

    return result(model_view(second_order(_corpus(options, "battery"))).parts, "", options.scale)


def _recent_rows(corpus: Corpus, word: str):
    from lmtoy.render.counted import model_view

    ladder = _ladder(corpus)
    model = ladder.get("skips")
    rows = model.rows_with_recent(corpus.vocabulary.id(word))
    return ladder, rows, model_view(model, rows, title=f"Skip features whose most recent word is '{word}'")


@register("transition_matrix_second_order_skips", "Second-order with skips: the features whose most recent word is ran", "4", C)
def transition_matrix_second_order_skips(options: Options) -> FigureResult:
    corpus = _corpus(options, "program_log")
    _, _, view = _recent_rows(corpus, _query_word(options, corpus, "ran"))
    return result(view.parts, "", options.scale)


@register("feature_selection", "Feature selection: a mask keeps the informative features", "5", C)
def feature_selection(options: Options) -> FigureResult:
    corpus = _corpus(options, "program_log")
    ladder, rows, view = _recent_rows(corpus, _query_word(options, corpus, "ran"))
    flags = np.asarray(ladder.get("informative"), dtype=float)[rows]  # (r,)
    mask = Grid.of(flags[:, None], view.parts[0].rows, ["mask"], hide_zeros=False, row_header="feature",
                   title="The mask: 1 keeps an informative feature, 0 hides it")
    return result(view.parts + [mask], "Feature selection", options.scale)


def _masked_vote(corpus: Corpus, prompt: list[str]):
    from lmtoy import attention
    from lmtoy.render.attention import vote_view

    ladder = _ladder(corpus)
    corpus.vocabulary.require(prompt)
    v = attention.vote(ladder.get("skips"), corpus.vocabulary.encode(prompt))
    if not len(v.rows):
        raise CorpusError(f"the prompt '{' '.join(prompt)}' has no active feature in {corpus.name}")
    v = attention.masked(v, attention.auto_mask(v, ladder.get("informative")))
    return v, vote_view(corpus.vocabulary.words, prompt, v, True)


def _each_prompt(options: Options, pick) -> list:
    """``pick(vote, view)``'s parts for each prompt's masked vote, one prompt after the other."""
    corpus = _corpus(options, "program_log")
    return [part for prompt in _prompts(options, corpus) for part in pick(*_masked_vote(corpus, prompt))]


@register("masked_feature_activities", "The mask applied element-wise to the feature activities", "5", C)
def masked_feature_activities(options: Options) -> FigureResult:
    parts = _each_prompt(options, lambda v, view: [view.parts[0], view.parts[2]])
    return result(parts, "Masked feature activities", options.scale)


def _kept_rows(v, view) -> list:
    """The prompt, the rows of the features the mask keeps, the totals and the prediction."""
    rows, keep = view.parts[1], np.flatnonzero(v.mask)
    kept = Grid.of(v.values[keep], [rows.rows[i] for i in keep], rows.columns, row_header="feature",
                   title="The kept features' rows", col_rank=v.unmasked_totals)
    return [view.parts[0], kept, view.parts[3], view.parts[4]]


@register("masked_transition_matrix", "Masked votes: only the kept features' rows count", "5", C)
def masked_transition_matrix(options: Options) -> FigureResult:
    return result(_each_prompt(options, _kept_rows), "Masked transition matrix", options.scale)


@register("mask_matrix_lookup", "Q K^T: a one-hot query pulls its mask out of K", "6", C)
def mask_matrix_lookup(options: Options) -> FigureResult:
    from lmtoy import attention
    from lmtoy.render.attention import attend_view

    corpus = _corpus(options, "program_log")
    word = _query_word(options, corpus, "ran")
    ladder = _ladder(corpus)
    k = attention.mask_matrix(ladder.get("skips"), ladder.get("informative"))
    q, qkt = attention.query_mask(k, corpus.vocabulary.id(word))
    return result(attend_view(corpus.vocabulary.words, word, k, q, qkt).parts, "Mask lookup", options.scale)


def _feedforward(corpus: Corpus, prompt: list[str]):
    from lmtoy import attention
    from lmtoy.render.attention import feedforward_view

    corpus.vocabulary.require(prompt)
    ids = corpus.vocabulary.encode(prompt)
    ladder = _ladder(corpus)
    ff = attention.feed_forward(ladder.get("skips"), int(ids[-1]), ladder.get("informative"))
    return feedforward_view(corpus.vocabulary.words, prompt, ff, *ff.forward(ids))


@register("feature_creation_matrix", "W1: the hand-built feature-creation matrix (with a bias input)", "7", C)
def feature_creation_matrix(options: Options) -> FigureResult:
    corpus = _corpus(options, "program_log")
    view = _feedforward(corpus, _prompts(options, corpus)[0])
    return result(view.parts[:1], "Feature creation matrix", options.scale)


def _feature_figure(options: Options, which: int, title: str) -> FigureResult:
    corpus = _corpus(options, "program_log")
    prompts = _prompts(options, corpus)
    view = _feedforward(corpus, prompts[min(which, len(prompts) - 1)])
    return result(view.parts[1:], title, options.scale)


@register("second_order_feature_battery", "Feature creation, ReLU and transition for the battery prompt", "7", C)
def second_order_feature_battery(options: Options) -> FigureResult:
    return _feature_figure(options, 1, "Second-order features: the battery prompt")


@register("second_order_feature_program", "Feature creation, ReLU and transition for the program prompt", "7", C)
def second_order_feature_program(options: Options) -> FigureResult:
    return _feature_figure(options, 0, "Second-order features: the program prompt")
