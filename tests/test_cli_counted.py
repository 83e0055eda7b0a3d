"""The worked examples of sections 1-4, asserted through the CLI's JSON output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from conftest import cell, plain


# Section 1 ---------------------------------------------------------------------------------


def test_onehot_find_my_files(run_json):
    """Vocabulary (files, find, my): 'find my files' -> [2, 3, 1] and rows [[0,1,0],[0,0,1],[1,0,0]]."""
    data = run_json("onehot", "Find my files")
    assert data["vocabulary"] == ["files", "find", "my"]
    assert data["indices"] == [2, 3, 1]
    assert data["onehot"] == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_onehot_dot_products(run_json):
    """A one-hot row dotted with itself is 1, with another 0; with a mix, the word's weight."""
    data = run_json("onehot", "directories files photos please", "--corpus", "show_me",
                    "--mix", "directories=0.2,files=0.3,photos=0.5")
    assert data["dot"] == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    assert data["mix_dot"] == [0.2, 0.3, 0.5, 0.0]


def test_onehot_lookup_pulls_rows_1_4_3(run_json):
    """One-hot rows with their 1 in columns 1, 4, 3 pull out rows 1, 4, 3 of the matrix."""
    data = run_json("onehot", "directories my me", "--corpus", "show_me", "--lookup")
    matrix = run_json("first-order", "show_me")["values"]
    assert data["indices"] == [1, 4, 3]
    assert data["lookup"]["values"] == [matrix[0], matrix[3], matrix[2]]


# Section 2 ---------------------------------------------------------------------------------

SHOW_ME_VOCAB = ["directories", "files", "me", "my", "photos", "please", "show"]


def test_first_order_show_me(run_json):
    data = run_json("first-order", "show_me")
    assert data["model"] == "first-order"
    assert data["vocabulary"] == data["rows"] == data["columns"] == SHOW_ME_VOCAB
    expected = {"my": {"directories": 0.2, "files": 0.3, "photos": 0.5}, "show": {"me": 1}, "me": {"my": 1},
                "directories": {"please": 1}, "files": {"please": 1}, "photos": {"please": 1}, "please": {}}
    for row, nexts in expected.items():
        for column in SHOW_ME_VOCAB:
            assert cell(data, row, column) == pytest.approx(nexts.get(column, 0), abs=1e-12), (row, column)


def test_first_order_lookup_my(run_json):
    """one-hot(my) times the matrix gives exactly the row of my."""
    data = run_json("first-order", "show_me", "--word", "my")
    assert data["rows"] == ["my"]
    assert data["onehot"] == [0, 0, 0, 1, 0, 0, 0]
    assert data["values"] == [[0.2, 0.3, 0, 0, 0.5, 0, 0]]


# Section 3 ---------------------------------------------------------------------------------


def test_first_order_battery_contrast(run_json):
    data = run_json("first-order", "battery")
    assert cell(data, "ran", "down") == pytest.approx(0.4) and cell(data, "ran", "please") == pytest.approx(0.6)
    assert cell(data, "the", "battery") == pytest.approx(0.4) and cell(data, "the", "program") == pytest.approx(0.6)


def test_second_order_battery(run_json):
    data = run_json("second-order", "battery")
    assert len(data["vocabulary"]) == 8
    assert data["observed_rows"] == len(data["rows"]) == 7
    assert data["possible_rows"] == 64
    assert cell(data, ["whether", "the"], "battery") == pytest.approx(0.4)
    assert cell(data, ["whether", "the"], "program") == pytest.approx(0.6)
    assert cell(data, ["battery", "ran"], "down") == 1
    assert cell(data, ["program", "ran"], "please") == 1
    fractional = [r for r, row in zip(data["rows"], data["values"]) if any(0 < v < 1 for v in row)]
    assert fractional == [["whether", "the"]]


def test_all_rows_respects_max_rows(run):
    out = run("second-order", "battery", "--all-rows", "--max-rows", "10").stdout
    assert "54 rows" in out


def test_second_order_one_row_and_all_rows(run_json):
    one = run_json("second-order", "battery", "--words", "battery ran")
    assert one["rows"] == [["battery", "ran"]] and cell(one, ["battery", "ran"], "down") == 1
    every = run_json("second-order", "battery", "--all-rows")
    assert len(every["rows"]) == 64 and sum(any(row) for row in every["values"]) == 7


