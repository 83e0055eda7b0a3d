"""Held-out scoring: a hand-worked perplexity, the event convention, skip votes against a
plain loop, and the transformer's <end> as </s>."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy import attention
from lmtoy.corpus import BUNDLED, parse_corpus, read_corpus
from lmtoy.errors import VocabularyError
from lmtoy.evaluate import events, matched_orders, score_ngram, score_skips, score_transformer, with_end
from lmtoy.ngrams import first_order, skips
from lmtoy.smoothing import probabilities, smooth


def _show_me():
    return read_corpus(BUNDLED / "show_me.txt")


def test_add_one_perplexity_by_hand():
    """show_me, first-order add-1, P = 9 outcomes; c(<s>) = c(show) = c(me) = c(my) =
    c(please) = 1, c(photos) = 0.5, c(files) = 0.3.

    "show me my photos please": (2/10)(2/10)(2/10)(1.5/10)(1.5/9.5)(2/10) over 6 events;
    "show me files": (2/10)(2/10)(1/10)(1/9.3) over 4 events ((me, files) and
    (files, </s>) unseen; c(files) = 0.3). log10 P is the sum of the ten logs, and the
    perplexity 10^(-log10 P / 10), with 8 words and 2 sentences.
    """
    held = parse_corpus("show me my photos please.\nshow me files.")
    score = score_ngram(smooth(_show_me(), "first-order", "add-k", 1), held)
    first = [0.2, 0.2, 0.2, 0.15, 1.5 / 9.5, 0.2]
    second = [0.2, 0.2, 0.1, 1 / 9.3]
    log10 = sum(map(math.log10, first + second))
    assert score.log10 == pytest.approx(np.log10(first + second), rel=1e-12)
    assert score.log10_prob == pytest.approx(log10, rel=1e-12)
    assert score.perplexity == pytest.approx(10 ** (-log10 / 10), rel=1e-12)
    assert score.bits_per_word == pytest.approx(-log10 / 10 / math.log10(2), rel=1e-12)
    assert (score.words, score.sentences, score.oov) == (8, 2, 0)
    assert score.per_sentence() == pytest.approx([sum(map(math.log10, first)), sum(map(math.log10, second))])


def test_events_pad_and_map_unknown_words():
    """Second-order events of "zebra show": (-1, <s>) -> zebra as <unk>, (<s>, <unk>) ->
    show, (<unk>, show) -> </s>; one <unk>."""
    model = smooth(_show_me(), "second-order", "witten-bell")
    ev = events(model, parse_corpus("zebra show."))
    assert ev.targets.tolist() == [model.unk, model.id("show"), model.eos]
    assert ev.history.tolist() == [[-1, model.bos], [model.bos, model.unk], [model.unk, model.id("show")]]
    assert ev.oov == 1 and ev.words == 2


def test_matched_orders():
    """show me zebra: <s> show (2), show me (2), me <unk> (0: <unk> never seen), <unk> </s>
    (1: </s> alone was seen)."""
    model = smooth(_show_me(), "first-order", "add-k")
    assert matched_orders(model, parse_corpus("show me zebra.")) == [2, 2, 0, 1]


def _skip_reference(train, held, first, lam, masked):
    """Skip scores by a plain loop over attention.vote, as `complete` votes; a feature with an
    unknown word has no row (dropping the unknown earlier words before voting)."""
    ended = with_end(train)
    model = skips(ended)
    flags = attention.informative(model, first_order(ended))
    out = []
    for s in range(held.n_sentences):
        words = held.sentence(s) + ["</s>"]
        ids = [ended.vocabulary.words.index(w) if w in ended.vocabulary else -1 for w in words]
        prev = "<s>"
        for i, w in enumerate(words):
            h = np.array([[first.id(prev)]])
            base = probabilities(first, h, np.array([first.id(w)]))[0]
            prompt = np.array(ids[:i])
            share = None
            if i >= 2 and prompt[-1] >= 0:
                known = prompt[(prompt >= 0) | (np.arange(len(prompt)) == len(prompt) - 1)]
                v = attention.vote(model, known)  # an unknown earlier word has no feature row
                if masked:
                    mask = attention.auto_mask(v, flags)
                    if mask.any():
                        v = attention.masked(v, mask)
                if v.totals.sum() > 0:
                    share = (v.totals[ids[i]] if ids[i] >= 0 else 0.0) / v.totals.sum()
            out.append(math.log10(base if share is None else lam * share + (1 - lam) * base))
            prev = w
    return out


WORDS = ["a", "b", "c", "d"]
sentences = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(sentences, sentences, st.booleans())
def test_skip_scores_match_a_plain_vote_loop(train_sents, held_sents, masked):
    train = parse_corpus("\n".join(" ".join(s) for s in train_sents))
    held = parse_corpus("\n".join(" ".join(s) for s in held_sents))
    first = smooth(train, "first-order", "witten-bell")
    score = score_skips(first, train, held, masked, 0.3)
    assert score.log10 == pytest.approx(_skip_reference(train, held, first, 0.3, masked), rel=1e-9)


def test_skip_scores_give_every_word_a_probability():
    """An unknown word and an unseen event still score above 0 (the first-order row)."""
    corpus = read_corpus(BUNDLED / "program_log.txt")
    score = score_skips(smooth(corpus, "first-order", "kneser-ney"), corpus,
                        parse_corpus("check whether the zebra ran down please."), masked=True)
    assert np.isfinite(score.log10).all() and score.oov == 1


def test_transformer_unknown_words_are_reported():
    from lmtoy.transformer import Config, init_params
    from lmtoy.transformer.io import SavedModel

    config = Config(vocab_size=4, d_model=8, n_heads=2, n_layers=1, context=4)
    saved = SavedModel(init_params(config, np.random.default_rng(0)), config, ("a", "b", "c", "<end>"))
    with pytest.raises(VocabularyError, match=r"transformer:m.npz: 2 held-out words not in the transformer's "
                                              r"vocabulary \('d', 'e'\)"):
        score_transformer(saved, parse_corpus("a d e."), "transformer:m.npz")
    score = score_transformer(saved, parse_corpus("a b c a b. c."), "t")
    assert len(score.log10) == 8 and score.per_sentence().shape == (2,)  # 5 + 1, 1 + 1 events: context 4 slides
    from lmtoy.transformer.inference import next_distribution

    p = next_distribution(saved.params, config, np.array([3, 0, 1, 2, 0]))  # the last 4 ids before 'b'
    assert score.log10[4] == pytest.approx(math.log10(p[1]), rel=1e-5)
