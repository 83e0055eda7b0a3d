"""Basic self-attention (Bloem) and the softmax steps, against hand derivations and plain loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmtoy.selfattention import (
    distinct_words, onehot_embedding, random_embedding, self_attention, softmax_steps,
)

CAT = "the cat saw the dog".split()
SEED_003 = "death is like the wind always by my side".split()


def test_the_cat_saw_the_dog_by_hand():
    """One-hot vectors: x_i . x_j is 1 for equal words and 0 otherwise. The row of 'the'
    (c = 2 of n = 5) scores 1 at both 'the' and 0 at the three others, so its weights are
    e/(2e + 3) = 0.3222 at each 'the' and 1/(2e + 3) = 0.1185 elsewhere; 'cat' (c = 1) gets
    e/(e + 4) = 0.4046 on itself and 1/(e + 4) = 0.1488 on each other word."""
    words, x = onehot_embedding(CAT)
    scores, weights, y = self_attention(x)
    assert words == ["cat", "dog", "saw", "the"]
    np.testing.assert_array_equal(scores, [[1, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [1, 0, 0, 1, 0],
                                           [0, 0, 0, 0, 1]])
    assert [round(v, 4) for v in weights[0]] == [0.3222, 0.1185, 0.1185, 0.3222, 0.1185]
    assert [round(v, 4) for v in weights[1]] == [0.1488, 0.4046, 0.1488, 0.1488, 0.1488]
    e = math.e
    assert weights[0, 0] == pytest.approx(e / (2 * e + 3), abs=1e-12)
    assert weights[0, 1] == pytest.approx(1 / (2 * e + 3), abs=1e-12)
    assert weights[1, 1] == pytest.approx(e / (e + 4), abs=1e-12)
    assert weights[1, 0] == pytest.approx(1 / (e + 4), abs=1e-12)
    # y_the = 2e/(2e + 3) on 'the' and 1/(2e + 3) on each other word
    np.testing.assert_allclose(y[0], [1 / (2 * e + 3)] * 3 + [2 * e / (2 * e + 3)], atol=1e-12)


@pytest.mark.parametrize("text", ["a", "a a a", "a b", "a b a b a", "the cat saw the dog", " ".join(SEED_003),
                                  "x y z x y x w"])
def test_onehot_weights_follow_the_formula(text):
    """Every row: e/(c e + n - c) on each occurrence of its own word, 1/(c e + n - c) elsewhere."""
    tokens = text.split()
    n, e = len(tokens), math.e
    _, weights, _ = self_attention(onehot_embedding(tokens)[1])
    for i, word in enumerate(tokens):
        c = tokens.count(word)
        expected = [(e if t == word else 1.0) / (c * e + n - c) for t in tokens]
        np.testing.assert_allclose(weights[i], expected, rtol=0, atol=1e-12)
    assert (weights > 0).all()  # the softmax never gives 0


def reference(x, scale=False, causal=False):
    """Plain loops: w'_ij = sum_k x_ik x_jk (/ sqrt d), softmax over j <= i when causal."""
    n, d = len(x), len(x[0])
    y, weights = [], []
    for i in range(n):
        keys = range(i + 1) if causal else range(n)
        raw = [sum(x[i][k] * x[j][k] for k in range(d)) / (math.sqrt(d) if scale else 1) for j in keys]
        top = max(raw)
        exp = [math.exp(r - top) for r in raw]
        row = [v / sum(exp) for v in exp] + [0.0] * (n - len(exp))
        weights.append(row)
        y.append([sum(row[j] * x[j][k] for j in range(n)) for k in range(d)])
    return np.array(weights), np.array(y)


@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_matches_plain_loops(scale, causal):
    x = random_embedding(CAT, 6, np.random.default_rng(3))
    scores, weights, y = self_attention(x, scale=scale, causal=causal)
    want_w, want_y = reference(x.tolist(), scale, causal)
    np.testing.assert_allclose(weights, want_w, atol=1e-12)
    np.testing.assert_allclose(y, want_y, atol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)


def test_causal_is_zero_above_the_diagonal():
    x = random_embedding(SEED_003, 4, np.random.default_rng(0))
    scores, weights, _ = self_attention(x, causal=True)
    above = np.triu_indices(len(SEED_003), 1)
    assert np.all(weights[above] == 0.0) and np.all(scores[above] == -np.inf)
    assert weights[0, 0] == 1.0  # the first word sees only itself
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    assert np.isfinite(np.tril(scores)).all()


