"""Tests of lmtoy.corpus: the text format, tokens, weights, vocabulary, errors.

The property tests compare parse_corpus with ``reference_sentences``, a plain
Python reading of the format written from the rules in the README, character
by character, with no regular expression for the tokens.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy.corpus import (
    BUNDLED,
    Vocabulary,
    _token_ids,
    bundled,
    parse_corpus,
    read_corpus,
    spacing_hint,
    tokenize,
)
from lmtoy.errors import CorpusError, VocabularyError


def sentences(text: str | bytes, **options) -> list[tuple[list[str], float]]:
    """(words, weight) of every sentence of a parsed corpus."""
    corpus = parse_corpus(text, **options)
    return [(corpus.sentence(s), float(corpus.weights[s])) for s in range(corpus.n_sentences)]


def words(text: str | bytes, **options) -> list[list[str]]:
    return [w for w, _ in sentences(text, **options)]


# -- an independent reading of the format ---------------------------------------


def reference_tokens(text: str, keep_case: bool = False) -> list[str]:
    """Maximal runs of letters, digits, apostrophes and (BMP) combining marks with at least
    one letter or digit, in NFC, with the apostrophes at their edges stripped."""
    import unicodedata

    def marked(char: str) -> bool:
        return unicodedata.category(char)[0] == "M" and ord(char) < 0x10000

    tokens, run = [], ""
    for char in unicodedata.normalize("NFC", text) + " ":
        if char.isalnum() or char in "'’" or marked(char):
            run += char
        else:
            if any(c.isalnum() for c in run):
                word = run.replace("’", "'").strip("'")
                tokens.append(word if keep_case else word.lower())
            run = ""
    return tokens


def reference_weight(first: str) -> float | None:
    """The weight of a valid weight token (20%, 0.4x, 3x), None for anything else."""
    number, unit = first[:-1], first[-1:]
    digits = number.replace(".", "", 1)
    if unit not in ("%", "x", "X") or not digits.isdigit() or not digits.isascii():
        return None
    return float(number) / (100 if unit == "%" else 1)


def reference_sentences(text: str, join_lines: bool = False, keep_case: bool = False):
    """(words, weight) of every sentence, following the README's rules."""
    out, paragraph = [], []

    def prose(chunk: str) -> None:
        for end in "!?。！？．｡":
            chunk = chunk.replace(end, ".")
        for part in chunk.split("."):
            if tokens := reference_tokens(part.replace("_", " "), keep_case):
                out.append((tokens, 1.0))

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.strip()
        if line.startswith("#"):
            continue
        first, rest = (line.split(None, 1) + ["", ""])[:2]
        weight = reference_weight(first)
        if weight is None and line and join_lines:
            paragraph.append(line)
            continue
        prose(" ".join(paragraph))
        paragraph.clear()
        if weight is None:
            prose(line)
        elif weight > 0 and (tokens := reference_tokens(rest.replace("_", " "), keep_case)):
            out.append((tokens, weight))
    prose(" ".join(paragraph))
    return out


# -- the text format ------------------------------------------------------------


def test_comments_and_blank_lines_are_ignored():
    text = "# a comment\n\nShow me.\n   # indented comment\n\n\nFind it\n"
    assert words(text) == [["show", "me"], ["find", "it"]]


def test_hash_inside_a_line_is_not_a_comment():
    assert words("find #3 now") == [["find", "3", "now"]]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_breaks_end_sentences(newline):
    assert words(newline.join(["show me", "find it", "", "stop"])) == [["show", "me"], ["find", "it"], ["stop"]]


def test_sentences_end_at_full_stop_exclamation_and_question_marks():
    assert words("Show me. Find it! Where? Stop") == [["show", "me"], ["find", "it"], ["where"], ["stop"]]


@pytest.mark.parametrize("end", ["。", "！", "？", "．", "｡"])
def test_full_width_marks_end_sentences_like_ascii_ones(end):
    assert words(f"我 喜欢{end}你 好{end}") == [["我", "喜欢"], ["你", "好"]]
    assert words(f"show me{end}find it") == words("show me. find it") == [["show", "me"], ["find", "it"]]
    assert tokenize(f"show me{end} find it{end}") == ["show", "me", "find", "it"]
    assert sentences(f"20% show me{end}find it") == [(["show", "me", "find", "it"], 0.2)]  # dropped