def test_second_order_all_rows_refused_when_huge(run, tmp_path):
    text = " ".join(f"w{i}" for i in range(200)) + "."
    path = tmp_path / "wide.txt"
    path.write_text(text)
    result = run("second-order", path, "--all-rows")
    assert result.exit_code == 1
    assert "40,000 pair rows" in result.stderr and "Traceback" not in result.stderr


# Section 4 ---------------------------------------------------------------------------------


def test_skips_program_log(run_json):
    data = run_json("skips", "program_log")
    assert len(data["vocabulary"]) == 13
    assert data["observed_rows"] == len(data["rows"]) == 64


def test_skips_ran_features(run_json):
    data = run_json("skips", "program_log", "--word", "ran")
    earlier = [row[0] for row in data["rows"]]
    assert all(row[1] == "ran" for row in data["rows"]) and len(earlier) == 10
    assert cell(data, ["battery", "ran"], "down") == 1 and cell(data, ["battery", "ran"], "please") == 0
    assert cell(data, ["program", "ran"], "down") == 0 and cell(data, ["program", "ran"], "please") == 1
    for word in ["check", "the", "log", "and", "find", "out", "whether", "it"]:
        assert cell(data, [word, "ran"], "down") == 0.5 and cell(data, [word, "ran"], "please") == 0.5


def test_skips_presence_not_count(run_json):
    """'a' seen twice before 'c' activates (a, c) once: the row has one count, not two."""
    data = run_json("skips", input="a a c x. a c y.")
    assert cell(data, ["a", "c"], "x") == 0.5 and cell(data, ["a", "c"], "y") == 0.5


def test_skips_window(run_json):
    data = run_json("skips", "program_log", "--word", "ran", "--window", "2")
    assert data["window"] == 2
    assert sorted(row[0] for row in data["rows"]) == ["it", "whether"]


# Counts against an independent Counter, stdin included ------------------------------------

PROSE = """The cat sat on the mat. The dog sat on the log!
Did the cat see the dog? The dog ran
the cat ran away."""


def _counter_first_order(text: str) -> dict:
    import re

    pairs = Counter()
    for sentence in re.split(r"[.!?\n]", text.lower()):
        words = re.findall(r"[a-z']+", sentence)
        pairs.update(zip(words, words[1:]))
    totals = Counter()
    for (a, _), n in pairs.items():
        totals[a] += n
    return {(a, b): n / totals[a] for (a, b), n in pairs.items()}


@pytest.mark.parametrize("via", ["file", "stdin", "dash"])
def test_first_order_matches_counter(run, tmp_path, via):
    path = tmp_path / "prose.txt"
    path.write_text(PROSE)
    args = {"file": [path], "stdin": [], "dash": ["-"]}[via]
    result = run("first-order", *args, "--format", "json", input=None if via == "file" else PROSE)
    data = json.loads(result.stdout)
    expected = _counter_first_order(PROSE)
    for a in data["rows"]:
        for b in data["columns"]:
            assert cell(data, a, b) == pytest.approx(expected.get((a, b), 0), abs=1e-12)


# Formats -----------------------------------------------------------------------------------


