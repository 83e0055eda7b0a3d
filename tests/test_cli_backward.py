"""`lmtoy transformer backward`: one sentence's loss walked back through one head (seed 003),
against the full model's gradient and finite differences, on tiny models trained here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import plain

SENTENCE = "check the battery log and find out whether it ran down"  # 11 words: 12 positions
NAMES = ["dL/dY_head", "dL/dV", "dL/dA", "dL/dS", "dL/d(QK^T)", "dL/dQ", "dL/dK", "dL/dW_q", "dL/dW_k", "dL/dW_v"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two models trained 20 steps on program_log: post-norm (the defaults) and pre-norm with 2 layers."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    folder = tmp_path_factory.mktemp("backward")
    paths = {"post": folder / "m.npz", "pre": folder / "pre.npz"}
    for norm, extra in (("post", []), ("pre", ["--norm", "pre", "--layers", "2"])):
        args = ["transformer", "train", "program_log", "--out", str(paths[norm]), "--steps", "20", *extra]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.stderr
    return paths


def _full_gradient(path, words, layer, head):
    """The gradient of the same loss from model.backward (loss_and_grads), float64, sliced to the head."""
    from lmtoy.transformer import END, load_model, loss_and_grads

    saved = load_model(path)
    ids = [saved.vocabulary.index(w) for w in [END] + words + [END]]
    params = {name: value.astype(np.float64) for name, value in saved.params.items()}
    loss, grads = loss_and_grads(params, saved.config, np.array([ids[:-1]]), np.array([ids[1:]]))
    return loss, {f"dL/d{name}": grads[f"layer{layer - 1}.{name}"][head - 1] for name in ("W_q", "W_k", "W_v")}


@pytest.mark.parametrize("norm, layer, head", [("post", 1, 1), ("post", 1, 2), ("pre", 1, 2), ("pre", 2, 1)])
def test_weight_gradients_are_the_full_models_and_pass_finite_differences(run_json, models, norm, layer, head):
    data = run_json("transformer", "backward", "--model", models[norm], "--prompt", SENTENCE,
                    "--layer", layer, "--head", head)
    loss, full = _full_gradient(models[norm], SENTENCE.split(), layer, head)
    steps = {s["name"]: np.array(s["values"]) for s in data["steps"]}
    assert data["loss"] == pytest.approx(loss, rel=1e-12)
    for name, expected in full.items():
        np.testing.assert_allclose(steps[name], expected, rtol=1e-10, atol=1e-13 * np.abs(expected).max())
    assert set(data["check"]) == set(full) and max(data["check"].values()) < 1e-6


def test_json_keys_and_steps(run_json, models):
    data = run_json("transformer", "backward", "--model", models["post"], "--prompt", SENTENCE)
    assert list(data) == ["prompt", "layer", "head", "loss", "steps", "check"]
    assert data["prompt"] == SENTENCE.split() and data["layer"] == 1 and data["head"] == 1
    assert [s["name"] for s in data["steps"]] == NAMES
    assert all(list(s) == ["name", "formula", "shape", "values"] for s in data["steps"])
    shapes = {s["name"]: s["shape"] for s in data["steps"]}
    assert shapes["dL/dY_head"] == [12, 8] and shapes["dL/dS"] == [12, 12] and shapes["dL/dW_q"] == [16, 8]
    formulas = {s["name"]: s["formula"] for s in data["steps"]}
    assert formulas["dL/dQ"] == "dS K / sqrt(d_k)" and formulas["dL/dK"] == "dS^T Q / sqrt(d_k)"
    assert formulas["dL/dW_v"] == "X^T dV" and list(data["check"]) == ["dL/dW_q", "dL/dW_k", "dL/dW_v"]


def test_dS_rows_sum_to_zero_and_masked_entries_are_zero(run_json, models):
    data = run_json("transformer", "backward", "--model", models["pre"], "--prompt", SENTENCE, "--layer", "2")
    ds = np.array(next(s["values"] for s in data["steps"] if s["name"] == "dL/dS"))
    np.testing.assert_allclose(ds.sum(axis=1), 0, atol=1e-15)
    assert np.all(ds[np.triu_indices(len(ds), 1)] == 0)


def test_table_view_fits_80_columns(run, models):
    result = run("transformer", "backward", "--model", models["post"], "--prompt", "find out whether it ran out")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("Loss ") and "over 7 positions" in lines[0]
    assert "dL/dW_q  [16 x 8]  = X^T dQ" in lines
    assert "dL/dS  [7 x 7]  = A * (dA - rowsum(dA * A)), masked entries 0" in lines
    # the keys are the words read, <end> at position 1: 'out' repeats at 3 and 7
    assert any(line.split()[:2] == ["query", "\\"] and "out@3" in line and "out@7" in line for line in lines)
    assert "max relative error" in result.stdout and "against central finite differences" in result.stdout


def test_csv_and_markdown_write_one_table_per_step(run, models):
    args = ("transformer", "backward", "--model", models["post"], "--prompt", "battery ran")
    csv = run(*args, "--format", "csv").stdout.splitlines()
    assert [line.split(",")[0] for line in csv if line.startswith("table,")] == ["table"] * 11
    assert {line.split(",")[0] for line in csv} == set(NAMES) | {"table", "check"}
    markdown = run(*args, "--format", "markdown").stdout
    assert "### dL/dV  [3 x 8]  = A^T dY" in markdown and "| dL/dW_q |" in markdown


@pytest.mark.parametrize("args, message", [
    (["--head", "3"], "3 is more than the model's 2"),
    (["--layer", "2"], "2 is more than the model's 1"),
    (["--layer", "0"], "--layer"),
    (["--head", "0"], "--head"),
])
def test_layer_and_head_bounds(run, models, args, message):
    result = run("transformer", "backward", "--model", models["post"], "--prompt", "battery ran", *args)
    assert result.exit_code == 2 and message in plain(result.stderr)


def test_a_prompt_too_long_for_the_context(run, models):
    """16 words are 17 positions with the <end> before them: more than the context of 16; 15 fit."""
    words = ("check the battery log " * 4).split()
    result = run("transformer", "backward", "--model", models["post"], "--prompt", " ".join(words))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: the prompt has 16 words; with the <end> read before them that is 17 positions, more than "
        "the model's context of 16 (give at most 15 words)"]
    fits = run("transformer", "backward", "--model", models["post"], "--prompt", " ".join(words[:15]), "-f", "json")
    assert fits.exit_code == 0 and len(json.loads(fits.stdout)["prompt"]) == 15


def test_an_unknown_word_is_the_same_error_as_elsewhere(run, models):
    backward = run("transformer", "backward", "--model", models["post"], "--prompt", "rocket ran")
    predict = run("transformer", "predict", "--model", models["post"], "--prompt", "rocket ran")
    assert backward.exit_code == predict.exit_code == 1 and backward.stderr == predict.stderr
