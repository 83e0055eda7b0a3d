"""The backward pass of self-attention, worked step by step (section 11, seed 003).

For one sentence, the training loss and its gradient walked back through one head of
one layer, every intermediate a named array. Letters as in ``layers``: n sentence
words (the decoder reads n + 1 positions), d = d_model, d_k, d_v, h heads.

The loss. The sentence's words w_1..w_n are read as in training: the inputs are
``<end> w_1 .. w_n`` and the targets ``w_1 .. w_n <end>``, and the loss is the mean
cross-entropy over those n + 1 positions,

    L = -1/(n+1) sum_i log softmax(logits[i])[target_i].

The head. With X the head's input (the layer's input; pre-norm: LN1 of it),
Q = X W_q, K = X W_k, V = X W_v, S = Q K^T / sqrt(d_k) + M (M the causal mask),
A = softmax(S) row by row, Y_head = A V. Back from dL/dY_head (the head's d_v columns
of dL/dMultiHead W_o^T), in the order the notes derive them:

    dL/dV      = A^T dY                               (n+1, d_v)
    dL/dA      = dY V^T                               (n+1, n+1)
    dL/dS      = A * (dA - rowsum(dA * A))            the softmax Jacobian s_i (delta_ij - s_j)
                                                      applied to each row; masked entries 0
    dL/d(QK^T) = dS / sqrt(d_k)                       the scale: the gradient of the product
                                                      Q K^T before it is divided
    dL/dQ      = dS K / sqrt(d_k)                     (n+1, d_k)
    dL/dK      = dS^T Q / sqrt(d_k)                   (n+1, d_k)
    dL/dW_q    = X^T dQ,  dL/dW_k = X^T dK,  dL/dW_v = X^T dV      (d, d_k), (d, d_k), (d, d_v)

Every row of dL/dS sums to 0 (sum_j s_j (dA_j - r) = r - r, r = rowsum(dA * A)), and
the first is 0: <end> attends to itself alone. Worked by hand, one dimension, d_k 1:
X = [0, 1]^T, W_q = W_v = W_o = 1, W_k = ln 3, so A = [[1, 0], [1/4, 3/4]]; from
dY = [0, 1]^T: dV = [1/4, 3/4]^T, dA = [[0, 0], [0, 1]], rowsum 3/4, dL/dS row 2 =
[1/4 (0 - 3/4), 3/4 (1 - 3/4)] = [-3/16, 3/16]; dQ = [0, 3/16 ln 3]^T, dK = [-3/16, 3/16]^T;
dW_q = 3/16 ln 3 = 0.206, dW_k = 3/16, dW_v = 3/4.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lmtoy.errors import ModelFileError, UsageError
from lmtoy.transformer import layers
from lmtoy.transformer.inference import DIVERGED, checked_forward
from lmtoy.transformer.model import _block_backward
from lmtoy.transformer.train import numeric_gradient

CHECKED = ("W_q", "W_k", "W_v")  # the weights whose gradient is checked by finite differences
STEP_H = 1e-5  # the finite-difference step
POS = "positions"  # a Step's axis that runs over the n + 1 positions read (the keys, for columns)


class Step(NamedTuple):
    name: str  # "dL/dV"
    formula: str  # "A^T dY"
    values: np.ndarray  # float64
    axes: tuple[str, str]  # what the rows and columns index: "positions", "d_model", "d_k" or "d_v"


class Walk(NamedTuple):
    loss: float  # mean cross-entropy over the n + 1 positions, in nats
    steps: list[Step]  # in the order of the notes (module docstring)
    check: dict[str, float]  # "dL/dW_q" -> max |analytic - numeric| / max |gradient|
    inputs: np.ndarray  # (n+1,) ids: <end> w_1 .. w_n
    targets: np.ndarray  # (n+1,) ids: w_1 .. w_n <end>


def sentence(ids, end_id, context):  # (n,) int -> (1, n+1), (1, n+1)
    """The decoder's inputs and targets for one sentence: <end> w_1..w_n -> w_1..w_n <end>.

    ids [4, 7], end_id 9 -> inputs [[9, 4, 7]], targets [[4, 7, 9]]. UsageError when the
    n + 1 positions do not fit the model's context.
    """
    ids = np.asarray(ids, dtype=np.int64)
    require_fit(len(ids), context)
    inputs = np.concatenate([[end_id], ids])
    targets = np.concatenate([ids, [end_id]])
    return inputs[None], targets[None]


def require_fit(n, context) -> None:
    """UsageError unless a sentence of n words, read after <end> (n + 1 positions), fits the context."""
    if n == 0:
        raise UsageError("the prompt is empty; give at least one word")
    if n + 1 > context:
        raise UsageError(f"the prompt has {n} words; with the <end> read before them that is {n + 1} positions, "
                         f"more than the model's context of {context} (give at most {context - 1} words)")


def float64(params):  # {name: array} -> {name: float64 copy}
    return {name: np.array(value, dtype=np.float64) for name, value in params.items()}


def attention_output_grad(params, config, cache, dlogits, layer):  # (1, n+1, N) -> (1, n+1, d)
    """dL/dMultiHead of ``layer``: back from the logits through the later layers (whole), then
    this layer's sublayers above its attention (the same steps as ``model._block_backward``)."""
    dx = layers.project_backward(dlogits, cache.de_embedding)[0]
    if config.norm == "pre":
        dx = layers.layer_norm_backward(dx, cache.final_norm)[0]
    for l in reversed(range(layer + 1, config.n_layers)):
        dx = _block_backward(dx, cache.blocks[l], l, config.norm)[0]
    block = cache.blocks[layer]
    if config.norm == "post":  # out = LN2(Y + FFN(Y)), Y = LN1(X + MultiHead(X))
        dy_f = layers.layer_norm_backward(dx, block.norm2)[0]
        dy = layers.feed_forward_backward(dy_f, block.ffn)[0] + dy_f
        return layers.layer_norm_backward(dy, block.norm1)[0]
    dy2 = layers.feed_forward_backward(dx, block.ffn)[0]  # out = Y + FFN(LN2(Y)), Y = X + MultiHead(LN1(X))
    return layers.layer_norm_backward(dy2, block.norm2)[0] + dx


