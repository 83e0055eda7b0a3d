"""Each layer against the article's formulas, a plain-loop reference and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lmtoy.transformer import layers
from lmtoy.transformer.train import numeric_gradient


def assert_backward(forward, backward, inputs, rng, skip=()):
    """Analytic gradients of sum(forward(*inputs) * dout) match finite differences (float64)."""
    out, cache = forward(*inputs)
    dout = rng.normal(size=out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for k, (x, g) in enumerate(zip(inputs, grads)):
        if k in skip:
            continue
        numeric = numeric_gradient(lambda: float(np.sum(forward(*inputs)[0] * dout)), x, 1e-6)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8, err_msg=f"input {k}")


def test_sinusoidal_table_follows_the_paper_formula():
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d))."""
    n, d = 12, 8
    table = layers.sinusoidal_positions(n, d)
    for pos in range(n):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert table[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-12)
            assert table[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-12)


def test_sinusoidal_worked_example_and_odd_width():
    np.testing.assert_allclose(layers.sinusoidal_positions(2, 2), [[0, 1], [math.sin(1), math.cos(1)]])
    odd = layers.sinusoidal_positions(3, 5)
    assert odd.shape == (3, 5)
    np.testing.assert_allclose(odd[:, 4], np.sin(np.arange(3) / 10000 ** (4 / 5)))


def test_each_dimension_pair_traces_a_circle():
    table = layers.sinusoidal_positions(50, 6)
    np.testing.assert_allclose(table[:, 0::2] ** 2 + table[:, 1::2] ** 2, 1.0)


def test_softmax_worked_example_and_minus_infinity():
    np.testing.assert_allclose(layers.softmax(np.array([0.0, math.log(3)])), [0.25, 0.75])
    y = layers.softmax(np.array([[1000.0, -np.inf, 1000.0]]))
    assert y.tolist() == [[0.5, 0.0, 0.5]]


def test_causal_mask():
    assert layers.causal_mask(3).tolist() == [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]


def attention_reference(x, w_q, w_k, w_v, w_o):  # plain loops over sequences and heads
    B, n, _ = x.shape
    out, weights = [], np.zeros((B, w_q.shape[0], n, n))
    for b in range(B):
        heads = []
        for j in range(w_q.shape[0]):
            q, k, v = x[b] @ w_q[j], x[b] @ w_k[j], x[b] @ w_v[j]
            scores = q @ k.T / math.sqrt(q.shape[1])
            scores[np.triu_indices(n, 1)] = -np.inf
            weights[b, j] = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights[b, j] /= weights[b, j].sum(axis=1, keepdims=True)
            heads.append(weights[b, j] @ v)
        out.append(np.concatenate(heads, axis=1) @ w_o)
    return np.array(out), weights


def attention_inputs(rng, B=2, n=5, d=6, h=3, d_k=2, d_v=4, dtype=np.float64):
    shapes = [(B, n, d), (h, d, d_k), (h, d, d_k), (h, d, d_v), (h * d_v, d)]
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def test_attention_matches_a_loop_over_heads():
    inputs = attention_inputs(np.random.default_rng(0))
    out, cache = layers.self_attention(*inputs)
    expected, weights = attention_reference(*inputs)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(cache.weights, weights, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_rows_sum_to_one_and_are_exactly_zero_above_the_diagonal(dtype):
    inputs = attention_inputs(np.random.default_rng(1), B=3, n=7, dtype=dtype)
    out, cache = layers.self_attention(*inputs)
    assert out.dtype == dtype and cache.weights.dtype == dtype
    np.testing.assert_allclose(cache.weights.sum(axis=-1), 1.0, rtol=1e-6)
    above = np.triu(np.ones((7, 7), dtype=bool), k=1)
    assert np.all(cache.weights[..., above] == 0.0)
    assert np.all(cache.weights[..., ~above] > 0.0)


def test_first_position_attends_only_to_itself():
    _, cache = layers.self_attention(*attention_inputs(np.random.default_rng(2)))
    assert np.all(cache.weights[:, :, 0, 0] == 1.0)


def test_layer_norm_worked_example():
    out, _ = layers.layer_norm(np.array([[[1.0, 3.0]]]), np.ones(2), np.zeros(2), eps=0.0)
    np.testing.assert_allclose(out, [[[-1.0, 1.0]]])


def test_layer_norm_rows_have_mean_zero_and_std_one():
    x = np.random.default_rng(3).normal(5, 3, size=(2, 4, 16))
    out, _ = layers.layer_norm(x, np.ones(16), np.zeros(16))
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=-1), 1, rtol=1e-5)


def test_cross_entropy_worked_example():
    loss, _ = layers.cross_entropy(np.array([[[0.0, math.log(3)]]]), np.array([[1]]))
    assert loss == pytest.approx(-math.log(0.75))


def test_embedding_backward_sums_repeated_ids():
    ids = np.array([[2, 0, 2], [1, 2, 0]])
    dout = np.random.default_rng(4).normal(size=(2, 3, 4))
    expected = np.zeros((5, 4))
    np.add.at(expected, ids.ravel(), dout.reshape(-1, 4))
    np.testing.assert_allclose(layers.embedding_backward(dout, (ids, (5, 4))), expected)


def test_backward_of_attention():
    rng = np.random.default_rng(5)
    assert_backward(layers.self_attention, layers.self_attention_backward, attention_inputs(rng), rng)


def test_backward_of_layer_norm():
    rng = np.random.default_rng(6)
    inputs = [rng.normal(size=(2, 3, 5)), rng.normal(size=5), rng.normal(size=5)]
    assert_backward(layers.layer_norm, layers.layer_norm_backward, inputs, rng)


def test_backward_of_feed_forward():
    rng = np.random.default_rng(7)
    inputs = [rng.normal(size=s) for s in [(2, 3, 4), (4, 6), (6,), (6, 4), (4,)]]
    assert_backward(layers.feed_forward, layers.feed_forward_backward, inputs, rng)


def test_backward_of_projection_and_positions():
    rng = np.random.default_rng(8)
    inputs = [rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 7))]
    assert_backward(layers.project, layers.project_backward, inputs, rng)
    inputs = [rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4))]
    assert_backward(layers.add_positions, layers.add_positions_backward, inputs, rng)


def test_backward_of_cross_entropy():
    rng = np.random.default_rng(9)
    logits, targets = rng.normal(size=(2, 3, 5)), rng.integers(0, 5, size=(2, 3))
    _, cache = layers.cross_entropy(logits, targets)
    numeric = numeric_gradient(lambda: layers.cross_entropy(logits, targets)[0], logits, 1e-6)
    np.testing.assert_allclose(layers.cross_entropy_backward(1.0, cache), numeric, rtol=1e-6, atol=1e-9)
