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
DIAGRAMS = ["markov_chain", "markov_chain_2", "feature_voting", "feature_creation_layer", "embedded_words",
            "positional_encoding", "matrix_shapes", "architecture"]


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


def test_embedded_words_without_a_model_trains_the_tours_model_the_same_each_time():
    first, again = build("embedded_words"), build("embedded_words")
    assert first.svg == again.svg  # seeded
    found = texts(first.svg)
    assert {"battery", "program", "log", "down", "out", "<end>"} <= set(found)
    assert "seed 0" in " ".join(found)


def test_embedded_words_draws_a_given_model(tmp_path):
    from lmtoy.transformer import TrainSettings, save_model, train_corpus

    params, config, vocabulary, _ = train_corpus(article_corpus("show_me"), {"d_model": 8}, TrainSettings(steps=5))
    path = save_model(tmp_path / "m.npz", params, config, vocabulary)
    found = texts(build("embedded_words", model=path).svg)
    assert {"directories", "photos", "please"} <= set(found) and "battery" not in found
    result = CliRunner().invoke(app, ["figure", "embedded_words", "--model", str(path)])
    assert result.exit_code == 0, result.output
    found = texts(build("matrix_shapes", model=path).svg)
    assert f"[{config.context} x {config.vocab_size}]" in found and f"[{config.context} x 8]" in found


def test_positional_encoding_circles_print_the_frequencies():
    """Section 9: pair i turns 1 / 10000^(2i/d) radians per position; d_model 8."""
    found = texts(build("positional_encoding").svg)
    for line in ("dims 0, 1: 1 rad per position", "dims 2, 3: 0.1 rad per position",
                 "dims 6, 7: 0.001 rad per position"):
        assert line in found
    assert "0" in found and "31" in found  # first and last positions are labelled


def test_matrix_shapes_of_the_tours_config():
    """Section 10: [n x N] -> [n x d_model] -> ... -> [n x N]; tour: n 16, N 14, d_model 16, d_k 8, d_ff 64."""
    drawn = build("matrix_shapes")
    found = texts(drawn.svg)
    for size in ("[16 x 14]", "[14 x 16]", "[16 x 16]", "[16 x 8]", "[16 x 64]", "[64 x 16]"):
        assert size in found
    assert {"[n x N]", "[n x d_model]", "[n x d_k]", "[d_model x N]"} <= set(found)
    assert "[16 x 14]" in terminal(drawn.renderable)


@pytest.mark.parametrize("block", ["embedding", "positional", "multihead", "add-norm", "feedforward",
                                   "cross-attention", "de-embedding", "softmax"])
def test_architecture_highlights_the_chosen_block(block):
    from lmtoy.render.figures.architecture import DECODER, ENCODER

    svg = build("architecture", highlight=block).svg
    root = ET.fromstring(svg)
    marked = [r for r in root.iter(f"{NS}rect") if r.get("class") == "highlight"]
    labels = {s for _, b, s in ENCODER + DECODER if b == block}
    assert len(marked) == sum(b == block for _, b, _ in ENCODER + DECODER) >= 1
    assert labels <= set(texts(svg)) and "here" in texts(svg)
    out = terminal(figures()["architecture"].build(Options(highlight=block)).renderable)
    assert any(f"▶ {s} ◀" in out for s in labels)


def test_architecture_without_highlight_marks_nothing():
    svg = build("architecture").svg
    assert 'class="highlight"' not in svg
    assert {"Multi-head attention", "Masked multi-head attention", "Multi-head cross-attention", "Softmax",
            "Linear (de-embedding)", "Add & norm", "Feed forward"} <= set(texts(svg))


def test_an_unknown_block_is_a_one_line_error_naming_the_choices():
    result = CliRunner().invoke(app, ["figure", "architecture", "--highlight", "decoder"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "decoder" in lines[0] and "cross-attention" in lines[0] and "softmax" in lines[0]


def test_a_chain_too_big_to_draw_says_which_table_to_use():
    result = CliRunner().invoke(app, ["figure", "markov_chain", "--corpus", "commands"])
    assert result.exit_code == 2, result.output
    assert "transition_matrix" in result.output


def test_feature_voting_on_a_corpus_with_many_next_words_draws_the_leading_ones(tmp_path):
    """A panel draws the 4 next words with the largest totals and says how many it left out,
    so a teacher's own corpus stays readable."""
    import xml.etree.ElementTree as ET

    from lmtoy.corpus import parse_corpus
    from lmtoy.render.figures import Options, figure

    corpus = parse_corpus("".join(f"we saw the {w}.\n" for w in "cat dog owl fox elk bee ant".split()))
    svg = figure("feature_voting").build(Options(corpus=corpus)).svg
    texts = [t.text or "".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert any("3 other next words" in t and "not drawn" in t for t in texts)
    assert sum(t.startswith("total ") for t in texts) == 4 * 2  # two prompts, four next words each