def head_steps(d_multihead, attention, head):  # (n, d), AttentionCache (batch 1) -> [Step]
    """The head's backward pass, one named array per step (module docstring)."""
    c, j = attention, head
    d_v, d_k = c.v.shape[-1], c.q.shape[-1]
    x, q, k, v = c.x[0], c.q[0, j], c.k[0, j], c.v[0, j]
    a = np.ascontiguousarray(c.weights[0, j])  # (n, n), 0 above the diagonal
    dy = (d_multihead @ c.w_o.T)[:, j * d_v : (j + 1) * d_v]  # (n, d_v)
    dv, da = a.T @ dy, dy @ v.T
    ds = a * (da - (da * a).sum(axis=1, keepdims=True))
    ds[np.triu_indices(len(a), 1)] = 0.0  # masked: exactly 0 (a product with A's 0 may be -0.0)
    dp = ds / math.sqrt(d_k)
    dq, dk = dp @ k, dp.T @ q
    return [
        Step("dL/dY_head", "dL/dMultiHead W_o^T, the head's d_v columns", dy, (POS, "d_v")),
        Step("dL/dV", "A^T dY", dv, (POS, "d_v")),
        Step("dL/dA", "dY V^T", da, (POS, POS)),
        Step("dL/dS", "A * (dA - rowsum(dA * A)), masked entries 0", ds, (POS, POS)),
        Step("dL/d(QK^T)", "dS / sqrt(d_k)", dp, (POS, POS)),
        Step("dL/dQ", "dS K / sqrt(d_k)", dq, (POS, "d_k")),
        Step("dL/dK", "dS^T Q / sqrt(d_k)", dk, (POS, "d_k")),
        Step("dL/dW_q", "X^T dQ", x.T @ dq, ("d_model", "d_k")),
        Step("dL/dW_k", "X^T dK", x.T @ dk, ("d_model", "d_k")),
        Step("dL/dW_v", "X^T dV", x.T @ dv, ("d_model", "d_v")),
    ]


def backward_walk(params, config, ids, end_id, layer=0, head=0, check=True, h=STEP_H) -> Walk:
    """The loss of one sentence and its gradient walked back through ``head`` of ``layer``
    (both from 0), in float64 (``params`` are copied, never changed).

    Parameters
    ----------
    ids : (n,) int, the sentence's words; n + 1 <= context
    end_id : int, the id of END
    check : compare each dL/dW with central finite differences of step ``h`` (the ``Walk.check``
        errors: the worst element's |analytic - numeric| over the largest |gradient|, as
        ``train.gradcheck`` measures); False leaves ``check`` empty
    """
    for value, limit, what in ((layer, config.n_layers, "layer"), (head, config.n_heads, "head")):
        if not 0 <= value < limit:
            raise UsageError(f"{what} {value + 1} does not exist: the model has {limit}")
    if config.norm == "none" or config.attention != "softmax" or config.attention_scale is not None:
        raise UsageError(f"the backward walk follows softmax attention scaled by 1 / sqrt(d_k) and layer norms; this "
                         f"model has norm {config.norm}, {config.attention} attention, scale {config.attention_scale} "
                         "(a compiled model, or one trained with --norm none, --attention or --attention-scale)")
    inputs, targets = sentence(ids, end_id, config.context)
    p = float64(params)
    logits, cache = checked_forward(p, config, inputs[0])
    loss, ce = layers.cross_entropy(logits, targets)
    dlogits = layers.cross_entropy_backward(1.0, ce)
    with np.errstate(all="ignore"):  # checked below
        d_multihead = attention_output_grad(p, config, cache, dlogits, layer)[0]
        steps = head_steps(d_multihead, cache.blocks[layer].attention, head)
    if not math.isfinite(loss) or not all(np.isfinite(s.values).all() for s in steps):
        raise ModelFileError(DIVERGED)
    errors = _check(p, config, inputs, targets, layer, head, steps, h) if check else {}
    return Walk(loss, steps, errors, inputs[0], targets[0])


def _check(params, config, inputs, targets, layer, head, steps, h):  # -> {"dL/dW_q": error, ...}
    """Each dL/dW against central finite differences of the loss in the head's own weights."""
    analytic = {s.name: s.values for s in steps}
    errors = {}
    for name in CHECKED:
        weight = params[f"layer{layer}.{name}"][head]  # a view: numeric_gradient changes it in place
        numeric = numeric_gradient(lambda: _loss(params, config, inputs, targets), weight, h)
        grad = analytic[f"dL/d{name}"]
        scale = max(np.abs(grad).max(), np.abs(numeric).max(), 1e-300)
        errors[f"dL/d{name}"] = float(np.abs(grad - numeric).max() / scale)
    return errors


def _loss(params, config, inputs, targets):  # (1, n+1), (1, n+1) -> float
    logits, _ = checked_forward(params, config, inputs[0])
    return layers.cross_entropy(logits, targets)[0]
