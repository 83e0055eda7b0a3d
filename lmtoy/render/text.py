"""Tables as text: CSV, TSV, markdown, sparse records and strict JSON (returns strings).

The conventions, the same in every command: a pair row label takes two fields in
csv/tsv (dense tables and sparse records alike); a header field before the columns
(the row header, a table's name) that has a column's name gets ' label' appended;
several tables are written as markdown sections ('### title') or as csv/tsv blocks
whose every row starts with the table's name.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import numpy as np

from lmtoy.render.matrix import Grid, label_text

CELL_LIMIT = 10_000_000  # cells a text format writes before it refuses


@dataclass
class TextTable:
    """A table of strings (the shape table) for the text formats: a header and rows."""

    header: list[str]
    rows: list[list[str]]
    title: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.header)


def check_size(cells: int, hint: str) -> None:
    """Refuse a text format above CELL_LIMIT cells, pointing to ``hint``."""
    from lmtoy.errors import TooLargeError

    if cells > CELL_LIMIT:
        raise TooLargeError(f"{cells:,} cells is too many to write (limit {CELL_LIMIT:,}); {hint}")


def _label_fields(label) -> list[str]:
    return [label] if isinstance(label, str) else list(label)


def lead_fields(names: list[str], columns: list[str]) -> list[str]:
    """The header fields before the columns (the row header, a table name), each renamed
    '<name> label' when a column has the same name: ['word'], [.., 'word'] -> ['word label']."""
    taken = set(map(str, columns))
    return [f"{n} label" if n in taken else n for n in names]


def number(v: float) -> str:
    """A number for the text formats, exact: 1, 0.4, 0.30000000000000004."""
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _fields(table: Grid | TextTable, split: bool) -> tuple[list[str], list[list[str]]]:
    """A table as a header and rows of strings. ``split``: a pair label takes two fields
    (headers from ``row_header`` 'earlier, recent'), shorter labels are padded."""
    if isinstance(table, TextTable):
        return list(table.header), [list(r) for r in table.rows]
    columns = [str(c) for c in table.columns]
    labels = [_label_fields(label) if split else [label_text(label)] for label in table.rows]
    width = max((len(f) for f in labels), default=1)
    headers = (table.row_header or "row").split(", ") if split else [table.row_header or "row"]
    headers = headers if len(headers) == width else [headers[0]] + [""] * (width - 1)
    rows = [f + [""] * (width - len(f)) + [number(v) for v in row] for f, row in zip(labels, table.dense())]
    return lead_fields(headers, columns) + columns, rows


def delimited(grid: Grid | TextTable, sep: str) -> str:
    """CSV (sep ',') or TSV (sep '\\t'): a header row, then label field(s) and values.

    A pair label takes two fields (headers from ``row_header`` 'earlier, recent');
    shorter labels are padded, so every row has the same columns. A header field that
    names the labels is '<name> label' when a column has its name.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    header, rows = _fields(grid, split=True)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def delimited_tables(tables: list[tuple[str, Grid | TextTable]], sep: str) -> str:
    """Several tables as CSV/TSV blocks: each block has its own header row, and every row
    starts with the field ``table`` naming its table (so a header row starts 'table')."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    for name, table in tables:
        header, rows = _fields(table, split=True)
        writer.writerow(lead_fields(["table"], header) + header)
        writer.writerows([name] + row for row in rows)
    return out.getvalue()


def markdown(grid: Grid | TextTable) -> str:
    """A GitHub-flavoured markdown table (a pair label in one cell: 'battery, ran')."""
    header, rows = _fields(grid, split=False)
    if isinstance(grid, Grid) and not grid.row_header:
        header[0] = " "
    numeric = isinstance(grid, Grid)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:" if numeric else "---"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown_tables(tables: list[tuple[str, Grid | TextTable]]) -> str:
    """Several tables, each after a '### title' line (the table's title, else its name)."""
    return "\n".join(f"### {table.title or name}\n\n{markdown(table)}" for name, table in tables)


def records(rows: list, cols: list, vals: np.ndarray, sep: str, row_header: str = "row") -> str:
    """Sparse (row, column, value) records, delimited by ``sep``. A pair row label takes
    two fields, named by ``row_header`` ('earlier, recent'), as in the dense tables."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    width = max((len(_label_fields(r)) for r in rows), default=len(row_header.split(", ")))
    names = row_header.split(", ")
    writer.writerow((names if len(names) == width else ["row"] + [""] * (width - 1)) + ["column", "value"])
    writer.writerows(_label_fields(r) + [c, number(v)] for r, c, v in zip(rows, cols, vals))
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

