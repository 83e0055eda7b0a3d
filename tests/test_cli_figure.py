"""lmtoy figure: each table figure's SVG is well-formed and holds the worked example's numbers.

A cell is found as the renderer places it: on the baseline of its row label, at the x of
its column header (both right-aligned with text-anchor="end" at the column's edge).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lmtoy.render.figures import NAMES

NS = "{http://www.w3.org/2000/svg}"


def texts(path) -> list[tuple[float, float, str, str, bool]]:
    """(x, y, text, anchor, bold) of every text of a well-formed SVG file."""
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{NS}svg"
    return [(float(t.get("x")), float(t.get("y")), "".join(t.itertext()), t.get("text-anchor"), t.get("font-weight") == "bold")
            for t in root.iter(f"{NS}text")]


def row(found, label: str, nth: int = 0) -> list[str]:
    """The numbers on the baseline of the nth row labelled ``label``, left to right."""
    x0, y0 = [(x, y) for x, y, s, a, _ in found if s == label and a == "start"][nth]
    return [s for x, y, s, a, _ in sorted(found) if y == y0 and a == "end" and x > x0]


def cell(found, label: str, column: str, nth: int = 0) -> str:
    """The cell of the nth row ``label`` under the nearest header ``column`` above it."""
    y0 = [y for x, y, s, a, _ in found if s == label and a == "start"][nth]
    x0 = max((y, x) for x, y, s, a, bold in found if s == column and a == "end" and bold and y < y0)[1]
    return next(s for x, y, s, a, _ in found if y == y0 and x == x0 and a == "end")


@pytest.fixture
def draw(run, tmp_path):
    """draw(name, *options) -> the texts of its SVG (the command must succeed)."""

    def invoke(name, *options):
        path = tmp_path / f"{name}.svg"
        result = run("figure", name, "--svg", path, *options)
        assert result.exit_code == 0, result.stderr
        return texts(path)

    return invoke


def test_one_hot_vocabulary(draw):
    found = draw("one_hot_vocabulary")
    assert row(found, "index") == ["1", "2", "3"]  # files, find, my
    assert [row(found, w) for w in ("find", "my", "files")] == [[".", "1", "."], [".", ".", "1"], ["1", ".", "."]]
    assert "find my files -> [2, 3, 1]" in [t[2] for t in found]


def test_dot_product(draw):
    found = draw("dot_product")
    assert row(found, "my") == [".", ".", ".", "1", ".", ".", "."]  # one-hot . one-hot
    assert [row(found, w, 1) for w in ("directories", "files", "photos", "me")] == [["0.2"], ["0.3"], ["0.5"], ["."]]


def test_matrix_mult_three_row_two_col(draw):
    """The article's [3 x 4] x [4 x 2]: one-hot rows with their 1 in columns 1, 4, 3 times rows
    1-4 of show_me's transition matrix (directories, files, me, my) in columns photos, please
    pull out rows 1, 4, 3: [0, 1], [0.5, 0], [0, 0]."""
    found = draw("matrix_mult_three_row_two_col")
    assert [row(found, f"row {r}") for r in ("1 (directories)", "4 (my)", "3 (me)")] == [[".", "1"], ["0.5", "."], [".", "."]]
    assert row(found, "one-hot(my)") == [".", ".", ".", "1"]
    assert row(found, "4 my") == ["0.5", "."] and row(found, "1 directories") == [".", "1"]


def test_transition_matrix(draw):
    found = draw("transition_matrix")
    assert [cell(found, "my", w) for w in ("directories", "files", "photos", "please")] == ["0.2", "0.3", "0.5", "."]
    assert set(row(found, "please")) == {"."} and cell(found, "show", "me") == "1"
    assert "colour: value (linear scale)" in [t[2] for t in found]


def test_transition_lookups(draw):
    found = draw("transition_lookups")
    assert cell(found, "one-hot(my)", "my") == "1"
    assert row(found, "my", 0) == row(found, "my", 1) == ["0.2", "0.3", ".", ".", "0.5", ".", "."]


def test_transition_matrix_second_order(draw):
    found = draw("transition_matrix_second_order")
    assert (cell(found, "whether, the", "battery"), cell(found, "whether, the", "program")) == ("0.4", "0.6")
    assert cell(found, "battery, ran", "down") == "1" and cell(found, "program, ran", "please") == "1"


def test_transition_matrix_second_order_skips(draw):
    found = draw("transition_matrix_second_order_skips")
    assert (cell(found, "battery, ran", "down"), cell(found, "battery, ran", "please")) == ("1", ".")
    assert (cell(found, "program, ran", "down"), cell(found, "program, ran", "please")) == (".", "1")
    for earlier in ("check", "the", "log", "and", "find", "out", "whether", "it"):
        assert (cell(found, f"{earlier}, ran", "down"), cell(found, f"{earlier}, ran", "please")) == ("0.5", "0.5")


def test_feature_selection(draw):
    found = draw("feature_selection")
    assert cell(found, "battery, ran", "mask", 1) == cell(found, "program, ran", "mask", 1) == "1"
    assert cell(found, "it, ran", "mask", 1) == "."


def test_masked_feature_activities(draw):
    found = draw("masked_feature_activities")
    assert row(found, "program, ran") == ["1", "1", "1"] and row(found, "battery, ran") == ["1", "1", "1"]
    assert row(found, "check, ran") == ["1", ".", "."]


def test_masked_transition_matrix_and_the_4_5_totals(draw):
    found = draw("masked_transition_matrix")
    program, battery = 0, 1
    assert [cell(found, "unmasked totals", w, program) for w in ("down", "please")] == ["4", "5"]
    assert [cell(found, "masked totals", w, program) for w in ("down", "please")] == [".", "1"]
    assert [cell(found, "unmasked totals", w, battery) for w in ("down", "please")] == ["5", "4"]
    assert [cell(found, "masked totals", w, battery) for w in ("down", "please")] == ["1", "."]


def test_mask_matrix_lookup(draw):
    found = draw("mask_matrix_lookup")
    attends = {w: cell(found, "Q K^T", w) for w in ("battery", "program", "ran", "check", "down")}
    assert attends == {"battery": "1", "program": "1", "ran": "1", "check": ".", "down": "."}


def test_feature_creation_matrix(draw):
    found = draw("feature_creation_matrix")
    assert row(found, "battery, ran") == ["1", "-1", "1", "-1"]
    assert row(found, "program, ran") == ["-1", "1", "1", "-1"]


@pytest.mark.parametrize("name, fired, quiet, down, please", [
    ("second_order_feature_battery", "battery, ran", "program, ran", "1", "."),
    ("second_order_feature_program", "program, ran", "battery, ran", ".", "1"),
])
def test_second_order_features(draw, name, fired, quiet, down, please):
    found = draw(name)
    assert row(found, fired) == ["1", "1"] and row(found, quiet) == ["-1", "."]  # W1 x, ReLU
    assert [cell(found, "ReLU(W1 x) W2", w) for w in ("down", "please")] == [down, please]


def test_a_figure_redraws_on_another_corpus_and_in_log_colours(run, tmp_path):
    linear, log = tmp_path / "a.svg", tmp_path / "b.svg"
    assert run("figure", "transition_matrix", "--corpus", "battery", "--svg", linear).exit_code == 0
    assert run("figure", "transition_matrix", "--corpus", "battery", "--svg", log, "--scale", "log").exit_code == 0
    found = texts(log)
    assert (cell(found, "ran", "down"), cell(found, "ran", "please")) == ("0.4", "0.6")
    assert "colour: value (log scale)" in [t[2] for t in found] and linear.read_text() != log.read_text()


def test_list_names_every_figure(run):
    result = run("figure", "--list")
    assert result.exit_code == 0 and all(name in result.stdout for name in NAMES)


def test_an_unknown_name_suggests_close_ones(run):
    result = run("figure", "transition_matrx")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: no figure 'transition_matrx': did you mean transition_matrix")
    assert run("figure", "markov_chian").stderr == "error: no figure 'markov_chian': did you mean markov_chain or markov_chain_2?\n"


def test_an_option_the_figure_does_not_take_is_refused(run):
    result = run("figure", "transition_matrix", "--highlight", "attention")
    assert result.exit_code == 2 and "does not take --highlight" in result.stderr


def test_an_unwritable_svg_path_is_one_line(run, tmp_path):
    result = run("figure", "transition_matrix", "--svg", tmp_path / "no" / "such" / "x.svg")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "cannot write" in result.stderr


def test_every_commands_svg_takes_a_log_scale(run, tmp_path):
    path = tmp_path / "skips.svg"
    assert run("skips", "program_log", "--word", "ran", "--svg", path, "--scale", "log").exit_code == 0
    found = texts(path)
    assert cell(found, "battery, ran", "down") == "1" and "colour: value (log scale)" in [t[2] for t in found]


@pytest.mark.parametrize("args", [
    ("softmax", "1", "2", "3", "--scale", "log"),
    ("selfattend", "the cat saw the dog", "--svg-scale", "log"),
    ("vote", "program_log", "-p", "check the battery log and find out whether it ran", "--auto-mask"),
    ("posenc",),
    ("bpe", "show", "battery"),
])
def test_the_commands_write_light_figures(run, tmp_path, args):
    path = tmp_path / "view.svg"
    assert run(*args, "--svg", path).exit_code == 0
    found, text = texts(path), path.read_text()
    assert found and 'fill="#ffffff"' in text and "@import" not in text and "https:" not in text


def test_a_missing_model_is_a_usage_error(run, tmp_path):
    result = run("figure", "matrix_shapes", "--model", tmp_path / "nofile.npz")
    assert result.exit_code == 2 and "no such model file" in result.stderr and "Traceback" not in result.stderr


def test_a_big_corpus_draws_the_most_frequent_rows_only(run, tmp_path):
    """A figure of a 300-word vocabulary shows 64 rows (the most frequent), not one per word."""
    from lmtoy.render.figures.parts import FIGURE_ROWS

    corpus = tmp_path / "big.txt"
    corpus.write_text("".join(f"w{i} w{(i * 7) % 300} w{(i * 13) % 300}.\n" for i in range(300)))
    svg = tmp_path / "big.svg"
    result = run("figure", "transition_matrix", "--corpus", corpus, "--svg", svg)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) < FIGURE_ROWS + 12
    labels = {t for t in re.findall(r">(w\d+)<", svg.read_text())}
    assert 0 < len(labels) <= FIGURE_ROWS + 24  # rows, and at most 24 columns


@pytest.mark.parametrize("name", ["markov_chain_2", "dot_product", "feature_voting"])
def test_a_corpus_too_small_for_a_figure_is_a_data_error(run, tmp_path, name):
    corpus = tmp_path / "one.txt"
    corpus.write_text("a.\n")
    result = run("figure", name, "--corpus", corpus)
    assert result.exit_code == 1 and result.stderr.startswith("error:") and result.stderr.count("\n") == 1
