"""`lmtoy bpe train|show|encode|decode` through the CLI: the worked example end to end,
the tokenizer file, formats, progress, and bad input (one line, exit 1 or 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import plain

WIKI = "aaabdaaabac\n"


@pytest.fixture
def wiki(run, tmp_path):
    """The Wikipedia example trained to 259 ids without the split: its tokenizer file."""
    path = tmp_path / "wiki.json"
    result = run("bpe", "train", "-", "--no-split", "--vocab-size", 259, "--out", path, input=WIKI)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def commands_tok(tmp_path_factory):
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("bpe") / "commands.json"
    result = CliRunner().invoke(app, ["bpe", "train", "commands", "--vocab-size", "400", "--out", str(path)])
    assert result.exit_code == 0, result.stderr
    return path


def test_the_wikipedia_example_end_to_end(run, run_json, wiki):
    data = json.loads(wiki.read_text())
    assert data == {"format": "lmtoy-bpe", "version": 1, "split": None, "merges": [[97, 97], [97, 98], [256, 257]],
                    "vocab_size": 259}
    encoded = run_json("bpe", "encode", "--tokenizer", wiki, "aaabdaaabac")
    assert encoded["ids"] == [258, 100, 258, 97, 99] and encoded["n_bytes"] == 11 and encoded["n_tokens"] == 5
    assert [t["token"] for t in encoded["tokens"]] == ["aaab", "d", "aaab", "a", "c"]
    decoded = run_json("bpe", "decode", "--tokenizer", wiki, 258, 100, 258, 97, 99)
    assert decoded["text"] == "aaabdaaabac" and decoded["valid_utf8"] is True


def test_train_reports_each_merge(run, run_json, tmp_path):
    data = run_json("bpe", "train", "-", "--no-split", "--vocab-size", 259, input=WIKI)
    assert data["out"] is None and data["vocab_size"] == 259 and data["stopped"] is None
    assert data["sentences"] == 1 and data["chunks"] == 1 and data["split"] is None
    assert data["merges"][1] == {"merge": 1, "id": 257, "pair": [97, 98], "token": "ab", "count": 2}
    table = run("bpe", "train", "-", "--no-split", "--vocab-size", 259, input=WIKI)
    assert "Trained 3 merges: vocabulary 259 (256 bytes + 3 merges)" in table.stdout
    assert "not saved: give --out FILE" in table.stdout and max(map(len, table.stdout.splitlines())) <= 80
    csv = run("bpe", "train", "-", "--no-split", "--vocab-size", 259, "--format", "csv", input=WIKI).stdout
    assert csv.splitlines() == ["merge,id,left,right,token,count", "0,256,97,97,aa,4", "1,257,97,98,ab,2",
                                "2,258,256,257,aaab,2"]


def test_train_splits_into_chunks_by_default(run_json):
    data = run_json("bpe", "train", "-", "--vocab-size", 1000, input="the cat. the hat.\n")
    assert data["split"] is not None and data["sentences"] == 2
    tokens = {m["token"] for m in data["merges"]}
    assert "␣the" not in tokens and "the" in tokens and "at" in tokens  # 'the' starts each sentence
    assert data["stopped"].startswith("training stopped early at vocabulary")


def test_stopping_early_is_said(run):
    result = run("bpe", "train", "-", "--vocab-size", 300, "--format", "json", input="a\nb\n")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    stopped = ("training stopped early at vocabulary 256 of the 300 asked for: no pair is left "
               "(every chunk is a single token)")
    assert data["stopped"] == stopped and data["vocab_size"] == 256 and data["merges"] == []
    assert stopped in plain(result.stderr)
    table = run("bpe", "train", "-", "--vocab-size", 300, input="a\nb\n")
    assert "training stopped early at vocabulary 256" in table.stdout


def test_weights_and_options_reach_training(run_json):
    data = run_json("bpe", "train", "show_me", "--vocab-size", 260)
    assert data["merges"][0]["count"] == pytest.approx(data["merges"][0]["count"])
    assert any(isinstance(m["count"], float) for m in data["merges"])  # 20/30/50: weighted counts
    upper = run_json("bpe", "train", "-", "--keep-case", "--no-split", "--vocab-size", 257, input="ABAB\n")
    assert upper["merges"][0]["token"] == "AB"
    lower = run_json("bpe", "train", "-", "--no-split", "--vocab-size", 257, input="ABAB\n")
    assert lower["merges"][0]["token"] == "ab"
    joined = run_json("bpe", "train", "-", "--no-split", "--join-lines", "--vocab-size", 256, input="a b\nc d\n")
    assert joined["sentences"] == 1


def test_show_replays_the_worked_example(run, run_json):
    data = run_json("bpe", "show", "-", "--no-split", "--vocab-size", 259, input=WIKI)
    steps = data["steps"]
    assert [s["merge"] for s in steps] == [0, 1, 2] and data["source"] == "corpus"
    assert steps[1]["pair"] == [97, 98] and steps[1]["token"] == "ab" and steps[1]["count"] == 2
    assert steps[1]["tie"] is True and steps[1]["runner_up"] == {"pair": [256, 97], "token": "aaa", "count": 2}
    assert steps[0]["top"][:2] == [{"pair": [97, 97], "token": "aa", "count": 4},
                                   {"pair": [97, 98], "token": "ab", "count": 2}]
    assert steps[2]["tokens"] == ["aaab", "d", "aaab", "a", "c"] and steps[2]["ids"] == [258, 100, 258, 97, 99]
    table = run("bpe", "show", "-", "--no-split", "--vocab-size", 259, input=WIKI).stdout
    assert "a tie at 2: (97, 98) wins over (256, 97), the smaller left id (97 < 256)" in table
    assert "after:   aaab d aaab a c" in table and "winner" in table
    assert max(map(len, table.splitlines())) <= 80


def test_show_steps_a_range(run_json):
    data = run_json("bpe", "show", "-", "--no-split", "--steps", "1:2", input=WIKI)
    assert [s["merge"] for s in data["steps"]] == [1]
    assert data["vocab_size"] == 258  # trained only as far as the range needs
    one = run_json("bpe", "show", "-", "--no-split", "--steps", "2", input=WIKI)
    assert [s["merge"] for s in one["steps"]] == [2]


def test_show_defaults_to_ten_merges_on_the_first_sentence(run_json, run):
    data = run_json("bpe", "show", "commands")
    assert [s["merge"] for s in data["steps"]] == list(range(10))
    assert data["text"] == "play the videos on the external drive"
    text = run_json("bpe", "show", "commands", "--steps", "0:3", "--text", "Show Me")
    assert text["text"] == "show me"  # read as a sentence of the corpus: lower-cased
    table = run("bpe", "show", "commands", "--steps", "3:5").stdout
    assert "before merge 3:" in table and "␣the" in table.split("\nmerge 3:")[0]


def test_show_replays_a_tokenizer_on_a_text(run_json, wiki):
    data = run_json("bpe", "show", "--tokenizer", wiki, "--text", "aab ab")
    assert data["source"] == "tokenizer" and [s["merge"] for s in data["steps"]] == [0, 1]
    assert data["steps"][0]["count"] == 1 and data["steps"][0]["tie"] is None
    assert data["steps"][1]["tokens"] == ["aa", "b", "␣", "ab"]


def test_encode_labels(run_json, run, commands_tok):
    data = run_json("bpe", "encode", "--tokenizer", commands_tok, "show the files 😀")
    labels = [t["token"] for t in data["tokens"]]
    assert "␣the" in labels and labels[-4:] == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"]
    assert data["tokens"][-1]["bytes"] == [0x80] and data["text"] == "show the files 😀"
    result = run("bpe", "encode", "--tokenizer", commands_tok, "show the files 😀")
    assert result.exit_code == 0 and "20 74 68 65" in result.stdout and "␣the" in result.stdout
    piped = run_json("bpe", "encode", "--tokenizer", commands_tok, "-", input="show the files")
    assert piped["text"] == "show the files"
    csv = run("bpe", "encode", "--tokenizer", commands_tok, "the", "--format", "csv").stdout
    assert csv.splitlines()[0] == "position,id,token,bytes"


def test_decode_a_partial_character(run, run_json, commands_tok):
    data = run_json("bpe", "decode", "--tokenizer", commands_tok, "[226,", "130]")
    assert data["valid_utf8"] is False and data["text"] == "\ufffd"
    result = run("bpe", "decode", "--tokenizer", commands_tok, 226, 130)
    assert result.exit_code == 0 and "not valid UTF-8" in result.stderr


@pytest.mark.parametrize("args, code, message", [
    (["train", "commands", "--vocab-size", "255"], 2, "255 is not from 256 (bytes only) to 1,000,000"),
    (["train", "commands", "--vocab-size", "10000000"], 2, "10,000,000 is not from 256"),
    (["show", "commands", "--steps", "3:1"], 2, "is an empty range"),
    (["show", "commands", "--steps", "a:b"], 2, "is not A:B, A:, :B or N"),
    (["show", "commands", "--steps", "0:2000000"], 2, "goes past merge"),
    (["decode", "--tokenizer", "missing.json", "1"], 2, "'missing.json' does not exist (train one with"),
    (["encode", "--tokenizer", "missing.json", "x"], 2, "'missing.json' does not exist"),
    (["show", "--tokenizer", "missing.json", "--text", "x"], 2, "does not exist"),
])  # fmt: skip
def test_bad_command_lines(run, args, code, message):
    result = run("bpe", *args)
    assert result.exit_code == code, result.stderr
    assert message in plain(result.stderr) and "Traceback" not in result.stderr


def test_show_with_a_tokenizer_takes_no_training_options(run, wiki):
    for extra, message in ((["commands"], "leave out the corpus"), (["--vocab-size", "300"], "--vocab-size"),
                           (["--no-split"], "--no-split")):
        result = run("bpe", "show", "--tokenizer", wiki, "--text", "x", *extra)
        assert result.exit_code == 2 and message in plain(result.stderr)
    result = run("bpe", "show", "--tokenizer", wiki)
    assert result.exit_code == 2 and "give --text TEXT" in plain(result.stderr)


def test_decode_bad_ids(run, wiki):
    result = run("bpe", "decode", "--tokenizer", wiki, 258, -1, 259)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: ids -1, 259 not in the vocabulary (ids are 0 to 258)"
    result = run("bpe", "decode", "--tokenizer", wiki, "1.5")
    assert result.exit_code == 2 and "'1.5' is not a whole number" in plain(result.stderr)


@pytest.mark.parametrize("content, message", [
    ("{oops", "not a tokenizer file: not JSON"),
    ('{"format": "lmtoy-transformer"}', 'its format is "lmtoy-transformer", expected "lmtoy-bpe"'),
    ('{"format": "lmtoy-bpe", "version": 1, "split": null, "merges": [[97, 300]], "vocab_size": 257}',
     "merge 0 names id 300, which is not defined before it (ids 0 to 255)"),
    ("\xff\xfe", "not JSON"),
])  # fmt: skip
def test_a_file_that_is_not_a_tokenizer(run, tmp_path, content, message):
    path = tmp_path / "tok.json"
    path.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
    for args in (["encode", "--tokenizer", path, "x"], ["decode", "--tokenizer", path, "1"]):
        result = run("bpe", *args)
        assert result.exit_code == 1 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_empty_corpus(run, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing but a comment\n\n")
    result = run("bpe", "train", path)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {path}: no text to train on (the corpus is empty, has only comments, or every line weighs 0)"
    assert run("bpe", "show", "-", input="").exit_code == 1


def test_out_is_checked_before_training(run, tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": 1}')
    result = run("bpe", "train", "commands", "--out", notes)
    assert result.exit_code == 2 and "is not an lmtoy tokenizer file: not replacing it" in plain(result.stderr)
    assert notes.read_text() == '{"mine": 1}'
    result = run("bpe", "train", "commands", "--out", tmp_path)
    assert result.exit_code == 2 and "names a folder" in plain(result.stderr)
    result = run("bpe", "train", "commands", "--out", tmp_path / "no" / "such" / "tok.json")
    assert result.exit_code == 2 and "cannot write there" in plain(result.stderr)
    result = run("bpe", "train", "commands", "--out", f"{tmp_path}/newdir/")
    assert result.exit_code == 2 and "names a folder" in plain(result.stderr)


def test_out_replaces_an_earlier_tokenizer(run, wiki):
    result = run("bpe", "train", "commands", "--vocab-size", 260, "--out", wiki)
    assert result.exit_code == 0 and json.loads(wiki.read_text())["vocab_size"] == 260
    assert not list(wiki.parent.glob(".*.tmp"))


def test_progress_lines_without_a_terminal(run, monkeypatch):
    import lmtoy.cli.bpe

    monkeypatch.setattr(lmtoy.cli.bpe, "PLAIN_EVERY", 0.0)
    result = run("bpe", "train", "-", "--no-split", "--vocab-size", 259, input=WIKI)
    assert result.exit_code == 0
    assert "merge 1/3:" in result.stderr and "merge 3/3:" in result.stderr and "merges/s" in result.stderr


def test_no_color_keeps_tokens_apart(tmp_path):
    env = {"NO_COLOR": "1", "COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "lmtoy", "bpe", "show", "-", "--no-split", "--steps", "0"],
                            input=WIKI.encode(), capture_output=True, env=env)
    out = result.stdout.decode()
    assert result.returncode == 0 and "after:   aa a b d aa a b a c" in out and "\x1b[" not in out


def test_files_that_are_not_regular_are_refused_at_once(run, tmp_path):
    """/dev/full as --out and /dev/zero as a tokenizer read without end before: now one line."""
    result = run("bpe", "train", "show_me", "--vocab-size", "260", "--out", "/dev/full")
    assert result.exit_code == 2 and "not an lmtoy tokenizer file" in result.stderr
    result = run("bpe", "encode", "--tokenizer", "/dev/zero", "x")
    assert result.exit_code == 1 and "not a regular file" in result.stderr


def test_encoding_nothing_is_a_usage_error(run, tmp_path):
    out = tmp_path / "t.json"
    assert run("bpe", "train", "show_me", "--vocab-size", "260", "--out", out).exit_code == 0
    result = run("bpe", "encode", "--tokenizer", out, "")
    assert result.exit_code == 2 and "is empty" in result.stderr
