"""Counted sequence models: first-order, second-order and second-order with skips.

Every model is a sparse transition matrix: one row per context (a word, an
observed word pair, or a skip feature (earlier word, most recent word)), one
column per next word, rows normalised to sum to 1. Counts are weighted by the
sentence weights. Storage is CSR-like, built by sorting integer codes, so a
second-order model never allocates N^2 rows and a skip model never N^2 x N.

Shapes: N words, R rows, E non-zero entries, T tokens, M counted events.

Example (section 3): on "check whether the battery ran down please" (0.4) and
"check whether the program ran please" (0.6), the second-order row
(whether, the) holds battery 0.4, program 0.6, and 7 of the 64 possible pair
rows are observed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np

from lmtoy.corpus import Corpus, Vocabulary
from lmtoy.errors import CorpusError, VocabularyError

KINDS = ("first-order", "second-order", "skips")
MAX_SKIP_EVENTS = 150_000_000  # (earlier, recent, next) events a skip model counts at most (~11M per 1M words of prose)
_CHUNK = 1 << 20  # skip events generated per batch: bounds peak memory


@dataclass(frozen=True)
class TransitionModel:
    """A sparse transition matrix over the vocabulary.

    Attributes
    ----------
    kind : "first-order", "second-order" or "skips"
    vocabulary : Vocabulary
    keys : (R, k) ndarray of int64, the word ids naming each row (k = 1 or 2),
        sorted; for skips a key is (earlier word, most recent word)
    indptr : (R+1,) ndarray of int64, row r holds entries indptr[r]:indptr[r+1]
    cols : (E,) ndarray of int64, the next word of each entry
    counts : (E,) ndarray of float64, the weighted count of each entry
    window : int or None, how far back a skip feature reaches (skips only)
    """

    kind: str
    vocabulary: Vocabulary
    keys: np.ndarray
    indptr: np.ndarray
    cols: np.ndarray
    counts: np.ndarray
    window: int | None = None

    @property
    def n_rows(self) -> int:
        return len(self.keys)

    @property
    def possible_rows(self) -> int:
        """Rows a dense matrix would have: N, or N^2 for pair-keyed models."""
        return len(self.vocabulary) ** self.keys.shape[1]

    @cached_property
    def row_totals(self) -> np.ndarray:  # (R,)
        """The weighted count of each row (0 for a word nothing follows)."""
        per_entry = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
        return np.bincount(per_entry, weights=self.counts, minlength=self.n_rows)

    @cached_property
    def values(self) -> np.ndarray:  # (E,)
        """The normalised entries: each row sums to 1."""
        return self.counts / np.repeat(self.row_totals, np.diff(self.indptr))

    @cached_property
    def _row_codes(self) -> np.ndarray:  # (R,)
        n = len(self.vocabulary)
        return self.keys[:, 0] if self.keys.shape[1] == 1 else self.keys[:, 0] * n + self.keys[:, 1]

    def find(self, key: tuple[int, ...]) -> int | None:
        """The row index of a key of word ids, or None when never observed."""
        code = key[0] if len(key) == 1 else key[0] * len(self.vocabulary) + key[1]
        r = int(self.index_of(np.array([code]))[0])
        return None if r < 0 else r

    def index_of(self, codes: np.ndarray) -> np.ndarray:  # (m,) -> (m,)
        """Row indices of row codes (a, or a * N + b), -1 where never observed."""
        r = np.minimum(np.searchsorted(self._row_codes, codes), max(self.n_rows - 1, 0))
        return np.where(self._row_codes[r] == codes, r, -1) if self.n_rows else np.full(len(codes), -1)

    def row(self, r: int) -> np.ndarray:  # (N,)
        """Row r as a dense vector over the vocabulary."""
        return self.dense(np.array([r]))[0]

    def dense(self, rows: np.ndarray | None = None) -> np.ndarray:  # (len(rows), N)
        """The chosen rows (all by default; -1 gives a zero row) as a dense matrix."""
        rows = np.arange(self.n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), len(self.vocabulary)))
        real = rows >= 0
        safe = np.where(real, rows, 0) if self.n_rows else np.zeros(len(rows), np.int64)  # indptr has n_rows + 1
        lo = np.where(real, self.indptr[safe], 0)
        size = np.where(real, self.indptr[np.minimum(safe + 1, self.n_rows)] - lo, 0)
        at = np.repeat(lo - np.r_[0, np.cumsum(size)[:-1]], size) + np.arange(size.sum())  # entries
        out[np.repeat(np.arange(len(rows)), size), self.cols[at]] = self.values[at]
        return out

    @cached_property
    def column_totals(self) -> np.ndarray:  # (N,)
        """How often each word is the next word (weighted count)."""
        return np.bincount(self.cols, weights=self.counts, minlength=len(self.vocabulary))

    def rows_with_recent(self, word_id: int) -> np.ndarray:  # (r,)
        """Indices of the rows whose last key word (most recent word) is ``word_id``."""
        return np.flatnonzero(self.keys[:, -1] == word_id)

    def label(self, r: int) -> str | list[str]:
        """Row r's label: a word, or [earlier, recent]."""
        words = [self.vocabulary.words[i] for i in self.keys[r]]
        return words[0] if len(words) == 1 else words


