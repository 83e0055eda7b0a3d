"""Smoothed n-gram models: hand-worked probabilities on show_me, rows that sum to 1 over
random corpora (hypothesis), Kneser-Ney against a plain-loop reference, and breakdowns."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy.corpus import BUNDLED, parse_corpus, read_corpus
from lmtoy.errors import UsageError
from lmtoy.breakdown import breakdown
from lmtoy.smoothing import METHODS, ORDERS, padded, probabilities, smooth

WORDS = ["a", "b", "c", "d"]
sentences = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=7), min_size=1, max_size=6)


def _show_me():
    return read_corpus(BUNDLED / "show_me.txt")


def _p(model, context, word):
    return breakdown(model, tuple(context), word).value


def test_add_one_show_me():
    """show_me: 0.2 directories, 0.3 files, 0.5 photos after 'show me my'; N = 7 words,
    so P = 9 outcomes (the 7, </s>, <unk>). c(my) = 0.2 + 0.3 + 0.5 = 1.

    P(photos | my) = (0.5 + 1) / (1 + 9) = 0.15;  P(show | my) = (0 + 1) / 10 = 0.1;
    c(please) = 1 (always before </s>): P(</s> | please) = (1 + 1) / (1 + 9) = 0.2;
    c(<s>) = 1: P(show | <s>) = 2 / 10 = 0.2;  a context never seen (<unk>) is uniform: 1/9.
    """
    model = smooth(_show_me(), "first-order", "add-k", 1)
    assert _p(model, ["my"], "photos") == pytest.approx(0.15, rel=1e-12)
    assert _p(model, ["my"], "show") == pytest.approx(0.1, rel=1e-12)
    assert _p(model, ["please"], "</s>") == pytest.approx(0.2, rel=1e-12)
    assert _p(model, ["<s>"], "show") == pytest.approx(0.2, rel=1e-12)
    assert _p(model, ["zebra"], "photos") == pytest.approx(1 / 9, rel=1e-12)
    assert _p(model, ["my"], "zebra") == pytest.approx(0.1, rel=1e-12)  # <unk>


def test_witten_bell_show_me():
    """Unigram level: the predicted tokens are show, me, my, please, </s> (1 each) and
    directories 0.2, files 0.3, photos 0.5: C = 6, T = 8 types, so with the uniform 1/9
    below, P1(photos) = (0.5 + 8/9) / (6 + 8) = 25/252 and P1(show) = (1 + 8/9) / 14 = 17/126.

    Bigram level, context my: c(my) = 1, T(my) = 3 (directories, files, photos):
    P(photos | my) = (0.5 + 3 * 25/252) / (1 + 3) = 201/1008;
    P(show | my) = (0 + 3 * 17/126) / 4 = 17/168.
    """
    model = smooth(_show_me(), "first-order", "witten-bell")
    assert _p(model, [], "photos") == pytest.approx(25 / 252, rel=1e-12)
    assert _p(model, ["my"], "photos") == pytest.approx(201 / 1008, rel=1e-12)
    assert _p(model, ["my"], "show") == pytest.approx(17 / 168, rel=1e-12)
    assert breakdown(model, ("my",), "photos").terms == pytest.approx(
        {"c(h,w)": 0.5, "c(h)": 1.0, "T(h)": 3.0, "P_lower": 25 / 252})


def test_kneser_ney_discount_and_fallback():
    """'a b. a b. a c. b c.' bigrams, padded: <s> a 3, <s> b 1, a b 2, a c 1, b </s> 2,
    b c 1, c </s> 2: n1 = 3 (<s> b, a c, b c), n2 = 3 (a b, b </s>, c </s>), D2 = 3 / (3 + 6).
    show_me's weighted counts (0.2, 0.3, 0.5, 1) have no count of exactly 2: D = 0.75, flagged."""
    model = smooth(parse_corpus("a b. a b. a c. b c."), "first-order", "kneser-ney")
    assert model.levels[1].discount == pytest.approx(1 / 3, rel=1e-12)
    assert not model.levels[1].fallback
    shown = smooth(_show_me(), "first-order", "kneser-ney")
    assert shown.fallback and shown.levels[1].discount == 0.75
    assert "fallback" in shown.label


