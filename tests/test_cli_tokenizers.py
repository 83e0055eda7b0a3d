"""--tokenizer words|chars|FILE.json through the CLI's JSON: counted models, completion, the
transformer (next-word, translate, classify) and its model file."""

from __future__ import annotations

import json

import pytest

from conftest import cell, plain


@pytest.fixture(scope="module")
def bpe_file(tmp_path_factory):
    """A BPE tokenizer trained on show_me (280 ids): 'show me my photos please' ->
    show ␣me ␣my ␣photos ␣please."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("bpe") / "tok.json"
    result = CliRunner().invoke(app, ["bpe", "train", "show_me", "--vocab-size", "280", "--out", str(path)])
    assert result.exit_code == 0, result.stderr
    return path


def test_first_order_with_chars(run_json):
    """After a space in show_me: 'me' and 'my' in every sentence (weight 1 + 1 of the 2 x 1 in
    all), then d, f or p (0.2, 0.3, 0.5), then 'please' (p, 1): m 2, d 0.2, f 0.3, p 1.5 of 4."""
    data = run_json("first-order", "show_me", "--tokenizer", "chars", "--word", " ")
    assert data["rows"] == ["␣"] and "␣" in data["vocabulary"] and len(data["vocabulary"]) == 17
    assert [cell(data, "␣", c) for c in "mdfp"] == pytest.approx([0.5, 0.05, 0.075, 0.375])
    assert cell(run_json("first-order", "show_me", "--tokenizer", "chars", "--word", "m"), "m", "e") == 0.5


def test_words_is_the_default(run_json):
    assert run_json("first-order", "show_me", "--tokenizer", "words") == run_json("first-order", "show_me")


def test_skips_vote_and_compare_on_bpe_tokens(run_json, bpe_file):
    skips = run_json("skips", "show_me", "--tokenizer", bpe_file, "--word", "␣me")
    assert skips["rows"] == [["show", "␣me"]] and cell(skips, ["show", "␣me"], "␣my") == 1.0
    vote = run_json("vote", "show_me", "--tokenizer", bpe_file, "--prompt", "show me my")
    assert vote["prompt"] == ["show", "␣me", "␣my"] and vote["features"] == [["show", "␣my"], ["␣me", "␣my"]]
    assert vote["prediction"] == "␣photos" and vote["totals"]["␣files"] == pytest.approx(0.6)
    ladder = run_json("compare", "show_me", "--tokenizer", bpe_file, "--prompt", "show me my")
    assert ladder["prompt"] == ["show", "␣me", "␣my"]
    assert {m["prediction"] for m in ladder["models"].values()} == {"␣photos"}
    kept = run_json("vote", "show_me", "--tokenizer", bpe_file, "--prompt", "show me my", "--keep", "show, my")
    assert kept["mask"] == [1.0, 0.0]


def test_second_order_words_are_tokens(run_json, bpe_file):
    data = run_json("second-order", "show_me", "--tokenizer", bpe_file, "--words", "show me")
    assert data["rows"] == [["show", "␣me"]]


def test_complete_with_chars(run_json):
    data = run_json("complete", "show_me", "--tokenizer", "chars", "--prompt", "show", "--model", "skips", "-n", "3")
    assert data["prompt"] == list("show") and data["generated"] == ["␣", "m", "e"]


def test_a_bad_tokenizer(run, tmp_path):
    missing = run("compare", "show_me", "--tokenizer", tmp_path / "none.json", "--prompt", "show")
    assert missing.exit_code == 2 and "is not words, chars or a tokenizer file" in plain(missing.stderr)
    (tmp_path / "x.json").write_text('{"format": "other"}')
    wrong = run("compare", "show_me", "--tokenizer", tmp_path / "x.json", "--prompt", "show")
    assert wrong.exit_code == 1 and wrong.stderr.count("\n") == 1 and "not a tokenizer file" in wrong.stderr


def _train(run, out, *args):
    result = run("transformer", "train", *args, "--out", out, "--seed", "0")
    assert result.exit_code == 0, result.stderr
    return out


@pytest.mark.parametrize("kind", ["chars", "bpe"])
def test_transformer_keeps_its_tokenizer(run, run_json, tmp_path, bpe_file, kind):
    """Trained with --tokenizer, predict and generate read the prompt with the stored tokenizer;
    generate prints the decoded text (JSON "text"), while "generated" stays the tokens."""
    tokenizer = "chars" if kind == "chars" else bpe_file
    model = _train(run, tmp_path / "m.npz", "show_me", "--tokenizer", tokenizer, "--steps", "150", "--context", "32")
    prompt = ["s", "h", "o", "w"] if kind == "chars" else ["show"]
    p = run_json("transformer", "predict", "--model", model, "--prompt", "show")
    assert p["prompt"] == prompt
    g = run_json("transformer", "generate", "--model", model, "--prompt", "show", "--steps", "40")
    assert g["prompt"] == prompt and g["text"] == "show" + ("".join(g["generated"]).replace("␣", " "))
    assert g["text"].startswith("show me my ")
    table = run("transformer", "generate", "--model", model, "--prompt", "show", "--steps", "40")
    assert table.exit_code == 0 and table.stdout.strip() == g["text"]


def test_the_model_file_stores_the_tokenizer(run, tmp_path, bpe_file):
    import numpy as np

    words = _train(run, tmp_path / "w.npz", "show_me", "--steps", "1")
    chars = _train(run, tmp_path / "c.npz", "show_me", "--tokenizer", "chars", "--steps", "1")
    bpe = _train(run, tmp_path / "b.npz", "show_me", "--tokenizer", bpe_file, "--steps", "1")
    stored = {p: str(np.load(p)["tokenizer"]) for p in (words, chars, bpe)}
    assert json.loads(stored[words]) == {"kind": "words"} and json.loads(stored[chars]) == {"kind": "chars"}
    assert json.loads(stored[bpe]) == json.loads(bpe_file.read_text())


def test_a_model_without_the_key_reads_words(run, run_json, tmp_path):
    import numpy as np

    path = _train(run, tmp_path / "w.npz", "show_me", "--steps", "1")
    arrays = dict(np.load(path))
    del arrays["tokenizer"]
    np.savez(tmp_path / "old.npz", **arrays)
    assert run_json("transformer", "predict", "--model", tmp_path / "old.npz", "--prompt", "show me")["prompt"] == ["show", "me"]


def test_translate_and_classify_with_chars(run, run_json, tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("go\tab\nrun\tba\n", encoding="utf-8")
    model = _train(run, tmp_path / "t.npz", pairs, "--task", "translate", "--tokenizer", "chars", "--steps", "150",
                   "--context", "8")
    data = run_json("transformer", "translate", "--model", model, "go")
    assert data["source"] == ["g", "o"] and data["translation"] == ["a", "b"] and data["text"] == "ab"
    labelled = tmp_path / "labelled.txt"
    labelled.write_text("__label__x aaa\n__label__y bbb\n__label__x a a\n", encoding="utf-8")
    model = _train(run, tmp_path / "k.npz", labelled, "--task", "classify", "--tokenizer", "chars", "--steps", "100")
    result = run_json("transformer", "classify", "--model", model, "ab")
    assert result["text"] == ["a", "b"] and set(result["probabilities"]) == {"x", "y"}
    assert run_json("transformer", "classify", "--model", model, "--eval", labelled)["accuracy"] == 1.0


def test_onehot_with_a_corpus_of_chars(run_json):
    data = run_json("onehot", "show", "--tokenizer", "chars", "--corpus", "show_me", "--mix", "s=0.5, ␣=0.5")
    assert data["tokens"] == list("show") and data["vocabulary"][-1] == "␣" and data["ids"] == [12, 5, 9, 14]
    assert data["mix"] == {"s": 0.5, "␣": 0.5}


def test_complete_text_is_decoded(run, run_json):
    data = run_json("complete", "show_me", "--tokenizer", "chars", "--prompt", "show m", "-n", "1")
    assert data["generated"] == ["e"] and data["text"] == "show me"
    table = run("complete", "show_me", "--tokenizer", "chars", "--prompt", "show m", "-n", "1")
    assert table.stdout.splitlines()[-1] == "show me"
    assert run_json("complete", "show_me", "--prompt", "show me", "-n", "1")["text"] == "show me my"


def test_selfattend_reads_a_model_text_with_its_tokenizer(run, run_json, tmp_path):
    model = _train(run, tmp_path / "c.npz", "show_me", "--tokenizer", "chars", "--steps", "1")
    assert run_json("selfattend", "me", "--model", model)["tokens"] == ["m", "e"]


def test_a_folder_is_not_a_tokenizer(run, tmp_path):
    result = run("first-order", "show_me", "--tokenizer", tmp_path)
    assert result.exit_code == 2 and "is a folder, not a tokenizer file" in plain(result.stderr)


def test_a_damaged_tokenizer_key_is_refused(run, tmp_path):
    import numpy as np

    path = _train(run, tmp_path / "w.npz", "show_me", "--steps", "1")
    arrays = dict(np.load(path))
    arrays["tokenizer"] = np.array('{"kind": "letters"}')
    np.savez(tmp_path / "bad.npz", **arrays)
    result = run("transformer", "predict", "--model", tmp_path / "bad.npz", "--prompt", "show")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "damaged model" in result.stderr


def test_a_device_is_not_a_tokenizer(run):
    result = run("first-order", "show_me", "--tokenizer", "/dev/zero")
    assert result.exit_code == 2 and "not a regular file" in result.stderr
