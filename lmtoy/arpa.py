"""A smoothed n-gram model as an ARPA file (the format KenLM and SRILM read).

Each order k lists its k-grams as ``log10 p<TAB>w_1 .. w_k<TAB>log10 backoff`` (no
backoff on the highest order). A k-gram absent from the file is scored as in a backoff
model, p(w | h) = bo(h) p(w | h'), and the entries are chosen so that this gives exactly
the interpolated probabilities of ``lmtoy.smoothing``:

- unigrams: every word, ``</s>`` and ``<unk>``; ``<s>`` has log10 p = -99 (never predicted);
- witten-bell, kneser-ney: the k-grams seen at level k with their interpolated p_k; an
  unseen word after h gets gamma(h) p_lower, so bo(h) = gamma(h) (T(h) / (c(h) + T(h)),
  or sum_w min(a(h,w), D) / a(h));
- add-k: the unigrams are uniform, 1/P; bo(h) = kP / (c(h) + kP) for a word context. At
  order 3, bo(a b) = (c(b) + kP) / (c(a b) + kP), and each context (a, b) also lists
  k / (c(a b) + kP) for the words w whose bigram (b, w) is listed but (a, b, w) unseen;
- none has no ARPA form (an unseen event has probability 0).

Every listed k-gram's first k - 1 words are listed at order k - 1, as ARPA requires.
Shapes: E k-grams of one order, P outcomes.

Example (show_me, first-order add-1, P = 9): ``-0.823909<TAB>my photos`` (0.15) and
``my`` has backoff log10(9 / 10).
"""

from __future__ import annotations

import numpy as np

from lmtoy.errors import TooLargeError, UsageError
from lmtoy.smoothing import Level, Smoothed, probabilities

NO_PROB = -99.0


def _digits(model: Smoothed, codes: np.ndarray, k: int) -> np.ndarray:  # (E,) -> (E, k)
    """The k ids of k-gram codes, oldest first."""
    out = np.empty((len(codes), k), np.int64)
    rest = codes.copy()
    for j in range(k - 1, -1, -1):
        rest, out[:, j] = np.divmod(rest, model.base)
    return out


def _level_probs(model: Smoothed, grams: np.ndarray) -> np.ndarray:  # (E, k) -> (E,)
    """P_k(w | h) for k-grams (h, w) at their own level (no higher order)."""
    k = grams.shape[1]
    history = np.full((len(grams), model.order - 1), -1, np.int64)
    if k > 1:
        history[:, model.order - k :] = grams[:, :-1]
    return probabilities(model, history, grams[:, -1])


def _backoffs(model: Smoothed, level: Level, contexts: np.ndarray) -> np.ndarray:  # (E,) codes -> (E,) or nan
    """bo(h) of each k-gram h as a context of ``level`` (order k + 1); nan when it is none."""
    at = np.searchsorted(level.contexts, contexts)
    at = np.minimum(at, max(len(level.contexts) - 1, 0))
    found = (level.contexts[at] == contexts) if len(level.contexts) else np.zeros(len(contexts), bool)
    tot, types, held = level.totals[at], level.types[at], level.held[at]
    if model.method == "witten-bell":
        bo = types / (tot + types)
    elif model.method == "kneser-ney":
        bo = held / tot
    elif level.order == 2:  # add-k above the uniform unigrams
        bo = model.k * model.outcomes / (tot + model.k * model.outcomes)
    else:  # add-k at order 3: against the bigram's own unseen-word mass
        lower = model.levels[1]
        b = _find_rows(lower.contexts, contexts % model.base)
        bo = (lower.totals[b] + model.k * model.outcomes) / (tot + model.k * model.outcomes)
    return np.where(found, bo, np.nan)


def _find_rows(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)


MAX_FILL_INS, FILL_IN_RATIO = 2_000_000, 10  # add-k's extra trigrams an ARPA file may list past 10x the seen ones


def _fill_ins(model: Smoothed) -> np.ndarray:  # -> (F,) trigram codes
    """add-k at order 3: the unseen (a, b, w) whose bigram (b, w) is listed, per context (a, b)."""
    top, mid = model.levels[2], model.levels[1]
    b = top.contexts % model.base  # (R3,)
    rows = _find_rows(mid.contexts, b)
    lo = np.searchsorted(mid.codes, mid.contexts[rows] * model.base)
    hi = np.searchsorted(mid.codes, (mid.contexts[rows] + 1) * model.base)
    size = hi - lo
    if size.sum() > MAX_FILL_INS and size.sum() > FILL_IN_RATIO * len(top.codes):
        raise TooLargeError(f"add-k at order 3 would list {int(size.sum()):,} unseen trigrams to stay exact as a "
                            f"backoff file (the corpus has {len(top.codes):,}): use --smoothing witten-bell or "
                            "kneser-ney for a second-order ARPA file of this corpus")
    at = np.repeat(lo - np.r_[0, np.cumsum(size)[:-1]], size) + np.arange(size.sum())
    codes = np.repeat(top.contexts, size) * model.base + mid.codes[at] % model.base
    return np.setdiff1d(codes, top.codes)


def ngrams(model: Smoothed) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per order k: k-grams (E, k) of ids, log10 p (E,), log10 backoff (E,) (nan: none)."""
    if model.method == "none":
        raise UsageError("--smoothing none has no ARPA form (an unseen word has probability 0): "
                         "choose add-k, witten-bell or kneser-ney")
    out = []
    for level in model.levels:
        k = level.order
        codes = np.arange(model.outcomes, dtype=np.int64) if k == 1 else level.codes
        if k == 3 and model.method == "add-k":
            codes = np.union1d(codes, _fill_ins(model))
        grams = _digits(model, codes, k)
        with np.errstate(divide="ignore"):
            logp = np.log10(_level_probs(model, grams))
        if k == 1:
            grams, logp = np.r_[grams, [[model.bos]]], np.r_[logp, NO_PROB]
            codes = np.r_[codes, model.bos]
        bo = _backoffs(model, model.levels[k], codes) if k < model.order else np.full(len(codes), np.nan)
        with np.errstate(divide="ignore"):
            out.append((grams, logp, np.log10(bo)))
    return out


def write_arpa(model: Smoothed) -> str:
    """The ARPA text: \\data\\ with the count of each order, then each order's k-grams."""
    sections = ngrams(model)
    words = model.words
    lines = ["\\data\\"] + [f"ngram {k}={len(g)}" for k, (g, _, _) in enumerate(sections, 1)] + [""]
    for k, (grams, logp, bo) in enumerate(sections, 1):
        lines.append(f"\\{k}-grams:")
        for gram, p, b in zip(grams.tolist(), logp.tolist(), bo.tolist()):
            text = " ".join(words[i] for i in gram)
            lines.append(f"{p:.7f}\t{text}" if b != b else f"{p:.7f}\t{text}\t{b:.7f}")
        lines.append("")
    lines.append("\\end\\")
    return "\n".join(lines) + "\n"
