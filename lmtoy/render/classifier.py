"""Views of the classification transformer: one text's class probabilities, and an
evaluation's accuracy and confusion matrix. Shapes: C labels."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from lmtoy.render.attention import percent
from lmtoy.render.matrix import Grid
from lmtoy.render.text import TextTable, number
from lmtoy.render.views import View

PROBABILITY = (0.0, 1.0)
WINNER = "◀"  # marks the most probable label's row in the table view


def classify_view(words: list[str], labels: tuple[str, ...], p: np.ndarray) -> View:
    """P(label | text) (C,), most probable first, the winner marked; JSON in label order.

    words [find, my, photos], labels (battery, files), p [0.1, 0.9] -> rows 'files ◀' 0.9,
    'battery' 0.1, and "label: files (90%)".
    """
    order = np.argsort(-p, kind="stable")  # ties keep label order: the first is argmax's
    winner = labels[order[0]]
    marked = [f"{labels[i]} {WINNER}" if k == 0 else labels[i] for k, i in enumerate(order)]
    title = f"P(label | '{' '.join(words)}'): {len(labels)} labels, most probable first"
    grid = Grid.of(p[order][:, None], marked, ["P(label)"], row_header="label", title=title, scale=PROBABILITY,
                   hide_zeros=False)
    verdict = Text.assemble(("label: ", "bold"), (winner, "bold green"), f" ({percent(float(p[order[0]]))})")
    main = Grid.of(p[order][:, None], [labels[i] for i in order], ["probability"], row_header="label")
    payload = {"text": words, "label": winner, "probabilities": dict(zip(labels, p.tolist()))}
    return View([grid, verdict], lambda: payload, main=main)


def evaluation_view(labels: tuple[str, ...], accuracy: float, confusion: np.ndarray,
                    weighted: bool = False) -> View:
    """Accuracy and the (C, C) confusion matrix, rows the true label and columns the predicted
    one, in label order. Each line counts its weight (``weighted``: some line weighs other
    than 1); whole counts are written as integers. csv/tsv/markdown write two tables,
    'accuracy' and 'confusion'.

    confusion [[2, 0], [1, 1]] -> "accuracy: 75% (3 of 4 lines right)"."""
    counts = confusion.astype(np.int64) if np.all(confusion == np.round(confusion)) else confusion
    right, total = np.trace(counts), counts.sum()
    how = ", each line counted by its weight" if weighted else " lines right"
    line = Text.assemble(("accuracy: ", "bold"), (f"{percent(accuracy)}", "bold green"),
                         f" ({_count(right)} of {_count(total)}{how})")
    grid = Grid.of(counts, list(labels), list(labels), row_header="true \\ predicted", keep_order=True,
                   hide_zeros=False, scale=(0.0, float(counts.max(initial=0))),
                   title="Confusion matrix: rows the true label, columns the predicted one")
    summary = TextTable(["accuracy", "right", "lines"], [[number(accuracy), number(right), number(total)]])
    payload = {"accuracy": accuracy, "labels": list(labels), "confusion": counts}
    return View([line, grid], lambda: payload, tables=[("accuracy", summary), ("confusion", grid)])


def _count(v) -> str:
    """300 -> '300'; 1234 -> '1,234'; 2.5 -> '2.5' (weighted lines)."""
    return f"{v:,}" if isinstance(v, (int, np.integer)) else f"{float(v):,.6g}"
