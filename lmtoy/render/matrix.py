"""Labelled matrices -> heat-shaded rich tables (returns, never prints); the text
formats are in ``lmtoy.render.text``.

A ``Grid`` is a labelled matrix whose cells are built on demand (``take``), so a
table view of a 30,000-word model builds only the cells it shows: it asks ``take``
for the shown rows and columns only, and ranks columns with ``col_weight`` (a sparse
sum over the shown rows), never with a row over the whole vocabulary.
"""

from __future__ import annotations

from collections import Counter
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


def token_labels(words: list[str]) -> list[str]:
    """Distinct labels for a sequence's words: a word that occurs more than once gets its
    position (from 1): ['find', 'out', 'what', 'out'] -> ['find', 'out@2', 'what', 'out@4']."""
    seen = Counter(words)
    return [f"{w}@{i + 1}" if seen[w] > 1 else w for i, w in enumerate(words)]


@dataclass
class Grid:
    """A labelled matrix.

    rows : R row labels (a word, or a list of words)
    columns : C column labels
    take : (rows (r,), cols (c,)) -> (r, c) ndarray, the cells of those rows and columns
    row_rank, col_rank : (R,), (C,) larger is kept first when a view truncates
    col_weight : (rows (r,)) -> (C,) each column's weight in those rows (a weighted count);
        the table view keeps the heaviest columns (ties by ``col_rank``), and a weight of 0
        is an all-zero column. None: the sum of |cells| (through ``take``, up to 4M cells)
    fixed_rank : columns are ranked by ``col_rank`` alone, not by the shown rows
    row_mass : (rows (r,)) -> (r,) each row's total over all columns, for grids whose rows
        are distributions: when columns are hidden, a final … column holds the rest
    rows_flag : the option that limits the rows ("--max-rows"), named when rows are hidden
    label_width : the row-label column is at least this wide (stacked grids line up)
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
    col_weight: Callable[[np.ndarray], np.ndarray] | None = None
    fixed_rank: bool = False
    row_mass: Callable[[np.ndarray], np.ndarray] | None = None
    rows_flag: str = ""
    label_width: int = 0

    @classmethod
    def of(cls, values: np.ndarray, rows: list, columns: list[str], distribution: bool = False, **kw) -> "Grid":
        """A Grid over a dense array; ``distribution``: each row is a distribution (gets a … column)."""
        values = np.atleast_2d(np.asarray(values, dtype=float))  # (R, C)
        magnitude = np.abs(np.nan_to_num(values, posinf=1.0, neginf=1.0))  # (R, C)
        kw.setdefault("col_weight", lambda r: magnitude[r].sum(axis=0))
        if distribution:
            kw.setdefault("row_mass", lambda r: values[r].sum(axis=1))
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


def _column_rank(grid: Grid, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:  # (C,), (C,)
    """Each column's rank (higher is kept first) and whether it is all zero in the shown rows.

    By weight in the shown rows (``col_weight``), ties by the grid's own rank, then the
    earlier column; with ``fixed_rank`` the own rank alone, with ``keep_order`` the first
    columns first. Without ``col_weight``, above 4 million cells only the own rank is used.
    """
    n_cols = len(grid.columns)
    index = np.arange(n_cols)
    weight = None
    if grid.col_weight is not None:
        weight = np.asarray(grid.col_weight(rows), dtype=float)
    elif len(rows) and len(rows) * n_cols <= 4_000_000:
        weight = np.abs(np.nan_to_num(grid.take(rows, index), posinf=1.0, neginf=1.0)).sum(axis=0)
    zero = None if weight is None else weight == 0
    if grid.keep_order:
        return -index.astype(float), zero
    own = np.zeros(n_cols) if grid.col_rank is None else np.asarray(grid.col_rank, dtype=float)
    keys = (-index, own) if grid.fixed_rank or weight is None else (-index, own, weight)
    rank = np.empty(n_cols)
    rank[np.lexsort(keys)] = index  # the last key decides first
    return rank, zero


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
    while need(idx, cap) > room and len(idx) > 1:
        idx.remove(min(idx, key=lambda i: (rank[i], -i)))
    return idx, cap, value_w


def _abbrev(name: str, cap: int, tail: int = 0) -> str:
    """``name`` cut to ``cap`` terminal cells, with … where it was cut; ``tail`` cells of
    its end are kept after the …: ('spreadsheets', 7, 2) -> 'spre…ts'."""
    if cell_len(name) <= cap:
        return name
    end = ""
    for ch in reversed(name):
        if cell_len(ch + end) > tail:
            break
        end = ch + end
    return set_cell_size(name, cap - 1 - cell_len(end)).rstrip() + "…" + end


def abbreviate(names: list[str], cap: int) -> list[str]:
    """Each name cut to ``cap`` cells, and still distinct: names that would share a cut
    keep more of their end (spreadsheet, spreadsheets -> sprea…t, sprea…s at 7), or are
    numbered when their ends do not tell them apart."""
    out = [_abbrev(n, cap) for n in names]
    for cut in {a for a in out if out.count(a) > 1}:
        group = [i for i, a in enumerate(out) if a == cut]
        others = {a for i, a in enumerate(out) if i not in group}
        for tail in range(1, cap - 1):
            tried = [_abbrev(names[i], cap, tail) for i in group]
            if len(set(tried)) == len(tried) and not others & set(tried):
                break
        else:
            tried = [set_cell_size(names[i], max(cap - 1 - len(str(k + 1)), 1)).rstrip() + "…" + str(k + 1)
                     for k, i in enumerate(group)]
        for i, a in zip(group, tried):
            out[i] = a
    return out


def _shade(v: float, lo: float, hi: float) -> str:
    if v == 0 or not np.isfinite(v):
        return "dim"
    step = 0 if hi <= lo else int((v - lo) / (hi - lo) * (len(RAMP) - 1) + 0.5)
    step = min(max(step, 0), len(RAMP) - 1)  # a value outside a fixed scale takes the end colour
    return f"{'white' if step < 5 else 'black'} on {RAMP[step]}"


OTHER = "…"  # the column that holds each row's probability in the hidden columns


def heatmap(grid: Grid, width: int = 80, max_rows: int = 40) -> Group:
    """The grid as a heat-shaded table that fits ``width`` columns, with its title and notes."""
    n_rows, n_cols = grid.shape
    limit = max_rows if max_rows > 0 else n_rows
    rows = _keep(n_rows, limit, grid.row_rank)
    col_rank, zero = _column_rank(grid, rows)
    cols = _keep(n_cols, max(1, (width - 6) // 2), col_rank)  # no more than can ever fit
    values = grid.take(rows, cols) if len(rows) and len(cols) else np.zeros((len(rows), len(cols)))
    labels = [label_text(grid.rows[r]) for r in rows]
    label_width = min(max([grid.label_width, cell_len(grid.row_header)] + [cell_len(s) for s in labels]), width // 3)
    columns = [str(grid.columns[c]) for c in cols]
    shown, cap, value_w, other = _plan_with_rest(grid, rows, columns, values, col_rank[cols], width - label_width - 1)
    finite = values[np.isfinite(values)]
    lo, hi = grid.scale or (min(0.0, float(finite.min(initial=0))), float(finite.max(initial=0)))
    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False, header_style="bold")
    table.add_column(Text(grid.row_header, overflow="ellipsis"), width=label_width, no_wrap=True, style="bold")
    names = abbreviate([columns[i] for i in shown], cap)
    widths = [max(value_w[i], cell_len(n)) for i, n in zip(shown, names)]
    cells = [[values[r, i] for i in shown] for r in range(len(rows))]
    if other is not None:
        names, widths = names + [OTHER], widths + [max(len(fmt(v)) for v in other)]
        cells = [row + [v] for row, v in zip(cells, other)]
    for name, w in zip(names, widths):
        table.add_column(Text(name), justify="right", no_wrap=True, min_width=w)
    for label, row in zip(labels, cells):
        table.add_row(Text(label, overflow="ellipsis"), *(Text(fmt(v).rjust(w), style=_shade(v, lo, hi))
                                                            for v, w in zip(row, widths)))
    kept = np.zeros(n_cols, dtype=bool)
    kept[cols[shown]] = True
    zeros = int((zero & ~kept).sum()) if zero is not None else 0
    hidden = _hidden_note(n_rows - len(rows), n_cols - len(shown), zeros, grid.full_hint, limit, grid.rows_flag)
    rest = [f"{OTHER} is each row's probability in the hidden columns"] if other is not None else []
    notes = [Text(n, style="dim") for n in grid.notes + ([hidden] if hidden else []) + rest]
    return Group(*([Text(grid.title, style="bold")] if grid.title else []), table, *notes)


def _plan_with_rest(grid: Grid, rows, names, values, rank, room):
    """_plan_columns, plus (for distribution rows) each row's mass in the hidden columns
    (r,), or None when nothing hidden holds any: room is made for that last column."""
    reserve = 0
    while True:
        shown, cap, value_w = _plan_columns(names, values, rank, grid.hide_zeros, room - reserve)
        if grid.row_mass is None or len(shown) == len(grid.columns) or not len(rows):
            return shown, cap, value_w, None
        other = np.asarray(grid.row_mass(rows), dtype=float) - values[:, shown].sum(axis=1)  # (r,)
        other = np.where(other > 1e-9, other, 0.0)
        if not other.any():
            return shown, cap, value_w, None
        need = 1 + max(len(fmt(v)) for v in other)
        if need <= reserve or len(shown) == 1:
            return shown, cap, value_w, other
        reserve = need


def _hidden_note(rows: int, cols: int, zeros: int, hint: str, limit: int, flag: str) -> str:
    """What is not shown and why: rows beyond the row limit (``flag``, the option that sets
    it), columns that did not fit the width (some or all of them all zero)."""
    if not rows and not cols:
        return ""
    why_rows = f"limited by {flag} {limit:,} ({flag} 0 shows all)" if flag else f"the table view shows {limit:,}"
    which = " (all zero)" if cols and zeros == cols else f" ({zeros:,} of them all zero)" if zeros else ""
    lost = cols > zeros or (rows and not flag)  # data the table view cannot show: say what shows it
    if not cols:
        text = f"{count(rows, 'row')} not shown: {why_rows}"
    elif not rows:
        noun = count(cols, "all-zero column") if zeros == cols else count(cols, "column") + which
        text = f"{noun} hidden to fit the width"
    else:
        text = (f"{count(rows, 'row')} and {count(cols, 'column')} not shown: rows {why_rows}; "
                f"columns{which} hidden to fit the width")
    return text + (f"; {hint}" if lost else "")


def count(k: int, noun: str) -> str:
    """3, 'row' -> '3 rows'; 1,234 -> '1,234 rows'; 0 -> ''."""
    return f"{k:,} {noun}{'s' * (k != 1)}" if k else ""
