"""The backward pass of self-attention, step by step (section 11, seed 003): each step against
the full model's gradient, finite differences and the softmax Jacobian written out."""

from __future__ import annotations

import numpy as np
import pytest

from lmtoy.errors import UsageError
from lmtoy.transformer import layers
from lmtoy.transformer.model import Config, forward_cached, init_params
from lmtoy.transformer.train import loss_and_grads
from lmtoy.transformer.walkthrough import (
    CHECKED, attention_output_grad, backward_walk, float64, head_steps, require_fit, sentence,
)

NAMES = ["dL/dY_head", "dL/dV", "dL/dA", "dL/dS", "dL/d(QK^T)", "dL/dQ", "dL/dK", "dL/dW_q", "dL/dW_k", "dL/dW_v"]
END_ID = 6
WORDS = [1, 2, 3, 1, 4]  # a repeated word: the same id twice


def _model(norm="post", positions="sinusoidal", seed=1):
    """A random two-layer model (vocabulary 7, d_model 8, 2 heads, d_k 4, d_v 3), gains and
    biases moved off 1 and 0 as gradcheck does, float32 as a saved model is."""
    config = Config(vocab_size=7, d_model=8, n_heads=2, n_layers=2, context=7, d_v=3, d_k=4, d_ff=12, norm=norm,
                    positions=positions)
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    for value in params.values():
        if value.ndim == 1:
            value += rng.normal(0, 0.1, value.shape).astype(value.dtype)
    return params, config


def _steps(walk):
    return {s.name: s.values for s in walk.steps}


@pytest.mark.parametrize("norm, positions", [("post", "sinusoidal"), ("pre", "learned")])
@pytest.mark.parametrize("layer, head", [(0, 0), (0, 1), (1, 1)])
def test_weight_gradients_are_the_full_models(norm, positions, layer, head):
    """dL/dW_q, dL/dW_k, dL/dW_v are head ``head``'s slices of ``model.backward``'s gradient of the
    same loss (loss_and_grads on <end> w.. -> w.. <end>), to rounding, in float64."""
    params, config = _model(norm, positions)
    walk = backward_walk(params, config, WORDS, END_ID, layer, head)
    loss, grads = loss_and_grads(float64(params), config, walk.inputs[None], walk.targets[None])
    steps = _steps(walk)
    assert walk.loss == pytest.approx(loss, rel=1e-14)
    for name in CHECKED:
        full = grads[f"layer{layer}.{name}"][head]
        np.testing.assert_allclose(steps[f"dL/d{name}"], full, rtol=1e-10, atol=1e-13 * np.abs(full).max())


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("layer, head", [(0, 1), (1, 0)])
def test_finite_differences_agree(norm, layer, head):
    params, config = _model(norm)
    walk = backward_walk(params, config, WORDS, END_ID, layer, head)
    assert list(walk.check) == ["dL/dW_q", "dL/dW_k", "dL/dW_v"]
    assert max(walk.check.values()) < 1e-6


def test_the_steps_in_the_notes_order_with_their_shapes():
    params, config = _model()
    walk = backward_walk(params, config, WORDS, END_ID, check=False)
    n, d, d_k, d_v = len(WORDS) + 1, 8, 4, 3
    shapes = [(n, d_v), (n, d_v), (n, n), (n, n), (n, n), (n, d_k), (n, d_k), (d, d_k), (d, d_k), (d, d_v)]
    assert [s.name for s in walk.steps] == NAMES and walk.check == {}
    assert [s.values.shape for s in walk.steps] == shapes
    assert [s.formula for s in walk.steps][1:4] == ["A^T dY", "dY V^T", "A * (dA - rowsum(dA * A)), masked entries 0"]
    assert all(s.values.dtype == np.float64 for s in walk.steps)