def test_csv_tsv_markdown(run):
    csv_out = run("second-order", "battery", "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "previous,recent,battery,check,down,please,program,ran,the,whether"
    assert "whether,the,0.4,0,0,0,0.6,0,0,0" in csv_out
    tsv = run("first-order", "show_me", "--format", "tsv").stdout.splitlines()
    assert tsv[4] == "my\t0.2\t0.3\t0\t0\t0.5\t0\t0"
    md = run("first-order", "show_me", "--format", "markdown").stdout
    assert "| my | 0.2 | 0.3 | 0 | 0 | 0.5 | 0 | 0 |" in md


def test_sparse_records(run):
    out = run("second-order", "battery", "--format", "csv", "--sparse").stdout.splitlines()
    assert out[0] == "previous,recent,column,value" and len(out) == 1 + 8  # a pair takes two fields
    data = json.loads(run("second-order", "battery", "--format", "json", "--sparse").stdout)
    assert [["whether", "the"], "battery", 0.4] in data["records"]


def test_table_fits_80_columns(run):
    for args in (["skips", "program_log"], ["first-order", "show_me", "--word", "my"], ["tour"]):
        out = run(*args).stdout
        assert max(len(line) for line in out.splitlines()) <= 80, args


def test_table_notes_hidden_rows(run):
    out = run("skips", "program_log", "--max-rows", "5").stdout
    assert "59 rows and" in out and "hidden to fit" in out


def test_svg(run, tmp_path):
    path = tmp_path / "m.svg"
    assert run("first-order", "show_me", "--svg", path).exit_code == 0
    root = ET.fromstring(path.read_bytes())  # well-formed, light, frameless, the numbers as text
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and "directories" in path.read_text()
    assert "0.2" in path.read_text() and "#ffffff" in path.read_text() and "http://" not in path.read_text().replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    other = tmp_path / "j.svg"
    assert run("first-order", "show_me", "--svg", other, "--format", "json").stdout.startswith("{")
    assert other.read_text().startswith("<?xml")


def test_svg_unwritable_fails_before_output(run, tmp_path):
    result = run("first-order", "show_me", "--svg", tmp_path / "no" / "such" / "dir.svg")
    assert result.exit_code == 1 and result.stdout == "" and "cannot write" in result.stderr


def test_version(run):
    from lmtoy import __version__

    assert run("--version").stdout.strip() == f"lmtoy {__version__}"


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, input, code, message",
    [
        (["first-order", "missing.txt"], None, 2, "does not exist"),
        (["first-order", "show_me", "--format", "xml"], None, 2, "xml"),
        (["first-order", "show_me", "--word", "mine"], None, 1, "'mine' is not in the vocabulary; did you mean"),
        (["second-order", "battery", "--words", "battery"], None, 2, "give two"),
        (["second-order", "battery", "--words", "ran battery"], None, 1, "never observed"),
        (["skips", "-"], "", 1, "no words"),
        (["skips", "-"], "# only a comment\n\n", 1, "no words"),
        (["skips", "-"], "ok.\n-20% bad weight\n", 1, "line 2: weight '-20%' is negative"),
        (["skips", "-"], "1.2.3x bad\n", 1, "line 1: weight '1.2.3x'"),
        (["skips", "program_log", "--window", "0"], None, 2, "--window"),
        (["first-order", "show_me", "--sparse"], None, 2, "--sparse"),
        (["first-order", "show_me", "--word", "my files"], None, 2, "give one"),
        (["onehot", "my files", "--corpus", "show_me", "--mix", "files=nan"], None, 2, "finite weight"),
    ],
)
def test_bad_input(run, args, input, code, message):
    result = run(*args, input=input)
    assert result.exit_code == code
    assert message in plain(result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_invalid_utf8_names_line(run, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine line\nsecond\n\xff\xfe broken\n")
    result = run("first-order", path)
    assert result.exit_code == 1 and "line 3: invalid UTF-8" in result.stderr


def test_directory_is_usage_error(run, tmp_path):
    result = run("skips", tmp_path)
    assert result.exit_code == 2 and "is a directory" in plain(result.stderr)




# Views must not mislead; one schema for delimited output -----------------------------------


def test_rows_chosen_by_word_are_not_called_truncated(run):
    out = " ".join(run("skips", "program_log", "--word", "ran").stdout.split())
    assert "54 rows not chosen (--word ran picks the features whose most recent word is 'ran')" in out
    assert "showing 10 of" not in out
    out = " ".join(run("skips", "program_log", "--max-rows", "5").stdout.split())
    assert "limited by --max-rows 5 (--max-rows 0 shows all)" in out


def test_pair_labels_take_two_fields_in_sparse_records_too(run):
    tsv = run("second-order", "battery", "--format", "tsv", "--sparse").stdout.splitlines()
    assert tsv[0] == "previous\trecent\tcolumn\tvalue" and "battery\tran\tdown\t1" in tsv
    csv_out = run("skips", "program_log", "--word", "ran", "--format", "csv", "--sparse").stdout.splitlines()
    assert csv_out[0] == "earlier,recent,column,value" and "battery,ran,down,1" in csv_out
    assert run("first-order", "show_me", "--format", "csv", "--sparse").stdout.splitlines()[0] == "word,column,value"


def test_csv_row_header_does_not_collide_with_a_word(run):
    out = run("first-order", "-", "--format", "csv", input="a word here. here a word.").stdout.splitlines()
    assert out[0] == "word label,a,here,word"


def test_onehot_vocabulary_table_shows_the_prompt_words(run):
    out = run("onehot", "show me my files", "--corpus", "commands").stdout
    vocabulary_header = out.splitlines()[1].split()
    assert {"show", "me", "my", "files"} <= set(vocabulary_header)


def test_too_many_cells_with_word_suggests_sparse(run, tmp_path):
    path = tmp_path / "wide.txt"
    path.write_text("\n".join(f"w{i} x z." for i in range(3500)))
    result = run("skips", path, "--word", "x", "--format", "csv")
    assert result.exit_code == 1 and "--sparse" in result.stderr and "--word" not in result.stderr
