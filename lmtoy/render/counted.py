"""Views of the counted models and of one-hot lookups (sections 1-4).

A model's table view is built from the sparse entries of the rows it shows: ``take``
scatters those rows' entries into the shown columns, and the columns are ranked by
their weighted count in those rows. Shapes: N words, R rows, E entries.
"""

from __future__ import annotations

import numpy as np

from lmtoy.ngrams import TransitionModel
from lmtoy.render.matrix import Grid, count, token_labels
from lmtoy.render.text import CELL_LIMIT, records, to_json
from lmtoy.render.views import LazyLabels, View

ROW_HEADERS = {"first-order": "word", "second-order": "previous, recent", "skips": "earlier, recent"}
PROBABILITY = (0.0, 1.0)  # every transition matrix is shaded on the same scale
TITLES = {
    "first-order": "First-order transition matrix: row word -> next word",
    "second-order": "Second-order transition matrix: (word, word) -> next word",
    "skips": "Second-order with skips: feature (earlier word, most recent word) -> next word",
}


def model_grid(model: TransitionModel, rows: np.ndarray, title: str | None = None, **kw) -> Grid:
    """The rows ``rows`` (row indices, -1 for an unobserved row) of a model as a Grid over
    the vocabulary, its cells built from those rows' entries only."""
    rows = np.asarray(rows, dtype=np.int64)
    kw.setdefault("full_hint", _full_hint(len(rows) * len(model.vocabulary)))
    return Grid(
        LazyLabels(len(rows), lambda i: model.label(int(rows[i]))),
        list(model.vocabulary.words),
        _take(model, rows),
        title=TITLES[model.kind] if title is None else title,
        row_header=ROW_HEADERS[model.kind],
        row_rank=model.row_totals[rows],
        col_rank=model.column_totals,
        scale=PROBABILITY,
        col_weight=lambda r: _column_counts(model, rows[r]),
        row_mass=lambda r: (_safe_totals(model, rows[r]) > 0).astype(float),  # a row sums to 1, or is empty
        **kw,
    )