def test_prose_sentences_weigh_one():
    assert [w for _, w in sentences("a b. c d\ne")] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "token, weight",
    [("20%", 0.2), ("0.4x", 0.4), ("3x", 3.0), ("50%", 0.5), (".5x", 0.5), ("2.%", 0.02), ("007x", 7.0)],
)
def test_weight_tokens(token, weight):
    [(found, value)] = sentences(f"{token} show me my files")
    assert found == ["show", "me", "my", "files"]
    assert value == pytest.approx(weight)


def test_a_weighted_line_is_one_sequence_even_with_full_stops():
    assert sentences("40% Check. Whether! the battery? ran down please.") == [
        (["check", "whether", "the", "battery", "ran", "down", "please"], 0.4)
    ]


def test_weights_are_kept_raw_per_sentence():
    assert [w for _, w in sentences("20% a b\n30% c d\n5x e\nf g. h")] == [0.2, 0.3, 5.0, 1.0, 1.0]


@pytest.mark.parametrize("zero", ["0%", "0x", "0.0x", "0.%"])
def test_a_zero_weight_drops_the_line(zero):
    assert words(f"20% a b\n{zero} c d\n30% e f") == [["a", "b"], ["e", "f"]]


def test_a_corpus_of_zero_weights_has_no_words():
    with pytest.raises(CorpusError, match="no words"):
        parse_corpus("0% a b\n0x c")


@pytest.mark.parametrize(
    "bad, problem",
    [("-20%", "negative"), ("1.2.3x", "not a valid weight"), ("+5%", "not a valid weight"), ("2..x", "not a valid")],
)
def test_malformed_weights_are_errors_naming_the_line(bad, problem):
    with pytest.raises(CorpusError) as error:
        parse_corpus(f"# header\n20% fine line\n{bad} some text\n")
    assert "line 3" in str(error.value)
    assert f"'{bad}'" in str(error.value)
    assert problem in str(error.value)


def test_a_weight_without_text_is_an_error_naming_the_line():
    with pytest.raises(CorpusError, match="line 2: weight '20%' is not followed by any text"):
        parse_corpus("a b\n20%\n")


@pytest.mark.parametrize("first", ["20", "x", "3xl", "20%off", "1.5", "-", "..."])
def test_words_that_are_not_weight_tokens_are_prose(first):
    assert all(w == 1.0 for _, w in sentences(f"{first} and more words"))


def test_join_lines_treats_single_line_breaks_as_spaces():
    text = "The cat\nsat down. The dog\n\nran away\n# a comment\nfast\n20% a weighted line\nthen more"
    assert words(text, join_lines=True) == [
        ["the", "cat", "sat", "down"],
        ["the", "dog"],
        ["ran", "away", "fast"],
        ["a", "weighted", "line"],
        ["then", "more"],
    ]
    assert words(text) == [
        ["the", "cat"], ["sat", "down"], ["the", "dog"], ["ran", "away"], ["fast"],
        ["a", "weighted", "line"], ["then", "more"],
    ]  # fmt: skip


# -- tokens ---------------------------------------------------------------------


def test_tokenize_example():
    assert tokenize("Don’t stop_now!") == ["don't", "stop", "now"]
    assert tokenize("Don’t stop_now, 'Kate'!") == ["don't", "stop", "now", "kate"]
    assert tokenize("'Tis rock'n'roll, dogs'!") == ["tis", "rock'n'roll", "dogs"]


@pytest.mark.parametrize("extra", ["", " é"])  # ASCII text takes a faster path
def test_quote_marks_at_word_edges_are_dropped(extra):
    """Shakespeare's 'alas, 'alas' and honest' are the words alas and honest."""
    corpus = parse_corpus("'alas' alas 'alas alas' honest' o'er don't ’tis’ ''alas''" + extra)
    assert corpus.vocabulary.words == ("alas", "don't", "honest", "o'er", "tis", *extra.split())
    assert corpus.sentence(0)[:9] == ["alas"] * 4 + ["honest", "o'er", "don't", "tis", "alas"]