def _kn_reference(sents, d2, d1, outcomes):
    """Interpolated Kneser-Ney bigrams by plain loops: raw bigram counts, continuation
    unigram counts, the uniform 1/outcomes below."""
    bigram = defaultdict(Counter)
    left = defaultdict(set)
    for s in sents:
        toks = ["<s>", *s, "</s>"]
        for u, w in zip(toks, toks[1:]):
            bigram[u][w] += 1
            left[w].add(u)
    cont = {w: len(v) for w, v in left.items()}
    total = sum(cont.values())
    gamma1 = sum(min(c, d1) for c in cont.values()) / total

    def p1(w):
        return max(cont.get(w, 0) - d1, 0) / total + gamma1 / outcomes

    def p(u, w):
        row = bigram.get(u)
        if not row:
            return p1(w)
        t = sum(row.values())
        return max(row[w] - d2, 0) / t + sum(min(c, d2) for c in row.values()) / t * p1(w)

    return p


@settings(max_examples=40, deadline=None)
@given(sentences)
def test_kneser_ney_matches_a_plain_loop(sents):
    corpus = parse_corpus("\n".join(" ".join(s) for s in sents))
    model = smooth(corpus, "first-order", "kneser-ney")
    ref = _kn_reference(sents, model.levels[1].discount, model.levels[0].discount, model.outcomes)
    for u in ["<s>", *corpus.vocabulary.words, "zebra"]:
        for w in [*corpus.vocabulary.words, "</s>", "zebra"]:
            assert _p(model, [u], w) == pytest.approx(ref(u, w), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(sentences, st.sampled_from(METHODS), st.sampled_from(list(ORDERS)), st.sampled_from([0.1, 1.0, 2.5]))
def test_every_row_sums_to_one(sents, method, kind, k):
    """Each context (seen, unseen, <s>-initial, with <unk>) gives a distribution over the
    N words, </s> and <unk>; <s> is never predicted."""
    corpus = parse_corpus("\n".join(" ".join(s) for s in sents))
    model = smooth(corpus, kind, method, k)
    outcomes = np.arange(model.outcomes)
    contexts = [(model.bos,), (model.unk,), *((model.id(w),) for w in corpus.vocabulary.words)]
    if model.order == 3:
        contexts = [(-1, model.bos), (model.bos, model.unk), (model.unk, 0)] + [
            (model.id(a), model.id(b)) for a in corpus.vocabulary.words for b in corpus.vocabulary.words
        ] + [(model.bos, model.id(w)) for w in corpus.vocabulary.words]
    for ctx in contexts:
        history = np.tile(np.array(ctx), (model.outcomes, 1))
        p = probabilities(model, history, outcomes)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        if method != "none":
            assert (p > 0).all()


def test_padded_stream():
    """[[b, a], [a]]: N = 2 (a = 0, b = 1), </s> = 2, <s> = 4: <s> b a </s> <s> a </s>."""
    ids, starts, _ = padded(parse_corpus("b a.\na."))
    assert ids.tolist() == [4, 1, 0, 2, 4, 0, 2]
    assert starts.tolist() == [0, 4, 7]


def test_bad_k():
    with pytest.raises(UsageError, match="--k must be a finite number above 0, got 0"):
        smooth(_show_me(), "first-order", "add-k", 0)


def test_breakdown_unseen_context_and_lower_chain():
    """Second-order add-1 on show_me: (my, zebra) is never a context, so P(photos | my <unk>)
    is the first-order P(photos | <unk>), itself unseen: the uniform 1/9."""
    model = smooth(_show_me(), "second-order", "add-k", 1)
    b = breakdown(model, ("my", "zebra"), "photos")
    assert b.context == ("my", "<unk>") and b.row_total == 0.0
    assert b.value == pytest.approx(1 / 9, rel=1e-12)
    assert b.lower.context == ("<unk>",)
    show = breakdown(model, ("show", "me"), "my")  # c(show me) = 1, c(show me my) = 1
    assert show.value == pytest.approx(2 / 10, rel=1e-12)
    assert breakdown(model, ("please", "<s>"), "show").context == ("<s>",)  # nothing before <s>
