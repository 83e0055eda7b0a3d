"""Labelled lines (fastText's convention): labels, weights, texts, and errors that name the line."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from lmtoy.corpus import parse_weight, text_lines
from lmtoy.errors import CorpusError
from lmtoy.labelled import parse_labelled

INTENTS = Path(__file__).parent.parent / "lmtoy" / "corpora" / "intents.txt"


def sentences(labelled) -> list[str]:
    return [" ".join(labelled.text.sentence(s)) for s in range(labelled.text.n_sentences)]


def test_the_docstring_example():
    """Two lines: labels sorted (battery 0, files 1); the weight 2x begins the second line,
    and its '.' is dropped, as in any weighted line."""
    labelled = parse_labelled("__label__files find my photos\n2x __label__battery check the battery.\n")
    assert sentences(labelled) == ["find my photos", "check the battery"]
    assert labelled.labels == ("battery", "files")
    assert labelled.label_ids.tolist() == [1, 0]
    assert labelled.text.weights.tolist() == [1.0, 2.0]
    assert labelled.lines.tolist() == [1, 2]


def test_a_weight_after_the_labels_fasttexts_order():
    labelled = parse_labelled("__label__a 3x one two\n__label__b 20% three")
    assert labelled.text.weights.tolist() == [3.0, 0.2]
    assert sentences(labelled) == ["one two", "three"]


def test_the_first_label_counts_and_the_others_are_read_past():
    labelled = parse_labelled("__label__a __label__b __label__c x y\n__label__b z")
    assert labelled.labels == ("a", "b")
    assert labelled.label_ids.tolist() == [0, 1]
    assert sentences(labelled) == ["x y", "z"]


def test_comments_blank_lines_zero_weights_and_line_numbers():
    text = "# intents\n\n__label__a one\n0x __label__c dropped\n__label__a 0% dropped too\n\n__label__b two\n"
    labelled = parse_labelled(text)
    assert sentences(labelled) == ["one", "two"]
    assert labelled.labels == ("a", "b")  # c's only line weighs 0: no class c
    assert labelled.lines.tolist() == [3, 7]


def test_a_line_is_one_sequence_and_words_are_read_as_in_a_corpus():
    labelled = parse_labelled("__label__Q Don't stop. Go on!\r\n__label__A 'Tis rock'n'roll?\r")
    assert sentences(labelled) == ["don't stop go on", "tis rock'n'roll"]
    assert labelled.labels == ("A", "Q")  # label names keep their case
    assert sentences(parse_labelled("\ufeff__label__a Big\n__label__b Small", keep_case=True)) == ["Big", "Small"]


def test_bytes_are_utf8():
    labelled = parse_labelled("__label__café naïve crème\n__label__b x".encode(), name="f.txt")
    assert labelled.labels == ("b", "café") and sentences(labelled)[0] == "naïve crème"
    assert labelled.name == "f.txt"


def test_one_label_is_enough_to_evaluate():
    assert parse_labelled("__label__a x\n__label__a y", min_labels=1).labels == ("a",)


@pytest.mark.parametrize(("text", "message"), [
    ("__label__a x\nfind my photos\n", "f.txt: line 2: no __label__ at the start (expected e.g. '__label__files find my photos', got 'find my photos')"),
    ("__label__a x\n__label__a y\n", "f.txt: needs at least two labels to tell apart, but every line is '__label__a'"),
    ("__label__a\n__label__b x", "f.txt: line 1: no words after '__label__a' (a labelled line needs a text)"),
    ("__label__a ... !\n__label__b x", "f.txt: line 1: no words after '__label__a'"),
    ("__label__ x\n", "f.txt: line 1: '__label__' has no name after it"),
    ("-2% __label__a x\n", "f.txt: line 1: weight '-2%' is negative"),
    ("__label__a x\n__label__b 1.2.3x y\n", "f.txt: line 2: weight '1.2.3x' is not a valid weight"),
    ("3x\n", "f.txt: line 1: weight '3x' is not followed by a label and a text"),
    ("3x find __label__a\n", "f.txt: line 1: no __label__ at the start"),
    ("label__a x\n", "f.txt: line 1: no __label__ at the start"),
    ("", "f.txt: no labelled lines found"),
    ("# only a comment\n\n0x __label__a x\n", "f.txt: no labelled lines found"),
    (b"__label__a x\n__label__b \xff\n", "f.txt: line 2: invalid UTF-8 (byte 0xff)"),
])  # fmt: skip
def test_bad_input_is_one_error_naming_the_line(text, message):
    with pytest.raises(CorpusError) as error:
        parse_labelled(text, name="f.txt")
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_the_corpus_helpers_it_shares():
    assert text_lines(b"\xef\xbb\xbfa\r\nb\rc\n", "x") == ["a", "b", "c", ""]
    assert parse_weight("20%", 1) == 0.2 and parse_weight("3x", 1) == 3.0 and parse_weight("find", 1) is None
    with pytest.raises(CorpusError, match="line 4: weight '-1x' is negative"):
        parse_weight("-1x", 4)


def test_the_bundled_intents():
    """300 requests, 50 for each of six intents, no text under two labels."""
    labelled = parse_labelled(INTENTS.read_bytes(), name=str(INTENTS))
    assert labelled.labels == ("battery", "calendar", "files", "music", "network", "weather")
    assert np.bincount(labelled.label_ids).tolist() == [50] * 6
    seen = defaultdict(set)
    for text, label in zip(sentences(labelled), labelled.label_ids):
        seen[text].add(label)
    assert len(seen) == 300 and all(len(labels) == 1 for labels in seen.values())
