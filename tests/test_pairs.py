"""Pairs corpora (source<TAB>target lines): the Tatoeba layout, weights, comments, errors."""

from __future__ import annotations

import numpy as np
import pytest

from lmtoy.corpus import BUNDLED
from lmtoy.errors import CorpusError
from lmtoy.pairs import looks_like_pairs, parse_pairs


def test_the_docstring_example():
    """Two pairs, the second weighted 3x; each side has its own sorted vocabulary."""
    pairs = parse_pairs("Go.\tVa !\n3x Hi.\tSalut !\n", name="p")
    assert len(pairs) == 2
    assert pairs.pair(0) == (["go"], ["va"]) and pairs.pair(1) == (["hi"], ["salut"])
    assert pairs.source.vocabulary.words == ("go", "hi") and pairs.target.vocabulary.words == ("salut", "va")
    assert pairs.source.weights.tolist() == pairs.target.weights.tolist() == [1.0, 3.0]
    assert pairs.lines.tolist() == [1, 2]


def test_a_tatoeba_line_reads_as_it_is():
    """eng-fra.txt: English, French, then an attribution column that is ignored."""
    line = "I’m cold.\tJ'ai froid !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)\n"
    pairs = parse_pairs(line.encode("utf-8"), name="eng-fra.txt")
    assert pairs.pair(0) == (["i'm", "cold"], ["j'ai", "froid"])
    assert "tatoeba" not in pairs.target.vocabulary


def test_comments_blank_lines_line_breaks_and_zero_weights():
    text = "# a comment\r\n\r\n  # indented comment\ra b\tx\n0x dropped\tgone\n20% c\ty z\n"
    pairs = parse_pairs(text)
    assert [pairs.pair(i) for i in range(len(pairs))] == [(["a", "b"], ["x"]), (["c"], ["y", "z"])]
    assert pairs.lines.tolist() == [4, 6] and pairs.source.weights.tolist() == [1.0, 0.2]
    assert "dropped" not in pairs.source.vocabulary and "gone" not in pairs.target.vocabulary


def test_sentence_ends_are_dropped_inside_a_side():
    """A side is one sentence, whatever punctuation it holds (the corpus word rule)."""
    pairs = parse_pairs("Stop! Now.\tArrête ! Maintenant.\n")
    assert pairs.pair(0) == (["stop", "now"], ["arrête", "maintenant"])
    assert pairs.source.n_sentences == pairs.target.n_sentences == 1


def test_keep_case():
    assert parse_pairs("Hi Tom\tSalut Tom", keep_case=True).pair(0) == (["Hi", "Tom"], ["Salut", "Tom"])
    assert parse_pairs("Hi Tom\tSalut Tom").pair(0) == (["hi", "tom"], ["salut", "tom"])


def test_a_weight_is_read_only_at_the_start_of_a_line():
    """'3x' after a TAB is a target word; a TAB right after a weight is the weight's whitespace."""
    assert parse_pairs("go\t3x").pair(0) == (["go"], ["3x"])
    pairs = parse_pairs("3x\tgo\tva")
    assert pairs.pair(0) == (["go"], ["va"]) and pairs.source.weights.tolist() == [3.0]


@pytest.mark.parametrize("text, message", [
    ("ok\tfine\nno tab here\n", "pairs.txt: line 2: no TAB between source and target"),
    ("\tva\n", "pairs.txt: line 1: the source side has no words"),
    ("go\t\n", "pairs.txt: line 1: the target side has no words"),
    ("go\t?!\n", "pairs.txt: line 1: the target side has no words"),
    ("a\tb\n3x\n", "pairs.txt: line 2: weight '3x' is not followed by a pair"),
    ("-2x a\tb\n", "pairs.txt: line 1: weight '-2x' is negative"),
    ("", "pairs.txt: no pairs found"),
    ("# only a comment\n0x a\tb\n", "pairs.txt: no pairs found"),
    (b"a\tb\n\xff\tc\n", "pairs.txt: line 2: invalid UTF-8"),
])  # fmt: skip
def test_bad_lines_name_the_line(text, message):
    with pytest.raises(CorpusError, match=message.replace("?", r"\?")):
        parse_pairs(text, name="pairs.txt")


def test_the_bundled_pairs():
    """commands_pairs: 300 distinct requests, each with its made-up translation."""
    pairs = parse_pairs((BUNDLED / "commands_pairs.txt").read_bytes(), name="commands_pairs")
    assert len(pairs) == 300 and pairs.source.uniform
    sources = {" ".join(pairs.pair(i)[0]) for i in range(len(pairs))}
    assert len(sources) == 300
    source, target = pairs.pair(0)
    assert source == "please list me the videos".split() and target == "filmo la mi lista pu".split()
    assert max(pairs.source.lengths.max(), pairs.target.lengths.max()) + 1 <= 16  # fits the default context


def test_sides_are_aligned_with_their_ids():
    pairs = parse_pairs("a b\tx\nb\ty x\n")
    assert pairs.source.ids.tolist() == [0, 1, 1] and pairs.source.starts.tolist() == [0, 2, 3]
    assert pairs.target.ids.tolist() == [0, 1, 0] and pairs.target.starts.tolist() == [0, 1, 3]
    assert np.array_equal(pairs.source.weights, pairs.target.weights)


@pytest.mark.parametrize("text, expected", [
    ("a\tb\nc\td\ne\n", True),
    ("show me.\nfind my files\n", False),
    ("# c\td\n\na\tb\n", True),  # comments do not count
    ("a\tb\nc\nd\n", False),  # one of three
    ("", False),
    (b"\xff\tb\n", True),  # never raises on bad bytes
])  # fmt: skip
def test_looks_like_pairs(text, expected):
    assert looks_like_pairs(text) is expected
