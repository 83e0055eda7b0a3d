"""Views of the counted models and of one-hot lookups (sections 1-4)."""

from __future__ import annotations

import numpy as np

from lmtoy.ngrams import TransitionModel
from lmtoy.render.matrix import CELL_LIMIT, Grid, records, to_json
from lmtoy.render.views import LazyLabels, View

ROW_HEADERS = {"first-order": "word", "second-order": "previous, recent", "skips": "earlier, recent"}
PROBABILITY = (0.0, 1.0)  # every transition matrix is shaded on the same scale
TITLES = {
    "first-order": "First-order transition matrix: row word -> next word",
    "second-order": "Second-order transition matrix: (word, word) -> next word",
    "skips": "Second-order with skips: feature (earlier word, most recent word) -> next word",
}


def model_grid(model: TransitionModel, rows: np.ndarray, title: str | None = None) -> Grid:
    """The rows ``rows`` (row indices) of a model as a Grid over the vocabulary."""
    rows = np.asarray(rows, dtype=np.int64)
    return Grid(
        LazyLabels(len(rows), lambda i: model.label(int(rows[i]))),
        list(model.vocabulary.words),
        lambda r, c: model.dense(rows[r])[:, c],
        title=TITLES[model.kind] if title is None else title,
        row_header=ROW_HEADERS[model.kind],
        row_rank=model.row_totals[rows],
        col_rank=model.column_totals,
        scale=PROBABILITY,
        full_hint=_full_hint(len(rows) * len(model.vocabulary)),
    )


def _full_hint(cells: int) -> str:
    """What shows the hidden part of a matrix of ``cells`` cells."""
    if cells > CELL_LIMIT:
        return "--sparse --format csv writes every non-zero entry; --word/--words picks rows"
    return "--format json|csv|tsv|markdown shows all"


def _notes(model: TransitionModel, rows: np.ndarray) -> list[str]:
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
        notes.append(f"showing {len(rows):,} of the {model.n_rows:,} rows")
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
        size = np.diff(model.indptr)[rows]
        at = np.repeat(model.indptr[rows] - np.r_[0, np.cumsum(size)[:-1]], size) + np.arange(size.sum())
        owner = np.repeat(rows, size)
        words = model.vocabulary.words
        labels = [model.label(int(r)) for r in owner]
        cols = [words[c] for c in model.cols[at]]
        if sep is not None:
            return records(labels, cols, model.values[at], sep)
        triples = [[lab, col, float(v)] for lab, col, v in zip(labels, cols, model.values[at])]
        return to_json({"model": model.kind, "fields": ["row", "column", "value"], "records": triples,
                        "vocabulary": list(words), "observed_rows": model.n_rows, "possible_rows": model.possible_rows,
                        "window": model.window})

    return write


def model_view(model: TransitionModel, rows: np.ndarray | None = None, title: str | None = None) -> View:
    """A model's matrix (all its rows, or the chosen ones)."""
    rows = np.arange(model.n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
    grid = model_grid(model, rows, title)
    grid.notes = _notes(model, rows)
    return View(
        [grid],
        lambda: _payload(model, rows, grid.rows),
        main=grid,
        sparse=_sparse(model, rows),
        hint="use --word/--words for a few rows, or --sparse for the non-zero entries",
    )


def all_pairs_view(model: TransitionModel) -> View:
    """Second-order with all N^2 pair rows, the unobserved ones zero."""
    n = len(model.vocabulary)
    words = model.vocabulary.words
    found = model.index_of(np.arange(n * n))  # (N^2,) observed row or -1
    grid = Grid(
        LazyLabels(n * n, lambda p: [words[p // n], words[p % n]]),
        list(words),
        lambda r, c: model.dense(found[r])[:, c],
        title=f"Second-order transition matrix, all {n * n:,} pair rows ({model.n_rows:,} observed)",
        row_header=ROW_HEADERS["second-order"],
        scale=PROBABILITY,
    )
    payload = lambda: _payload(model, found, grid.rows) | {"rows": list(grid.rows)}
    return View([grid], payload, main=grid, sparse=_sparse(model, np.arange(model.n_rows)))


def lookup_view(model: TransitionModel, word: str, r: int) -> View:
    """First-order lookup: one-hot(word) times the matrix pulls out the word's row."""
    from lmtoy.onehot import one_hot

    words = list(model.vocabulary.words)
    n = len(words)
    hot = one_hot(np.array([model.vocabulary.id(word)]), n)  # (1, N)
    row = _pulled(model, hot)[0]  # (N,)
    parts = [Grid.of(hot, [f"one-hot({word})"], words, title=f"one-hot({word}): a 1 in column {words.index(word) + 1} of {n}",
                     col_rank=hot[0], hide_zeros=False)]
    if n <= 12:
        parts += ["[bold]×[/] the transition matrix", model_grid(model, np.arange(model.n_rows), title="")]
    else:
        parts.append(f"[bold]×[/] the {n:,} x {n:,} transition matrix [dim](not drawn above 12 words: lmtoy first-order shows it)[/]")
    parts += ["[bold]=[/] the row it pulls out", Grid.of(row, [word], words, title="", col_rank=row, scale=PROBABILITY)]
    base = model_view(model, np.array([r]))
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
    parts = [
        Grid.of(np.arange(1, n + 1)[None, :], ["index"], vocabulary, title="Vocabulary, counted from one"),
        f"[bold]{' '.join(tokens)}[/] -> {numbers}",
        Grid.of(hot, tokens, vocabulary, title="One-hot rows", row_header="word", hide_zeros=False),
        Grid.of(hot @ hot.T, tokens, tokens, title="Dot products of the one-hot rows (1: same word, 0: other)"),
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
        parts.append(Grid.of(pulled, tokens, vocabulary, title=f"One-hot rows times the {model.kind} matrix: "
                             f"rows {numbers}", scale=PROBABILITY))
        payload["lookup"] = {"matrix": model.kind, "rows": numbers, "values": pulled}
    main = Grid.of(hot, tokens, vocabulary, row_header="word")
    return View(parts, lambda: payload, main=main)


