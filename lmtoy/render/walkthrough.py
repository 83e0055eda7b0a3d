"""The view of the backward pass of self-attention (section 11, seed 003): each step's
matrix with its shape and formula, then the finite-difference checks.

Shapes: n sentence words, so n + 1 positions (<end> first), d = d_model, d_k, d_v.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from lmtoy.render.matrix import Grid, token_labels
from lmtoy.render.views import View

CHECK_COLUMN = "max relative error"


def backward_view(prompt: list[str], seen: list[str], layer: int, head: int, walk, norm: str) -> View:
    """The loss, the steps of ``walk`` (a ``walkthrough.Walk``) as labelled grids titled
    'name  [shape]  = formula', and the checks. ``seen`` is what the decoder read
    (<end> w_1..w_n); ``layer`` and ``head`` count from one.

    Rows of n + 1 are the words read (a repeated word gets its position: 'out@4'), the
    columns of an (n + 1) x (n + 1) step the keys; other rows and columns are dimensions
    from 1. csv/tsv/markdown write one table per step (named as the step) and 'check'.
    """
    n, tokens = len(seen), token_labels(seen)
    x = "the layer's input" if norm == "post" else "LN1 of the layer's input (pre-norm)"
    parts = [
        Text(f"Loss {walk.loss:.6g} nats: the mean cross-entropy over {n} positions", style="bold"),
        Text(f"inputs <end> w_1..w_{n - 1}, targets w_1..w_{n - 1} <end>", style="dim"),
        Text(f"back through layer {layer}, head {head}; X is {x}", style="dim"),
    ]
    tables = []
    for step in walk.steps:
        grid = _step_grid(step, tokens, walk.check.get(step.name))
        parts.append(grid)
        tables.append((step.name, grid))
    if walk.check:
        check = _check_grid(walk.check)
        parts.append(check)
        tables.append(("check", check))
    payload = {"prompt": prompt, "layer": layer, "head": head, "loss": walk.loss,
               "steps": [{"name": s.name, "formula": s.formula, "shape": list(s.values.shape), "values": s.values}
                         for s in walk.steps],
               "check": walk.check}  # fmt: skip
    return View(parts, lambda: payload, tables=tables)


def _step_grid(step, tokens: list[str], error: float | None) -> Grid:
    a, (row_axis, col_axis) = step.values, step.axes  # (n, m), (n, n) or (d, m)
    rows = tokens if row_axis == "positions" else _dims(a.shape[0])
    cols = tokens if col_axis == "positions" else _dims(a.shape[1])
    header = ("query \\ key" if col_axis == "positions" else "word" if row_axis == "positions"
              else f"d_model \\ {col_axis}")
    notes = [f"against central finite differences: {CHECK_COLUMN} {error:.1e}"] if error is not None else []
    return Grid.of(a, rows, cols, title=f"{step.name}  [{' x '.join(map(str, a.shape))}]  = {step.formula}",
                   row_header=header, hide_zeros=False, keep_order=True, notes=notes)


def _check_grid(check: dict[str, float]) -> Grid:
    values = np.array(list(check.values()))[:, None]  # (3, 1)
    return Grid.of(values, list(check), [CHECK_COLUMN], row_header="gradient", hide_zeros=False, scale=(0, 1e-6),
                   title=f"Each dL/dW against central finite differences (float64): worst {values.max():.1e}")


def _dims(k: int) -> list[str]:
    return [str(i + 1) for i in range(k)]
