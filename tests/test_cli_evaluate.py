"""perplexity, score and --format arpa through the CLI: the ladder ranked on commands, the
JSON keys, per-sentence scores, and one-line errors for bad input."""

from __future__ import annotations

import json
import math

import pytest

from conftest import plain


def test_perplexity_ranks_the_ladder_on_commands(run_json):
    """On commands with its held-out file, every counted model beats the first-order one
    and the skip votes beat second-order (kneser-ney, lambda 0.5)."""
    data = run_json("perplexity", "commands", "--held-out", "commands_heldout")
    models = data["models"]
    assert list(models) == ["masked-skips", "skips", "second-order", "first-order"]  # ranked, best first
    assert set(data) == {"train", "held_out", "models"}
    for entry in models.values():
        assert set(entry) == {"perplexity", "bits_per_word", "log10_prob", "words", "oov", "sentences", "smoothing"}
        assert (entry["words"], entry["oov"], entry["sentences"]) == (149, 3, 22)
        assert entry["perplexity"] == pytest.approx(10 ** (-entry["log10_prob"] / (149 + 22)), rel=1e-12)
        assert entry["bits_per_word"] == pytest.approx(math.log2(entry["perplexity"]), rel=1e-12)
    assert models["first-order"]["perplexity"] > models["second-order"]["perplexity"] > models["skips"]["perplexity"]


def test_perplexity_add_one_by_hand(run_json, tmp_path):
    """The hand-worked two sentences of test_evaluate, through the CLI."""
    held = tmp_path / "held.txt"
    held.write_text("show me my photos please.\nshow me files.\n")
    data = run_json("perplexity", "show_me", "--held-out", held, "--model", "first-order", "--smoothing", "add-k")
    logs = [0.2, 0.2, 0.2, 0.15, 1.5 / 9.5, 0.2, 0.2, 0.2, 0.1, 1 / 9.3]
    entry = data["models"]["first-order"]
    assert entry["log10_prob"] == pytest.approx(sum(map(math.log10, logs)), rel=1e-12)
    assert entry["smoothing"] == "add-k (k=1)"


def test_per_sentence_and_table(run, run_json):
    data = run_json("perplexity", "show_me", "--held-out", "show_me", "-m", "second-order", "--per-sentence")
    assert [s["text"] for s in data["sentences"]] == ["show me my directories please", "show me my files please",
                                                     "show me my photos please"]
    total = sum(s["log10_prob"]["second-order"] for s in data["sentences"])
    assert total == pytest.approx(data["models"]["second-order"]["log10_prob"], rel=1e-12)
    result = run("perplexity", "show_me", "--held-out", "show_me", "--per-sentence")
    assert result.exit_code == 0 and "log10 P of each held-out sentence" in result.stdout
    assert "D=0.75 fallback used" in result.stdout  # weighted counts: no count of exactly 2


def test_none_is_infinite_perplexity(run_json, tmp_path):
    held = tmp_path / "held.txt"
    held.write_text("show photos.\n")
    entry = run_json("perplexity", "show_me", "--held-out", held, "-m", "first-order", "-s", "none")["models"]["first-order"]
    assert entry["perplexity"] is None and entry["log10_prob"] is None


def test_score_prints_full_scores(run_json):
    """show_me add-1: show me my zebra -> 0.2, 0.2, 0.2, then <unk> after my: 1/10, then
    </s> after <unk> (an unseen context: uniform 1/9)."""
    data = run_json("score", "show_me", "show me my zebra", "--model", "first-order", "--smoothing", "add-k")
    assert data["as"] == ["show", "me", "my", "<unk>", "</s>"]
    assert data["log10"] == pytest.approx([math.log10(x) for x in (0.2, 0.2, 0.2, 0.1, 1 / 9)], rel=1e-12)
    assert data["total"] == pytest.approx(sum(data["log10"]), rel=1e-12)