def test_token_ids_docstring_example():
    found, stream = _token_ids("'Tis o'er. 'tis", keep_case=False)
    assert found == ["o'er", "tis"]
    assert stream.tolist() == [1, 0, -1, 1]


def test_curly_apostrophe_becomes_straight():
    corpus = parse_corpus("Don’t don't DON’T")
    assert corpus.vocabulary.words == ("don't",)
    assert corpus.ids.tolist() == [0, 0, 0]


def test_words_are_lower_cased_unless_keep_case():
    assert words("Show ME my Files") == [["show", "me", "my", "files"]]
    assert words("Show ME my Files", keep_case=True) == [["Show", "ME", "my", "Files"]]


def test_underscores_split_words():
    assert words("stop_now snake_case_name _x_") == [["stop", "now", "snake", "case", "name", "x"]]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rock'n'roll 'tis dogs' ''quoted''", ["rock'n'roll", "tis", "dogs", "quoted"]),
        ("don''t 'o''er' a'b'c", ["don''t", "o''er", "a'b'c"]),  # inner apostrophes stay
        ("' '' ''' a", ["a"]),  # a run of apostrophes alone is not a word
        ("'é' ’naïve’ l'été", ["é", "naïve", "l'été"]),
        ("3 files, 10.5 MB; e-mail (42)", ["3", "files", "10", "5", "mb", "e", "mail", "42"]),
        ("Éclair ÉCOLE naïve straße", ["éclair", "école", "naïve", "straße"]),
        ("日本語 テキスト", ["日本語", "テキスト"]),
    ],
)
def test_tokens_are_runs_of_letters_digits_and_apostrophes(text, expected):
    assert [t for sentence in words(text) for t in sentence] == expected
    assert tokenize(text) == expected


def test_a_byte_order_mark_is_dropped():
    assert words("\ufeffshow me".encode("utf-8")) == [["show", "me"]]


# -- vocabulary ------------------------------------------------------------------


@pytest.mark.parametrize("extra", ["", " é ä"])  # ASCII text takes a faster path
def test_vocabulary_is_sorted_by_python_string_order(extra):
    corpus = parse_corpus("b a B 10 9 Z _z a" + extra, keep_case=True)
    assert list(corpus.vocabulary.words) == sorted({"b", "a", "B", "10", "9", "Z", "z", *extra.split()})
    assert corpus.vocabulary.words[:4] == ("10", "9", "B", "Z")


def test_find_my_files_is_the_number_sequence_2_3_1():
    """Section 1: vocabulary files, find, my; "find my files" is [2, 3, 1] from one."""
    corpus = read_corpus(BUNDLED / "find_my_files.txt")
    assert corpus.vocabulary.words == ("files", "find", "my")
    assert (corpus.ids + 1).tolist() == [2, 3, 1]
    assert np.eye(3, dtype=int)[corpus.ids].tolist() == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_vocabulary_lookups_and_suggestions():
    vocabulary = Vocabulary(("battery", "program", "ran"))
    assert vocabulary.id("ran") == 2
    assert "program" in vocabulary and "x" not in vocabulary
    assert vocabulary.encode(["ran", "battery"]).tolist() == [2, 0]
    with pytest.raises(VocabularyError, match="'batery' is not in the vocabulary; did you mean battery"):
        vocabulary.encode(["batery"])


