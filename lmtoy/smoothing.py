"""Smoothed n-gram models for scoring: sentence boundaries, <unk>, and four smoothings.

The convention (README, "Scoring"): a sentence w_1..w_n is padded as
``<s> w_1 .. w_n </s>`` and scored as n + 1 events P(w_1 | <s>) .. P(</s> | w_n);
``<s>`` is a context, never predicted; a word never seen in training is ``<unk>``.
The outcomes a row sums to 1 over are the N words, ``</s>`` and ``<unk>``: P = N + 2.
An order-n model (first-order is n = 2, second-order n = 3) keeps one sparse level per
order k = 1..n: the k-grams of the padded training sentences (weighted by their
sentence weights), sorted by code ``context * B + word`` with B = N + 3.

Every level interpolates with the level below it (level 0 is uniform, 1/P); a context
never seen at level k uses level k - 1 unchanged. For a context h seen c(h) times:

- ``none``: c(h,w) / c(h) (no smoothing: an unseen event has probability 0);
- ``add-k``: (c(h,w) + k) / (c(h) + k P); its level 1 is uniform;
- ``witten-bell``: (c(h,w) + T(h) P_lower) / (c(h) + T(h)), T(h) the words seen after h;
- ``kneser-ney`` (interpolated): max(a(h,w) - D, 0) / a(h) + gamma(h) P_lower with
  gamma(h) = sum_w min(a(h,w), D) / a(h). a is the raw count at the highest order and
  for k-grams that start with <s>, else the continuation count (how many distinct
  words precede the k-gram). D = n1 / (n1 + 2 n2) per level, n1 and n2 the numbers of
  k-grams whose count is exactly 1 and 2; when either is 0 (weighted counts, tiny
  corpora) D = 0.75 and the model says so (``fallback``).

Shapes: N words, P = N + 2 outcomes, E k-grams at one level, R contexts, m events.

Example: show_me (weights 0.2, 0.3, 0.5), first-order add-1: c(my) = 1, P = 9, so
P(photos | my) = (0.5 + 1) / (1 + 9) = 0.15 and P(show | my) = 1 / 10.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lmtoy.corpus import Corpus
from lmtoy.errors import CorpusError, UsageError

METHODS = ("none", "add-k", "witten-bell", "kneser-ney")
BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FALLBACK_D = 0.75
ORDERS = {"first-order": 2, "second-order": 3}


@dataclass(frozen=True)
class Level:
    """The k-grams of one order.

    codes : (E,) int64, sorted, context code * B + word
    counts : (E,) float64, the counts this level smooths (raw or continuation)
    contexts : (R,) int64, sorted context codes; totals, types, held : (R,) float64,
        c(h), T(h) and sum_w min(c(h,w), D)
    discount : D (kneser-ney), else None; fallback : True when D is the 0.75 fallback
    """

    order: int
    codes: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    totals: np.ndarray
    types: np.ndarray
    held: np.ndarray
    discount: float | None = None
    fallback: bool = False


@dataclass(frozen=True)
class Smoothed:
    """A smoothed n-gram model: ``words`` are the N words, then </s>, <unk>, <s> (ids N,
    N + 1, N + 2); ``levels[k - 1]`` is order k."""

    kind: str
    method: str
    k: float
    words: tuple[str, ...]
    levels: tuple[Level, ...]
    index: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def order(self) -> int:
        return len(self.levels)

    @property
    def n_words(self) -> int:
        return len(self.words) - 3

    @property
    def outcomes(self) -> int:  # P
        return len(self.words) - 1

    @property
    def base(self) -> int:  # B
        return len(self.words)

    @property
    def eos(self) -> int:
        return self.n_words

    @property
    def unk(self) -> int:
        return self.n_words + 1

    @property
    def bos(self) -> int:
        return self.n_words + 2

    @property
    def fallback(self) -> bool:
        """True when some level's Kneser-Ney discount is the D = 0.75 fallback."""
        return any(level.fallback for level in self.levels)

    @property
    def short_label(self) -> str:
        """'add-k (k=1)', 'kneser-ney', 'witten-bell', 'none'."""
        return f"add-k (k={self.k:g})" if self.method == "add-k" else self.method

    @property
    def label(self) -> str:
        """'add-k (k=1)', 'kneser-ney (D fallback 0.75)', 'witten-bell', 'none'."""
        if self.method == "add-k":
            return f"add-k (k={self.k:g})"
        if self.method == "kneser-ney":
            ds = ", ".join(f"D{lv.order}={lv.discount:.4g}" for lv in self.levels)
            return f"kneser-ney ({ds}{'; D=0.75 fallback used' if self.fallback else ''})"
        return self.method

    def id(self, word: str) -> int:
        """The id of a word, </s> or <s>; any other unseen word is <unk>."""
        if not self.index:
            self.index.update({w: i for i, w in enumerate(self.words)})
        return self.index.get(word, self.unk)


