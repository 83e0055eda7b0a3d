"""lmtoy.explain: each number traced to its corpus events, against the article's figures."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from lmtoy import explain, ngrams
from lmtoy.corpus import parse_corpus
from lmtoy.errors import VocabularyError

SHOW_ME = "20% show me my directories please.\n30% show me my files please.\n50% show me my photos please.\n"
BATTERY = "40% check whether the battery ran down please.\n60% check whether the program ran please.\n"
PROGRAM_LOG = ("50% check the program log and find out whether it ran please.\n"
               "50% check the battery log and find out whether it ran down please.\n")


def corpus(text):
    return parse_corpus(text.encode(), name="test")


def test_first_order_my_photos():
    """Section 2: the row of my holds directories 0.2, files 0.3, photos 0.5 (one event each,
    weighted by its sentence); c(my, photos) = 0.5, c(my) = 1.0, so 0.5 / 1.0 = 0.5."""
    c = corpus(SHOW_ME)
    ex = explain.counted(ngrams.first_order(c), c, ["my"], "photos")
    assert (ex.count, ex.row_total, ex.value) == (0.5, 1.0, 0.5)
    assert ex.formula == "c(h,w) / c(h)" and ex.terms == {"c(h,w)": 0.5, "c(h)": 1.0}
    assert list(ex.events.sentence) == [0, 1, 2] and list(ex.events.position) == [2, 2, 2]
    assert [c.vocabulary.words[i] for i in ex.events.next] == ["directories", "files", "photos"]
    assert ex.events.weight == pytest.approx([0.2, 0.3, 0.5])


def test_a_row_nothing_follows_is_zero():
    c = corpus(SHOW_ME)
    ex = explain.counted(ngrams.first_order(c), c, ["please"], "show")
    assert (ex.count, ex.row_total, ex.value) == (0.0, 0.0, 0.0) and len(ex.events.weight) == 0


def test_second_order_whether_the():
    """Section 3: (whether, the) -> battery 0.4, program 0.6: c = 0.4 of 1.0."""
    c = corpus(BATTERY)
    ex = explain.counted(ngrams.second_order(c), c, ["whether", "the"], "battery")
    assert (ex.count, ex.row_total, ex.value) == (0.4, 1.0, 0.4)
    ex = explain.counted(ngrams.second_order(c), c, ["battery", "ran"], "down")
    assert (ex.count, ex.row_total, ex.value) == (0.4, 0.4, 1.0)


def test_skip_feature_events():
    """Section 4: (check, ran) is active before ran in both sentences: please 0.5, down 0.5;
    (battery, ran) only in the second: down 1."""
    c = corpus(PROGRAM_LOG)
    model = ngrams.skips(c)
    ex = explain.counted(model, c, ["check", "ran"], "down")
    assert (ex.count, ex.row_total, ex.value) == (0.5, 1.0, 0.5)
    assert list(ex.events.sentence) == [0, 1] and list(ex.events.position) == [9, 9]
    ex = explain.counted(model, c, ["battery", "ran"], "down")
    assert (ex.count, ex.row_total, ex.value) == (0.5, 0.5, 1.0)


def test_a_feature_is_a_presence():
    """a occurs twice before c: the feature (a, c) is active once."""
    c = corpus("a b a c d.")
    ex = explain.counted(ngrams.skips(c), c, ["a", "c"], "d")
    assert len(ex.events.weight) == 1 and ex.value == 1.0


@pytest.mark.parametrize("text", [SHOW_ME, BATTERY, PROGRAM_LOG, "a b a b c a b.\nb a b.\na.", "x y x y x y z."])
@pytest.mark.parametrize("kind", ["first-order", "second-order", "skips"])
def test_events_add_up_to_the_models_counts(text, kind):
    """For every row and next word, the events' weights sum to the model's count and the
    row total: the model and the event search are independent counts."""
    c = corpus(text)
    model = ngrams.build(kind, c)
    for r in range(model.n_rows):
        context = [model.label(r)] if isinstance(model.label(r), str) else model.label(r)
        for word in c.vocabulary.words:
            ex = explain.counted(model, c, context, word)
            nxt = c.vocabulary.id(word)
            assert ex.count == pytest.approx(ex.events.weight[ex.events.next == nxt].sum())
            assert ex.row_total == pytest.approx(ex.events.weight.sum())


def test_skip_events_match_a_plain_loop_with_a_window():
    c = corpus("a b c a d b c e.\nb a c d e a c b.")
    words = c.vocabulary.words
    for window in (None, 1, 2, 3):
        model = ngrams.skips(c, window)
        for r in range(model.n_rows):
            earlier, recent = model.label(r)
            ex = explain.counted(model, c, [earlier, recent], words[0])
            loop = Counter()
            for s in range(c.n_sentences):
                sent = c.sentence(s)
                for i in range(len(sent) - 1):
                    lo = 0 if window is None else max(0, i - window)
                    if sent[i] == recent and earlier in sent[lo:i]:
                        loop[sent[i + 1]] += 1
            assert ex.row_total == pytest.approx(sum(loop.values()))
            assert Counter({words[n]: k for n, k in Counter(ex.events.next.tolist()).items()}) == loop


def test_vote_program_prompt():
    """Sections 4-5: nine active features vote down 4, please 5; the auto mask keeps
    (program, ran) alone: please 1."""
    from lmtoy.attention import informative

    c = corpus(PROGRAM_LOG)
    model = ngrams.skips(c)
    prompt = "check the program log and find out whether it ran".split()
    ex = explain.voted(model, prompt, "please")
    assert len(ex.features) == 9 and ex.value == 5.0 and ex.row_total == 9.0
    assert explain.voted(model, prompt, "down").value == 4.0
    assert sum(v for *_, v in ex.features) == 5.0
    flags = informative(model, ngrams.first_order(c))
    ex = explain.voted(model, prompt, "please", flags, "masked-skips")
    assert ex.value == 1.0 and ex.terms == {"program,ran": 1.0}
    assert explain.voted(model, prompt, "down", flags).value == 0.0


def test_unknown_words_are_named():
    c = corpus(SHOW_ME)
    with pytest.raises(VocabularyError, match="'fotos'; did you mean photos"):
        explain.counted(ngrams.first_order(c), c, ["my"], "fotos")


def test_smoothed_add_one():
    """show_me add-1: (c(my, photos) + 1) / (c(my) + P) = 1.5 / 10 = 0.15, P = 7 + 2."""
    ex = explain.smoothed(corpus(SHOW_ME), "first-order", "add-k", 1.0, ["my"], "photos")
    assert ex.value == pytest.approx(0.15) and ex.terms["P"] == 9 and ex.count == 0.5
    assert ex.lower[-1].value == pytest.approx(1 / 9)


@pytest.mark.parametrize("method", ["none", "add-k", "witten-bell", "kneser-ney"])
def test_smoothed_matches_the_scorer(method):
    from lmtoy.smoothing import probabilities, smooth

    c = corpus(BATTERY)
    model = smooth(c, "second-order", method)
    ex = explain.smoothed(c, "second-order", method, 1.0, ["whether", "the"], "battery")
    history = np.array([[model.id("whether"), model.id("the")]])
    assert ex.value == pytest.approx(probabilities(model, history, np.array([model.id("battery")]))[0])
    assert explain.smoothed(c, "second-order", method, 1.0, ["the"], "monday").next == "<unk>"
