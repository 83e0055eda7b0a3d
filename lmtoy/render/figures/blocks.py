"""Blocks of a figure, stacked top to bottom: heat-map tables, plain tables, text lines
and colour legends. Each block knows its size and draws itself at (x, y) on a Canvas.

    doc = stack([Lines(["Transition matrix"], bold=True), heat, Legend(heat.scale)])
    doc.to_string()

A heat-map cell prints its number (formatted as in the terminal tables, '.' for zero)
right-aligned with text-anchor="end", over a colour from a colour-blind-safe ramp.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from lmtoy.render.figures.svg import GRID, MONO, INK, MUTED, RAMP, Canvas, Ramp, Scale, Svg, text_width
from lmtoy.render.matrix import fmt

SIZE = 16  # px: readable on a 1280 px wide slide
PAD = 8  # px inside a cell
ROW = 28  # px: a table row
MARGIN = 24  # px around the figure
GAP = 18  # px between blocks
BOLD = 1.12  # bold text is this much wider


class Block(ABC):
    """A rectangle of the figure, ``width`` x ``height`` px, drawn with its top left at (x, y)."""

    width: float
    height: float

    @abstractmethod
    def draw(self, canvas: Canvas, x: float, y: float) -> None:
        """Draw the block on ``canvas`` at (x, y)."""


@dataclass
class Lines(Block):
    """Lines of text; ``bold``: a title; ``muted``: notes. A line may be a list of
    (part, bold) pairs, for a bold word in a line."""

    lines: list
    bold: bool = False
    muted: bool = False
    size: float = SIZE
    mono: bool = False  # plain text drawn with spaces for alignment

    def __post_init__(self) -> None:
        plain = ["".join(t for t, _ in s) if isinstance(s, list) else s for s in self.lines]
        self.width = max((text_width(s, self.size) * (BOLD if self.bold else 1) for s in plain), default=0)
        self.height = len(self.lines) * self.size * 1.4

    def draw(self, canvas, x, y):
        for k, line in enumerate(self.lines):
            canvas.text(x, y + (k + 1) * self.size * 1.4 - self.size * 0.35, line, size=self.size,
                        weight="bold" if self.bold else None, fill=MUTED if self.muted else INK,
                        font_family=MONO if self.mono else None, xml_space="preserve" if self.mono else None)


@dataclass
class Heatmap(Block):
    """A labelled table of numbers, each cell printed and shaded by ``scale``.

    values : (R, C) ndarray of float
    """

    rows: list[str]
    columns: list[str]
    values: np.ndarray
    row_header: str = ""
    scale: Scale | None = None
    ramp: Ramp = RAMP
    number: object = fmt  # float -> str, as the terminal tables print it

    def __post_init__(self) -> None:
        self.values = np.atleast_2d(np.asarray(self.values, dtype=float))  # (R, C)
        if self.scale is None:
            self.scale = Scale.of(self.values.ravel())
        texts = [[self.number(v) for v in row] for row in self.values]
        self.label_w = max([text_width(s, SIZE) * BOLD for s in self.rows + [self.row_header]] + [0]) + 2 * PAD
        self.col_w = [max([text_width(c, SIZE) * BOLD] + [text_width(r[j], SIZE) for r in texts]) + 2 * PAD
                      for j, c in enumerate(self.columns)]
        self.texts = texts
        self.width = self.label_w + sum(self.col_w)
        self.height = ROW * (len(self.rows) + 1)

    def draw(self, canvas, x, y):
        base = lambda i: y + ROW * (i + 1) + ROW / 2 + SIZE * 0.35  # baseline of row i (-1: header)
        canvas.text(x + PAD, base(-1), self.row_header, weight="bold")
        left = x + self.label_w
        for j, (name, w) in enumerate(zip(self.columns, self.col_w)):
            canvas.text(left + w - PAD, base(-1), name, anchor="end", weight="bold")
            left += w
        canvas.line(x, y + ROW, x + self.width, y + ROW, stroke=INK)
        for i, label in enumerate(self.rows):
            top = y + ROW * (i + 1)
            canvas.text(x + PAD, base(i), label, weight="bold")
            left = x + self.label_w
            for j, w in enumerate(self.col_w):
                v = self.values[i, j]
                t = self.scale(v)
                shaded = v != 0 and np.isfinite(v)
                canvas.rect(left, top, w, ROW, fill=self.ramp.colour(t) if shaded else "#ffffff", stroke=GRID)
                canvas.text(left + w - PAD, base(i), self.texts[i][j], anchor="end",
                            fill=self.ramp.ink(t) if shaded else MUTED)
                left += w


@dataclass
class Table(Block):
    """A table of strings (no colour): a header and rows; ``numeric`` columns right-aligned."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool] | None = None

    def __post_init__(self) -> None:
        cols = list(zip(self.header, *self.rows)) if self.header else list(zip(*self.rows))
        self.col_w = [max(text_width(s, SIZE) for s in col) + 2 * PAD for col in cols]
        if self.numeric is None:
            self.numeric = [all(_numeric(s) for s in col[1:]) and len(col) > 1 for col in cols]
        self.width = sum(self.col_w)
        self.height = ROW * (len(self.rows) + bool(self.header))

    def draw(self, canvas, x, y):
        lines = ([self.header] if self.header else []) + self.rows
        for i, row in enumerate(lines):
            left = x
            for j, (cell, w) in enumerate(zip(row, self.col_w)):
                right = self.numeric[j] and j > 0
                canvas.text(left + w - PAD if right else left + PAD, y + ROW * i + ROW / 2 + SIZE * 0.35, cell,
                            anchor="end" if right else "start", weight="bold" if self.header and i == 0 else None)
                left += w
            if self.header and i == 0:
                canvas.line(x, y + ROW, x + self.width, y + ROW, stroke=INK)


