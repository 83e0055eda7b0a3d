"""Views: what a command shows, in every format (table, json, csv, tsv, markdown).

A View is a sequence of parts (a Grid, or a line of text) for the table view,
plus a JSON payload and a main grid for the delimited formats. Nothing here
prints: the CLI prints once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console, Group
from rich.text import Text

from lmtoy.errors import UsageError
from lmtoy.render.matrix import Grid, check_size, delimited, heatmap, markdown, to_json


@dataclass
class View:
    """What a command shows.

    parts : Grids and text lines, shown in order in the table view
    payload : () -> dict, the JSON object
    main : the Grid that csv, tsv and markdown write (None: JSON only)
    sparse : (sep or None) -> str, the non-zero records, when the view has them
    hint : what to suggest when a text format would be too large
    messages : notes for the reader (why a completion stopped, ...): the CLI prints them on
        stderr, so stdout holds only the data
    """

    parts: list
    payload: Callable[[], dict]
    main: Grid | None = None
    sparse: Callable[[str | None], str] | None = None
    hint: str = "use --sparse for the non-zero entries only"
    messages: list[str] = field(default_factory=list)

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
        if sparse:
            if self.sparse is None:
                raise UsageError("--sparse applies to transition matrices only")
            return self.sparse({"json": None, "csv": ",", "tsv": "\t"}[fmt])
        shape = self.main.shape if self.main is not None else (0, 0)
        check_size(shape[0] * shape[1], self.hint)
        if fmt == "json":
            return to_json(self.payload())
        if self.main is None:
            raise UsageError(f"this view has no single table: use --format json instead of {fmt}")
        if fmt == "markdown":
            return markdown(self.main)
        return delimited(self.main, "," if fmt == "csv" else "\t")


def write_svg(renderable, path: Path) -> None:
    """Save a renderable as an SVG figure, 80 columns wide."""
    console = Console(record=True, width=80, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    console.print(renderable)
    try:
        console.save_svg(str(path), title="lmtoy")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


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
