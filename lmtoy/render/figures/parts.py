"""A view's parts (Grids, text lines, tables) -> a light SVG figure, and -> a FigureResult.

The SVG shows what the terminal table view shows: the same rows (``max_rows``, the
most frequent kept), up to ``MAX_COLUMNS`` columns (the heaviest, all-zero ones first
to go), every cell's number printed over its colour, and one colour legend per grid.
"""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console, Group
from rich.table import Table as RichTable
from rich.text import Text

from lmtoy.render.figures import FigureResult
from lmtoy.render.figures.blocks import Block, Heatmap, Legend, Lines, Table, stack
from lmtoy.render.figures.svg import Scale
from lmtoy.render.matrix import Grid, _column_rank, _keep, count, heatmap, label_text
from lmtoy.render.text import TextTable

MAX_COLUMNS = 24  # columns an SVG table shows at most
WIDTH = 1232  # px a table may take: 1280 less the margins, so a slide shows it at full size


def grid_blocks(grid: Grid, max_rows: int = 40, scale: str = "linear") -> list[Block]:
    """A Grid as its title, a heat-map table, its notes and a colour legend."""
    n_rows, n_cols = grid.shape
    limit = max_rows if max_rows > 0 else n_rows
    rows = _keep(n_rows, limit, grid.row_rank)
    col_rank, zero = _column_rank(grid, rows)
    if grid.hide_zeros and zero is not None and n_cols > MAX_COLUMNS and not zero.all():
        col_rank = np.where(zero, col_rank - n_cols, col_rank)  # all-zero columns go first
    cols = _keep(n_cols, MAX_COLUMNS, col_rank)
    values = grid.take(rows, cols) if len(rows) and len(cols) else np.zeros((len(rows), len(cols)))  # (r, c)
    labels = [label_text(grid.rows[r]) for r in rows]
    while True:
        finite = values[np.isfinite(values)]
        lo, hi = grid.scale or (min(0.0, float(finite.min(initial=0))), float(finite.max(initial=0)))
        colours = Scale.of(finite, scale, lo, hi)
        heat = Heatmap(labels, [str(grid.columns[c]) for c in cols], values, row_header=grid.row_header, scale=colours)
        if heat.width <= WIDTH or len(cols) <= 1:
            break
        drop = int(np.argmin(col_rank[cols]))  # the lowest-ranked column goes, until the table fits
        cols, values = np.delete(cols, drop), np.delete(values, drop, axis=1)
    blocks: list[Block] = [Lines([grid.title], bold=True)] if grid.title else []
    blocks.append(heat)
    hidden = [f"{count(n_rows - len(rows), 'row')} not shown" if len(rows) < n_rows else "",
              f"{count(n_cols - len(cols), 'column')} not shown" if len(cols) < n_cols else ""]
    notes = list(grid.notes) + ([" and ".join(h for h in hidden if h) + f"; {grid.full_hint}"] if any(hidden) else [])
    if notes:
        blocks.append(Lines(notes, muted=True, size=14))
    if finite.size and (finite != 0).any():
        blocks.append(Legend(colours))
    return blocks


def part_blocks(part, max_rows: int = 40, scale: str = "linear") -> list[Block]:
    """One part of a view as blocks: a Grid, markup text, a Text, a TextTable or a rich Table;
    anything else as its plain text, in a monospace font."""
    if isinstance(part, Grid):
        return grid_blocks(part, max_rows, scale)
    if isinstance(part, str):
        part = Text.from_markup(part)
    if isinstance(part, Text):
        bold = bool(part.style) and "bold" in str(part.style)
        lines = [_bold_parts(line) for line in part.split("\n")] if not bold and part.spans else part.plain.split("\n")
        return [Lines(lines, bold=bold, muted="dim" in str(part.style))]
    if isinstance(part, TextTable):
        return ([Lines([part.title], bold=True)] if part.title else []) + [Table(part.header, part.rows)]
    if isinstance(part, RichTable):
        header = [_plain(c.header) for c in part.columns] if part.show_header else []
        cells = [[_plain(cell) for cell in c._cells] for c in part.columns]
        return ([Lines([_plain(part.title)], bold=True)] if part.title else []) + [Table(header, list(map(list, zip(*cells))))]
    if isinstance(part, Group):
        return [b for p in part.renderables for b in part_blocks(p, max_rows, scale)]
    return [Lines(_as_text(part).rstrip("\n").split("\n"), mono=True)]


def _bold_parts(line: Text) -> list[tuple[str, bool]]:
    """A line of rich Text as (part, bold) pairs: 'Prompt: x' -> [('Prompt:', True), (' x', False)]."""
    console = Console(width=10_000, file=io.StringIO(), color_system=None)
    return [(seg.text, bool(seg.style and seg.style.bold)) for seg in line.render(console) if seg.text]


def _plain(value) -> str:
    return value.plain if isinstance(value, Text) else Text.from_markup(value).plain if isinstance(value, str) else _as_text(value).strip()


def _as_text(renderable) -> str:
    console = Console(width=100, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def parts_svg(parts: list, title: str = "", max_rows: int = 40, scale: str = "linear") -> str:
    """The parts of a view, one under another, as a standalone SVG document."""
    blocks = [b for part in parts for b in part_blocks(part, max_rows, scale)]
    return stack(_last_legends(blocks), title=title).to_string()


def _last_legends(blocks: list[Block]) -> list[Block]:
    """The blocks with each colour legend shown once, after the last table it applies to."""
    key = lambda b: (b.scale.lo, b.scale.hi, b.scale.kind)
    last = {key(b): i for i, b in enumerate(blocks) if isinstance(b, Legend)}
    return [b for i, b in enumerate(blocks) if not isinstance(b, Legend) or last[key(b)] == i]


FIGURE_ROWS = 64  # rows a figure's table shows (the most frequent): all 64 skip features of program_log


class Drawn:
    """View parts as a rich renderable that fits the console it is printed on."""

    def __init__(self, parts: list, title: str = "") -> None:
        self.parts, self.title = parts, title

    def __rich_console__(self, console, options):
        if self.title:
            yield Text(self.title, style="bold underline")
        for p in self.parts:
            yield heatmap(p, options.max_width, FIGURE_ROWS) if isinstance(p, Grid) else Text.from_markup(p) if isinstance(p, str) else p


def result(parts: list, title: str = "", scale: str = "linear") -> FigureResult:
    """A figure made of view parts: drawn in the terminal as the commands draw them, and as SVG."""
    return FigureResult(Drawn(parts, title), parts_svg([Text(title, style="bold")] + parts if title else parts,
                                                       title, FIGURE_ROWS, scale))