def check_method(method: str, k: float) -> None:
    if method not in METHODS:
        raise UsageError(f"no smoothing '{method}': choose {', '.join(METHODS)}")
    if not (k > 0 and np.isfinite(k)):
        raise UsageError(f"--k must be a finite number above 0, got {k:g}")


def padded(corpus: Corpus) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training sentences as ``<s> w_1 .. w_n </s>``: ids (T + 2S,), starts (S+1,),
    weights (T + 2S,) of each token's sentence. [[a, b]] (N = 2) -> [4, 0, 1, 2]."""
    n = len(corpus.vocabulary)
    lengths = corpus.lengths + 2
    starts = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    ids = np.empty(starts[-1], np.int64)
    inner = np.ones(starts[-1], bool)
    inner[starts[:-1]] = inner[starts[1:] - 1] = False
    ids[inner] = corpus.ids
    ids[starts[:-1]], ids[starts[1:] - 1] = n + 2, n
    return ids, starts, np.repeat(corpus.weights, lengths)


def _kgrams(ids, starts, weights, k: int, base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes (M,) of every k-gram ending at a predicted position, their weights, and
    the code of the word before each (-1 at a sentence start)."""
    pos = np.arange(len(ids))
    first = np.repeat(starts[:-1], np.diff(starts))  # (T',) where each token's sentence starts
    end = pos[pos - first >= max(k - 1, 1)] if k > 1 else pos[pos > first]
    code = np.zeros(len(end), np.int64)
    for j in range(k - 1, -1, -1):
        code = code * base + ids[end - j]
    before = np.where(end - k >= first[end], ids[np.maximum(end - k, 0)], -1)
    return code, weights[end], before


def _unique_sum(codes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # (E,), (E,) -> (U,), (U,)
    """The distinct codes, sorted, and the sum of the weights of each, added in event order
    (so the sums do not depend on how the codes were found): a bincount when the codes are
    dense (unigrams, bigrams), else one sort, stable only when the weights differ."""
    n = len(codes)
    top = int(codes.max()) + 1 if n else 0
    if n and top <= 16 * n + 65536:
        sums = np.bincount(codes, weights=weights, minlength=top)
        keys = np.flatnonzero(np.bincount(codes, minlength=top))
        return keys.astype(np.int64), sums[keys].astype(np.float64)
    if n > 1 and np.all(codes[1:] >= codes[:-1]):
        ordered, w = codes, weights
    else:
        order = np.argsort(codes, kind="stable" if n and np.any(weights != weights[0]) else None)
        ordered, w = codes[order], weights[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if n else np.zeros(0, bool)
    return ordered[new], np.bincount(np.cumsum(new) - 1, weights=w).astype(np.float64)


def _level(ids, starts, weights, k: int, n_order: int, base: int, method: str) -> Level:
    """Level k: its k-gram counts (continuation counts for Kneser-Ney below the top,
    except k-grams starting with <s>) and per-context totals."""
    code, w, before = _kgrams(ids, starts, weights, k, base)
    raw_codes, raw = _unique_sum(code, w)
    counts = raw
    if method == "kneser-ney" and k < n_order:
        left = before >= 0
        ext, _ = _unique_sum(before[left] * base ** k + code[left], np.ones(left.sum()))
        cont_codes, cont = _unique_sum(ext % base ** k, np.ones(len(ext)))
        at = np.searchsorted(cont_codes, raw_codes)
        found = (at < len(cont_codes)) & (cont_codes[np.minimum(at, len(cont_codes) - 1)] == raw_codes)
        starts_bos = raw_codes // base ** (k - 1) == base - 1 if k > 1 else np.zeros(len(raw_codes), bool)
        counts = np.where(starts_bos, raw, np.where(found, cont[np.minimum(at, len(cont) - 1)], 0.0))
        keep = counts > 0
        raw_codes, counts = raw_codes[keep], counts[keep]
    discount, fallback = None, False
    if method == "kneser-ney":
        n1, n2 = int(np.sum(counts == 1)), int(np.sum(counts == 2))
        fallback = n1 == 0 or n2 == 0
        discount = FALLBACK_D if fallback else n1 / (n1 + 2 * n2)
    ctx = raw_codes // base
    contexts, totals = _unique_sum(ctx, counts)
    _, types = _unique_sum(ctx, np.ones(len(ctx)))
    _, held = _unique_sum(ctx, np.minimum(counts, discount or 0.0))
    return Level(k, raw_codes, counts, contexts, totals, types, held, discount, fallback)


def smooth(corpus: Corpus, kind: str, method: str = "kneser-ney", k: float = 1.0) -> Smoothed:
    """The smoothed model of ``kind`` (first-order or second-order) for ``corpus``.

    Counts are sparse: only the k-grams that occur are stored, never an N^k array.
    """
    check_method(method, k)
    n_order = ORDERS[kind]
    words = (*corpus.vocabulary.words, EOS, UNK, BOS)
    base = len(words)
    if base ** n_order >= 2**62:
        raise CorpusError(f"{corpus.name}: {len(corpus.vocabulary):,} words is too many to count {n_order}-grams")
    ids, starts, weights = padded(corpus)
    levels = tuple(_level(ids, starts, weights, j, n_order, base, method) for j in range(1, n_order + 1))
    return Smoothed(kind, method, float(k), words, levels)


def find_codes(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:  # (m,) -> (m,)
    """Indices of ``codes`` in ``sorted_codes``, -1 where absent."""
    if not len(sorted_codes):
        return np.full(len(codes), -1)
    at = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
    return np.where(sorted_codes[at] == codes, at, -1)


def combine(model: Smoothed, level: Level, ctx: np.ndarray, word: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """P_k(word | ctx) (m,) at ``level`` from P_{k-1} (``lower``, (m,)); ctx codes (m,)."""
    r = find_codes(level.contexts, ctx)
    e = find_codes(level.codes, ctx * model.base + word)
    seen = r >= 0
    c = np.where(e >= 0, level.counts[np.maximum(e, 0)], 0.0)
    tot = np.where(seen, level.totals[np.maximum(r, 0)], 1.0)
    if model.method == "none":
        p = c / tot
    elif model.method == "add-k":
        p = (c + model.k) / (tot + model.k * model.outcomes) if level.order > 1 else lower
    elif model.method == "witten-bell":
        t = level.types[np.maximum(r, 0)]
        p = (c + t * lower) / (tot + t)
    else:
        p = np.maximum(c - level.discount, 0.0) / tot + level.held[np.maximum(r, 0)] / tot * lower
    return np.where(seen, p, lower)


def probabilities(model: Smoothed, history: np.ndarray, word: np.ndarray) -> np.ndarray:  # (m, n-1), (m,) -> (m,)
    """P(word | history) for m events at once. ``history`` holds the n - 1 ids before each
    word, oldest first, -1 where the sentence had not begun (before <s>)."""
    p = np.full(len(word), 1.0 / model.outcomes)
    for level in model.levels:
        ctx, use = context_codes(model, history, level.order - 1)
        p = np.where(use, combine(model, level, ctx, word, p), p)
    return p


def context_codes(model: Smoothed, history: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The codes (m,) of the last ``j`` history words, and whether all j exist (m,) bool."""
    width = history.shape[1]
    use = np.all(history[:, width - j :] >= 0, axis=1) if j else np.ones(len(history), bool)
    ctx = np.zeros(len(history), np.int64)
    for col in range(width - j, width):
        ctx = ctx * model.base + np.maximum(history[:, col], 0)
    return ctx, use
