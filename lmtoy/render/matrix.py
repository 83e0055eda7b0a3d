"""Labelled matrices -> heat-shaded rich tables and text formats (returns, never prints).

A ``Grid`` is a labelled matrix whose cells are built on demand (``take``), so a
table view of a 30,000-word model densifies only the rows and columns it shows.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from rich import box
from rich.cells import cell_len, set_cell_size
from rich.console import Group
from rich.table import Table
from rich.text import Text

# viridis, dark to bright: colour-blind safe; text colour chosen for contrast
RAMP = ("#440154", "#482878", "#3e4a89", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
CELL_LIMIT = 10_000_000  # cells a text format writes before it refuses
MIN_HEADER = 6  # a header shrinks to this many characters (with …) before columns go


def fmt(v: float) -> str:
    """A short number for a table cell: 1, 0.5, 0.33, 0.995, -1, 12.25, '.' for zero."""
    if v == 0:
        return "."
    if not np.isfinite(v):
        return "-inf" if v < 0 else ("inf" if v > 0 else "nan")
    if float(v).is_integer() and abs(v) < 1e9:
        return str(int(v))
    if abs(v) < 0.005:
        return f"{v:.0e}"
    if 0.995 <= abs(v) < 1:  # never round a value below 1 up to 1 (a probability of 0.995 is not 1)
        text = f"{abs(v):.3f}"
        if text == "1.000":
            return "<-0.999" if v < 0 else ">0.999"
        return ("-" if v < 0 else "") + text
    return f"{v:.2f}".rstrip("0").rstrip(".")


def label_text(label: str | list[str] | tuple) -> str:
    """'my' -> 'my'; ['battery', 'ran'] -> 'battery, ran'."""
    return label if isinstance(label, str) else ", ".join(label)


@dataclass
class Grid:
    """A labelled matrix.

    rows : R row labels (a word, or a list of words)
    columns : C column labels
    take : (rows (r,), cols (c,)) -> (r, c) ndarray, the cells of those rows and columns
    row_rank, col_rank : (R,), (C,) larger is kept first when a view truncates
    """

    rows: list
    columns: list[str]
    take: Callable[[np.ndarray, np.ndarray], np.ndarray]
    title: str = ""
    row_header: str = ""
    row_rank: np.ndarray | None = None
    col_rank: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    hide_zeros: bool = True  # a table view may drop all-zero columns to fit
    scale: tuple[float, float] | None = None  # the values the colour ramp spans (default: the shown ones)
    keep_order: bool = False  # truncating keeps the first columns (positions, dimensions), not the heaviest
    full_hint: str = "--format json|csv|tsv|markdown shows all"  # what shows the hidden part

    @classmethod
    def of(cls, values: np.ndarray, rows: list, columns: list[str], **kw) -> "Grid":
        values = np.atleast_2d(np.asarray(values, dtype=float))  # (R, C)
        return cls(list(rows), list(columns), lambda r, c: values[np.ix_(r, c)], **kw)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.columns)

    def dense(self) -> np.ndarray:  # (R, C)
        return self.take(np.arange(len(self.rows)), np.arange(len(self.columns)))


def _keep(n: int, k: int, rank: np.ndarray | None) -> np.ndarray:
    """Indices of k of n items, the highest ranked, in their original order."""
    if k >= n:
        return np.arange(n)
    if rank is None:
        return np.arange(k)
    return np.sort(np.argsort(-np.asarray(rank), kind="stable")[:k])


def _column_rank(grid: Grid, rows: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:  # (C,), (C,)
    """Each column's rank (higher is kept first) and whether it is all zero in the shown rows.

    By mass in the shown rows, ties by the grid's own rank; with ``keep_order`` the first
    columns come first. Above 4 million cells only the grid's own rank is used.
    """
    n_cols = len(grid.columns)
    order = -np.arange(n_cols, dtype=float) if grid.keep_order else None
    if not len(rows) or len(rows) * n_cols > 4_000_000:
        return (order if grid.col_rank is None else grid.col_rank), None
    mass = np.abs(np.nan_to_num(grid.take(rows, np.arange(n_cols)), posinf=1.0, neginf=1.0)).sum(axis=0)
    if grid.keep_order:
        return order, mass == 0
    own = np.zeros(n_cols) if grid.col_rank is None else np.asarray(grid.col_rank, dtype=float)
    rank = np.empty(n_cols)
    rank[np.lexsort((own, mass))] = np.arange(n_cols)  # by mass, then own rank
    return rank, mass == 0


def _plan_columns(names: list[str], values: np.ndarray, rank, hide_zeros: bool, room: int):
    """Which columns fit in ``room`` characters, how wide headers may be, each column's value width.

    To fit, all-zero columns go first (if ``hide_zeros``), then headers shrink to
    MIN_HEADER characters, then the lowest-ranked columns go.
    """
    value_w = [max((len(fmt(v)) for v in col), default=1) for col in values.T]
    name_w = [cell_len(n) for n in names]  # terminal cells: a CJK character takes two
    need = lambda idx, cap: sum(max(value_w[i], min(name_w[i], cap)) + 1 for i in idx)
    idx = list(range(len(names)))
    if need(idx, 99) > room and hide_zeros:
        idx = [i for i in idx if values[:, i].any()] or idx
    cap = max(name_w, default=1)
    while need(idx, cap) > room and cap > MIN_HEADER:
        cap -= 1
    rank = values.sum(axis=0) if rank is None else rank
    while need(idx, cap) > room and len(idx) > 1:
        idx.remove(min(idx, key=lambda i: (rank[i], -i)))
    return idx, cap, value_w


def _abbrev(name: str, cap: int) -> str:
    """``name`` cut to ``cap`` terminal cells, ending in … when cut."""
    return name if cell_len(name) <= cap else set_cell_size(name, cap - 1).rstrip() + "…"


def _shade(v: float, lo: float, hi: float) -> str:
    if v == 0 or not np.isfinite(v):
        return "dim"
    step = 0 if hi <= lo else int((v - lo) / (hi - lo) * (len(RAMP) - 1) + 0.5)
    step = min(max(step, 0), len(RAMP) - 1)  # a value outside a fixed scale takes the end colour
    return f"{'white' if step < 5 else 'black'} on {RAMP[step]}"


def heatmap(grid: Grid, width: int = 80, max_rows: int = 40) -> Group:
    """The grid as a heat-shaded table that fits ``width`` columns, with its title and notes."""
    n_rows, n_cols = grid.shape
    rows = _keep(n_rows, max_rows if max_rows > 0 else n_rows, grid.row_rank)
    col_rank, zero = _column_rank(grid, rows)
    cols = _keep(n_cols, max(1, (width - 6) // 2), col_rank)  # no more than can ever fit
    values = grid.take(rows, cols) if len(rows) and len(cols) else np.zeros((len(rows), len(cols)))
    labels = [label_text(grid.rows[r]) for r in rows]
    label_width = min(max([cell_len(grid.row_header)] + [cell_len(s) for s in labels]), width // 3)
    columns = [str(grid.columns[c]) for c in cols]
    rank = None if col_rank is None else np.asarray(col_rank)[cols]
    shown, cap, value_w = _plan_columns(columns, values, rank, grid.hide_zeros, width - label_width - 1)
    finite = values[np.isfinite(values)]
    lo, hi = grid.scale or (min(0.0, float(finite.min(initial=0))), float(finite.max(initial=0)))
    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False, header_style="bold")
    table.add_column(Text(grid.row_header, overflow="ellipsis"), width=label_width, no_wrap=True, style="bold")
    names = [_abbrev(columns[i], cap) for i in shown]
    widths = [max(value_w[i], cell_len(n)) for i, n in zip(shown, names)]
    for name, w in zip(names, widths):
        table.add_column(Text(name), justify="right", no_wrap=True, min_width=w)
    for r, label in enumerate(labels):
        cells = [Text(fmt(values[r, i]).rjust(w), style=_shade(values[r, i], lo, hi)) for i, w in zip(shown, widths)]
        table.add_row(Text(label, overflow="ellipsis"), *cells)
    kept = np.zeros(n_cols, dtype=bool)
    kept[cols[shown]] = True
    zeros = int((zero & ~kept).sum()) if zero is not None else 0
    hidden = _hidden_note(n_rows - len(rows), n_cols - len(shown), zeros, grid.full_hint)
    notes = [Text(n, style="dim") for n in grid.notes + ([hidden] if hidden else [])]
    return Group(*([Text(grid.title, style="bold")] if grid.title else []), table, *notes)


def _hidden_note(rows: int, cols: int, zeros: int, hint: str) -> str:
    if not rows and not cols:
        return ""
    if rows == 0 and cols == zeros:
        return f"{_count(cols, 'all-zero column')} hidden to fit"
    what = " and ".join(p for p in (_count(rows, "row"), _count(cols, "column")) if p)
    some_zero = f" ({zeros:,} of them all zero)" if zeros and cols > zeros else ""
    return f"{what}{some_zero} hidden to fit; {hint}"


def _count(k: int, noun: str) -> str:
    return f"{k:,} {noun}{'s' * (k != 1)}" if k else ""


def check_size(cells: int, hint: str) -> None:
    """Refuse a text format above CELL_LIMIT cells, pointing to ``hint``."""
    from lmtoy.errors import TooLargeError

    if cells > CELL_LIMIT:
        raise TooLargeError(f"{cells:,} cells is too many to write (limit {CELL_LIMIT:,}); {hint}")


def _label_fields(label) -> list[str]:
    return [label] if isinstance(label, str) else list(label)


def number(v: float) -> str:
    """A number for the text formats, exact: 1, 0.4, 0.30000000000000004."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def delimited(grid: Grid, sep: str) -> str:
    """CSV (sep ',') or TSV (sep '\\t'): a header row, then label field(s) and values.

    A pair label takes two fields (headers from ``row_header`` 'earlier, recent');
    shorter labels are padded, so every row has the same columns.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    labels = [_label_fields(label) for label in grid.rows]
    width = max((len(f) for f in labels), default=1)
    headers = (grid.row_header or "row").split(", ")
    headers = headers if len(headers) == width else [headers[0]] + [""] * (width - 1)
    writer.writerow(headers + [str(c) for c in grid.columns])
    for fields, row in zip(labels, grid.dense()):
        writer.writerow(fields + [""] * (width - len(fields)) + [number(v) for v in row])
    return out.getvalue()


def markdown(grid: Grid) -> str:
    """A GitHub-flavoured markdown table."""
    head = [grid.row_header or " "] + [str(c) for c in grid.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * len(grid.columns)) + "|"]
    for label, row in zip(grid.rows, grid.dense()):
        lines.append("| " + " | ".join([label_text(label)] + [number(v) for v in row]) + " |")
    return "\n".join(lines) + "\n"


def records(rows: list, cols: list, vals: np.ndarray, sep: str) -> str:
    """Sparse (row, column, value) records, delimited by ``sep``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(["row", "column", "value"])
    writer.writerows((label_text(r), c, number(v)) for r, c, v in zip(rows, cols, vals))
    return out.getvalue()


def to_json(payload: dict) -> str:
    """One strict JSON object: arrays become lists, and a non-finite number (a masked
    score of minus infinity) becomes null."""
    return json.dumps(payload, default=_jsonable, ensure_ascii=False, allow_nan=False) + "\n"


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f" and not np.isfinite(obj).all():
            return np.where(np.isfinite(obj), obj, None).tolist()
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")

