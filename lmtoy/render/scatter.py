"""A labelled scatter plot drawn on a character grid (no plotting library needed)."""

from __future__ import annotations

import numpy as np
from rich.text import Text

MARK = "•"


def scatter(points: np.ndarray, labels: list[str], width: int = 78, height: int = 22, square: bool = False) -> Text:
    """Draw (k, 2) points with their labels on a width x height character grid.

    Labels are written to the right of their point when there is room, else to
    the left, else left out (the point stays). ``square`` keeps the x and y
    scales equal (a terminal cell is about twice as tall as it is wide).
    Example: points [[0, 0], [1, 1]], labels [a, b] put 'a' bottom-left, 'b' top-right.
    """
    grid = [[" "] * width for _ in range(height)]
    cols, rows = _to_cells(np.asarray(points, dtype=float), width, height, square)
    order = np.lexsort((cols, rows))
    for i in order:
        grid[rows[i]][cols[i]] = MARK
    for i in order:
        _place(grid[rows[i]], cols[i], labels[i])
    text = Text()
    for line in grid:
        text.append("│" + "".join(line).rstrip() + "\n")
    text.append("└" + "─" * width)
    return text


def _to_cells(points: np.ndarray, width: int, height: int, square: bool):  # (k, 2) -> (k,), (k,)
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    if square:  # one row is about two columns tall: give both axes the same units
        unit = max(span[0] / (width - 1), span[1] / (2 * (height - 1)))
        span = np.array([unit * (width - 1), 2 * unit * (height - 1)])
        lo = (lo + hi) / 2 - span / 2
    x = np.rint((points[:, 0] - lo[0]) / span[0] * (width - 1)).astype(int)
    y = np.rint((points[:, 1] - lo[1]) / span[1] * (height - 1)).astype(int)
    return np.clip(x, 0, width - 1), np.clip(height - 1 - y, 0, height - 1)


def _place(line: list[str], col: int, label: str) -> None:
    """Write ``label`` beside the mark at ``col`` if the cells are free."""
    right = range(col + 2, col + 2 + len(label))
    left = range(col - 1 - len(label), col - 1)
    for span in (right, left):
        if span.start >= 0 and span.stop <= len(line) and all(line[c] == " " for c in range(span.start - 1, min(span.stop + 1, len(line)))):
            line[span.start : span.stop] = list(label)
            return
