"""The diagram figures: each SVG parses and prints the worked example's numbers
(WORKED_EXAMPLES.md), and each terminal drawing fits 80 columns."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from rich.console import Console
from typer.testing import CliRunner

from lmtoy.cli import app
from lmtoy.render.figures import Options, article_corpus, figures

NS = "{http://www.w3.org/2000/svg}"
DIAGRAMS = ["markov_chain", "markov_chain_2", "feature_voting", "feature_creation_layer"]


def texts(svg: str) -> list[str]:
    """Every text element's content, in document order."""
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{NS}text")]


def terminal(renderable) -> str:
    console = Console(record=True, width=80, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def build(name: str, **options):
    return figures()[name].build(Options(**options))


@pytest.mark.parametrize("name", DIAGRAMS)
def test_each_diagram_parses_and_fits_80_columns(name):
    drawn = build(name)
    root = ET.fromstring(drawn.svg)
    assert root.tag == f"{NS}svg" and float(root.get("width")) <= 1280
    assert max(len(line) for line in terminal(drawn.renderable).splitlines()) <= 80


def test_markov_chain_prints_the_row_of_my():
    """Section 2: my -> directories 0.2, files 0.3, photos 0.5; every other arrow 1."""
    found = texts(build("markov_chain").svg)
    assert {"0.2", "0.3", "0.5", "1"} <= set(found)
    assert {"show", "me", "my", "directories", "files", "photos", "please"} <= set(found)
    assert found.count("1") == 5  # show->me, me->my, and three -> please


def test_markov_chain_2_prints_the_pair_whether_the():
    """Section 3: (whether, the) -> battery 0.4, program 0.6; (battery, ran) -> down 1."""
    found = texts(build("markov_chain_2").svg)
    assert {"whether the", "battery ran", "ran down", "0.4", "0.6"} <= set(found)


def test_feature_voting_totals_are_4_and_5():
    """Section 4: the program prompt votes down 4, please 5; the battery prompt 5, 4."""
    drawn = build("feature_voting")
    found = texts(drawn.svg)
    assert found.count("total 4") == 2 and found.count("total 5") == 2
    assert "(program, ran)" in found and "(battery, ran)" in found
    out = terminal(drawn.renderable)
    assert "total             4      5" in out and "total             5      4" in out


def test_feature_creation_layer_weights():
    """Section 7: battery,ran = battery - program + ran - bias; program,ran = -battery + program + ran - bias."""
    drawn = build("feature_creation_layer")
    found = texts(drawn.svg)
    assert found.count("+1") == 4 and found.count("-1") == 4
    assert {"battery", "program", "ran", "bias", "battery, ran", "program, ran", "down", "please"} <= set(found)
    assert "battery=1 program=0 ran=1 bias=1 -> [1, -1] -> ReLU [1, 0] -> down 1, please 0" in found
    assert "battery=0 program=1 ran=1 bias=1 -> [-1, 1] -> ReLU [0, 1] -> down 0, please 1" in found


def test_a_chain_is_redrawn_on_another_corpus():
    drawn = build("markov_chain", corpus=article_corpus("battery"))
    assert {"0.4", "0.6"} <= set(texts(drawn.svg))


def test_the_cli_writes_a_diagram(tmp_path):
    out = tmp_path / "chain.svg"
    result = CliRunner().invoke(app, ["figure", "markov_chain", "--svg", str(out)])
    assert result.exit_code == 0, result.output
    assert "0.5" in texts(out.read_text())
    assert "my" in result.output
