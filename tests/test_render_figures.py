"""The SVG builder: well-formed XML, escaped text, numbers right-aligned, nothing fetched."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from lmtoy.render.figures import NAMES, Options, figure, register
from lmtoy.render.figures.blocks import Heatmap, Legend, Lines, Table, stack
from lmtoy.render.figures.parts import parts_svg
from lmtoy.render.figures.svg import RAMP, Scale, Svg
from lmtoy.render.matrix import Grid
from lmtoy.render.text import TextTable

NS = "{http://www.w3.org/2000/svg}"


def no_network(svg: str) -> bool:
    """No URL but the SVG namespace, no @import, no style sheet: nothing a renderer fetches."""
    rest = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    return not re.search(r"https?:|@import|<style|url\((?!#)", rest)


def test_a_document_is_well_formed_light_and_frameless():
    svg = Svg(120, 40, title="a & b")
    svg.rect(0, 0, 10, 10, fill=RAMP.colour(1))
    svg.arrow(0, 0, 50, 20)
    group = svg.group(transform="translate(10,10)")
    group.circle(5, 5, 3)
    group.text(30, 20, "0.5", anchor="end")
    text = svg.to_string()
    root = ET.fromstring(text.encode())
    assert root.tag == f"{NS}svg" and root.get("width") == "120" and root.get("viewBox") == "0 0 120 40"
    first = root.find(f"{NS}rect")
    assert first.get("fill") == "#ffffff" and first.get("width") == "120"  # a white page, no window frame
    assert root.find(f"{NS}defs/{NS}marker") is not None and 'marker-end="url(#arrow0)"' in text
    assert root.find(f"{NS}g/{NS}text").get("text-anchor") == "end"
    assert no_network(text) and "sans-serif" in root.get("font-family")


def test_text_is_escaped():
    svg = Svg(10, 10)
    svg.text(0, 5, 'a<b & "c" > d')
    root = ET.fromstring(svg.to_string().encode())
    assert root.find(f"{NS}text").text == 'a<b & "c" > d'


def test_an_anchor_must_be_start_middle_or_end():
    with pytest.raises(ValueError):
        Svg(10, 10).text(0, 0, "x", anchor="right")


def test_heatmap_prints_every_number_right_aligned_at_its_column_edge():
    heat = Heatmap(["my", "show"], ["files", "me"], np.array([[0.3, 0.0], [0.0, 1.0]]), row_header="word")
    root = ET.fromstring(stack([heat, Legend(heat.scale)]).to_string().encode())
    texts = {}
    for t in root.iter(f"{NS}text"):
        texts.setdefault(t.text, t)  # the table's, not the legend's
    assert texts["0.3"].get("text-anchor") == "end" and texts["files"].get("x") == texts["0.3"].get("x")
    assert texts["1"].get("x") == texts["me"].get("x")
    assert "colour: value (linear scale)" in texts  # the legend says what the colours mean


def test_colours_run_light_to_dark_and_the_ink_stays_readable():
    assert RAMP.colour(0) == "#fde725" and RAMP.colour(1) == "#482878"
    assert RAMP.ink(0) == "#000000" and RAMP.ink(1) == "#ffffff"


def test_the_log_scale_spreads_small_counts_a_linear_scale_crushes():
    values = [1, 10, 100, 10_000]
    linear, log = Scale.of(values), Scale.of(values, "log")
    assert linear(100) < 0.02 and 0.4 < log(100) < 0.6
    assert log(0) == 0 and log(10_000) == 1 and log.ticks(3)[0] == 0 and log.ticks(3)[-1] == pytest.approx(10_000)
    with pytest.raises(ValueError):
        Scale.of(values, "cubic")


def test_view_parts_become_tables_text_and_a_legend():
    grid = Grid.of(np.array([[0.2, 0.8]]), [["battery", "ran"]], ["down", "please"], title="T", notes=["a note"])
    svg = parts_svg(["[bold]Prompt:[/] x", grid, TextTable(["merge", "count"], [["1", "4"]])])
    root = ET.fromstring(svg.encode())
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "Prompt: x" in texts and 'font-weight="bold">Prompt:</tspan>' in svg and "battery, ran" in texts and "0.8" in texts and "a note" in texts
    assert "merge" in texts and "4" in texts and any("scale" in t for t in texts) and no_network(svg)


def test_a_wide_grid_keeps_at_most_24_columns_and_says_so():
    values = np.arange(1, 41, dtype=float)[None, :]
    svg = parts_svg([Grid.of(values, ["r"], [f"c{i}" for i in range(40)])])
    texts = [t.text for t in ET.fromstring(svg.encode()).iter(f"{NS}text")]
    assert "40" in texts and "1" not in texts and any("16 columns not shown" in t for t in texts)


def test_blocks_have_sizes_and_stack_inside_the_page():
    blocks = [Lines(["a title"], bold=True), Table(["a", "b"], [["x", "1"]])]
    doc = stack(blocks)
    assert doc.width > max(b.width for b in blocks) and doc.height > sum(b.height for b in blocks)


def test_the_registry_names_every_figure_and_refuses_others():
    assert len(NAMES) == 22 and "architecture" in NAMES
    with pytest.raises(ValueError):
        register("not_a_figure", "x", "1")
    assert figure("transition_matrix").accepts == ("corpus",)
    assert "0.5" in figure("transition_matrix").build(Options()).svg


def test_legend_values_are_short_and_a_rounded_zero_is_0():
    from lmtoy.render.figures.blocks import tick

    assert [tick(v, 2) for v in (-1, -0.5, 5e-17, 0.5, 1)] == ["-1", "-0.5", "0", "0.5", "1"]
    assert tick(10_000, 10_000) == "10,000" and tick(0.0123, 1) == "0.0123"
