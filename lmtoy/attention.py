"""Attention by hand: feature voting, masks, QK^T mask lookup, the hand-built feed-forward.

Sections 4-7 of the worked examples, on any skip model. Shapes: N words, F active
features of a prompt, K informative features of one most-recent word.

Example (section 4-5, program_log): "check the program log and find out whether it
ran" activates nine features; their rows sum to down 4, please 5. Keeping only
(battery, ran) and (program, ran) (the informative ones) gives down 0, please 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtoy.errors import VocabularyError
from lmtoy.ngrams import TransitionModel

DEFAULT_MIN_GAIN = 0.25


@dataclass(frozen=True)
class Vote:
    """A feature vote for the word after a prompt.

    features : (F, 2) int, active features (earlier, recent) that have a row
    rows : (F,) int, their rows in the skip model
    values : (F, N) float, those rows
    mask : (F,) float, 1 keeps a feature, 0 hides it
    unmasked_totals, totals : (N,) float, the column sums before / after the mask
    """

    features: np.ndarray
    rows: np.ndarray
    values: np.ndarray
    mask: np.ndarray
    unmasked_totals: np.ndarray
    totals: np.ndarray


def winner(scores: np.ndarray) -> int | None:  # (N,) -> int or None
    """The index of the highest score (the first on a tie); None when no score is above 0."""
    best = int(np.argmax(scores))
    return best if scores[best] > 0 else None


def margin(scores: np.ndarray) -> float:  # (N,) -> float
    """The winner's score minus the runner-up's: [4, 5, 0] -> 1."""
    top = np.sort(scores)[-2:]
    return float(top[-1] - top[0]) if len(top) == 2 else float(top[-1])


def active_features(ids: np.ndarray, window: int | None = None) -> np.ndarray:  # (n,) -> (F, 2)
    """(earlier, last) for each distinct earlier word of a prompt, in order of first use.

    A word seen twice activates its feature once. [3, 1, 3, 2] -> [[3, 2], [1, 2]].
    """
    earlier = ids[:-1] if window is None else ids[max(0, len(ids) - 1 - window) : -1]
    _, first = np.unique(earlier, return_index=True)
    distinct = earlier[np.sort(first)]
    return np.stack([distinct, np.full(len(distinct), ids[-1])], axis=1).astype(np.int64)


def vote(model: TransitionModel, ids: np.ndarray, keep: np.ndarray | None = None) -> Vote:
    """Sum the rows of the prompt's active features, masked by ``keep`` if given.

    ``keep`` : (F_all, 2) ids of features to keep, or None for no mask. Features
    never seen in the corpus have no row and take no part.
    """
    features = active_features(ids, model.window)
    n = len(model.vocabulary)
    rows = model.index_of(features[:, 0] * n + features[:, 1])
    features, rows = features[rows >= 0], rows[rows >= 0]
    values = model.dense(rows)  # (F, N)
    mask = np.ones(len(rows)) if keep is None else _member(features, keep).astype(float)
    return Vote(features, rows, values, mask, values.sum(axis=0), mask @ values)


def _member(features: np.ndarray, keep: np.ndarray) -> np.ndarray:  # (F, 2), (K, 2) -> (F,)
    return np.array([any((f == k).all() for k in keep) for f in features], dtype=bool)


def informative(model: TransitionModel, first: TransitionModel, min_gain: float = DEFAULT_MIN_GAIN) -> np.ndarray:  # (R,)
    """Which skip rows are informative: their next-word distribution is more than
    ``min_gain`` (total-variation distance) away from the first-order row
    (``first``) of their most recent word."""
    n = len(model.vocabulary)
    size = np.diff(model.indptr)
    recent = np.repeat(model.keys[:, 1], size)  # (E,)
    codes = recent * n + model.cols
    first_codes = np.repeat(np.arange(n), np.diff(first.indptr)) * n + first.cols  # sorted
    at = np.minimum(np.searchsorted(first_codes, codes), len(first_codes) - 1)
    q = np.where(first_codes[at] == codes, first.values[at], 0.0)  # (E,) first-order prob
    starts = model.indptr[:-1]
    diff = np.add.reduceat(np.abs(model.values - q), starts) if len(q) else np.zeros(0)
    shared = np.add.reduceat(q, starts) if len(q) else np.zeros(0)
    return 0.5 * (diff + 1.0 - shared) > min_gain + 1e-12


def auto_mask(vote_: Vote, flags: np.ndarray) -> np.ndarray:  # (F,)
    """The mask keeping only the informative features of a vote."""
    return flags[vote_.rows].astype(float)


def masked(vote_: Vote, mask: np.ndarray) -> Vote:
    """The same vote under another mask."""
    return Vote(vote_.features, vote_.rows, vote_.values, mask, vote_.unmasked_totals, mask @ vote_.values)


def mask_matrix(model: TransitionModel, flags: np.ndarray) -> np.ndarray:  # (N, N)
    """K: column j is the mask of most-recent word j: 1 on the earlier words of its
    informative features, and on j itself."""
    n = len(model.vocabulary)
    k = np.eye(n)
    chosen = model.keys[flags]
    k[chosen[:, 0], chosen[:, 1]] = 1.0
    return k


def query_mask(k: np.ndarray, word_id: int) -> tuple[np.ndarray, np.ndarray]:  # -> (N,), (N,)
    """Q = one-hot(word) and Q K^T, which pulls out that word's mask."""
    q = np.zeros(k.shape[0])
    q[word_id] = 1.0
    return q, q @ k.T


@dataclass(frozen=True)
class FeedForward:
    """Section 7: the hand-built feature-creation layer and its transition rows.

    inputs : (I,) word ids of the inputs (earlier words, then the recent word); a bias follows
    features : (K, 2) the informative features (earlier, recent)
    w1 : (K, I+1) feature creation: +1 own earlier word, -1 other earlier words, +1 recent, -1 bias
    w2 : (K, N) the features' transition rows
    """

    inputs: np.ndarray
    features: np.ndarray
    w1: np.ndarray
    w2: np.ndarray

    def forward(self, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """x (I+1,) from the words present; pre-ReLU (K,), post-ReLU (K,), output (N,)."""
        x = np.append(np.isin(self.inputs, present).astype(float), 1.0)
        pre = self.w1 @ x
        post = np.maximum(pre, 0.0)
        return x, pre, post, post @ self.w2


def feed_forward(model: TransitionModel, recent: int, flags: np.ndarray) -> FeedForward:
    """Build the feed-forward layer for the informative features of ``recent``; raises
    VocabularyError when it has none."""
    rows = np.flatnonzero(flags & (model.keys[:, 1] == recent))
    word = model.vocabulary.words[recent]
    if len(rows) == 0:
        raise VocabularyError(f"'{word}' has no informative pair features: the earlier words do not change "
                              f"what follows it, so there is nothing for a feed-forward layer to build")
    features = model.keys[rows]
    earlier = features[:, 0]
    k = len(rows)
    w1 = np.zeros((k, k + 2))
    w1[:, :k] = 2 * np.eye(k) - 1  # +1 own earlier word, -1 the others
    w1[:, k] = 1.0  # the recent word
    w1[:, k + 1] = -1.0  # the bias
    return FeedForward(np.append(earlier, recent), features, w1, model.dense(rows))

