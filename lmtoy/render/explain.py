"""An Explanation as lines of text (80 columns) and as JSON.

JSON keys: model, context, next, count, row_total, formula, terms, value; then events
(counted models: sentence and position from 1, next word, weight), features (vote:
earlier, recent, mask, value) or lower (smoothing: each lower order's formula, terms,
value), and smoothing (its label) where they apply.
"""

from __future__ import annotations

import textwrap

from rich.markup import escape

from lmtoy.explain import Explanation
from lmtoy.render.views import View

EVENTS_SHOWN = 12  # events the table view lists; JSON has them all


def _num(value: float) -> str:
    return f"{value:.6g}"


def _terms(terms: dict) -> str:
    return ", ".join(f"{name} = {_num(v)}" for name, v in terms.items())


def _context(ex: Explanation) -> str:
    if ex.model == "skips":
        return f"feature ({', '.join(ex.context)})"
    if ex.model in ("vote", "masked-skips"):
        return f"prompt '{' '.join(ex.context)}'"
    return f"({' '.join(ex.context)})" if ex.context else "()"


def explain_view(ex: Explanation, words: tuple[str, ...] | None = None) -> View:
    """The view of one explanation; ``words`` name the events' next-word ids."""
    lines = _wrap(f"{ex.model}: {_context(ex)} -> {ex.next}")
    if ex.smoothing:
        lines += _wrap(f"smoothing: {ex.smoothing}")
    if ex.events is not None:
        lines += _event_lines(ex, words)
    if ex.features:
        lines += _feature_lines(ex)
    elif ex.model in ("vote", "masked-skips"):
        lines += _wrap(f"no active feature: no (earlier word, {ex.context[-1]}) of this prompt was seen with a next word")
    lines += _formula(ex.formula, "formula: ")
    if ex.terms and not ex.features:
        lines += _wrap("terms: " + _terms(ex.terms), "       ")
    value = f"value: {_num(ex.count)} / {_num(ex.row_total)} = {_num(ex.value)}" if ex.formula == "c(h,w) / c(h)" \
        else f"value: {_num(ex.value)}"
    lines.append(f"[bold]{escape(value)}[/]")
    for level in ex.lower:
        name = "uniform" if level.lower is None else f"context ({' '.join(level.context)})" \
            if level.context else "no context"
        lines += _formula(level.formula, f"P_lower, {name}: ", "  ")
        if level.terms:
            lines += _wrap(f"{_terms(level.terms)} -> {_num(level.value)}", "    ", "    ")
    return View([escape(line) if not line.startswith("[bold]") else line for line in lines], lambda: payload(ex, words))


def _wrap(text: str, indent: str = "  ", first: str = "") -> list[str]:
    """Lines of at most 80 columns, broken at spaces."""
    lines = textwrap.wrap(text.replace(" = ", "\xa0=\xa0"), 80, initial_indent=first, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False)  # never between a name and its value
    return [line.replace("\xa0", " ") for line in lines] or [first]


def _formula(formula: str, label: str, indent: str = "") -> list[str]:
    """A formula, its where-clause (', gamma(h) = ...') on a line of its own."""
    head, sep, where = formula.partition(", gamma(h) = ")
    lines = _wrap(head, indent + "    ", indent + label)
    return lines + (_wrap("gamma(h) = " + where, indent + "    ", indent + "  where ") if sep else [])


def _event_lines(ex: Explanation, words) -> list[str]:
    ev = ex.events
    n = len(ev.weight)
    lines = [f"{n} event{'s' * (n != 1)} where the context was active (their weights sum to c(h) = {_num(ex.row_total)}):"]
    name = (lambda i: words[ev.next[i]]) if words else (lambda i: str(ev.next[i]))
    order = list(range(n))
    if n > EVENTS_SHOWN:  # some must go: the events followed by NEXT first, each group in corpus order
        order.sort(key=lambda i: name(i) != ex.next)
    for i in order[:EVENTS_SHOWN]:
        nxt = name(i)
        mark = "*" if nxt == ex.next else " "
        lines += _wrap(f" {mark} sentence {ev.sentence[i] + 1}, word {ev.position[i] + 1} -> {nxt}, weight {_num(ev.weight[i])}")
    if n > EVENTS_SHOWN:
        hidden = sum(name(i) == ex.next for i in order[EVENTS_SHOWN:])
        lines.append(f"   ... {n - EVENTS_SHOWN} more, {hidden or 'none'} of them followed by {ex.next} "
                     "(--format json lists them all)")
    lines += _wrap(f"   * the events followed by {ex.next}: c(h,w) = {_num(ex.count)}")
    return lines


def _feature_lines(ex: Explanation) -> list[str]:
    lines = _wrap(f"{len(ex.features)} active features, each one's row value for {ex.next}:")
    for a, b, mask, value in ex.features:
        lines += _wrap(f"   ({a}, {b}): {_num(value)}{'' if mask else '  (masked: 0)'}", "     ")
    lines.append(f"sum: {_num(ex.count)} (of {_num(ex.row_total)} votes cast for all words)")
    return lines


def payload(ex: Explanation, words=None) -> dict:
    out = {"model": ex.model, "context": list(ex.context), "next": ex.next, "count": ex.count,
           "row_total": ex.row_total, "formula": ex.formula, "terms": ex.terms, "value": ex.value}
    if ex.events is not None:
        ev = ex.events
        out["events"] = [{"sentence": int(s) + 1, "position": int(p) + 1,
                          "next": words[n] if words else int(n), "weight": float(w)}
                         for s, p, n, w in zip(ev.sentence, ev.position, ev.next, ev.weight)]
    if ex.features:
        out["features"] = [{"earlier": a, "recent": b, "mask": m, "value": v} for a, b, m, v in ex.features]
    if ex.smoothing:
        out["smoothing"] = ex.smoothing
        out["lower"] = [{"context": list(b.context), "formula": b.formula, "terms": b.terms, "value": b.value}
                        for b in ex.lower]
    return out