def _aggregate(codes: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Sum the weights of equal codes: (unique codes (U,), sums (U,)).

    ``weights`` None means every event weighs 1. codes [5, 2, 5] -> [2, 5], [1, 2].
    Weights are summed in event order, as a plain loop over the events would.
    """
    if weights is None:
        ordered = np.sort(codes)
        first = np.flatnonzero(np.diff(ordered, prepend=-1))  # (U,) codes are >= 0
        return ordered[first], np.diff(np.r_[first, len(codes)]).astype(np.float64)
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    new = np.diff(ordered, prepend=-1) != 0  # (M,) the first event of each code
    sums = np.bincount(np.cumsum(new) - 1, weights=weights[order])
    return ordered[new], sums.astype(np.float64, copy=False)  # bincount([]) is int


def _build(kind, corpus: Corpus, codes, sums, k: int, window=None) -> TransitionModel:
    """Turn sorted (row code * N + next word) codes into a TransitionModel."""
    n = len(corpus.vocabulary)
    row_code, cols = np.divmod(codes, n)
    if k == 1:  # first-order: every word has a row, zero or not
        keys = np.arange(n)[:, None]
        per_row = np.bincount(row_code, minlength=n)
    else:
        first = np.flatnonzero(np.r_[True, row_code[1:] != row_code[:-1]]) if len(codes) else codes
        keys = np.stack(np.divmod(row_code[first], n), axis=1)
        per_row = np.diff(np.r_[first, len(codes)])
    indptr = np.r_[0, np.cumsum(per_row)].astype(np.int64)
    return TransitionModel(kind, corpus.vocabulary, keys, indptr, cols, sums, window)


def _event_weights(corpus: Corpus, sentence: np.ndarray) -> np.ndarray | None:
    """Each event's sentence weight, or None when all sentences weigh the same."""
    return None if corpus.uniform else corpus.weights[sentence]


def _scale(corpus: Corpus, sums: np.ndarray) -> np.ndarray:
    return sums * corpus.weights[0] if corpus.uniform else sums


def first_order(corpus: Corpus) -> TransitionModel:
    """The N x N first-order (Markov) model: word -> next word."""
    ids, sid = corpus.ids, corpus.sentence_of
    same = sid[1:] == sid[:-1]  # (T-1,) pairs inside one sentence
    codes = ids[:-1][same] * len(corpus.vocabulary) + ids[1:][same]
    unique, sums = _aggregate(codes, _event_weights(corpus, sid[:-1][same]))
    return _build("first-order", corpus, unique, _scale(corpus, sums), 1)


def second_order(corpus: Corpus) -> TransitionModel:
    """The second-order model: observed pairs (a, b) -> next word."""
    _check_codes(corpus)
    ids, sid, n = corpus.ids, corpus.sentence_of, len(corpus.vocabulary)
    same = sid[2:] == sid[:-2]  # (T-2,) triples inside one sentence
    codes = (ids[:-2][same] * n + ids[1:-1][same]) * n + ids[2:][same]
    unique, sums = _aggregate(codes, _event_weights(corpus, sid[:-2][same]))
    return _build("second-order", corpus, unique, _scale(corpus, sums), 2)


def skips(corpus: Corpus, window: int | None = None) -> TransitionModel:
    """Second-order with skips: features (earlier, recent) -> next word.

    At each position with a next word, the most recent word is paired with every
    distinct word before it in the sentence (at most ``window`` positions back):
    a feature is a presence, so a word seen twice activates it once.
    """
    if window is not None and window < 1:
        raise CorpusError(f"window must be at least 1, got {window}")
    _check_codes(corpus)
    by_word = _by_word(corpus)  # (T,)
    reach = _skip_reach(corpus, by_word, window)  # (T,)
    _check_events(corpus, int(reach.sum()), window)
    earlier = by_word[reach[by_word] > 0]  # (P,) positions that start skip events
    pairs = corpus.ids[:-1] * len(corpus.vocabulary) + corpus.ids[1:]  # (T-1,) (recent, next) codes
    batches = _batches(corpus.ids[earlier], reach[earlier])
    parts = [_skip_batch(corpus, reach, pairs, earlier[lo:hi]) for lo, hi in batches]
    # batches hold whole earlier words in order, so their codes are already sorted
    unique = np.concatenate([np.zeros(0, np.int64), *(codes for codes, _ in parts)])
    sums = np.concatenate([np.zeros(0), *(counts for _, counts in parts)])
    return _build("skips", corpus, unique, _scale(corpus, sums), 2, window)


def _by_word(corpus: Corpus) -> np.ndarray:  # (T,)
    """Positions grouped by word, ascending within a word (a radix sort when N <= 65536)."""
    ids = corpus.ids
    return np.argsort(ids.astype(np.uint16) if len(corpus.vocabulary) <= 1 << 16 else ids, kind="stable")


def _skip_reach(corpus: Corpus, by_word: np.ndarray, window: int | None) -> np.ndarray:  # (T,)
    """For each position j, how many later positions i take word j as an earlier word.

    Position i (which needs a next word) counts when j < i <= the next occurrence
    of the same word, i <= end - 2 and, with a window, i - j <= window.
    ``by_word`` lists the positions grouped by word, ascending within a word.
    """
    ids, sid = corpus.ids, corpus.sentence_of
    t = np.arange(len(ids))
    a, b = by_word[:-1], by_word[1:]
    again = (ids[a] == ids[b]) & (sid[a] == sid[b])  # b is the next occurrence of a's word
    next_same = np.full(len(ids), np.iinfo(np.int64).max)
    next_same[a[again]] = b[again]
    last = np.minimum(next_same, corpus.starts[1:][sid] - 2)
    if window is not None:
        last = np.minimum(last, t + window)
    return np.maximum(last - t, 0)


def _batches(words: np.ndarray, counts: np.ndarray) -> list[tuple[int, int]]:
    """Slices of ``words`` (sorted) on word boundaries, about _CHUNK events each.

    A batch starts at the word that holds every _CHUNK-th event: words [0, 1, 1, 2],
    counts [3, 1, 1, 3], _CHUNK 4 -> [(0, 1), (1, 4)].
    """
    first = np.flatnonzero(np.diff(words, prepend=-1))  # (W,) where each word starts
    events = np.r_[0, np.cumsum(counts)]  # (P+1,) events before each position
    cuts = np.searchsorted(events[first], np.arange(0, events[-1], _CHUNK), side="right") - 1
    bounds = np.r_[first[np.unique(cuts)], len(words)]
    return [(int(lo), int(hi)) for lo, hi in pairwise(bounds)]


def _skip_batch(
    corpus: Corpus, reach: np.ndarray, pairs: np.ndarray, earlier: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Counted (earlier, recent, next) codes of the events of the ``earlier`` positions (P,).

    Earlier position j starts events at recent positions j+1 .. j+reach[j];
    ``pairs`` (T-1,) holds each position's (recent, next) code, recent * N + next.
    """
    n = len(corpus.vocabulary)
    count = reach[earlier]  # (P,)
    start = np.cumsum(count) - count  # (P,) where each position's events begin
    recent = np.repeat(earlier + 1 - start, count)  # (M,)
    recent += np.arange(len(recent))
    codes = np.repeat(corpus.ids[earlier] * (n * n), count)  # (M,)
    codes += pairs[recent]
    weights = _event_weights(corpus, np.repeat(corpus.sentence_of[earlier], count))
    return _aggregate(codes, weights)


def _check_events(corpus: Corpus, events: int, window: int | None) -> None:
    """Refuse a skip model whose feature events would not fit in memory."""
    if events > MAX_SKIP_EVENTS:
        longest = int(corpus.lengths.max())
        raise CorpusError(
            f"{corpus.name}: {events:,} skip features to count (more than {MAX_SKIP_EVENTS:,}; the longest sentence "
            f"has {longest:,} words): use --window K (e.g. --window 20), or check that "
            "sentences end where they should"
        )


def _check_codes(corpus: Corpus) -> None:
    if len(corpus.vocabulary) ** 3 >= 2**63:
        raise CorpusError(f"{corpus.name}: {len(corpus.vocabulary)} words is too many to count triples")


def build(kind: str, corpus: Corpus, window: int | None = None) -> TransitionModel:
    """The model of ``kind`` (one of KINDS) for ``corpus``."""
    if kind == "first-order":
        return first_order(corpus)
    if kind == "second-order":
        return second_order(corpus)
    return skips(corpus, window)


def lookup(model: TransitionModel, words: list[str]) -> int:
    """The row index for a word (first-order) or a pair; raises VocabularyError."""
    key = tuple(model.vocabulary.id(w) for w in words)
    r = model.find(key)
    if r is None:
        shown = " ".join(words)
        raise VocabularyError(f"({shown}) was never observed with a next word in this corpus")
    return r
