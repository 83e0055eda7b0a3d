"""lmtoy transformer compile: a model file built from counts that every command reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import plain

BATTERY = "check the battery log and find out whether it ran"
PROGRAM = "check the program log and find out whether it ran"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """program_log compiled, unmasked and masked."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    folder = tmp_path_factory.mktemp("compiled")
    paths = {}
    for masked in (False, True):
        path = folder / f"program_log{'_masked' * masked}.npz"
        result = CliRunner().invoke(app, ["transformer", "compile", "program_log", "--out", str(path)]
                                    + ["--masked"] * masked)
        assert result.exit_code == 0, result.stderr
        assert f"compiled {path}" in plain(result.stdout)
        paths[masked] = path
    return paths


@pytest.mark.parametrize("masked, extra", [(False, ()), (True, ("--auto-mask",))])
def test_predict_gives_votes_winner_with_its_margin(run_json, compiled, masked, extra):
    """battery -> down, program -> please, as vote (--auto-mask) says; ln(P(winner) / P(runner-up))
    is vote's margin, since the logits are the vote totals."""
    for prompt, winner, loser in ((BATTERY, "down", "please"), (PROGRAM, "please", "down")):
        p = run_json("transformer", "predict", "--model", compiled[masked], "--prompt", prompt)["next"]
        vote = run_json("vote", "program_log", "--prompt", prompt, *extra)
        assert max(p, key=p.get) == winner == vote["prediction"]
        assert math.log(p[winner] / p[loser]) == pytest.approx(vote["margin"], abs=1e-5)
        assert vote["margin"] == 1.0


def test_trace_logits_are_the_vote_totals(run_json, compiled):
    data = run_json("transformer", "trace", "--model", compiled[False], "--prompt", BATTERY)
    steps = {s["name"]: np.array(s["values"]) for s in data["steps"]}
    logits = steps["logits"][-1]
    from lmtoy.transformer import load_model

    words = load_model(compiled[False]).vocabulary
    assert logits[words.index("down")] == pytest.approx(5, abs=1e-5)
    assert logits[words.index("please")] == pytest.approx(4, abs=1e-5)
    assert "layer 1 feed-forward hidden" in steps and "layer 1 add 2" in steps


def test_attention_shows_the_query_words_mask(run_json, compiled):
    """Masked: 'ran' attends to battery and itself (head 1, its mask), to every word but <end> (head 2)."""
    data = run_json("transformer", "attention", "--model", compiled[True], "--prompt", BATTERY)
    last = np.array(data["weights"])[0, :, -1]  # (h, n)
    seen = data["seen"]
    assert [seen[i] for i in np.flatnonzero(last[0])] == ["battery", "ran"]
    assert [seen[i] for i in np.flatnonzero(last[1])] == seen[1:]


def test_generate_and_embed_read_it(run, run_json, compiled):
    out = run_json("transformer", "generate", "--model", compiled[False], "--prompt", "check the battery", "--steps", "20")
    assert " ".join(out["generated"]) == "log and find out whether it ran down please"
    assert run("embed", "--model", compiled[False]).exit_code == 0


def test_backward_refuses_it_in_one_line(run, compiled):
    """The backward walk's steps are softmax and layer norm steps: a compiled model has neither."""
    result = run("transformer", "backward", "--model", compiled[False], "--prompt", "check the battery")
    assert result.exit_code != 0 and "norm none, linear attention" in plain(result.stderr)
    assert "Traceback" not in result.stderr


def test_out_is_checked_first(run):
    result = run("transformer", "compile", "program_log", "--out", "/dev/null/x.npz")
    assert result.exit_code == 2