def _entries(model: TransitionModel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # (r,) -> (e,), (e,)
    """The entries of model rows ``rows`` (-1: none): each entry's position in ``rows``, and
    its index into model.cols / model.values. Rows [0, 2] of indptr [0, 2, 3, 5] ->
    owners [0, 0, 1, 1], entries [0, 1, 3, 4]."""
    if not model.n_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    real = rows >= 0
    safe = np.where(real, rows, 0)
    lo = np.where(real, model.indptr[safe], 0)
    size = np.where(real, model.indptr[safe + 1], 0) - lo
    at = np.repeat(lo - np.r_[0, np.cumsum(size)[:-1]], size) + np.arange(size.sum())
    return np.repeat(np.arange(len(rows)), size), at


def _take(model: TransitionModel, rows: np.ndarray):
    """take(r (r,), c (c,)) -> (r, c): the entries of rows[r] that fall in columns c."""

    def take(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        out = np.zeros((len(r), len(c)))
        owner, at = _entries(model, rows[r])
        if not len(c) or not len(at):
            return out
        order = np.argsort(c, kind="stable")
        where = np.minimum(np.searchsorted(c[order], model.cols[at]), len(c) - 1)  # (e,)
        hit = c[order][where] == model.cols[at]
        out[owner[hit], order[where[hit]]] = model.values[at[hit]]
        return out

    return take


def _column_counts(model: TransitionModel, rows: np.ndarray) -> np.ndarray:  # (r,) -> (N,)
    """Each next word's weighted count in the rows ``rows``: what the table view ranks by."""
    _, at = _entries(model, rows)
    return np.bincount(model.cols[at], weights=model.counts[at], minlength=len(model.vocabulary))


def _safe_totals(model: TransitionModel, rows: np.ndarray) -> np.ndarray:  # (r,) -> (r,)
    return np.where(rows >= 0, model.row_totals[np.maximum(rows, 0)], 0.0) if model.n_rows else np.zeros(len(rows))


def _full_hint(cells: int, chosen: bool = False) -> str:
    """What shows the hidden part of a matrix of ``cells`` cells (``chosen``: --word/--words
    already picked the rows)."""
    if cells > CELL_LIMIT:
        return "--sparse --format csv writes every non-zero entry" + ("" if chosen else "; --word/--words picks rows")
    return "--format json|csv|tsv|markdown shows all"


def _notes(model: TransitionModel, rows: np.ndarray, chosen: str) -> list[str]:
    n = len(model.vocabulary)
    notes = []
    if model.kind != "first-order":
        notes.append(
            f"{model.n_rows:,} observed rows of {model.possible_rows:,} possible (N^2, N = {n:,}); "
            f"a dense matrix would hold {model.possible_rows * n:,} cells"
        )
    if model.window is not None:
        notes.append(f"window {model.window}: a feature reaches at most {model.window} words back")
    if len(rows) < model.n_rows:
        why = f" ({chosen})" if chosen else ""
        notes.append(f"{count(model.n_rows - len(rows), 'row')} not chosen{why}")
    return notes


def _payload(model: TransitionModel, rows: np.ndarray, labels) -> dict:
    return {
        "model": model.kind,
        "rows": list(labels),
        "columns": list(model.vocabulary.words),
        "values": model.dense(rows),
        "vocabulary": list(model.vocabulary.words),
        "observed_rows": model.n_rows,
        "possible_rows": model.possible_rows,
        "window": model.window,
    }


def _sparse(model: TransitionModel, rows: np.ndarray):
    """A writer of the chosen rows' non-zero entries as records."""

    def write(sep: str | None) -> str:
        owner, at = _entries(model, rows)
        words = model.vocabulary.words
        labels = [model.label(int(r)) for r in rows[owner]]
        cols = [words[c] for c in model.cols[at]]
        if sep is not None:
            return records(labels, cols, model.values[at], sep, ROW_HEADERS[model.kind])
        triples = [[lab, col, float(v)] for lab, col, v in zip(labels, cols, model.values[at])]
        return to_json({"model": model.kind, "fields": ["row", "column", "value"], "records": triples,
                        "vocabulary": list(words), "observed_rows": model.n_rows, "possible_rows": model.possible_rows,
                        "window": model.window})

    return write


def model_view(model: TransitionModel, rows: np.ndarray | None = None, title: str | None = None,
               chosen: str = "") -> View:
    """A model's matrix (all its rows, or the chosen ones; ``chosen`` says how they were
    chosen, e.g. "--word ran picks the features whose most recent word is 'ran'")."""
    picked = rows is not None
    rows = np.arange(model.n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
    grid = model_grid(model, rows, title, rows_flag="--max-rows",
                      full_hint=_full_hint(len(rows) * len(model.vocabulary), picked))
    grid.notes = _notes(model, rows, chosen)
    return View(
        [grid],
        lambda: _payload(model, rows, grid.rows),
        main=grid,
        sparse=_sparse(model, rows),
        hint="use --sparse for the non-zero entries" if picked else
        "use --word/--words for a few rows, or --sparse for the non-zero entries",
    )


def all_pairs_view(model: TransitionModel) -> View:
    """Second-order with all N^2 pair rows, the unobserved ones zero."""
    n = len(model.vocabulary)
    words = model.vocabulary.words
    found = model.index_of(np.arange(n * n))  # (N^2,) observed row or -1
    grid = model_grid(model, found, f"Second-order transition matrix, all {n * n:,} pair rows ({model.n_rows:,} observed)",
                      rows_flag="--max-rows", full_hint=_full_hint(0))
    grid.rows = LazyLabels(n * n, lambda p: [words[p // n], words[p % n]])
    grid.row_rank = None  # vocabulary order
    payload = lambda: _payload(model, found, grid.rows) | {"rows": list(grid.rows)}
    return View([grid], payload, main=grid, sparse=_sparse(model, np.arange(model.n_rows)))


def lookup_view(model: TransitionModel, word: str, r: int) -> View:
    """First-order lookup: one-hot(word) times the matrix pulls out the word's row."""
    from lmtoy.onehot import one_hot

    words = list(model.vocabulary.words)
    n = len(words)
    hot = one_hot(np.array([model.vocabulary.id(word)]), n)  # (1, N)
    parts = [Grid.of(hot, [f"one-hot({word})"], words, title=f"one-hot({word}): a 1 in column {words.index(word) + 1} of {n}",
                     col_rank=hot[0], hide_zeros=False)]
    if n <= 12:
        parts += ["[bold]×[/] the transition matrix", model_grid(model, np.arange(model.n_rows), title="",
                                                                  rows_flag="--max-rows")]
    else:
        parts.append(f"[bold]×[/] the {n:,} x {n:,} transition matrix [dim](not drawn above 12 words: lmtoy first-order shows it)[/]")
    parts += ["[bold]=[/] the row it pulls out", model_grid(model, np.array([r]), title="")]
    base = model_view(model, np.array([r]), chosen=f"--word {word} picks its row")
    return View(parts, lambda: base.payload() | {"onehot": hot[0]}, main=base.main, sparse=base.sparse)


def _pulled(model: TransitionModel, hot: np.ndarray) -> np.ndarray:  # (n, N) -> (n, N)
    """one-hot rows times the transition matrix: a real product for a small vocabulary;
    above 2,000 words the rows are taken directly (the same numbers, without an N x N matrix)."""
    from lmtoy.onehot import lookup

    if len(model.vocabulary) <= 2000:
        return lookup(hot, model.dense())
    return model.dense(np.argmax(hot, axis=1))


def onehot_view(tokens: list[str], vocabulary: list[str], ids: np.ndarray, mix: dict[str, float] | None,
                model: TransitionModel | None = None) -> View:
    """Section 1: the number sequence, one-hot rows, dot products, and (with a model) lookups."""
    from lmtoy.onehot import one_hot

    n = len(vocabulary)
    hot = one_hot(ids, n)  # (n, N)
    numbers = [int(i) + 1 for i in ids]
    positions = token_labels(tokens)
    parts = [
        Grid.of(np.arange(1, n + 1)[None, :], ["index"], vocabulary, title="Vocabulary, counted from one",
                col_rank=hot.sum(axis=0), fixed_rank=True),  # the prompt's words first
        f"[bold]{' '.join(tokens)}[/] -> {numbers}",
        Grid.of(hot, tokens, vocabulary, title="One-hot rows", row_header="word", hide_zeros=False),
        Grid.of(hot @ hot.T, positions, positions, title="Dot products of the one-hot rows (1: same word, 0: other)"),
    ]
    payload = {"tokens": tokens, "vocabulary": vocabulary, "indices": numbers, "ids": ids, "onehot": hot, "dot": hot @ hot.T}
    if mix is not None:
        weights = np.array([mix.get(w, 0.0) for w in vocabulary])  # (N,)
        parts.append(Grid.of((hot @ weights)[:, None], tokens, ["mix"], title="Dot product with the weighted mix "
                             + ", ".join(f"{w} {v:g}" for w, v in mix.items())))
        payload["mix"] = mix
        payload["mix_dot"] = hot @ weights
    if model is not None:
        pulled = _pulled(model, hot)  # (n, N)
        parts.append(model_grid(model, ids, title=f"One-hot rows times the {model.kind} matrix: rows {numbers}"))
        payload["lookup"] = {"matrix": model.kind, "rows": numbers, "values": pulled}
    main = Grid.of(hot, tokens, vocabulary, row_header="word")
    return View(parts, lambda: payload, main=main)


