"""Drawing a diagram: boxes in columns, arrows between them, a number on each arrow.

The diagrams (``diagrams``) lay out their nodes in layers, left to right: ``layered``
gives each node a box (x, y, w, h) from its layer; ``edge`` draws an arrow from one box's
right side to another's left side (a curve under them when it runs backwards or within a
layer) with its number printed on a white patch, so numbers stay readable where arrows
cross.

    boxes = layered({"a": 0, "b": 1}, {"a": "a", "b": "b"})
    svg = Svg(*extent(boxes))
    node(svg, boxes["a"], "a"); node(svg, boxes["b"], "b"); edge(svg, boxes["a"], boxes["b"], "1")
"""

from __future__ import annotations

from typing import Hashable, NamedTuple

from lmtoy.render.figures.svg import INK, MUTED, Canvas, text_width

SIZE = 18  # px: a node's text
LABEL = 16  # px: an arrow's number
MARGIN = 24
FILL = "#eef3f8"  # a node's light fill
POSITIVE = "#0072b2"  # Okabe-Ito blue and vermillion: colour-blind safe; negative is also dashed
NEGATIVE = "#d55e00"


class Box(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def layered(layers: dict[Hashable, int], labels: dict[Hashable, str], gap: float = 90, row: float = 64,
            top: float = MARGIN, left: float = MARGIN, size: float = SIZE) -> dict[Hashable, Box]:
    """A box for each node: layer k is the k-th column, its nodes (in the dict's order)
    centred vertically; columns ``gap`` px apart, rows ``row`` px apart."""
    columns: dict[int, list] = {}
    for name, k in layers.items():
        columns.setdefault(k, []).append(name)
    height = max(len(c) for c in columns.values()) * row if columns else 0
    boxes, x = {}, left
    for k in sorted(columns):
        widths = {name: text_width(labels[name], size) + 24 for name in columns[k]}
        w = max(widths.values())
        y0 = top + (height - len(columns[k]) * row) / 2
        for i, name in enumerate(columns[k]):
            boxes[name] = Box(x, y0 + i * row + (row - 40) / 2, w, 40)
        x += w + gap
    return boxes


def extent(boxes, margin: float = MARGIN, below: float = 0) -> tuple[float, float]:
    """The width and height a figure needs for these boxes (and ``below`` px more)."""
    return (max(b.x + b.w for b in boxes.values()) + margin,
            max(b.y + b.h for b in boxes.values()) + margin + below)


def node(canvas: Canvas, box: Box, label: str, fill: str = FILL, bold: bool = False, size: float = SIZE,
         stroke: str = INK, stroke_width: float = 1.5, **attrs) -> None:
    """A rounded box with its label centred."""
    canvas.rect(box.x, box.y, box.w, box.h, fill=fill, stroke=stroke, stroke_width=stroke_width, rx=8, **attrs)
    canvas.text(box.cx, box.cy + size * 0.35, label, size=size, anchor="middle", weight="bold" if bold else None)


def label(canvas: Canvas, x: float, y: float, text: str, size: float = LABEL, fill: str = INK) -> None:
    """A number centred at (x, y) on a white patch, so the lines under it do not hide it."""
    w = text_width(text, size) + 6
    canvas.rect(x - w / 2, y - size * 0.7, w, size * 1.3, fill="#ffffff", opacity=0.9)
    canvas.text(x, y + size * 0.35, text, size=size, anchor="middle", fill=fill)


def edge(canvas: Canvas, a: Box, b: Box, text: str = "", width: float = 1.5, at: float = 0.5,
         stroke: str = INK, dash: str | None = None, size: float = LABEL) -> None:
    """An arrow from box a to box b, ``text`` printed ``at`` that fraction of the way."""
    if b.x > a.x + a.w:  # forwards: right side to left side
        x1, y1, x2, y2 = a.x + a.w, a.cy, b.x - 2, b.cy
        canvas.line(x1, y1, x2, y2, stroke=stroke, stroke_width=width, dash=dash, arrow=True)
        lx, ly = x1 + (x2 - x1) * at, y1 + (y2 - y1) * at
    else:  # backwards or within a column: a curve under both boxes
        x1, y1, x2, y2 = a.cx, a.y + a.h, b.cx, b.y + b.h + 2
        low = max(y1, y2) + 40 + abs(x2 - x1) * 0.1
        canvas.path(f"M {x1:.1f} {y1:.1f} C {x1:.1f} {low:.1f} {x2:.1f} {low:.1f} {x2:.1f} {y2:.1f}",
                    stroke=stroke, stroke_width=width, dash=dash, arrow=True)
        lx, ly = (x1 + x2) / 2, low - 10
    if text:
        label(canvas, lx, ly, text, size, fill=stroke if stroke != INK else INK)


def note(canvas: Canvas, x: float, y: float, lines: list[str], size: float = 16) -> float:
    """Muted lines of text from baseline y; the y after them."""
    for line in lines:
        canvas.text(x, y, line, size=size, fill=MUTED)
        y += size * 1.5
    return y
