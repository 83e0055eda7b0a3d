"""The transformer's layers: each forward returns ``(out, cache)``, its backward sits beside it.

Letters (the article's names): B batch, n sequence length, N vocabulary,
d = d_model, h heads, d_k and d_v the per-head query/key and value sizes,
d_ff the feed-forward width, m the source length (cross-attention's keys). A
backward takes the gradient of the loss with respect to the forward's output,
``dout``, and returns the gradients with respect to the forward's inputs, in
the order they were passed.

Everything is vectorised over batch and heads; the dtype of the inputs
(float32 for training, float64 for gradient checks) is kept throughout.
Speed notes: matrix products run on 2-D views (one BLAS call, not one per
sequence), and reductions over a short last axis, slow in numpy (it pays per
row), are avoided: row means are matrix-vector products, and attention
matrices are stored key-major (see ``_key_major``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


def _linear(x, w):  # (..., m), (m, p) -> (..., p)
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[1])


def _weight_grad(x, dout):  # (..., m), (..., p) -> (m, p)
    return x.reshape(-1, x.shape[-1]).T @ dout.reshape(-1, dout.shape[-1])


def _row_mean(x):  # (..., m) -> (..., 1)
    m = x.shape[-1]
    return _linear(x, np.full((m, 1), 1 / m, dtype=x.dtype))


def embedding(ids, table):  # (B, n) int, (N, d) -> (B, n, d)
    """Look up each id's row: the one-hot [n x N] times [N x d] without the zeros.

    ids [[2, 0]], table [[1, 1], [2, 2], [3, 3]] -> [[[3, 3], [1, 1]]].
    """
    return table[ids], (ids, table.shape)


def embedding_backward(dout, cache):  # (B, n, d) -> (N, d)
    """Each row of the table collects the gradients of the positions holding its id."""
    ids, shape = cache
    order = np.argsort(ids, axis=None, kind="stable")
    sorted_ids = ids.ravel()[order]
    firsts = np.flatnonzero(np.diff(sorted_ids, prepend=-1))  # where each id's run starts
    dtable = np.zeros(shape, dtype=dout.dtype)
    dtable[sorted_ids[firsts]] = np.add.reduceat(dout.reshape(-1, shape[1])[order], firsts)
    return dtable


def sinusoidal_positions(n, d_model, base=10000.0):  # -> (n, d_model)
    """The paper's position table: PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(...).

    n 2, d_model 2 -> [[0, 1], [sin 1, cos 1]] = [[0, 1], [0.841, 0.540]].

    Returns
    -------
    table : (n, d_model) ndarray of float64; each pair of columns (2i, 2i+1)
        traces a circle as pos grows, at its own frequency.
    """
    angle = np.arange(n)[:, None] / base ** (np.arange(0, d_model, 2) / d_model)  # (n, ceil(d/2))
    table = np.empty((n, d_model))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return table


def add_positions(x, table):  # (B, n, d), (context, d) -> (B, n, d)
    """Add the first n rows of a (learned or fixed) position table to every sequence."""
    return x + table[: x.shape[1]], table.shape


def add_positions_backward(dout, cache):  # (B, n, d) -> (B, n, d), (context, d)
    dtable = np.zeros(cache, dtype=dout.dtype)
    dtable[: dout.shape[1]] = dout.sum(axis=0)
    return dout, dtable


def softmax(x, out=None):  # (..., m) -> (..., m)
    """Numerically stable softmax over the last axis: e^x_i / sum_j e^x_j.

    [0, ln 3] -> [0.25, 0.75]; a row's minus-infinity entries become exactly 0.
    ``out`` may be ``x`` itself, to work in place.
    """
    y = np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
    np.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)
    return y


def softmax_backward(dy, y):  # (..., m), (..., m) -> (..., m)
    """Through the softmax Jacobian s_i (delta_ij - s_j): dx = y * (dy - sum(dy * y))."""
    dx = dy - (dy * y).sum(axis=-1, keepdims=True)
    dx *= y
    return dx


def causal_mask(n, dtype=np.float64):  # -> (n, n)
    """0 on and below the diagonal, minus infinity above: position i sees positions <= i.

    Stored key-major (see ``_key_major``), so adding it to attention scores is fast.
    """
    later = np.arange(n)[:, None] > np.arange(n)  # [key, query]: the key comes after the query
    return np.where(later, -np.inf, 0.0).astype(dtype, copy=False).T


def _key_major(B, h, n, dtype, m=None):  # -> (B, h, n, m), m = n unless given
    """An empty attention matrix stored with the key axis outermost in memory.

    Softmax reduces over keys; over an outer axis numpy runs whole vectors at a
    time, over a short inner one it pays per row (10-20x slower here). Cross-attention
    has m keys (source positions) for n queries.
    """
    return np.empty((n if m is None else m, B, h, n), dtype=dtype).transpose(1, 2, 3, 0)


def _side_by_side(w):  # (h, d, m) -> (d, h*m)
    return w.transpose(1, 0, 2).reshape(w.shape[1], -1)


def _per_head(w, h):  # (d, h*m) -> (h, d, m), the inverse of _side_by_side
    return w.reshape(w.shape[0], h, -1).transpose(1, 0, 2)


def _split_heads(x, h):  # (B, n, h*m) -> (B, h, n, m), a view
    B, n, hm = x.shape
    return x.reshape(B, n, h, hm // h).transpose(0, 2, 1, 3)


class AttentionCache(NamedTuple):
    x: np.ndarray  # (B, n, d) the input
    w_qkv: np.ndarray  # (d, h*(2 d_k + d_v)) W_q, W_k, W_v side by side
    q: np.ndarray  # (B, h, n, d_k)
    k: np.ndarray  # (B, h, n, d_k)
    v: np.ndarray  # (B, h, n, d_v)
    weights: np.ndarray  # (B, h, n, n) softmax of the masked scores (linear: the scores, 0 above), key-major
    concat: np.ndarray  # (B, n, h*d_v) the heads' outputs (weights V) side by side
    w_o: np.ndarray  # (h*d_v, d)
    scale: float | None = None  # the factor on Q K^T; None: 1 / sqrt(d_k)
    keep: np.ndarray | None = None  # linear attention: (n, n) 1 where a query sees a key; None: softmax

    @property
    def heads(self):  # -> (B, h, n, d_v), a view of concat
        return _split_heads(self.concat, self.q.shape[1])


def self_attention(x, w_q, w_k, w_v, w_o, causal=True, linear=False, scale=None):  # (B,n,d),(h,d,d_k),(h,d,d_k),(h,d,d_v),(h*d_v,d) -> (B,n,d)
    """Multi-head self-attention, all heads at once; causal (a decoder's) unless ``causal`` is False
    (an encoder's: every position sees every other).

    Per head: Q = x W_q, K = x W_k, V = x W_v; weights = softmax(s Q K^T + mask), s = ``scale``
    (default 1 / sqrt(d_k)); head = weights V. The heads are concatenated to [n x h*d_v] and
    W_o maps them back to d. ``linear`` leaves the softmax out: weights = s Q K^T, 0 on the
    later words, so a row need not sum to 1 (0/1 scores make each head a sum of the values
    it picks: one head, s 1, q = k = [[1]] at 3 positions -> weights [[1,0,0],[1,1,0],[1,1,1]]).
    """
    B, n, _ = x.shape
    h, d_k, d_v = w_q.shape[0], w_q.shape[2], w_v.shape[2]
    w_qkv = np.concatenate([_side_by_side(w) for w in (w_q, w_k, w_v)], axis=1)
    qkv = _linear(x, w_qkv)  # (B, n, h*(2 d_k + d_v)): every head's Q, K, V in one product
    q, k, v = (_split_heads(part, h) for part in np.split(qkv, [h * d_k, 2 * h * d_k], axis=2))
    weights = np.matmul(q, k.swapaxes(-1, -2), out=_key_major(B, h, n, x.dtype))  # the scores
    weights *= 1 / math.sqrt(d_k) if scale is None else scale
    keep = None
    if linear:
        keep = (np.isfinite(causal_mask(n)) if causal else np.ones((n, n), bool)).astype(x.dtype)
        weights *= keep
    else:
        if causal:
            weights += causal_mask(n, x.dtype)
        softmax(weights, out=weights)
    concat = np.empty((B, n, h * d_v), dtype=x.dtype)
    np.matmul(weights, v, out=_split_heads(concat, h))
    return _linear(concat, w_o), AttentionCache(x, w_qkv, q, k, v, weights, concat, w_o, scale, keep)


def self_attention_backward(dout, cache):  # (B, n, d) -> dx, dW_q, dW_k, dW_v, dW_o
    """Back through W_o, the weighted sum of V, the softmax (linear: the mask of later words) and
    the scale to Q, K, V."""
    c = cache
    B, h, n, d_k = c.q.shape
    dheads = _split_heads(_linear(dout, c.w_o.T), h)
    dqkv = np.empty((B, n, c.w_qkv.shape[1]), dtype=dout.dtype)
    dq, dk, dv = (_split_heads(part, h) for part in np.split(dqkv, [h * d_k, 2 * h * d_k], axis=2))
    np.matmul(c.weights.swapaxes(-1, -2), dheads, out=dv)
    dweights = np.matmul(dheads, c.v.swapaxes(-1, -2), out=_key_major(B, h, n, dout.dtype))
    if c.keep is None:
        dscores = softmax_backward(dweights, c.weights)
    else:
        dscores = dweights
        dscores *= c.keep
    dscores *= 1 / math.sqrt(d_k) if c.scale is None else c.scale
    np.matmul(dscores, c.k, out=dq)
    np.matmul(dscores.swapaxes(-1, -2), c.q, out=dk)
    dw_qkv = _weight_grad(c.x, dqkv)  # (d, h*(2 d_k + d_v))
    dw_q, dw_k, dw_v = (_per_head(part, h) for part in np.split(dw_qkv, [h * d_k, 2 * h * d_k], axis=1))
    return _linear(dqkv, c.w_qkv.T), dw_q, dw_k, dw_v, _weight_grad(c.concat, dout)


class CrossAttentionCache(NamedTuple):
    x: np.ndarray  # (B, n, d) the decoder's input, the queries' source
    memory: np.ndarray  # (B, m, d) the encoder's output, the keys' and values' source
    w_q: np.ndarray  # (d, h*d_k) W_q side by side
    w_kv: np.ndarray  # (d, h*(d_k + d_v)) W_k, W_v side by side
    q: np.ndarray  # (B, h, n, d_k)
    k: np.ndarray  # (B, h, m, d_k)
    v: np.ndarray  # (B, h, m, d_v)
    weights: np.ndarray  # (B, h, n, m) softmax of the scores, key-major
    concat: np.ndarray  # (B, n, h*d_v)
    w_o: np.ndarray  # (h*d_v, d)

    @property
    def heads(self):  # -> (B, h, n, d_v), a view of concat
        return _split_heads(self.concat, self.q.shape[1])


def cross_attention(x, memory, w_q, w_k, w_v, w_o):  # (B,n,d),(B,m,d),(h,d,d_k),(h,d,d_k),(h,d,d_v),(h*d_v,d) -> (B,n,d)
    """Multi-head cross-attention: the decoder's n positions query the encoder's m.

    Per head: Q = x W_q (from the decoder), K = memory W_k, V = memory W_v (from the final
    encoder output); weights = softmax(Q K^T / sqrt(d_k)), (n, m), no mask: every
    decoder position sees the whole source; head = weights V. Concatenated and mapped by
    W_o as in ``self_attention``.

    One head, d = d_k = d_v = 1, all weights 1: x [[1]], memory [[0], [ln 3]] -> scores
    [0, ln 3], weights [0.25, 0.75], output 0.75 ln 3 = 0.824.
    """
    B, n, _ = x.shape
    h, d_k, d_v, m = w_q.shape[0], w_q.shape[2], w_v.shape[2], memory.shape[1]
    w_q2 = _side_by_side(w_q)
    w_kv = np.concatenate([_side_by_side(w_k), _side_by_side(w_v)], axis=1)
    q = _split_heads(_linear(x, w_q2), h)
    k, v = (_split_heads(part, h) for part in np.split(_linear(memory, w_kv), [h * d_k], axis=2))
    weights = np.matmul(q, k.swapaxes(-1, -2), out=_key_major(B, h, n, x.dtype, m))
    weights *= 1 / math.sqrt(d_k)
    softmax(weights, out=weights)
    concat = np.empty((B, n, h * d_v), dtype=x.dtype)
    np.matmul(weights, v, out=_split_heads(concat, h))
    return _linear(concat, w_o), CrossAttentionCache(x, memory, w_q2, w_kv, q, k, v, weights, concat, w_o)


def cross_attention_backward(dout, cache):  # (B, n, d) -> dx, dmemory, dW_q, dW_k, dW_v, dW_o
    """Back through ``cross_attention``: the gradient into the decoder's input (through Q) and
    into the encoder's output (through K and V), and the four weights'.

    dV = A^T dY, dA = dY V^T, dS = A * (dA - rowsum(dA * A)) / sqrt(d_k), dQ = dS K,
    dK = dS^T Q; dx = dQ W_q^T, dmemory = [dK dV] [W_k W_v]^T.
    """
    c = cache
    B, h, n, d_k = c.q.shape
    m = c.k.shape[2]
    dheads = _split_heads(_linear(dout, c.w_o.T), h)
    dkv = np.empty((B, m, c.w_kv.shape[1]), dtype=dout.dtype)
    dk, dv = (_split_heads(part, h) for part in np.split(dkv, [h * d_k], axis=2))
    np.matmul(c.weights.swapaxes(-1, -2), dheads, out=dv)
    dweights = np.matmul(dheads, c.v.swapaxes(-1, -2), out=_key_major(B, h, n, dout.dtype, m))
    dscores = softmax_backward(dweights, c.weights)
    dscores *= 1 / math.sqrt(d_k)
    dq = np.empty((B, n, h * d_k), dtype=dout.dtype)
    np.matmul(dscores, c.k, out=_split_heads(dq, h))
    np.matmul(dscores.swapaxes(-1, -2), c.q, out=dk)
    dw_q = _per_head(_weight_grad(c.x, dq), h)
    dw_k, dw_v = (_per_head(part, h) for part in np.split(_weight_grad(c.memory, dkv), [h * d_k], axis=1))
    return (_linear(dq, c.w_q.T), _linear(dkv, c.w_kv.T), dw_q, dw_k, dw_v, _weight_grad(c.concat, dout))


def layer_norm(x, gain, bias, eps=1e-5):  # (B, n, d), (d,), (d,) -> (B, n, d)
    """Shift each row to mean 0 and scale it to standard deviation 1, then gain * . + bias.

    [1, 3] with gain 1, bias 0 -> [-1, 1] (up to eps).
    """
    xhat = x - _row_mean(x)
    rstd = 1 / np.sqrt(_row_mean(xhat * xhat) + eps)
    xhat *= rstd
    out = xhat * gain
    out += bias
    return out, (xhat, rstd, gain)


def layer_norm_backward(dout, cache):  # (B, n, d) -> (B, n, d), (d,), (d,)
    xhat, rstd, gain = cache
    d = xhat.shape[-1]
    dgain = (dout * xhat).reshape(-1, d).sum(axis=0)
    dbias = dout.reshape(-1, d).sum(axis=0)
    dxhat = dout * gain
    dx = dxhat - _row_mean(dxhat)
    dx -= xhat * _row_mean(dxhat * xhat)
    dx *= rstd
    return dx, dgain, dbias


def feed_forward(x, w_1, b_1, w_2, b_2):  # (B,n,d),(d,d_ff),(d_ff,),(d_ff,d),(d,) -> (B,n,d)
    """max(0, x W_1 + b_1) W_2 + b_2, applied to every position alone."""
    hidden = _linear(x, w_1)
    hidden += b_1
    active = hidden > 0
    hidden *= active  # the ReLU (faster here than np.maximum)
    out = _linear(hidden, w_2)
    out += b_2
    return out, (x, hidden, active, w_1, w_2)


def feed_forward_backward(dout, cache):  # (B, n, d) -> dx, dW_1, db_1, dW_2, db_2
    x, hidden, active, w_1, w_2 = cache
    dhidden = _linear(dout, w_2.T)
    dhidden *= active
    db_1 = dhidden.reshape(-1, w_1.shape[1]).sum(axis=0)
    db_2 = dout.reshape(-1, w_2.shape[1]).sum(axis=0)
    return _linear(dhidden, w_1.T), _weight_grad(x, dhidden), db_1, _weight_grad(hidden, dout), db_2


def project(x, w):  # (B, n, d), (d, N) -> (B, n, N)
    """A bias-free linear map, x W: the de-embedding to vocabulary scores (logits)."""
    return _linear(x, w), (x, w)


def project_backward(dout, cache):  # (B, n, N) -> (B, n, d), (d, N)
    x, w = cache
    return _linear(dout, w.T), _weight_grad(x, dout)


def cross_entropy(logits, targets, out=None):  # (B, n, N), (B, n) int -> scalar
    """Mean over positions of -log softmax(logits)[target].

    logits [[[0, ln 3]]], targets [[1]] -> -log 0.75 = 0.2877. The cache holds
    the probabilities, written to ``out`` (which may be ``logits`` itself).
    """
    probs = np.subtract(logits, logits.max(axis=-1, keepdims=True), out=out)
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]  # (B, n)
    np.exp(probs, out=probs)
    total = probs.sum(axis=-1, keepdims=True)
    probs /= total
    return float(np.mean(np.log(total[..., 0]) - picked)), (probs, targets)


def cross_entropy_backward(dloss, cache, out=None):  # scalar -> (B, n, N)
    """(softmax(logits) - one_hot(target)) / count, times dloss.

    ``out`` may be the cache's probabilities, to work in place.
    """
    probs, targets = cache
    scale = dloss / targets.size
    dlogits = np.multiply(probs, scale, out=out)
    picked = np.take_along_axis(dlogits, targets[..., None], axis=-1)
    np.put_along_axis(dlogits, targets[..., None], picked - scale, axis=-1)
    return dlogits
