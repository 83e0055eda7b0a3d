"""The terms of one smoothed probability, order by order: what ``lmtoy explain --smoothing``
shows, computed by the same ``smoothing.combine`` that scoring uses.

Example: show_me add-1, P(photos | my) = (c(my,photos) + k) / (c(my) + k P)
= (0.5 + 1) / (1 + 9) = 0.15, its lower level the uniform 1/P = 1/9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtoy.smoothing import Smoothed, find_codes, combine


@dataclass(frozen=True)
class Breakdown:
    """The terms of one smoothed probability, for ``lmtoy explain``.

    formula : the rule with symbols, e.g. "(c(h,w) + k) / (c(h) + k*P)"
    terms : each symbol's value, e.g. {"c(h,w)": 0.5, "c(h)": 1.0, "k": 1.0, "P": 9}
    value : the probability; count : c(h,w); row_total : c(h) (0 for an unseen context)
    context : the context the level used (after <unk> and truncation); lower : the
        breakdown of P_lower, the level below (None at level 0, the uniform 1/P)
    """

    formula: str
    terms: dict
    value: float
    count: float
    row_total: float
    context: tuple[str, ...] = ()
    lower: "Breakdown | None" = None


def breakdown(model: Smoothed, context: tuple[str, ...], word: str) -> Breakdown:
    """How P(word | context) is made. ``context`` is the words before ``word`` (oldest
    first; "<s>" for a sentence start), cut to the last n - 1; unseen words are <unk>.
    Example: show_me add-1, ("my",), "photos" -> "(c(h,w) + k) / (c(h) + k*P)",
    {c(h,w): 0.5, c(h): 1, k: 1, P: 9}, value 0.15."""
    ids = [model.id(w) for w in context][-(model.order - 1) :] if model.order > 1 else []
    if model.bos in ids:  # nothing comes before <s>
        ids = ids[len(ids) - 1 - ids[::-1].index(model.bos) :]
    return _breakdown(model, tuple(ids), model.id(word))


def _breakdown(model: Smoothed, ids: tuple[int, ...], word: int) -> Breakdown:
    level = model.levels[len(ids)]
    p_outcomes = model.outcomes
    if len(ids) == 0 and model.method == "add-k":
        lower = _uniform(model)
        return Breakdown("1/P (add-k's lowest order is uniform)", {"P": p_outcomes}, lower.value, 0.0, 0.0, (), lower)
    lower = _breakdown(model, ids[1:], word) if ids else _uniform(model)
    ctx = 0
    for i in ids:
        ctx = ctx * model.base + i
    r = find_codes(level.contexts, np.array([ctx]))[0]
    e = find_codes(level.codes, np.array([ctx * model.base + word]))[0]
    c = float(level.counts[e]) if e >= 0 else 0.0
    names = tuple(model.words[i] for i in ids)
    if r < 0:
        return Breakdown("P_lower (context never seen: the next-lower order)", {"P_lower": lower.value},
                         lower.value, 0.0, 0.0, names, lower)
    tot, t, held = float(level.totals[r]), float(level.types[r]), float(level.held[r])
    value = float(combine(model, level, np.array([ctx]), np.array([word]), np.array([lower.value]))[0])
    counted = "a(h,w)" if model.method == "kneser-ney" else "c(h,w)"
    total = "a(h)" if model.method == "kneser-ney" else "c(h)"
    formula, terms = {
        "none": ("c(h,w) / c(h)", {}),
        "add-k": ("(c(h,w) + k) / (c(h) + k*P)", {"k": model.k, "P": p_outcomes}),
        "witten-bell": ("(c(h,w) + T(h)*P_lower) / (c(h) + T(h))", {"T(h)": t, "P_lower": lower.value}),
        "kneser-ney": ("max(a(h,w) - D, 0) / a(h) + gamma(h)*P_lower, gamma(h) = sum_w min(a(h,w), D) / a(h)",
                       {"D": level.discount, "gamma(h)": held / tot, "P_lower": lower.value}),
    }[model.method]
    return Breakdown(formula, {counted: c, total: tot, **terms}, value, c, tot, names, lower)


def _uniform(model: Smoothed) -> Breakdown:
    return Breakdown("1/P (uniform over the N words, </s> and <unk>)", {"P": model.outcomes},
                     1.0 / model.outcomes, 0.0, 0.0)