def test_corpus_layout_example():
    """The module docstring's example: ids [2, 1, 2, 0], starts [0, 2, 4]."""
    corpus = parse_corpus("20% show me.\nShow it!")
    assert corpus.vocabulary.words == ("it", "me", "show")
    assert corpus.ids.tolist() == [2, 1, 2, 0]
    assert corpus.starts.tolist() == [0, 2, 4]
    assert corpus.weights.tolist() == [0.2, 1.0]
    assert corpus.lengths.tolist() == [2, 2]
    assert corpus.sentence_of.tolist() == [0, 0, 1, 1]


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_invalid_utf8_names_the_line(newline):
    data = newline.join([b"fine", b"# comment", b"bad \xff here", b"more"])
    with pytest.raises(CorpusError, match=r"corpus.txt: line 3: invalid UTF-8 \(byte 0xff\)"):
        parse_corpus(data, name="corpus.txt")


def test_invalid_utf8_in_a_file(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("café\n".encode() + b"caf\xe9\n")
    with pytest.raises(CorpusError, match="line 2: invalid UTF-8"):
        read_corpus(path)


@pytest.mark.parametrize("text", ["", "\n\n  \n", "# only\n# comments\n", "... !? ''", "\ufeff"])
def test_a_corpus_without_words_is_an_error(text):
    with pytest.raises(CorpusError, match="no words found"):
        parse_corpus(text, name="empty.txt")


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="cannot read"):
        read_corpus(tmp_path / "missing.txt")


# -- files ----------------------------------------------------------------------


def test_read_corpus_reads_utf8_files(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# notes\n20% Café au lait.\r\nNaïve question? Yes\n", encoding="utf-8")
    corpus = read_corpus(path)
    assert corpus.name == str(path)
    assert [corpus.sentence(s) for s in range(corpus.n_sentences)] == [
        ["café", "au", "lait"], ["naïve", "question"], ["yes"]
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["show_me", "battery", "program_log", "find_my_files", "commands.txt"])
def test_bundled_corpora_parse(name):
    path = bundled(name)
    assert path is not None and path.parent == BUNDLED
    assert read_corpus(path).n_sentences >= 1


def test_bundled_looks_only_inside_the_corpora_folder():
    assert bundled("no_such_corpus") is None
    assert bundled("../corpus.py") is None


def test_commands_corpus_is_a_few_hundred_distinct_requests():
    lines = [line for line in bundled("commands").read_text().splitlines() if not line.startswith("#")]
    assert 300 <= len(lines) <= 500
    assert len(set(lines)) == len(lines)
    corpus = read_corpus(bundled("commands"))
    assert corpus.n_sentences == len(lines)
    assert corpus.uniform


# -- properties -----------------------------------------------------------------

_CHARS = "abcAB'’_ .!?,;\t\r\n#%x0123-é日。！"
_texts = st.text(alphabet=_CHARS, max_size=80)


@settings(max_examples=300, deadline=None)
@given(text=_texts, join_lines=st.booleans(), keep_case=st.booleans())
def test_parse_matches_the_reference_reading(text, join_lines, keep_case):
    expected = reference_sentences(text, join_lines, keep_case)
    try:
        found = sentences(text, join_lines=join_lines, keep_case=keep_case)
    except CorpusError as error:
        assert "no words found" in str(error) or "weight" in str(error)
        if "no words found" in str(error):
            assert expected == []
        return
    assert [w for w, _ in found] == [w for w, _ in expected]
    assert [w for _, w in found] == pytest.approx([w for _, w in expected])


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="abAB'’_ .!?,\n0é", max_size=60))
def test_ascii_fast_path_agrees_with_tokenize(text):
    """parse_corpus has its own path for ASCII text; tokenize always uses the regex."""
    try:
        corpus = parse_corpus(text)
    except CorpusError:
        assert tokenize(text) == []
        return
    assert [corpus.vocabulary.words[i] for i in corpus.ids] == tokenize(text)
    assert list(corpus.vocabulary.words) == sorted(set(tokenize(text)))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="abAB0'_ .!?,;-\n", max_size=80), keep_case=st.booleans())
def test_ascii_fast_path_agrees_with_the_regex_path(text, keep_case):
    """The bytes.translate path and the Unicode regex path give the same words and stream.

    Appending a line break and "é" sends the same text down the regex path; "é" sorts
    after every ASCII word, so the other ids are unchanged."""
    found, stream = _token_ids(text, keep_case)
    found_u, stream_u = _token_ids(text + "\né", keep_case)
    assert found_u == found + ["é"]
    assert stream_u.tolist() == stream.tolist() + [-2, len(found)]
    expected = reference_tokens(text.replace("_", " "), keep_case)
    assert [found[i] for i in stream if i >= 0] == tokenize(text, keep_case) == expected