def test_scale_divides_by_sqrt_d():
    x = random_embedding(CAT, 9, np.random.default_rng(1))
    plain, _, _ = self_attention(x)
    scaled, weights, _ = self_attention(x, scale=True)
    np.testing.assert_allclose(scaled, plain / 3.0, atol=1e-12)
    e = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    np.testing.assert_allclose(weights, e / e.sum(axis=1, keepdims=True), atol=1e-12)
    onehot, _, _ = self_attention(onehot_embedding(CAT)[1], scale=True)  # d = 4 distinct words
    assert onehot[0, 0] == 0.5 and onehot[0, 1] == 0.0


def test_random_embedding_same_word_same_vector():
    x = random_embedding(CAT, 5, np.random.default_rng(7))
    assert x.shape == (5, 5)
    np.testing.assert_array_equal(x[0], x[3])  # the, the
    assert not np.array_equal(x[0], x[1])
    np.testing.assert_array_equal(x, random_embedding(CAT, 5, np.random.default_rng(7)))
    assert not np.array_equal(x, random_embedding(CAT, 5, np.random.default_rng(8)))
    # drawn per distinct word in sorted order: the vector of 'cat' does not depend on word order
    np.testing.assert_array_equal(random_embedding(["dog", "cat"], 5, np.random.default_rng(7))[1],
                                  random_embedding(["cat", "dog"], 5, np.random.default_rng(7))[0])


def test_distinct_words_and_onehot():
    assert distinct_words(CAT)[0] == ["cat", "dog", "saw", "the"]
    assert distinct_words(CAT)[1].tolist() == [3, 0, 2, 3, 1]
    words, x = onehot_embedding(["b", "a", "b"])
    assert words == ["a", "b"] and x.tolist() == [[0, 1], [1, 0], [0, 1]]


def test_model_rows_of_float32_are_read_as_float64():
    x = np.array([[1, 2], [3, 4]], dtype=np.float32)
    scores, weights, y = self_attention(x)
    assert scores.dtype == weights.dtype == y.dtype == np.float64
    assert scores.tolist() == [[5, 11], [11, 25]]


# --- the softmax, step by step ---


def test_softmax_of_1_2_3():
    """e^1, e^2, e^3 = 2.718, 7.389, 20.09; sum 30.19; softmax 0.0900, 0.2447, 0.6652.
    Computed shifted by the max (3): e^-2, e^-1, e^0 = 0.1353, 0.3679, 1, sum 1.5032."""
    s = softmax_steps([1, 2, 3])
    assert [round(v, 4) for v in s.s] == [0.0900, 0.2447, 0.6652]
    assert s.shift == 3.0 and s.total == pytest.approx(1 + math.exp(-1) + math.exp(-2), abs=1e-15)
    np.testing.assert_allclose(s.exp, [math.exp(-2), math.exp(-1), 1.0], atol=1e-15)
    np.testing.assert_allclose(s.s, np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), atol=1e-15)


def test_jacobian_is_diag_s_minus_s_st_and_matches_finite_differences():
    x = np.array([0.3, -1.2, 2.0, 0.0])
    for t in (1.0, 0.5, 3.0):
        steps = softmax_steps(x, t)
        s = steps.s
        np.testing.assert_allclose(steps.jacobian, (np.diag(s) - np.outer(s, s)) / t, atol=1e-15)
        np.testing.assert_allclose(steps.jacobian.sum(axis=1), 0.0, atol=1e-15)  # the outputs always sum to 1
        np.testing.assert_allclose(steps.jacobian, steps.jacobian.T, atol=1e-15)
        h = 1e-6
        numeric = np.stack([(softmax_steps(x + h * np.eye(4)[j], t).s - softmax_steps(x - h * np.eye(4)[j], t).s)
                            / (2 * h) for j in range(4)], axis=1)  # column j: d s / d x_j
        np.testing.assert_allclose(steps.jacobian, numeric, atol=1e-8)


def test_temperature_divides_before_the_softmax():
    x = [1.0, 2.0, 3.0]
    hot, cold = softmax_steps(x, 10.0), softmax_steps(x, 0.1)
    np.testing.assert_allclose(hot.s, softmax_steps([0.1, 0.2, 0.3]).s, atol=1e-15)
    np.testing.assert_allclose(hot.z, [0.1, 0.2, 0.3])
    assert hot.s.max() < softmax_steps(x).s.max() < cold.s.max()  # above 1 flatter, below 1 sharper
    assert cold.s[2] > 0.9999


def test_large_values_do_not_overflow():
    s = softmax_steps([1000.0, 1001.0])
    assert np.isfinite(s.s).all() and s.s[1] == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-15)
    assert softmax_steps([5.0]).s.tolist() == [1.0]
    assert softmax_steps([2.0, 2.0, 2.0]).s.tolist() == pytest.approx([1 / 3] * 3)
