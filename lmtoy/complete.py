"""Sequence completion (section 8) and the model ladder: next-word scores, greedy or sampled.

Shapes: N words, n prompt words.

Example: on show_me, greedy completion of "show me my" is "photos please"
(my -> photos 0.5 beats files 0.3 and directories 0.2; nothing follows please).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lmtoy import attention
from lmtoy.corpus import Corpus
from lmtoy.errors import UsageError
from lmtoy.ngrams import TransitionModel, first_order, second_order, skips

MODELS = ("first-order", "second-order", "skips", "masked-skips")


@dataclass
class Ladder:
    """The counted models of one corpus, built on first use: "first-order", "second-order",
    "skips", and "informative", the flags (R,) of the skip rows an automatic mask keeps."""

    corpus: Corpus
    window: int | None = None
    min_gain: float = attention.DEFAULT_MIN_GAIN
    built: dict = field(default_factory=dict)

    def get(self, kind: str):
        if kind not in self.built:
            self.built[kind] = self._build(kind)
        return self.built[kind]

    def _build(self, kind: str):
        if kind == "first-order":
            return first_order(self.corpus)
        if kind == "second-order":
            return second_order(self.corpus)
        if kind == "skips":
            return skips(self.corpus, self.window)
        if kind == "informative":
            return attention.informative(self.get("skips"), self.get("first-order"), self.min_gain)
        raise ValueError(f"no model '{kind}'")


@dataclass(frozen=True)
class Scores:
    """Next-word scores (N,) and a line saying where they came from ('' if none)."""

    values: np.ndarray
    note: str = ""


def next_scores(ladder: Ladder, kind: str, ids: np.ndarray) -> Scores | None:
    """The scores for the word after ``ids`` under ``kind``; None when nothing follows."""
    if kind == "first-order":
        model = ladder.get(kind)
        return _row_scores(model, (ids[-1],))
    if len(ids) < 2:
        raise UsageError(f"the {kind} model needs a prompt of at least two words")
    if kind == "second-order":
        return _row_scores(ladder.get(kind), (ids[-2], ids[-1]))
    v = attention.vote(ladder.get("skips"), ids)
    note = ""
    if kind == "masked-skips":
        mask = attention.auto_mask(v, ladder.get("informative"))
        if mask.any():
            v = attention.masked(v, mask)
        else:
            note = "no informative feature is active: the unmasked vote decides"
    return Scores(v.totals, note) if v.totals.any() else None


def _row_scores(model: TransitionModel, key: tuple) -> Scores | None:
    r = model.find(tuple(int(k) for k in key))
    if r is None or model.row_totals[r] == 0:
        return None
    return Scores(model.row(r))


def choose(scores: np.ndarray, rng: np.random.Generator | None, temperature: float = 1.0,
           top_k: int | None = None) -> int:
    """Greedy (rng None: the highest, the first in vocabulary order on a tie) or a sample
    from scores^(1/temperature), normalised, among the top_k."""
    if rng is None:
        return int(np.argmax(scores))
    p = np.asarray(scores, dtype=float) / scores.max()
    p = np.where(p > 0, p ** (1.0 / temperature), 0.0)
    if top_k is not None and top_k < np.count_nonzero(p):
        p[np.argsort(-p, kind="stable")[top_k:]] = 0.0
    return int(rng.choice(len(p), p=p / p.sum()))


@dataclass(frozen=True)
class Completion:
    generated: list[int]
    steps: list[Scores]  # the scores behind each generated word
    stopped: str | None = None  # why it ended early; None when it ran every step (JSON null)


def complete(ladder: Ladder, kind: str, ids: np.ndarray, steps: int, rng=None, temperature: float = 1.0,
             top_k: int | None = None) -> Completion:
    """Extend ``ids`` by up to ``steps`` words, stopping at a word with no successor."""
    seq, generated, shown = list(ids), [], []
    for _ in range(steps):
        scores = next_scores(ladder, kind, np.array(seq))
        if scores is None:
            return Completion(generated, shown, dead_end(ladder, kind, seq))
        nxt = choose(scores.values, rng, temperature, top_k)
        seq.append(nxt)
        generated.append(nxt)
        shown.append(scores)
    return Completion(generated, shown)



def dead_end(ladder: Ladder, kind: str, seq) -> str:
    """Why nothing follows: 'nothing follows 'please' under the first-order model'."""
    words = ladder.corpus.vocabulary.words
    if kind == "first-order":
        return f"nothing follows '{words[seq[-1]]}' under the first-order model"
    if kind == "second-order":
        return f"nothing follows the pair ({words[seq[-2]]}, {words[seq[-1]]}) under the second-order model"
    return f"no feature (earlier word, '{words[seq[-1]]}') of this sequence was ever followed by a word"