def test_arpa_output(run):
    result = run("first-order", "show_me", "--format", "arpa", "--smoothing", "kneser-ney")
    assert result.exit_code == 0
    assert result.stdout.startswith("\\data\\\nngram 1=10\nngram 2=10\n") and result.stdout.endswith("\\end\\\n")
    assert "-99.0000000\t<s>\t" in result.stdout
    assert "D=0.75 fallback used" in result.stderr
    three = run("second-order", "show_me", "--format", "arpa", "-s", "witten-bell").stdout
    assert "ngram 3=11" in three and "\n\\3-grams:\n" in three


@pytest.mark.parametrize("args, code, message", [
    (["skips", "show_me", "--format", "arpa"], 2, "the skip model has no ARPA form"),
    (["first-order", "show_me", "--smoothing", "add-k"], 2, "applies to --format arpa"),
    (["first-order", "show_me", "-f", "arpa", "-s", "none"], 2, "--smoothing none has no ARPA form"),
    (["perplexity", "show_me", "--held-out", "show_me", "--k", "0"], 2, "0 is not a finite number above 0"),
    (["perplexity", "show_me", "--held-out", "show_me", "-m", "trigram"], 2, "'trigram' is not first-order"),
    (["perplexity", "show_me", "--held-out", "show_me", "-m", "transformer:nope.npz"], 1, "nope.npz: no such model file"),
    (["score", "show_me", "...", "-m", "first-order"], 2, "'...' has no words"),
])
def test_bad_input_is_one_line(run, args, code, message):
    result = run(*args)
    assert result.exit_code == code and message in plain(result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_empty_held_out(run, tmp_path):
    held = tmp_path / "empty.txt"
    held.write_text("# nothing\n\n")
    result = run("perplexity", "show_me", "--held-out", held)
    assert result.exit_code == 1 and "the held-out file has no words" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_transformer_on_another_vocabulary(run, tmp_path):
    """A model trained on show_me scoring battery's words: the unknown words are named."""
    path = tmp_path / "m.npz"
    trained = run("transformer", "train", "show_me", "--out", path, "--steps", "2", "--d-model", "8", "--heads", "1",
                  "--layers", "1", "--context", "4")
    assert trained.exit_code == 0, trained.stderr
    result = run("perplexity", "show_me", "--held-out", "battery", "-m", f"transformer:{path}")
    assert result.exit_code == 1 and "not in the transformer's vocabulary" in result.stderr
    ok = run("perplexity", "show_me", "--held-out", "show_me", "-m", f"transformer:{path}", "-m", "first-order",
             "--format", "json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["models"][f"transformer:{path}"]["oov"] == 0


@pytest.mark.parametrize("args, stdin, option, message", [
    (["perplexity", "show_me", "--held-out", "nofile.txt"], None, "--held-out", "'nofile.txt' does not exist"),
    (["perplexity", "-", "--held-out", "-"], "a b.", "--held-out", "standard input can be read only once"),
    (["perplexity", "show_me", "--held-out", "show_me", "--k", "2"], None, "--k", "applies to --smoothing add-k"),
    (["score", "show_me", "show me", "--k", "2"], None, "--k", "applies to --smoothing add-k"),
    (["explain", "first-order", "show_me", "--words", "my photos", "--k", "2"], None, "--k", "add-k"),
])
def test_the_option_at_fault_is_named(run, args, stdin, option, message):
    result = run(*args, input=stdin)
    assert result.exit_code == 2 and option in result.stderr and message in result.stderr


def test_a_transformer_missing_held_out_words_says_so(run, tmp_path):
    model = tmp_path / "m.npz"
    assert run("transformer", "train", "show_me", "--out", model, "--steps", "5").exit_code == 0
    held = tmp_path / "held.txt"
    held.write_text("show me my videos please\n")
    result = run("perplexity", "show_me", "--held-out", held, "-m", f"transformer:{model}")
    assert result.exit_code == 1 and "'videos'" in result.stderr and "leave it out of --model" in result.stderr
