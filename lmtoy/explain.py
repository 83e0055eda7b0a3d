"""Where a number comes from: one transition entry, one vote total, one smoothed probability.

An ``Explanation`` holds the count, the row total, the formula with its terms and the
value, plus the corpus events behind the count: every position where the row's context
(a word, a pair, a skip feature) was active and had a next word, with its sentence
weight. Summing the events' weights gives the row total; those whose next word is
``next`` give the count. Shapes: N words, T tokens, m events, F active features.

Example (section 2, show_me, weights 0.2/0.3/0.5): first-order my -> photos has the
events (sentence 1, directories, 0.2), (2, files, 0.3), (3, photos, 0.5); count 0.5,
row total 1.0, value 0.5 / 1.0 = 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lmtoy.corpus import Corpus
from lmtoy.ngrams import TransitionModel

CONTEXT_SIZE = {"first-order": 1, "second-order": 2, "skips": 2}


@dataclass(frozen=True)
class Events:
    """Where a row's context was active: sentence (m,), position in it (m,) of the most
    recent word (both from 0), next word id (m,), weight (m,)."""

    sentence: np.ndarray
    position: np.ndarray
    next: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class Explanation:
    """One number and where it came from.

    model : "first-order", "second-order", "skips", "vote" (masked: "masked-skips")
    context : the words the number is conditioned on (a word, a pair, a feature, a prompt)
    next : the next word; count, row_total : the weighted count and its row's total
    formula : the rule with symbols; terms : each symbol's value; value : the number
    events : the corpus events behind the count (None for smoothing and votes)
    features : vote only, [(earlier, recent, mask, that feature's value for next)]
    lower : smoothing only, the breakdowns of the lower orders, highest first
    """

    model: str
    context: tuple[str, ...]
    next: str
    count: float
    row_total: float
    formula: str
    terms: dict
    value: float
    events: Events | None = None
    features: list = field(default_factory=list)
    lower: list = field(default_factory=list)
    smoothing: str | None = None


def context_events(corpus: Corpus, context: list[int]) -> Events:
    """Every position i where ``context`` (k word ids) ends at i and a next word follows
    in the same sentence. [a b a b c], context [a, b] -> positions 1 and 3."""
    ids, sid = corpus.ids, corpus.sentence_of
    k = len(context)
    t = len(ids)
    ok = np.zeros(t, bool)
    if t > k:
        ok[k - 1 : t - 1] = sid[k - 1 : t - 1] == sid[k:t]  # a next word in the same sentence
        ok[k - 1 :] &= sid[k - 1 :] == sid[: t - k + 1]  # the context inside one sentence
        for j, word in enumerate(context):
            ok[k - 1 :] &= ids[j : t - k + 1 + j] == word
    return _events(corpus, np.flatnonzero(ok))


def feature_events(corpus: Corpus, earlier: int, recent: int, window: int | None = None) -> Events:
    """Every position i of ``recent`` with a next word where ``earlier`` occurs before i
    in the sentence (at most ``window`` positions back): the skip feature is active once,
    however often the earlier word occurred."""
    ids, sid = corpus.ids, corpus.sentence_of
    t = len(ids)
    at = np.flatnonzero(ids[: t - 1] == recent) if t > 1 else np.zeros(0, np.int64)
    at = at[sid[at] == sid[at + 1]]
    before = np.flatnonzero(ids == earlier)  # (q,) sorted
    j = np.searchsorted(before, at) - 1  # the last occurrence of earlier before each i
    last = before[np.maximum(j, 0)] if len(before) else np.zeros(len(at), np.int64)
    active = (j >= 0) & (sid[last] == sid[at])
    if window is not None:
        active &= at - last <= window
    return _events(corpus, at[active])


def _events(corpus: Corpus, at: np.ndarray) -> Events:
    sentence = corpus.sentence_of[at]
    return Events(sentence, at - corpus.starts[sentence], corpus.ids[at + 1], corpus.weights[sentence])


def counted(model: TransitionModel, corpus: Corpus, context: list[str], next_word: str) -> Explanation:
    """The entry (context -> next_word) of a counted model (first-order, second-order, skips),
    with its events. Words must be in the vocabulary (VocabularyError names them)."""
    vocab = model.vocabulary
    vocab.require([*context, next_word])
    key = [vocab.id(w) for w in context]
    if model.kind == "skips":
        events = feature_events(corpus, key[0], key[1], model.window)
    else:
        events = context_events(corpus, key)
    nxt = vocab.id(next_word)
    r = model.find(tuple(key))
    if r is None:
        count = total = 0.0
    else:
        lo, hi = model.indptr[r], model.indptr[r + 1]
        total = float(model.row_totals[r])
        hit = np.flatnonzero(model.cols[lo:hi] == nxt)
        count = float(model.counts[lo + hit[0]]) if len(hit) else 0.0
    value = count / total if total > 0 else 0.0
    formula = "c(h,w) / c(h)" if total > 0 else "0 (the row is all zero: nothing followed h)"
    return Explanation(model.kind, tuple(context), next_word, count, total, formula,
                       {"c(h,w)": count, "c(h)": total}, value, events)


def voted(model: TransitionModel, prompt: list[str], next_word: str, flags: np.ndarray | None = None,
          kind: str = "vote") -> Explanation:
    """The vote total of ``next_word`` after ``prompt`` on a skip model: the active features,
    each one's row value for the next word, and their (masked) sum. ``flags`` (R,) bool
    keeps only the informative features (--auto-mask). Example (program_log): "check the
    program log and find out whether it ran" -> 9 features, down 4, please 5."""
    from lmtoy import attention

    vocab = model.vocabulary
    vocab.require([*prompt, next_word])
    v = attention.vote(model, vocab.encode(prompt))
    if flags is not None:
        v = attention.masked(v, attention.auto_mask(v, flags))
    nxt = vocab.id(next_word)
    features = [(vocab.words[a], vocab.words[b], float(m), float(row[nxt]))
                for (a, b), m, row in zip(v.features, v.mask, v.values)]
    terms = {f"{a},{b}": value for a, b, m, value in features if m}
    formula = "sum_f mask_f * row_f(w)" if flags is not None else "sum_f row_f(w) over the active features f"
    total = float(v.totals.sum())
    return Explanation(kind, tuple(prompt), next_word, float(v.totals[nxt]), total, formula, terms,
                       float(v.totals[nxt]), None, features)


def smoothed(corpus: Corpus, kind: str, method: str, k: float, context: list[str], next_word: str) -> Explanation:
    """A smoothed probability P(next | context) with its terms and every lower order
    (lmtoy.breakdown.breakdown). Unseen words are <unk>; "<s>" and "</s>" may be used."""
    from lmtoy.breakdown import breakdown
    from lmtoy.smoothing import smooth

    model = smooth(corpus, kind, method, k)
    b = breakdown(model, tuple(context), next_word)
    lower = []
    below = b.lower
    while below is not None:
        lower.append(below)
        below = below.lower
    word = next_word if model.id(next_word) != model.unk else "<unk>"
    return Explanation(kind, b.context, word, b.count, b.row_total, b.formula, dict(b.terms), b.value,
                       None, [], lower, model.label)
