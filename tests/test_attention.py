"""Votes and masks against an independent computation on random corpora (hypothesis)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy import attention
from lmtoy.corpus import parse_corpus
from lmtoy.ngrams import first_order, skips

WORDS = ["a", "b", "c", "d", "e"]
sentences = st.lists(st.lists(st.sampled_from(WORDS), min_size=2, max_size=8), min_size=1, max_size=6)


def _reference_rows(corpus_sentences) -> dict:
    """Skip feature rows by plain counting: presence of each earlier word before position i."""
    counts = defaultdict(Counter)
    for s in corpus_sentences:
        for i in range(1, len(s) - 1):
            for earlier in set(s[:i]):
                counts[(earlier, s[i])][s[i + 1]] += 1
    return {f: {w: n / sum(c.values()) for w, n in c.items()} for f, c in counts.items()}


@settings(max_examples=60, deadline=None)
@given(sentences, st.lists(st.sampled_from(WORDS), min_size=2, max_size=6), st.data())
def test_vote_totals_are_sums_of_active_rows(corpus_sentences, prompt, data):
    corpus = parse_corpus("\n".join(" ".join(s) for s in corpus_sentences))
    vocab = corpus.vocabulary
    prompt = [w for w in prompt if w in vocab] or [vocab.words[0]]
    model = skips(corpus)
    v = attention.vote(model, vocab.encode(prompt))
    rows = _reference_rows(corpus_sentences)
    active = [(e, prompt[-1]) for e in dict.fromkeys(prompt[:-1]) if (e, prompt[-1]) in rows]
    expected = np.array([sum(rows[f].get(w, 0) for f in active) for w in vocab.words])
    np.testing.assert_allclose(v.unmasked_totals, expected, atol=1e-12)
    assert [tuple(vocab.words[i] for i in f) for f in v.features] == active
    # any mask: the masked totals are the totals of the kept rows only
    keep = data.draw(st.lists(st.booleans(), min_size=len(active), max_size=len(active)))
    m = attention.masked(v, np.array(keep, dtype=float))
    kept = [f for f, k in zip(active, keep) if k]
    expected_masked = np.array([sum(rows[f].get(w, 0) for f in kept) for w in vocab.words])
    np.testing.assert_allclose(m.totals, expected_masked, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(sentences)
def test_informative_matches_total_variation(corpus_sentences):
    corpus = parse_corpus("\n".join(" ".join(s) for s in corpus_sentences))
    sk, fo = skips(corpus), first_order(corpus)
    flags = attention.informative(sk, fo, 0.25)
    for r in range(sk.n_rows):
        tv = 0.5 * np.abs(sk.row(r) - fo.row(int(sk.keys[r, 1]))).sum()
        assert flags[r] == (tv > 0.25 + 1e-12)
