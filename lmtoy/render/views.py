"""Views: what a command shows, in every format (table, json, csv, tsv, markdown).

A View is a sequence of parts (a Grid, or a line of text) for the table view,
plus a JSON payload and, for csv/tsv/markdown, a main grid or a list of named
tables (markdown: each after a '### title' line; csv/tsv: blocks whose every row
starts with the table's name). Nothing here prints: the CLI prints once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Group
from rich.text import Text

from lmtoy.errors import UsageError
from lmtoy.render.matrix import Grid, heatmap
from lmtoy.render.text import TextTable, check_size, delimited, delimited_tables, markdown, markdown_tables, to_json


@dataclass
class View:
    """What a command shows.

    parts : Grids and text lines, shown in order in the table view
    payload : () -> dict, the JSON object
    main : the Grid that csv, tsv and markdown write
    sparse : (sep or None) -> str, the non-zero records, when the view has them
    hint : what to suggest when a text format would be too large
    messages : notes for the reader (why a completion stopped, ...): the CLI prints them on
        stderr, so stdout holds only the data
    tables : [(name, Grid or TextTable)], written instead of ``main`` by csv, tsv and
        markdown when a view has several tables (neither: JSON only)
    arpa : () -> str, the model as an ARPA file, for views of an n-gram model (else
        ``--format arpa`` is refused with ``no_arpa``)
    """

    parts: list
    payload: Callable[[], dict]
    main: Grid | None = None
    sparse: Callable[[str | None], str] | None = None
    hint: str = "use --sparse for the non-zero entries only"
    messages: list[str] = field(default_factory=list)
    tables: list[tuple[str, Grid | TextTable]] | None = None
    arpa: Callable[[], str] | None = None
    no_arpa: str = "--format arpa writes an n-gram model: use it with first-order or second-order"

    def table(self, width: int = 80, max_rows: int = 40) -> Group:
        shown = []
        for part in self.parts:
            if isinstance(part, Grid):
                shown.append(heatmap(part, width, max_rows))
            else:
                shown.append(Text.from_markup(part) if isinstance(part, str) else part)
        return Group(*shown)

    def text(self, fmt: str, sparse: bool = False) -> str:
        """The view as text in ``fmt`` (json, csv, tsv, markdown), never truncated."""
        if fmt == "arpa":
            if self.arpa is None or sparse:
                raise UsageError(self.no_arpa if self.arpa is None else "--sparse does not apply to --format arpa")
            return self.arpa()
        if sparse:
            if self.sparse is None:
                raise UsageError("--sparse applies to transition matrices only")
            return self.sparse({"json": None, "csv": ",", "tsv": "\t"}[fmt])
        tables = self.tables if self.tables is not None else [("", self.main)] if self.main is not None else []
        check_size(sum(t.shape[0] * t.shape[1] for _, t in tables), self.hint)
        if fmt == "json":
            return to_json(self.payload())
        if not tables:
            raise UsageError(f"this view has no table to write as {fmt}: use --format json")
        if self.tables is None:
            return markdown(self.main) if fmt == "markdown" else delimited(self.main, "," if fmt == "csv" else "\t")
        return markdown_tables(tables) if fmt == "markdown" else delimited_tables(tables, "," if fmt == "csv" else "\t")


def write_svg(view: View, path: Path, max_rows: int = 40, scale: str = "linear") -> None:
    """Save a view's parts as a light SVG figure (heat-map tables with a colour legend, the
    numbers printed), atomically (OutputFileError if it cannot)."""
    from lmtoy.files import write_atomic
    from lmtoy.render.figures.parts import parts_svg

    write_atomic(path, parts_svg(view.parts, max_rows=max_rows, scale=scale).encode("utf-8"))


@dataclass
class LazyLabels:
    """Row labels computed on demand: ``label(i)`` for i in range(n)."""

    n: int
    label: Callable[[int], object]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self.label(i)

    def __iter__(self):
        return (self.label(i) for i in range(self.n))