def test_the_softmax_jacobian_written_out():
    """dL/dS row i is J_i dA_i with J_i[a, b] = s_a (delta_ab - s_b), the notes' (*): each row sums
    to 0 (the Jacobian's columns do: sum_a s_a (delta_ab - s_b) = s_b - s_b), and a masked
    entry (a later key, weight 0) is exactly 0, never -0.0."""
    params, config = _model()
    walk = backward_walk(params, config, WORDS, END_ID, check=False)
    steps = _steps(walk)
    _, cache = forward_cached(float64(params), config, walk.inputs[None])
    a = cache.blocks[0].attention.weights[0, 0]
    for i, s in enumerate(a):
        jacobian = np.diag(s) - np.outer(s, s)
        np.testing.assert_allclose(steps["dL/dS"][i], jacobian @ steps["dL/dA"][i], rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(steps["dL/dS"].sum(axis=1), 0, atol=1e-15)
    above = np.triu_indices(len(a), 1)
    assert np.all(steps["dL/dS"][above] == 0) and not np.signbit(steps["dL/dS"][above]).any()
    assert np.all(steps["dL/dS"][0] == 0)  # <end> attends to itself alone: no softmax gradient
    np.testing.assert_allclose(steps["dL/d(QK^T)"], steps["dL/dS"] / 2)  # sqrt(d_k) = sqrt(4)


def test_the_chain_from_dY():
    """Each step from the one before, by the notes' formulas: dV = A^T dY, dA = dY V^T,
    dQ = dS K / sqrt(d_k), dK = dS^T Q / sqrt(d_k), dW = X^T d(Q, K, V)."""
    params, config = _model()
    walk = backward_walk(params, config, WORDS, END_ID, 1, 1, check=False)
    s = _steps(walk)
    c = forward_cached(float64(params), config, walk.inputs[None])[1].blocks[1].attention
    x, q, k, v, a = c.x[0], c.q[0, 1], c.k[0, 1], c.v[0, 1], c.weights[0, 1]
    np.testing.assert_allclose(s["dL/dV"], a.T @ s["dL/dY_head"])
    np.testing.assert_allclose(s["dL/dA"], s["dL/dY_head"] @ v.T)
    np.testing.assert_allclose(s["dL/dQ"], s["dL/dS"] @ k / 2)
    np.testing.assert_allclose(s["dL/dK"], s["dL/dS"].T @ q / 2)
    np.testing.assert_allclose(s["dL/dW_v"], x.T @ s["dL/dV"])


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_each_head_matches_self_attention_backward(norm):
    """The explicit steps of every head against layers.self_attention_backward, all heads at
    once, from the same dL/dMultiHead."""
    params, config = _model(norm)
    p = float64(params)
    inputs, targets = sentence(WORDS, END_ID, config.context)
    logits, cache = forward_cached(p, config, inputs)
    dlogits = layers.cross_entropy_backward(1.0, layers.cross_entropy(logits, targets)[1])
    for layer in range(config.n_layers):
        attention = cache.blocks[layer].attention
        d_multihead = attention_output_grad(p, config, cache, dlogits, layer)
        _, *expected, _ = layers.self_attention_backward(d_multihead, attention)
        for head in range(config.n_heads):
            steps = {s.name: s.values for s in head_steps(d_multihead[0], attention, head)}
            for name, full in zip(CHECKED, expected):
                atol = 1e-13 * np.abs(full).max()
                np.testing.assert_allclose(steps[f"dL/d{name}"], full[head], rtol=1e-10, atol=atol)


def test_the_hand_worked_example():
    """One dimension, one head, d_k 1, two positions: X = [0, 1]^T, W_q = W_v = W_o = 1,
    W_k = ln 3. Q = X, K = ln 3 X, V = X; scores [[0, -inf], [0, ln 3]] -> A = [[1, 0], [1/4, 3/4]].
    From dL/dY = [0, 1]^T (W_o = 1, so dL/dMultiHead = dL/dY):
    dV = A^T dY = [1/4, 3/4]^T; dA = dY V^T = [[0, 0], [0, 1]];
    row 2: rowsum(dA * A) = 3/4, dS = [1/4 (0 - 3/4), 3/4 (1 - 3/4)] = [-3/16, 3/16], row 1 all 0;
    dQ = dS K = [0, 3/16 ln 3]^T; dK = dS^T Q = [-3/16, 3/16]^T;
    dW_q = X^T dQ = 3/16 ln 3, dW_k = X^T dK = 3/16, dW_v = X^T dV = 3/4."""
    one = np.ones((1, 1, 1))
    x = np.array([[[0.0], [1.0]]])
    _, cache = layers.self_attention(x, one, np.log(3) * one, one, np.ones((1, 1)))
    steps = {s.name: s.values for s in head_steps(np.array([[0.0], [1.0]]), cache, 0)}
    np.testing.assert_allclose(steps["dL/dV"], [[0.25], [0.75]])
    np.testing.assert_allclose(steps["dL/dA"], [[0, 0], [0, 1]])
    np.testing.assert_allclose(steps["dL/dS"], [[0, 0], [-3 / 16, 3 / 16]])
    np.testing.assert_allclose(steps["dL/dQ"], [[0], [3 / 16 * np.log(3)]], atol=1e-16)
    np.testing.assert_allclose(steps["dL/dK"], [[-3 / 16], [3 / 16]])
    expected = {"dL/dW_q": 3 / 16 * np.log(3), "dL/dW_k": 3 / 16, "dL/dW_v": 3 / 4}
    assert {name: float(steps[name][0, 0]) for name in expected} == pytest.approx(expected)


def test_the_loss_is_the_mean_cross_entropy_over_n_plus_one_positions():
    """<end> w_1..w_n -> w_1..w_n <end>: -mean log softmax(logits)[target], written out."""
    params, config = _model()
    inputs, targets = sentence(WORDS, END_ID, config.context)
    assert inputs.tolist() == [[END_ID] + WORDS] and targets.tolist() == [WORDS + [END_ID]]
    logits = forward_cached(float64(params), config, inputs)[0][0]
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.mean(log_p[np.arange(len(WORDS) + 1), targets[0]])
    assert backward_walk(params, config, WORDS, END_ID, check=False).loss == pytest.approx(expected, rel=1e-12)


def test_sentence_worked_example():
    inputs, targets = sentence([4, 7], 9, context=3)
    assert inputs.tolist() == [[9, 4, 7]] and targets.tolist() == [[4, 7, 9]]


def test_the_sentence_must_fit_the_context():
    require_fit(6, 7)  # 7 positions in a context of 7
    with pytest.raises(UsageError, match="7 words; with the <end> read before them that is 8 positions"):
        require_fit(7, 7)
    with pytest.raises(UsageError, match="empty"):
        require_fit(0, 7)
    params, config = _model()
    with pytest.raises(UsageError, match="give at most 6 words"):
        backward_walk(params, config, [1] * 7, END_ID)


@pytest.mark.parametrize("layer, head, message", [(2, 0, "layer 3 does not exist"), (0, 2, "head 3 does not exist"),
                                                  (-1, 0, "layer 0 does not exist")])
def test_layer_and_head_must_exist(layer, head, message):
    params, config = _model()
    with pytest.raises(UsageError, match=message):
        backward_walk(params, config, WORDS, END_ID, layer, head)


def test_the_saved_weights_are_not_changed():
    params, config = _model()
    before = {name: value.copy() for name, value in params.items()}
    backward_walk(params, config, WORDS, END_ID, 1, 1)
    assert all(params[name].dtype == np.float32 and np.array_equal(params[name], before[name]) for name in params)
