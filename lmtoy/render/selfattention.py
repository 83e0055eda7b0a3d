"""Views of basic self-attention (Bloem) and of the softmax step by step.

Shapes: n words, d vector width, m softmax entries. Rows and the columns of the n x n
matrices are labelled by the words, a repeated word with its position ('the@1', 'the@4').
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.text import Text

from lmtoy.render.matrix import Grid, token_labels
from lmtoy.render.views import View
from lmtoy.selfattention import SoftmaxSteps

PROBABILITY = (0.0, 1.0)


def selfattend_view(tokens: list[str], dimensions: list[str], x: np.ndarray, scores: np.ndarray,
                    weights: np.ndarray, y: np.ndarray, source: str, scale: bool = False,
                    causal: bool = False, onehot: bool = False) -> View:
    """X (n, d), the scores X X^T (n, n), the weights (n, n) and Y = W X (n, d), labelled by
    word; ``dimensions`` names X's columns (the words of a one-hot vector, else 1..d), and
    ``source`` says where the vectors came from. ``onehot`` (unscaled, unmasked): the hand
    derivation of the weights follows. csv/tsv/markdown: tables X, scores, weights, Y."""
    n, d = x.shape
    labels = token_labels(tokens)
    scored = "X X^T" + (f" / sqrt({d})" if scale else "") + (", -inf above the diagonal" if causal else "")

    def grid(values, columns, title, **kw):
        return Grid.of(values, labels, columns, title=f"{title}  [{' x '.join(map(str, values.shape))}]",
                       row_header="word", hide_zeros=False, keep_order=True, **kw)

    tables = [
        ("X", grid(x, dimensions, f"X: {source}")),
        ("scores", grid(scores, labels, f"Scores W' = {scored}")),
        ("weights", grid(weights, labels, "Weights W: the softmax of each row of W' (sums to 1)", scale=PROBABILITY)),
        ("Y", grid(y, dimensions, "Output Y = W X")),
    ]
    parts = [_heading(scale, causal)] + [g for _, g in tables]
    if onehot and not scale and not causal:
        parts += _onehot_lines(tokens, weights)
    payload = {"tokens": tokens, "dimensions": dimensions, "X": x, "scores": scores, "weights": weights, "Y": y}
    return View(parts, lambda: payload, tables=tables)


def _heading(scale: bool, causal: bool) -> Text:
    """'Basic self-attention, no parameters (Bloem):' and its three equations, in 80 columns."""
    name = "Scaled, masked" if scale and causal else "Scaled" if scale else "Masked" if causal else "Basic"
    score = "  w'_ij = x_i . x_j" + (" / sqrt(d)" if scale else "")
    score += ", -inf for j > i (a later word)" if causal else ""
    return Text.assemble((f"{name} self-attention, no parameters", "bold"), " (Bloem):\n",
                         score, "\n  w_ij = softmax_j(w'_ij),  y_i = sum_j w_ij x_j")


def _onehot_lines(tokens: list[str], weights: np.ndarray, width: int = 80) -> list[Text]:
    """The hand derivation beside the computed weights: a word that occurs c times among n
    scores 1 with its c occurrences and 0 with the rest, so its row puts e/(c e + n - c) on
    each of its own occurrences and 1/(c e + n - c) on every other word, never 0."""
    n = len(tokens)
    lines = [Text("One-hot: w'_ij = 1 between equal words, else 0. A word that occurs c times\n"
                  f"among n = {n} puts e/(c e + n - c) on each occurrence, 1/(c e + n - c) elsewhere:")]
    by_count: dict[int, list[str]] = {}
    for word in dict.fromkeys(tokens):
        by_count.setdefault(tokens.count(word), []).append(word)
    for c, words in sorted(by_count.items(), reverse=True):
        i = tokens.index(words[0])
        rest = n - c
        denom = f"{c if c > 1 else ''}e + {rest}" if rest else f"{c}e"
        other = [j for j, t in enumerate(tokens) if t != tokens[i]]
        text = f"  c = {c}: e/({denom}) = {weights[i, i]:.4f}"
        if other:
            text += f", 1/({denom}) = {weights[i, other[0]]:.4f}"
        lines.append(Text(text + "  " + _some(words, width - cell_len(text) - 3)))
    return lines


def _some(words: list[str], room: int) -> str:
    """'(cat, saw, dog)', cut to ``room`` characters: '(death, is, like, …)'."""
    shown = "(" + ", ".join(words) + ")"
    if cell_len(shown) <= room:
        return shown
    kept = []
    for w in words:
        if cell_len("(" + ", ".join(kept + [w]) + ", …)") > room:
            break
        kept.append(w)
    return "(" + ", ".join(kept + ["…"]) + ")"


def softmax_view(steps: SoftmaxSteps) -> View:
    """The vector, x / T, e^x, the shifted e^(x - max), the sum, the softmax and its Jacobian.

    e^x itself is shown only when it is finite (e^710 overflows); the shifted form always is.
    csv/tsv/markdown: tables 'steps' and 'jacobian'."""
    t = steps.temperature
    z, e_z = ("x", "e^x") if t == 1 else ("x/T", "e^(x/T)")
    with np.errstate(over="ignore"):
        raw = np.exp(steps.z)  # (m,) e^(x/T), inf where it overflows
    naive = float(raw.sum())  # inf when e^x overflows, 0 when it underflows: then e^x is not shown
    finite = np.isfinite(naive) and naive > 0
    shifted = f"e^({z} {'-' if steps.shift >= 0 else '+'} {abs(steps.shift):.4g})"
    named = [("x", steps.x)] + ([("x/T", steps.z)] if t != 1 else []) + ([(e_z, raw)] if finite else [])
    named += [(shifted, steps.exp), ("softmax", steps.s)]
    cols = [f"x{i + 1}" for i in range(len(steps.x))]
    table = Grid.of(np.vstack([v for _, v in named]), [k for k, _ in named], cols, row_header="step",
                    title=f"softmax({z})_i = {e_z}_i / sum_j {e_z}_j" + (f", temperature T = {t:g}" if t != 1 else ""),
                    hide_zeros=False, keep_order=True)
    jacobian = Grid.of(steps.jacobian, [f"s{i + 1}" for i in range(len(cols))], cols, row_header="s",
                       title=f"Jacobian ds_i/dx_j = {'diag(s) - s s^T' if t == 1 else '(diag(s) - s s^T) / T'}: "
                             "each row sums to 0", hide_zeros=False, keep_order=True)
    parts = [table, *_sum_lines(steps, shifted, e_z, naive), jacobian]
    payload = {"x": steps.x, "temperature": t, "shift": steps.shift, "exp": steps.exp, "sum": steps.total,
               "softmax": steps.s, "jacobian": steps.jacobian}
    return View(parts, lambda: payload, tables=[("steps", table), ("jacobian", jacobian)])


def _sum_lines(steps: SoftmaxSteps, shifted: str, e_z: str, naive: float, limit: int = 12) -> list[Text]:
    """'sum of e^(x - 3) = 1.503 (sum of e^x = 30.19)', why the shift (``naive``: the sum of
    e^x itself, inf or 0 when it overflows or underflows), and the softmax to 4 decimals."""
    finite = np.isfinite(naive) and naive > 0
    total = f"sum of {shifted} = {steps.total:.4g}" + (f" (sum of {e_z} = {naive:.4g})" if finite else "")
    why = ("subtracting the max first keeps the ratio, and e^ can then never overflow" if finite else
           f"{e_z} itself {'overflows' if naive else 'underflows to 0'} here; subtracting the max first "
           "keeps the ratio")
    values = [f"{v:.4f}" for v in steps.s[:limit]] + (["…"] if len(steps.s) > limit else [])
    return [Text(total), Text(why, style="dim"), Text(f"softmax = [{', '.join(values)}]")]