def _numeric(s: str) -> bool:
    try:
        float(str(s).replace(",", "").rstrip("%"))
        return True
    except ValueError:
        return str(s) in (".", "-inf", "inf", "nan", "")


@dataclass
class Legend(Block):
    """The colour ramp as a bar with its values under it: what each colour means."""

    scale: Scale
    ramp: Ramp = RAMP
    label: str = "colour: value"
    steps: int = 40
    bar: float = 320
    ticks: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ticks = self.ticks or self.scale.ticks(5)
        self.text = f"{self.label} ({self.scale.kind} scale)"
        self.width = max(self.bar + 2 * PAD, text_width(self.text, 14))
        self.height = 14 * 1.4 + 16 + 14 * 1.6

    def draw(self, canvas, x, y):
        canvas.text(x, y + 14, self.text, size=14, fill=MUTED)
        top, w = y + 14 * 1.4, self.bar / self.steps
        for k in range(self.steps):
            canvas.rect(x + k * w, top, w + 0.5, 16, fill=self.ramp.colour((k + 0.5) / self.steps))
        canvas.rect(x, top, self.bar, 16, stroke=GRID)
        for k, v in enumerate(self.ticks):
            at = x + self.bar * self.scale(v)
            anchor = "start" if k == 0 else "end" if k == len(self.ticks) - 1 else "middle"
            canvas.line(at, top + 16, at, top + 20, stroke=MUTED)
            canvas.text(at, top + 16 + 14 * 1.4, tick(v, self.scale.hi - self.scale.lo), size=14, anchor=anchor, fill=MUTED)


def tick(v: float, span: float) -> str:
    """A legend's value: 0.25, -1, 1,000, and 0 for what is zero but for rounding (5e-17)."""
    if abs(v) <= abs(span) * 1e-9:
        return "0"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def stack(blocks: list[Block], title: str = "", min_width: float = 0) -> Svg:
    """The blocks one under another, left-aligned, in a figure with a margin around them."""
    width = max([b.width for b in blocks] + [min_width]) + 2 * MARGIN
    height = sum(b.height for b in blocks) + GAP * max(len(blocks) - 1, 0) + 2 * MARGIN
    doc = Svg(width, height, title=title)
    y = MARGIN
    for block in blocks:
        block.draw(doc, MARGIN, y)
        y += block.height + GAP
    return doc
