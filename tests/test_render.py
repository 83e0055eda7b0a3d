"""The heatmap renderer, drawn on an 80-column recording console."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from lmtoy.render.matrix import Grid, delimited, fmt, heatmap, to_json


def draw(renderable, width: int = 80) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_numbers_are_printed_and_zeros_are_dots():
    out = draw(heatmap(Grid.of(np.array([[0.2, 0.0], [1.0, 0.5]]), ["a", "b"], ["x", "y"])))
    assert "0.2" in out and "0.5" in out and "." in out.splitlines()[2]


def test_wide_matrix_fits_and_says_what_is_hidden():
    values = np.random.default_rng(0).random((60, 50))
    out = draw(heatmap(Grid.of(values, [f"row{i}" for i in range(60)], [f"column{j}" for j in range(50)])))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "20 rows and" in out and "hidden to fit" in out


def test_values_outside_a_fixed_scale_and_infinities_draw():
    grid = Grid.of(np.array([[2.0, -np.inf, -1.0]]), ["r"], ["a", "b", "c"], scale=(0.0, 1.0))
    out = draw(heatmap(grid))
    assert "2" in out and "-inf" in out and "-1" in out


def test_fmt():
    assert [fmt(v) for v in (0, 1.0, 0.5, 1 / 3, -1, 12.25, 0.001)] == [".", "1", "0.5", "0.33", "-1", "12.25", "1e-03"]
    assert [fmt(v) for v in (0.995, 0.9999, -0.996, -0.99999)] == ["0.995", ">0.999", "-0.996", "<-0.999"]


def test_delimited_pads_labels():
    grid = Grid.of(np.array([[1.0, 0.0], [0.5, 0.5]]), [["a", "b"], "totals"], ["x", "y"], row_header="earlier, recent")
    assert delimited(grid, ",").splitlines() == ["earlier,recent,x,y", "a,b,1,0", "totals,,0.5,0.5"]


def test_json_is_strict():
    assert to_json({"v": np.array([0.0, -np.inf])}) == '{"v": [0.0, null]}\n'