def test_show_and_json(run, run_json, tmp_path):
    data = run_json("transformer", "compile", "program_log", "--out", tmp_path / "m.npz", "--masked")
    assert data["masked"] and len(data["features"]) == 64 and ["battery", "ran"] in data["features"]
    assert {w["name"] for w in data["weights"]} >= {"embedding", "layer0.W_1", "de_embedding"}
    shown = run("transformer", "compile", "program_log", "--out", tmp_path / "s.npz", "--show")
    assert shown.exit_code == 0
    text = shown.stdout
    assert "W_1  [41 x 128, shown transposed" in text and "battery,ran" in text and "#battery" in text


@pytest.mark.parametrize("text, message", [("", "no words found"), ("# only a comment\n", "no words found")])
def test_empty_corpus_is_one_line(run, tmp_path, text, message):
    corpus = tmp_path / "empty.txt"
    corpus.write_text(text)
    result = run("transformer", "compile", corpus, "--out", tmp_path / "m.npz")
    assert result.exit_code == 1 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_too_large_is_one_line(run, tmp_path, monkeypatch):
    from lmtoy.transformer import compile as compiler

    monkeypatch.setattr(compiler, "MAX_NUMBERS", 10_000)
    result = run("transformer", "compile", "program_log", "--out", tmp_path / "m.npz")
    assert result.exit_code == 1 and "more than 10,000" in result.stderr and "--window" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.npz").exists()


def test_out_over_a_file_that_is_not_a_model_is_refused(run, tmp_path):
    notes = tmp_path / "notes.npz"
    notes.write_text("keep me")
    result = run("transformer", "compile", "program_log", "--out", notes)
    assert result.exit_code == 2 and notes.read_text() == "keep me"


def test_train_takes_the_new_options(run, tmp_path):
    out = tmp_path / "t.npz"
    result = run("transformer", "train", "program_log", "--out", out, "--steps", "3", "--norm", "none",
                 "--attention", "linear", "--attention-scale", "0.5")
    assert result.exit_code == 0, result.stderr
    from lmtoy.transformer import load_model

    config = load_model(out).config
    assert (config.norm, config.attention, config.attention_scale) == ("none", "linear", 0.5)
    bad = run("transformer", "train", "program_log", "--out", out, "--attention-scale", "0")
    assert bad.exit_code == 2 and "above 0" in plain(bad.stderr)


def test_trace_names_the_hand_set_dimensions_and_features(run, run_json, compiled):
    """The file names what each dimension and hidden unit holds, so trace labels its columns:
    after the battery prompt the unit (battery, ran) fires and (program, ran) does not, and the
    layer's output writes the votes into the logit dimensions '>down' 5, '>please' 4."""
    data = run_json("transformer", "trace", "--model", compiled[False], "--prompt", BATTERY)
    steps = {s["name"]: s for s in data["steps"]}
    hidden = steps["layer 1 feed-forward hidden"]
    last = dict(zip(hidden["columns"], hidden["values"][-1]))
    assert last["battery,ran"] - last["battery,ran -1"] == 1 and last["program,ran"] == last["program,ran -1"] == 0
    out = dict(zip(steps["layer 1 add 2"]["columns"], steps["layer 1 add 2"]["values"][-1]))
    assert out[">down"] == pytest.approx(5, abs=1e-5) and out[">please"] == pytest.approx(4, abs=1e-5)
    assert out["ran"] == 1 and out["#battery"] == 1  # the recent word, and the count of an earlier one
    assert "columns" not in steps["layer 1 head 1 Q"] and "columns" not in steps["logits"]
    table = plain(run("transformer", "trace", "--model", compiled[False], "--prompt", BATTERY).stdout)
    assert ">down" in table and "#battery" in table


def test_damaged_dimension_names_are_refused_in_one_line(run, compiled, tmp_path):
    arrays = dict(np.load(compiled[False], allow_pickle=False))
    arrays["hidden"] = arrays["hidden"][:3]
    path = tmp_path / "damaged.npz"
    np.savez(path, **arrays)
    result = run("transformer", "trace", "--model", path, "--prompt", BATTERY)
    assert result.exit_code == 1 and "'hidden' must hold" in result.stderr and result.stderr.count("\n") == 1
