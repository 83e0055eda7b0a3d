"""Sequence completion's choice of the next word: greedy, temperature, top-k."""

from __future__ import annotations

import numpy as np
import pytest

from lmtoy.complete import Ladder, choose, complete, next_scores
from lmtoy.corpus import bundled, read_corpus
from lmtoy.errors import UsageError


def test_greedy_takes_the_highest_and_the_first_on_a_tie():
    assert choose(np.array([0.2, 0.3, 0.5]), None) == 2
    assert choose(np.array([0.5, 0.5, 0.0]), None) == 0


def test_top_k_1_is_greedy():
    rng = np.random.default_rng(0)
    assert all(choose(np.array([0.2, 0.3, 0.5]), rng, top_k=1) == 2 for _ in range(50))


def test_temperature_sharpens_and_flattens():
    """scores^(1/T): at T = 0.5, [1, 2] sample as [1, 4] / 5; at T = 2 as [1, sqrt 2] / (1 + sqrt 2)."""
    scores = np.array([1.0, 2.0])
    for t, p_second in ((0.5, 0.8), (1.0, 2 / 3), (2.0, np.sqrt(2) / (1 + np.sqrt(2)))):
        rng = np.random.default_rng(1)
        draws = [choose(scores, rng, temperature=t) for _ in range(4000)]
        assert np.mean(draws) == pytest.approx(p_second, abs=0.03)


def test_zero_scores_are_never_sampled():
    rng = np.random.default_rng(2)
    assert {choose(np.array([0.0, 3.0, 1.0, 0.0]), rng, temperature=5.0) for _ in range(200)} == {1, 2}


def test_complete_stops_at_a_dead_end():
    corpus = read_corpus(bundled("show_me"))
    result = complete(Ladder(corpus), "first-order", corpus.vocabulary.encode(["show", "me", "my"]), 10)
    assert [corpus.vocabulary.words[i] for i in result.generated] == ["photos", "please"]
    assert result.stopped == "nothing follows 'please' under the first-order model"


def test_skip_models_need_two_words():
    corpus = read_corpus(bundled("show_me"))
    with pytest.raises(UsageError, match="at least two words"):
        next_scores(Ladder(corpus), "skips", corpus.vocabulary.encode(["show"]))
