"""The classifier through the CLI: train --task classify, classify TEXT, classify --eval FILE,
gradcheck --task classify, and bad input as one line with the README's exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import plain

INTENTS = ("battery", "calendar", "files", "music", "network", "weather")


@pytest.fixture(scope="module")
def classifier_model(tmp_path_factory):
    """The README's run: the bundled intents, 600 steps, seed 0."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("classifier") / "c.npz"
    result = CliRunner().invoke(app, ["transformer", "train", "intents", "--task", "classify", "--steps", "600",
                                      "--out", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "saved" in result.stderr
    return path


@pytest.fixture(scope="module")
def next_word_model(tmp_path_factory):
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("next") / "m.npz"
    assert CliRunner().invoke(app, ["transformer", "train", "battery", "--steps", "5", "--out", str(path)]).exit_code == 0
    return path


def test_the_model_file_holds_the_labels(classifier_model):
    with np.load(classifier_model, allow_pickle=False) as npz:
        config = json.loads(str(npz["config"]))
        assert tuple(npz["labels"]) == INTENTS and str(npz["vocabulary"][-1]) == "<end>"
        assert npz["classifier.W"].shape == (16, 6) and npz["classifier.b"].shape == (6,)
        assert "de_embedding" not in npz.files and "encoder.layer0.W_q" in npz.files
    assert (config["task"], config["n_classes"], config["pool"], config["context"]) == ("classify", 6, "mean", 9)


def test_classify_json(run_json, classifier_model):
    data = run_json("transformer", "classify", "--model", classifier_model, "Is the battery charging?")
    assert list(data) == ["text", "label", "probabilities"]
    assert data["text"] == ["is", "the", "battery", "charging"] and data["label"] == "battery"
    p = data["probabilities"]
    assert tuple(p) == INTENTS and sum(p.values()) == pytest.approx(1.0) and max(p, key=p.get) == "battery"


@pytest.mark.parametrize("text, label", [("play some jazz please", "music"), ("will it snow tomorrow", "weather"),
                                         ("turn the wifi on", "network"), ("show me my photos", "files"),
                                         ("what meetings do i have on friday", "calendar")])
def test_classify_new_requests(run_json, classifier_model, text, label):
    assert run_json("transformer", "classify", "--model", classifier_model, text)["label"] == label


def test_classify_table_is_sorted_with_the_winner_marked(run, classifier_model):
    result = run("transformer", "classify", "--model", classifier_model, "check the weather")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "P(label | 'check the weather'): 6 labels, most probable first"
    assert lines[3].startswith("weather ◀") and lines[-1].startswith("label: weather (")
    assert sum("◀" in line for line in lines) == 1


def test_classify_csv(run, classifier_model):
    result = run("transformer", "classify", "--model", classifier_model, "check the weather", "--format", "csv")
    rows = [line.split(",") for line in result.stdout.splitlines()]
    assert rows[0] == ["label", "probability"] and rows[1][0] == "weather" and len(rows) == 7
    values = [float(r[1]) for r in rows[1:]]
    assert values == sorted(values, reverse=True)


def test_a_text_longer_than_the_context_is_read_by_its_first_words(run, classifier_model):
    text = "check the battery " * 4  # 12 words; the context is the longest line, 9
    result = run("transformer", "classify", "--model", classifier_model, text, "--format", "json")
    assert result.exit_code == 0
    assert "the text has 12 words; the model's context is 9: it reads the first 9" in plain(result.stderr)
    assert len(json.loads(result.stdout)["text"]) == 9


def test_eval_on_the_training_corpus(run_json, classifier_model):
    data = run_json("transformer", "classify", "--model", classifier_model, "--eval", "intents")
    assert list(data) == ["accuracy", "labels", "confusion"]
    assert data["accuracy"] == 1.0 and tuple(data["labels"]) == INTENTS
    assert data["confusion"] == [[50 if i == j else 0 for j in range(6)] for i in range(6)]


def test_eval_table_and_csv(run, classifier_model, tmp_path):
    held_out = tmp_path / "held_out.txt"
    held_out.write_text("__label__battery is the battery full\n__label__weather play the weather\n__label__music play jazz\n")
    table = run("transformer", "classify", "--model", classifier_model, "--eval", held_out)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0] == "accuracy: 67% (2 of 3 lines right)"  # 'play the weather' reads as music
    assert lines[1] == "Confusion matrix: rows the true label, columns the predicted one"
    assert lines[-1].split() == ["weather", ".", ".", ".", "1", ".", "."]
    csv = run("transformer", "classify", "--model", classifier_model, "--eval", held_out, "--format", "csv")
    rows = [line.split(",") for line in csv.stdout.splitlines()]
    assert rows[0] == ["table", "accuracy", "right", "lines"] and rows[1][0] == "accuracy" and rows[1][3] == "3"
    assert rows[2] == ["table", "true \\ predicted", *INTENTS] and len(rows) == 9


def test_eval_counts_each_line_by_its_weight(run, run_json, classifier_model, tmp_path):
    path = tmp_path / "weighted.txt"
    path.write_text("3x __label__files find my photos\n__label__weather play the weather\n")
    data = run_json("transformer", "classify", "--model", classifier_model, "--eval", path)
    assert data["accuracy"] == 0.75 and data["confusion"][2][2] == 3 and data["confusion"][5][3] == 1
    table = run("transformer", "classify", "--model", classifier_model, "--eval", path)
    assert table.stdout.splitlines()[0] == "accuracy: 75% (3 of 4, each line counted by its weight)"
    path.write_text("50% __label__files find my photos\n__label__weather play the weather\n")
    assert run_json("transformer", "classify", "--model", classifier_model, "--eval", path)["confusion"][2][2] == 0.5


def test_eval_reads_stdin(run, classifier_model):
    result = run("transformer", "classify", "--model", classifier_model, "--eval", "-", "--format", "json",
                 input="__label__files find my photos\n__label__files find my files\n")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["confusion"][2] == [0, 0, 2, 0, 0, 0]


def test_gradcheck_classify(run_json):
    for args in ([], ["--pool", "max", "--norm", "pre", "--positions", "learned"]):
        data = run_json("transformer", "gradcheck", "--task", "classify", *args)
        assert data["config"]["task"] == "classify"
        assert {"classifier.W", "classifier.b", "embedding", "encoder.layer1.W_q"} <= data["errors"].keys()
        assert max(data["errors"].values()) < 1e-6


def test_classify_has_help(run):
    result = run("transformer", "classify", "--help")
    assert result.exit_code == 0 and "--eval" in result.stdout and "label probabilities" in plain(result.stdout)


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "give a TEXT to classify, or --eval FILE"),
    (["find my photos", "--eval", "intents"], 2, "give a TEXT or --eval FILE, not both"),
    (["..."], 2, "'...' has no words"),
    (["find my phtos"], 1, "error: not in the vocabulary: 'phtos'; did you mean photos"),
    (["--eval", "no_such_file.txt"], 2, "Invalid value for --eval: 'no_such_file.txt' does not exist"),
    (["--eval", "program_log"], 1, "program_log.txt: line 2: no __label__ at the start"),
])  # fmt: skip
def test_bad_input(run, classifier_model, args, code, message):
    result = run("transformer", "classify", "--model", classifier_model, *args)
    assert result.exit_code == code and message in plain(result.stderr), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text, message", [
    ("__label__files find my photos\n\n__label__music play some jazz bogus\n", "line 3: not in the vocabulary: 'bogus'"),
    ("__label__files find my photos\n__label__cooking play some jazz\n",
     "line 2: label 'cooking' is not one of the model's 6 labels (battery, calendar, files, music, network, weather)"),
    ("__label__files find my photos\nplay some jazz\n", "line 2: no __label__ at the start"),
])  # fmt: skip
def test_bad_eval_files_name_the_line(run, classifier_model, tmp_path, text, message):
    path = tmp_path / "eval.txt"
    path.write_text(text)
    result = run("transformer", "classify", "--model", classifier_model, "--eval", path)
    assert result.exit_code == 1 and f"error: {path}: {message}" in plain(result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_models_of_other_tasks_are_refused(run, classifier_model, next_word_model):
    result = run("transformer", "classify", "--model", next_word_model, "battery")
    assert result.exit_code == 2 and "is a next-word model" in plain(result.stderr)
    for command in (["predict", "--prompt", "find"], ["generate", "--prompt", "find"], ["attention", "--prompt", "find"]):
        result = run("transformer", command[0], "--model", classifier_model, *command[1:])
        assert result.exit_code == 2 and "is a classify model, for 'lmtoy transformer classify'" in plain(result.stderr)


@pytest.mark.parametrize("corpus, code, message", [
    ("find my photos\n__label__b x\n", 1, "line 1: no __label__ at the start"),
    ("__label__a find my photos\n__label__a play jazz\n", 1, "needs at least two labels"),
    ("__label__a x\n__label__b -3x y\n", 1, "line 2: weight '-3x' is negative"),
])  # fmt: skip
def test_bad_training_corpora(run, tmp_path, corpus, code, message):
    path = tmp_path / "labelled.txt"
    path.write_text(corpus)
    result = run("transformer", "train", path, "--task", "classify", "--out", tmp_path / "c.npz")
    assert result.exit_code == code and message in plain(result.stderr), result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "c.npz").exists()


@pytest.mark.parametrize("args, message", [
    (["transformer", "train", "intents", "--task", "classify", "--tied"], "--tied is for next-word models"),
    (["transformer", "gradcheck", "--task", "classify", "--tied"], "--tied is for next-word models"),
    (["transformer", "gradcheck", "--pool", "max"], "--pool: is for --task classify"),
])  # fmt: skip
def test_usage_errors(run, tmp_path, args, message):
    result = run(*args, *(["--out", tmp_path / "c.npz"] if args[1] == "train" else []))
    assert result.exit_code == 2 and message in plain(result.stderr), result.stderr