# -- text without spaces -----------------------------------------------------------------

_CHINESE = "我喜欢学习中文。今天天气很好！你吃饭了吗？"
_JAPANESE = "私は学生です。東京に住んでいます。日本語を勉強しています。"


@pytest.mark.parametrize("text", [_CHINESE, _JAPANESE, _CHINESE + " Hello there. " + _JAPANESE])
def test_unspaced_text_gets_a_hint(text):
    hint = spacing_hint(parse_corpus(text))
    assert hint is not None and "\n" not in hint
    assert "unspaced" in hint and "put spaces between the words" in hint


@pytest.mark.parametrize(
    "text",
    [
        "the cat sat on the mat. the dog ran away!",
        "tôi yêu hà nội. hôm nay trời đẹp",
        "मैं हिन्दी बोलता हूँ। यह मेरा घर है",
        "я люблю москву. сегодня хорошая погода",
        "나는 한국어를 공부합니다. 오늘 날씨가 좋습니다",  # Korean is written with spaces
        "我 喜欢 学习 中文。今天 天气 很 好！",  # Chinese segmented into words
        "東京 and 大阪 are big cities in Japan. 日本語 is fun",
        "an English book that quotes one line: 我喜欢学习中文。",
    ],
)
def test_spaced_text_gets_no_hint(text):
    assert spacing_hint(parse_corpus(text)) is None


def test_spacing_hint_rule_thresholds():
    """At least half the word characters in CJK words, averaging more than 4 characters."""
    assert spacing_hint(parse_corpus("中文中文")) is None  # 4 characters: not more than 4
    assert spacing_hint(parse_corpus("中文中文中")) is not None
    assert spacing_hint(parse_corpus("中文中文中 abcde")) is not None  # half the characters
    assert spacing_hint(parse_corpus("中文中文中 abcdef")) is None


# -- later additions: marks, weights, encodings ------------------------------------------


def test_combining_marks_stay_in_their_word():
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Naïve résumé, naïve")
    assert tokenize(decomposed) == ["naïve", "résumé", "naïve"]  # NFC: one word type
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]


@pytest.mark.parametrize("line, weight", [("3X show me", 3.0), ("20% show me", 0.2)])
def test_weight_units(line, weight):
    corpus = parse_corpus(line)
    assert corpus.weights.tolist() == [weight]


@pytest.mark.parametrize("line, message", [
    ("1,5x show", "line 1: weight '1,5x' is not a valid weight"),
    ("9" * 400 + "x show", "is too large"),
])
def test_bad_weights(line, message):
    with pytest.raises(CorpusError, match=message):
        parse_corpus(line)


def test_utf16_is_named():
    with pytest.raises(CorpusError, match="UTF-16"):
        parse_corpus("hello there".encode("utf-16"))


def test_all_zero_weights():
    with pytest.raises(CorpusError, match="every line weighs 0"):
        parse_corpus("0% a b\n0x c d")


def test_require_names_every_unknown_word():
    vocab = Vocabulary(("battery", "ran"))
    vocab.require(["ran", "battery"])  # all known: nothing happens
    with pytest.raises(VocabularyError, match=r"not in the vocabulary: 'batery'; did you mean battery\?"):
        vocab.require(["batery", "ran"])
    with pytest.raises(VocabularyError, match="'x', 'y' \\(advice\\)"):
        vocab.require(["x", "ran", "y"], " (advice)")


def test_unknown_words_are_named_once():
    from lmtoy.corpus import Vocabulary
    from lmtoy.errors import VocabularyError

    with pytest.raises(VocabularyError) as error:
        Vocabulary(("a", "b")).require(["zebra", "zebra", "foo", "a"])
    assert str(error.value) == "not in the vocabulary: 'zebra', 'foo'"
