"""nltk.lm, an independent n-gram implementation, against lmtoy's smoothed models.

Both are given the same padded sentences, ``<s> w_1 .. w_n </s>`` (one <s> at every order,
as lmtoy and KenLM pad; nltk's own pipeline would pad second-order with two), and
integer counts (an unweighted corpus).

Add-k: nltk's ``Lidstone(k)`` is (c(h,w) + k) / (c(h) + k V), where nltk's V counts
every token it was fitted on, <s> among them, plus <UNK>: V = N + 3. lmtoy's P = N + 2
counts only what a row can predict (the N words, </s>, <unk>), so

    lmtoy P(w | h) = nltk P(w | h) * (c(h) + k V) / (c(h) + k (V - 1)),

for every first-order context, a seen or an unseen one (c(h) = 0: 1/V -> 1/P). At
second order this holds for the seen pair contexts; for an unseen pair nltk is uniform
(1/V) while lmtoy uses its first-order add-k row.

Witten-Bell: above the unigram level both are (c(h,w) + T(h) P_lower) / (c(h) + T(h)).
They differ only at the unigram level. nltk's is the relative frequency
c(w) / (tokens + sentences): it counts <s> as a unigram and is not smoothed, so a word
never seen in training gets 0 there and in every context. lmtoy's is
(c(w) + T_1 / P) / (c_1 + T_1), interpolated with the uniform 1/P over the predictable
tokens, so <unk> gets T_1 / (P (c_1 + T_1)). The test swaps in lmtoy's unigram level
for nltk's; after that the two agree to 1e-12 at both orders.
"""

from __future__ import annotations

import numpy as np
import pytest

nltk_lm = pytest.importorskip("nltk.lm")
from nltk.util import everygrams  # noqa: E402

from lmtoy.corpus import parse_corpus  # noqa: E402
from lmtoy.breakdown import breakdown  # noqa: E402
from lmtoy.smoothing import probabilities, smooth  # noqa: E402

TINY = "a b a c.\nb a b.\nc a.\na b c a b.\n"


def load(name: str):
    from lmtoy.corpus import BUNDLED

    text = (BUNDLED / f"{name}.txt").read_bytes() if name != "tiny" else TINY.encode()
    corpus = parse_corpus(text, name=name)
    assert np.all(corpus.weights == corpus.weights[0])  # unweighted: integer counts
    return corpus


def padded(corpus):
    return [["<s>", *corpus.sentence(s), "</s>"] for s in range(corpus.n_sentences)]


def fitted(cls, corpus, order: int, *args):
    sentences = padded(corpus)
    model = cls(*args, order)
    model.fit([list(everygrams(s, max_len=order)) for s in sentences], [w for s in sentences for w in s])
    return model


def lmtoy_p(model, context: tuple[str, ...], word: str) -> float:
    history = np.array([[model.id(w) for w in context]])
    return float(probabilities(model, history, np.array([model.id(word)]))[0])


def outcomes(corpus):
    return [*corpus.vocabulary.words, "</s>", "unseen"]


@pytest.mark.parametrize("name", ["tiny", "commands"])
@pytest.mark.parametrize("k", [1.0, 0.5])
def test_add_k_first_order_is_lidstone_with_v_minus_one(name, k):
    corpus = load(name)
    ours = smooth(corpus, "first-order", "add-k", k)
    theirs = fitted(nltk_lm.Lidstone, corpus, 2, k)
    v = len(theirs.vocab)
    assert v == ours.outcomes + 1  # nltk counts <s> too
    words = outcomes(corpus)
    for h in ["<s>", *words[:60], "</s>"]:
        c_h = theirs.counts[[h]].N()
        for w in words[:: max(1, len(words) // 40)]:
            expected = theirs.score(w, [h]) * (c_h + k * v) / (c_h + k * (v - 1))
            assert lmtoy_p(ours, (h,), w) == pytest.approx(expected, rel=1e-12), (h, w)


@pytest.mark.parametrize("name", ["tiny", "commands"])
def test_add_k_second_order_agrees_on_seen_pairs_only(name):
    corpus = load(name)
    ours = smooth(corpus, "second-order", "add-k", 1.0)
    theirs = fitted(nltk_lm.Laplace, corpus, 3)
    v = len(theirs.vocab)
    words = outcomes(corpus)
    pairs = [tuple(s[i : i + 2]) for s in padded(corpus) for i in range(len(s) - 2)][:80]
    for h in pairs:
        c_h = theirs.counts[list(h)].N()
        for w in words[:: max(1, len(words) // 30)]:
            expected = theirs.score(w, list(h)) * (c_h + v) / (c_h + v - 1)
            assert lmtoy_p(ours, h, w) == pytest.approx(expected, rel=1e-12), (h, w)
    unseen = ("c", "c")
    assert theirs.counts[list(unseen)].N() == 0
    assert theirs.score("a", list(unseen)) == pytest.approx(1 / v)  # nltk: uniform
    assert lmtoy_p(ours, unseen, "a") == pytest.approx(lmtoy_p(ours, ("c",), "a"))  # lmtoy: the bigram add-k


def _with_lmtoy_unigrams(theirs, ours):
    """nltk's Witten-Bell with lmtoy's unigram level in place of its own."""
    theirs.estimator.unigram_score = lambda word: breakdown(ours, (), "zzz-unseen" if word == "<UNK>" else word).value
    return theirs


@pytest.mark.parametrize("name", ["tiny", "commands"])
@pytest.mark.parametrize("kind, order", [("first-order", 2), ("second-order", 3)])
def test_witten_bell_equals_nltk_above_the_unigram_level(name, kind, order):
    corpus = load(name)
    ours = smooth(corpus, kind, "witten-bell")
    theirs = _with_lmtoy_unigrams(fitted(nltk_lm.WittenBellInterpolated, corpus, order), ours)
    words = outcomes(corpus)
    contexts = [tuple(s[max(0, i - order + 2) : i + 1]) for s in padded(corpus) for i in range(len(s) - 1)][:100]
    contexts += [("unseen",) * (order - 1), ("</s>",)]
    for h in contexts:
        for w in words[:: max(1, len(words) // 30)]:
            assert lmtoy_p(ours, h, w) == pytest.approx(theirs.score(w, list(h)), rel=1e-12, abs=1e-15), (h, w)


@pytest.mark.parametrize("name", ["tiny", "commands"])
def test_witten_bell_unigram_levels_differ_as_stated(name):
    """nltk: c(w) / (tokens + sentences), 0 for an unseen word; lmtoy: interpolated with 1/P."""
    corpus = load(name)
    ours = smooth(corpus, "first-order", "witten-bell")
    theirs = fitted(nltk_lm.WittenBellInterpolated, corpus, 2)
    tokens, sentences = int(corpus.lengths.sum()), corpus.n_sentences
    c1 = tokens + sentences  # what lmtoy's unigram level counts: the words and the </s>s
    t1 = len(corpus.vocabulary) + 1
    for w in [*corpus.vocabulary.words[:20], "</s>"]:
        c_w = theirs.counts[w]
        assert theirs.estimator.unigram_score(w) == pytest.approx(c_w / (c1 + sentences))
        assert breakdown(ours, (), w).value == pytest.approx((c_w + t1 / ours.outcomes) / (c1 + t1))
    assert theirs.estimator.unigram_score("<UNK>") == 0.0
    assert breakdown(ours, (), "unseen").value == pytest.approx(t1 / (ours.outcomes * (c1 + t1)))
    assert theirs.score("unseen", ["a" if name == "tiny" else "the"]) == 0.0 < lmtoy_p(ours, ("a",), "unseen")
