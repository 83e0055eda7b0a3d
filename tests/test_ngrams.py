"""Tests of lmtoy.ngrams: the worked examples of sections 2-4, and a Counter reference.

``reference_counts`` is the plain-Python definition of the three models: a loop
over each sentence adding its weight to a ``collections.Counter`` for every
(word, next), (a, b, next) and (earlier, recent, next) event, a skip feature
being the *set* of earlier words (presence, not count).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy import ngrams
from lmtoy.corpus import BUNDLED, parse_corpus, read_corpus
from lmtoy.errors import CorpusError, VocabularyError
from lmtoy.ngrams import KINDS, build, first_order, lookup, second_order, skips

PROSE = """\
The old man walked to the station. He waited for the train, and the train was late!
Was the train late again? The old man asked the driver why the train was late.
The driver said the battery ran down. The old man laughed and the driver laughed
too. Then the train left the station and the old man went home
"""

WEIGHTED = """\
# relative weights on some lines, prose on others
20% Check whether the battery ran down please.
0.4x Check whether the program ran please.
3x show me my files. show me my photos
Show me my photos please! Find my files.
0% this line is dropped
"""


def reference_counts(sentences, weights, window=None) -> dict[str, Counter]:
    """Weighted event counts of each model, by plain loops over the sentences."""
    counts = {kind: Counter() for kind in KINDS}
    for s, weight in zip(sentences, weights):
        for i in range(len(s) - 1):
            counts["first-order"][s[i], s[i + 1]] += weight
        for i in range(len(s) - 2):
            counts["second-order"][s[i], s[i + 1], s[i + 2]] += weight
        for i in range(1, len(s) - 1):
            for earlier in set(s[0 if window is None else max(0, i - window) : i]):
                counts["skips"][earlier, s[i], s[i + 1]] += weight
    return counts


def model_counts(model) -> dict[tuple[str, ...], float]:
    """{(key words..., next word): weighted count} of every stored entry."""
    words = model.vocabulary.words
    out = {}
    for r in range(model.n_rows):
        key = tuple(words[i] for i in model.keys[r])
        for e in range(model.indptr[r], model.indptr[r + 1]):
            out[(*key, words[model.cols[e]])] = float(model.counts[e])
    return out


def row_of(model, *words: str) -> dict[str, float]:
    """The non-zero entries of a row, by next word."""
    row = model.row(lookup(model, list(words)))
    return {model.vocabulary.words[i]: float(row[i]) for i in np.flatnonzero(row)}


def prose_sentences(text: str) -> list[list[str]]:
    """Sentences of plain ASCII prose: split at line breaks and . ! ?, lower-cased words."""
    parts = (part for line in text.splitlines() for part in re.split(r"[.!?]", line))
    return [words for part in parts if (words := re.findall(r"[a-z0-9']+", part.lower()))]


# -- section 2: first-order -----------------------------------------------------


@pytest.fixture(scope="module")
def show_me():
    return first_order(read_corpus(BUNDLED / "show_me.txt"))


def test_show_me_vocabulary_and_matrix(show_me):
    """Section 2: the 7x7 matrix is 0/1 except the row of my: 0.2 / 0.3 / 0.5."""
    words = ("directories", "files", "me", "my", "photos", "please", "show")
    assert show_me.vocabulary.words == words
    expected = np.zeros((7, 7))
    for a, b in [("directories", "please"), ("files", "please"), ("photos", "please"), ("show", "me"), ("me", "my")]:
        expected[words.index(a), words.index(b)] = 1
    expected[3, [0, 1, 4]] = [0.2, 0.3, 0.5]
    assert show_me.dense() == pytest.approx(expected)
    assert row_of(show_me, "my") == pytest.approx({"directories": 0.2, "files": 0.3, "photos": 0.5})


def test_please_has_an_all_zero_row(show_me):
    please = lookup(show_me, ["please"])
    assert show_me.row(please).tolist() == [0.0] * 7
    assert show_me.row_totals[please] == 0


def test_one_hot_times_the_matrix_pulls_out_the_row(show_me):
    """Section 2: one-hot(my) times the transition matrix is exactly the row of my."""
    my = show_me.vocabulary.id("my")
    one_hot = np.eye(7)[my]
    assert (one_hot @ show_me.dense()).tolist() == show_me.row(my).tolist()


def test_weights_are_relative():
    percent = first_order(parse_corpus("20% show me my directories\n30% show me my files\n50% show me my photos"))
    times = first_order(parse_corpus("2x show me my directories\n3x show me my files\n5x show me my photos"))
    assert times.values == pytest.approx(percent.values)
    assert row_of(times, "my") == pytest.approx({"directories": 0.2, "files": 0.3, "photos": 0.5})


# -- section 3: second-order ----------------------------------------------------


@pytest.fixture(scope="module")
def battery():
    return read_corpus(BUNDLED / "battery.txt")


def test_battery_first_order_for_contrast(battery):
    model = first_order(battery)
    assert row_of(model, "ran") == pytest.approx({"down": 0.4, "please": 0.6})
    assert row_of(model, "the") == pytest.approx({"battery": 0.4, "program": 0.6})


def test_battery_second_order_has_7_of_64_rows(battery):
    """Section 3: N = 8 words, 64 possible pair rows, 7 observed."""
    model = second_order(battery)
    assert len(model.vocabulary) == 8
    assert (model.n_rows, model.possible_rows) == (7, 64)
    assert {tuple(model.label(r)) for r in range(model.n_rows)} == {
        ("check", "whether"), ("whether", "the"), ("the", "battery"), ("the", "program"),
        ("battery", "ran"), ("program", "ran"), ("ran", "down"),
    }  # fmt: skip


def test_battery_second_order_rows(battery):
    """Only (whether, the) has fractions; (battery, ran) -> down, (program, ran) -> please."""
    model = second_order(battery)
    assert row_of(model, "whether", "the") == pytest.approx({"battery": 0.4, "program": 0.6})
    assert row_of(model, "battery", "ran") == {"down": 1.0}
    assert row_of(model, "program", "ran") == {"please": 1.0}
    fractional = [model.label(r) for r in range(model.n_rows) if np.any(model.row(r) % 1)]
    assert fractional == [["whether", "the"]]


def test_an_unobserved_pair_is_a_vocabulary_error(battery):
    model = second_order(battery)
    assert model.find((0, 0)) is None
    with pytest.raises(VocabularyError, match="never observed"):
        lookup(model, ["please", "check"])
    with pytest.raises(VocabularyError, match="not in the vocabulary"):
        lookup(model, ["battery", "rna"])


# -- section 4: skips -----------------------------------------------------------


@pytest.fixture(scope="module")
def program_log():
    corpus = read_corpus(BUNDLED / "program_log.txt")
    return corpus, skips(corpus)


def test_program_log_has_13_words_and_64_features(program_log):
    """Section 4: N = 13, the longest sentence has n = 12 words, 64 feature rows."""
    corpus, model = program_log
    assert len(corpus.vocabulary) == 13
    assert corpus.lengths.max() == 12
    assert model.n_rows == 64
    assert model.window is None


def test_the_ten_ran_features(program_log):
    """Section 4: (battery, ran) -> down, (program, ran) -> please, eight others 0.5 / 0.5."""
    _, model = program_log
    rows = model.rows_with_recent(model.vocabulary.id("ran"))
    assert len(rows) == 10
    for r in rows:
        earlier, recent = model.label(r)
        assert recent == "ran"
        expected = {"battery": {"down": 1.0}, "program": {"please": 1.0}}.get(earlier, {"down": 0.5, "please": 0.5})
        assert row_of(model, earlier, "ran") == expected
    assert sorted(model.label(r)[0] for r in rows) == sorted(
        ["battery", "program", "check", "the", "log", "and", "find", "out", "whether", "it"]
    )


@pytest.mark.parametrize("prompt, down, please", [("program", 4, 5), ("battery", 5, 4)])
def test_feature_votes(program_log, prompt, down, please):
    """Section 4: summing the rows of the active features gives down 4 / please 5 and back."""
    _, model = program_log
    words = f"check the {prompt} log and find out whether it ran".split()
    total = sum(model.row(lookup(model, [earlier, "ran"])) for earlier in set(words[:-1]))
    ids = model.vocabulary.id
    assert (total[ids("down")], total[ids("please")]) == pytest.approx((down, please))


def test_a_feature_is_a_presence_not_a_count():
    """In "a b a c d", a is seen twice before c but (a, c) counts its next word once."""
    model = skips(parse_corpus("a b a c d"))
    assert model_counts(model) == {
        ("a", "b", "a"): 1.0,  # at b: earlier {a}
        ("a", "a", "c"): 1.0,  # at the second a: earlier {a, b}
        ("b", "a", "c"): 1.0,
        ("a", "c", "d"): 1.0,  # at c: earlier {a, b}, a only once
        ("b", "c", "d"): 1.0,
    }


def test_a_window_limits_how_far_back_features_reach():
    """With window 2, at d (position 3) the earlier words are b and c, not a."""
    model = skips(parse_corpus("a b c d e"), window=2)
    assert set(model_counts(model)) == {
        ("a", "b", "c"), ("a", "c", "d"), ("b", "c", "d"), ("b", "d", "e"), ("c", "d", "e")
    }  # fmt: skip
    assert model.window == 2


def test_a_word_inside_the_window_counts_once():
    model = skips(parse_corpus("a x a y z"), window=3)
    assert {k: v for k, v in model_counts(model).items() if k[1] == "y"} == {("a", "y", "z"): 1.0, ("x", "y", "z"): 1.0}


@pytest.mark.parametrize("window", [0, -3])
def test_a_window_below_one_is_an_error(window):
    with pytest.raises(CorpusError, match="window must be at least 1"):
        skips(parse_corpus("a b c"), window=window)


def test_build_dispatches_by_kind(battery):
    for kind in KINDS:
        model = build(kind, battery, window=4)
        assert model.kind == kind
        assert model.keys.shape[1] == (1 if kind == "first-order" else 2)


@pytest.mark.parametrize("text", ["a b. c. d e", "20% a\n30% b"])
def test_short_sentences_have_no_pair_rows(text):
    corpus = parse_corpus(text)
    assert second_order(corpus).n_rows == 0
    assert skips(corpus).n_rows == 0
    assert first_order(corpus).n_rows == len(corpus.vocabulary)


# -- against the Counter reference ----------------------------------------------


@pytest.mark.parametrize("window", [None, 1, 3])
def test_prose_counts_match_counter(window):
    sentences = prose_sentences(PROSE)
    expected = reference_counts(sentences, [1.0] * len(sentences), window)
    corpus = parse_corpus(PROSE)
    for kind in KINDS:
        assert model_counts(build(kind, corpus, window)) == dict(expected[kind]), kind


def test_bundled_commands_counts_match_counter():
    path = BUNDLED / "commands.txt"
    sentences = prose_sentences("\n".join(line for line in path.read_text().splitlines() if line[:1] != "#"))
    expected = reference_counts(sentences, [1.0] * len(sentences))
    corpus = read_corpus(path)
    for kind in KINDS:
        assert model_counts(build(kind, corpus)) == dict(expected[kind]), kind


def test_weighted_counts_match_counter():
    sentences = [
        ("check whether the battery ran down please", 0.2),
        ("check whether the program ran please", 0.4),
        ("show me my files show me my photos", 3.0),
        ("show me my photos please", 1.0),
        ("find my files", 1.0),
    ]
    expected = reference_counts([s.split() for s, _ in sentences], [w for _, w in sentences])
    corpus = parse_corpus(WEIGHTED)
    for kind in KINDS:
        assert model_counts(build(kind, corpus)) == pytest.approx(dict(expected[kind]), rel=1e-12), kind


@pytest.mark.parametrize("text", [PROSE, WEIGHTED])
def test_batches_do_not_change_the_skip_model(monkeypatch, text):
    """Skip events are counted in batches of about _CHUNK; tiny batches give the same model."""
    corpus = parse_corpus(text)
    whole = {window: skips(corpus, window) for window in (None, 2)}
    monkeypatch.setattr(ngrams, "_CHUNK", 5)
    for window, expected in whole.items():
        batched = skips(corpus, window)
        for field in ("keys", "indptr", "cols", "counts"):
            assert np.array_equal(getattr(batched, field), getattr(expected, field)), field


def test_batches_cut_on_word_boundaries(monkeypatch):
    """A batch starts at the word holding every _CHUNK-th event (events 0 and 4 here)."""
    monkeypatch.setattr(ngrams, "_CHUNK", 4)
    assert ngrams._batches(np.array([0, 1, 1, 2]), np.array([3, 1, 1, 3])) == [(0, 1), (1, 4)]
    assert ngrams._batches(np.array([0, 0, 1]), np.array([5, 5, 1])) == [(0, 3)]
    assert ngrams._batches(np.array([0, 1]), np.array([1, 10])) == [(0, 1), (1, 2)]
    assert ngrams._batches(np.zeros(0, np.int64), np.zeros(0, np.int64)) == []


def test_a_vocabulary_above_65536_words_counts_the_same():
    """Skips group positions by word with a 16-bit radix sort when it fits; this one does not."""
    rng = np.random.default_rng(0)
    tokens = [f"w{i}" for i in np.r_[rng.permutation(70_000), rng.integers(0, 70_000, 30_000)]]
    cuts = np.cumsum(rng.integers(1, 7, size=len(tokens)))
    sentences = [tokens[lo:hi] for lo, hi in zip(np.r_[0, cuts], cuts) if lo < len(tokens)]
    corpus = parse_corpus("\n".join(" ".join(s) for s in sentences))
    assert len(corpus.vocabulary) > 1 << 16
    expected = reference_counts(sentences, [1.0] * len(sentences))
    assert model_counts(skips(corpus)) == dict(expected["skips"])


# -- properties -----------------------------------------------------------------

_lines = st.lists(
    st.tuples(
        st.sampled_from([None, None, "20%", "0.4x", "3x", "0%", "12.5%"]),
        st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=9),
    ),
    min_size=1,
    max_size=8,
)


def _corpus_text(lines) -> tuple[str, list[list[str]], list[float]]:
    """Corpus text of (weight token or None, words) lines, its sentences and weights."""
    weight = {None: 1.0, "20%": 0.2, "0.4x": 0.4, "3x": 3.0, "0%": 0.0, "12.5%": 0.125}
    text = "\n".join(f"{token} {' '.join(words)}" if token else " ".join(words) + "." for token, words in lines)
    kept = [(words, weight[token]) for token, words in lines if weight[token] > 0]
    return text, [words for words, _ in kept], [w for _, w in kept]


@settings(max_examples=150, deadline=None)
@given(lines=_lines, window=st.one_of(st.none(), st.integers(1, 6)))
def test_models_agree_with_counter_on_random_corpora(lines, window):
    text, sentences, weights = _corpus_text(lines)
    if not sentences:
        with pytest.raises(CorpusError):
            parse_corpus(text)
        return
    corpus = parse_corpus(text)
    assert [corpus.sentence(s) for s in range(corpus.n_sentences)] == sentences
    expected = reference_counts(sentences, weights, window)
    for kind in KINDS:
        found = model_counts(build(kind, corpus, window))
        assert found == pytest.approx(dict(expected[kind]), rel=1e-12), kind


@settings(max_examples=150, deadline=None)
@given(lines=_lines, window=st.one_of(st.none(), st.integers(1, 6)), kind=st.sampled_from(KINDS))
def test_rows_sum_to_one_or_zero(lines, window, kind):
    text, sentences, _ = _corpus_text(lines)
    if not sentences:
        return
    model = build(kind, parse_corpus(text), window)
    dense = model.dense()
    assert dense.shape == (model.n_rows, len(model.vocabulary))
    assert np.all((dense >= 0) & (dense <= 1))
    sums = dense.sum(axis=1)
    assert np.all(np.isclose(sums, 1) | (sums == 0))
    assert np.all(np.isclose(sums, 1) == (model.row_totals > 0))
    if kind != "first-order":  # a pair row exists only when something followed it
        assert np.allclose(sums, 1)


@settings(max_examples=100, deadline=None)
@given(lines=_lines)
def test_skips_with_window_one_are_the_second_order_model(lines):
    """A window of one reaches only the word just before: the features are the pairs."""
    text, sentences, _ = _corpus_text(lines)
    if not sentences:
        return
    corpus = parse_corpus(text)
    one, pairs = skips(corpus, window=1), second_order(corpus)
    for field in ("keys", "indptr", "cols", "counts"):
        assert np.array_equal(getattr(one, field), getattr(pairs, field)), field


def test_skip_events_are_bounded(monkeypatch):
    """A giant sentence is refused with a pointer to --window, before any counting."""
    monkeypatch.setattr(ngrams, "MAX_SKIP_EVENTS", 100)
    corpus = parse_corpus(" ".join(f"w{i}" for i in range(40)))
    with pytest.raises(CorpusError, match="--window"):
        ngrams.skips(corpus)
    assert ngrams.skips(corpus, window=2).n_rows == 2 * 38 - 1
