"""`lmtoy selfattend` and `lmtoy softmax` through the CLI: figures, formats, the model path, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import plain

CAT = "the cat saw the dog"
SEED_003 = "death is like the wind always by my side"
KEYS = {"tokens", "dimensions", "X", "scores", "weights", "Y"}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny model: 5 training steps on battery."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("selfattend") / "m.npz"
    result = CliRunner().invoke(app, ["transformer", "train", "battery", "--out", str(path), "--steps", "5"])
    assert result.exit_code == 0, result.stderr
    return path


def test_onehot_gives_the_hand_derived_weights(run_json):
    """'the' (c = 2 of 5): e/(2e + 3) = 0.3222 on each 'the', 1/(2e + 3) = 0.1185 elsewhere;
    'cat' (c = 1): e/(e + 4) = 0.4046 on itself, 1/(e + 4) = 0.1488 elsewhere."""
    data = run_json("selfattend", CAT, "--embedding", "onehot")
    assert set(data) == KEYS
    assert data["tokens"] == CAT.split() and data["dimensions"] == ["cat", "dog", "saw", "the"]
    w = np.array(data["weights"])
    assert [round(v, 4) for v in w[0]] == [0.3222, 0.1185, 0.1185, 0.3222, 0.1185]
    assert [round(v, 4) for v in w[1]] == [0.1488, 0.4046, 0.1488, 0.1488, 0.1488]
    e = math.e
    assert w[3, 0] == pytest.approx(e / (2 * e + 3), abs=1e-12) and w[4, 0] == pytest.approx(1 / (e + 4), abs=1e-12)
    assert np.array(data["scores"]).tolist() == (np.array(data["X"]) @ np.array(data["X"]).T).tolist()
    np.testing.assert_allclose(np.array(data["Y"]), w @ np.array(data["X"]), atol=1e-12)
    assert run_json("selfattend", CAT) == data  # one-hot is the default


def test_table_view_labels_repeated_words_and_shows_the_derivation(run):
    result = run("selfattend", CAT)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "the@1" in out and "the@4" in out and "cat@" not in out
    assert "e/(2e + 3) = 0.3222, 1/(2e + 3) = 0.1185  (the)" in out
    assert "e/(e + 4) = 0.4046, 1/(e + 4) = 0.1488  (cat, saw, dog)" in out
    assert max(map(len, out.splitlines())) <= 80


@pytest.mark.parametrize("args", [
    [SEED_003], [SEED_003, "--scale", "--causal"], [CAT, "-e", "random", "--d-model", "64"],
    ["one two three four five six seven eight nine ten eleven twelve thirteen"],
])  # fmt: skip
def test_table_view_fits_80_columns(run, args):
    result = run("selfattend", *args)
    assert result.exit_code == 0, result.stderr
    assert max(map(len, result.stdout.splitlines())) <= 80


def test_seed_003_sentence(run_json):
    """Nine distinct words: e/(e + 8) = 0.2536 on the diagonal, 1/(e + 8) = 0.0933 elsewhere."""
    w = np.array(run_json("selfattend", SEED_003)["weights"])
    np.testing.assert_allclose(np.diag(w), math.e / (math.e + 8), atol=1e-12)
    assert round(w[0, 1], 4) == 0.0933 and w.shape == (9, 9)


def test_scale_and_causal(run_json):
    plain_ = run_json("selfattend", CAT, "-e", "random", "-d", "4", "--seed", "2")
    scaled = run_json("selfattend", CAT, "-e", "random", "-d", "4", "--seed", "2", "--scale")
    np.testing.assert_allclose(np.array(scaled["scores"]), np.array(plain_["scores"]) / 2.0, atol=1e-12)
    causal = run_json("selfattend", CAT, "--causal")
    w = np.array(causal["weights"])
    above = np.triu_indices(5, 1)
    assert np.all(w[above] == 0.0) and w[0, 0] == 1.0
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    assert all(causal["scores"][i][j] is None for i, j in zip(*above))  # minus infinity is null
    assert causal["scores"][4][0] == 0.0


def test_random_embedding_is_seeded(run_json):
    a = run_json("selfattend", CAT, "-e", "random")
    assert np.array(a["X"]).shape == (5, 8) and a["dimensions"] == [str(i) for i in range(1, 9)]
    assert a["X"][0] == a["X"][3]  # the same word, the same vector
    assert run_json("selfattend", CAT, "-e", "random", "--seed", "0") == a
    assert run_json("selfattend", CAT, "-e", "random", "--seed", "1")["X"] != a["X"]
    np.testing.assert_allclose(np.array(a["weights"]).sum(axis=1), 1.0, atol=1e-12)


def test_keep_case(run_json):
    assert run_json("selfattend", "The the")["tokens"] == ["the", "the"]
    data = run_json("selfattend", "The the", "--keep-case")
    assert data["tokens"] == ["The", "the"] and data["scores"] == [[1, 0], [0, 1]]


def test_model_embedding_rows(run_json, run, model):
    from lmtoy.transformer import load_model

    saved = load_model(model)
    data = run_json("selfattend", "the battery ran down", "--model", model)
    ids = [saved.vocabulary.index(w) for w in ["the", "battery", "ran", "down"]]
    np.testing.assert_array_equal(np.array(data["X"]), saved.params["embedding"][ids].astype(np.float64))
    assert len(data["dimensions"]) == saved.config.d_model
    np.testing.assert_allclose(np.array(data["weights"]).sum(axis=1), 1.0, atol=1e-12)
    table = run("selfattend", "the battery ran down", "--model", model)
    assert table.exit_code == 0 and "embedding rows" in table.stdout
    unknown = run("selfattend", "the batery ran", "--model", model)
    assert unknown.exit_code == 1
    assert plain(unknown.stderr) == "error: not in the vocabulary: 'batery'; did you mean battery?"


def test_text_formats_write_four_tables(run):
    csv = run("selfattend", CAT, "--format", "csv").stdout
    assert [line.split(",")[0] for line in csv.splitlines() if line.startswith("table,")] == ["table"] * 4
    assert {line.split(",")[0] for line in csv.splitlines()} == {"table", "X", "scores", "weights", "Y"}
    assert "X,the@4,0,0,0,1" in csv
    md = run("selfattend", CAT, "--format", "markdown").stdout
    assert md.count("### ") == 4 and "| the@1 |" in md


@pytest.mark.parametrize("args, message", [
    (["..."], "'...' has no words"),
    ([CAT, "--seed", "1"], "only --embedding random uses it"),
    ([CAT, "--d-model", "3", "-e", "onehot"], "only --embedding random uses it"),
    ([CAT, "-e", "random", "--d-model", "5000"], "--d-model"),
    ([CAT, "-e", "random", "--seed", "-1"], "--seed"),
    ([CAT, "--embedding", "glove"], "--embedding"),
    ([CAT, "--model", "missing.npz"], "'missing.npz' does not exist"),
])  # fmt: skip
def test_bad_command_lines_exit_2(run, args, message):
    result = run("selfattend", *args)
    assert result.exit_code == 2 and message in plain(result.stderr)


def test_model_with_embedding_or_keep_case_is_refused(run, model):
    both = run("selfattend", CAT, "--model", model, "-e", "onehot")
    assert both.exit_code == 2 and "leave out --embedding" in plain(both.stderr)
    case = run("selfattend", CAT, "--model", model, "--keep-case")
    assert case.exit_code == 2 and "leave out --keep-case" in plain(case.stderr)


def test_too_many_words(run):
    result = run("selfattend", " ".join(["w"] * 1001))
    assert result.exit_code == 2 and "1,001 words is more than 1,000" in plain(result.stderr)


# --- softmax ---


def test_softmax_json(run_json):
    data = run_json("softmax", "1", "2", "3")
    assert set(data) == {"x", "temperature", "shift", "exp", "sum", "softmax", "jacobian"}
    assert [round(v, 4) for v in data["softmax"]] == [0.0900, 0.2447, 0.6652]
    assert data["x"] == [1, 2, 3] and data["temperature"] == 1 and data["shift"] == 3
    assert data["sum"] == pytest.approx(sum(data["exp"]), abs=1e-15)
    np.testing.assert_allclose(np.array(data["jacobian"]).sum(axis=1), 0.0, atol=1e-15)


def test_softmax_table(run):
    out = run("softmax", "1", "2", "3").stdout
    assert "softmax = [0.0900, 0.2447, 0.6652]" in out and "e^(x - 3)" in out and "30.19" in out
    assert "Jacobian" in out and max(map(len, out.splitlines())) <= 80


def test_softmax_negative_numbers_with_and_without_dashes(run_json, run):
    a = run_json("softmax", "-1", "0", "1")
    assert a["x"] == [-1, 0, 1]
    dashes = run("softmax", "--format", "json", "--", "-1", "0", "1")
    assert dashes.exit_code == 0 and json.loads(dashes.stdout) == a
    assert run_json("softmax", "-1e0", "0", "1e0") == a


def test_softmax_temperature(run_json):
    hot = run_json("softmax", "1", "2", "3", "--temperature", "2")
    cold = run_json("softmax", "1", "2", "3", "-t", "0.5")
    assert hot["temperature"] == 2 and max(hot["softmax"]) < 0.6652 < max(cold["softmax"])
    e = np.exp(np.array([1, 2, 3]) / 2)
    np.testing.assert_allclose(hot["softmax"], e / e.sum(), atol=1e-15)
    s = np.array(hot["softmax"])
    np.testing.assert_allclose(hot["jacobian"], (np.diag(s) - np.outer(s, s)) / 2, atol=1e-15)


def test_softmax_huge_values_stay_finite(run_json, run):
    data = run_json("softmax", "1000", "999")
    assert data["softmax"][0] == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-15)
    assert "e^x itself overflows here" in run("softmax", "1000", "999").stdout


@pytest.mark.parametrize("args, message", [
    ([], "Missing argument"),
    (["1", "abc"], "'abc' is not a number"),
    (["1", "nan"], "'nan' is not a finite number"),
    (["inf"], "'inf' is not a finite number"),
    (["1", "--temprature", "2"], "'--temprature' is neither a number nor an option of softmax"),
    (["--", "1", "-t", "2"], "give options before it"),
    (["1", "-t", "0"], "0 must be a finite number above 0"),
    (["1", "-t", "-1"], "-1 must be a finite number above 0"),
    (["1", "-t", "nan"], "nan must be a finite number above 0"),
    (["1"] * 1001, "more than 1,000"),
])  # fmt: skip
def test_softmax_bad_input_exits_2(run, args, message):
    result = run("softmax", *args)
    assert result.exit_code == 2 and message in plain(result.stderr), result.stderr


@pytest.mark.parametrize("args", [["1e308", "-1e308", "--temperature", "1e-300"],
                                  ["1e308", "1e308", "--temperature", "0.1"], ["1", "2", "--temperature", "1e-320"]])
def test_softmax_refuses_inputs_that_overflow(run, args):
    result = run("softmax", *args)
    assert result.exit_code == 2 and "Traceback" not in result.stderr and "temperature" in result.stderr


def test_a_translation_model_gives_its_source_side(run, tmp_path):
    out = tmp_path / "p.npz"
    assert run("transformer", "train", "commands_pairs", "--task", "translate", "--out", out, "--steps", "5").exit_code == 0
    result = run("selfattend", "show my files", "--model", out, "--format", "json")
    assert result.exit_code == 0 and "source-side" not in result.stdout
    assert run("selfattend", "show my files", "--model", out).stdout.count("source-side embedding") == 1
