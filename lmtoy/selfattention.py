"""Basic self-attention without parameters (Bloem's first step), and the softmax step by step.

Bloem starts self-attention with no weights at all: every output vector is a weighted
average of the input vectors, and the weights come from the inputs themselves,

    w'_ij = x_i . x_j,    w_ij = softmax_j(w'_ij),    y_i = sum_j w_ij x_j.

Dividing the scores by sqrt(d) (``scale``) and hiding later words (``causal``) walk from
there to the paper's masked, scaled dot-product attention (with Q = K = V = X).

Shapes: n words in the sequence, N distinct words (one-hot width), d vector width, m the
length of a vector given to the softmax. Pure NumPy: no printing, no files.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmtoy.errors import UsageError
from lmtoy.transformer.layers import causal_mask, softmax


def distinct_words(tokens: list[str]) -> tuple[list[str], np.ndarray]:  # (n,) -> (N,), (n,)
    """The sorted distinct words of a sequence and each token's index among them.

    ['the', 'cat', 'saw', 'the', 'dog'] -> (['cat', 'dog', 'saw', 'the'], [3, 0, 2, 3, 1]).
    """
    words = sorted(set(tokens))
    index = {w: i for i, w in enumerate(words)}
    return words, np.array([index[t] for t in tokens], dtype=np.int64)


def onehot_embedding(tokens: list[str]) -> tuple[list[str], np.ndarray]:  # (n,) -> (N,), (n, N)
    """One-hot vectors over the sequence's own vocabulary (its distinct words, sorted).

    ['b', 'a', 'b'] -> (['a', 'b'], [[0, 1], [1, 0], [0, 1]]): equal words, equal vectors,
    and the dot product of two vectors is 1 for equal words, 0 otherwise.
    """
    words, ids = distinct_words(tokens)
    return words, np.eye(len(words))[ids]


def random_embedding(tokens: list[str], d: int, rng: np.random.Generator) -> np.ndarray:  # (n,) -> (n, d)
    """A standard normal vector of width ``d`` for each distinct word (drawn in sorted
    word order, so the same words and seed give the same vectors), one row per token."""
    words, ids = distinct_words(tokens)
    table = rng.standard_normal((len(words), d))  # (N, d)
    return table[ids]


def self_attention(x, scale: bool = False, causal: bool = False):  # (n, d) -> (n, n), (n, n), (n, d)
    """Basic self-attention: the raw scores, the weights and the outputs.

    Parameters
    ----------
    x : (n, d) ndarray, one input vector per row
    scale : divide the scores by sqrt(d) (as the paper does with sqrt(d_k))
    causal : add the causal mask: minus infinity above the diagonal, so row i
        averages over x_1 .. x_i only

    Returns
    -------
    scores : (n, n) ndarray, w'_ij = x_i . x_j (divided by sqrt(d), masked)
    weights : (n, n) ndarray, each row the softmax of its scores (sums to 1)
    y : (n, d) ndarray, y_i = sum_j w_ij x_j

    Examples
    --------
    One-hot vectors of "the cat saw the dog": the score is 1 between equal words, else 0,
    so the row of 'the' (c = 2 of n = 5) is e/(2e + 3) = 0.3222 at both 'the' and
    1/(2e + 3) = 0.1185 elsewhere; the row of 'cat' is e/(e + 4) = 0.4046 at 'cat' and
    1/(e + 4) = 0.1488 elsewhere. No weight is 0.
    """
    x = np.asarray(x, dtype=np.float64)  # (n, d)
    n, d = x.shape
    scores = x @ x.T  # (n, n)
    if scale:
        scores /= np.sqrt(d)
    if causal:
        scores += causal_mask(n)
    weights = softmax(scores)  # (n, n)
    return scores, weights, weights @ x


class SoftmaxSteps(NamedTuple):
    """The softmax of a vector, step by step (m entries).

    z = x / T; shift = max(z); exp = e^(z - shift) (the stable form: it never overflows,
    and the shift cancels in the ratio); total = sum(exp); s = exp / total;
    jacobian[i, j] = ds_i/dx_j = s_i (delta_ij - s_j) / T, that is (diag(s) - s s^T) / T.
    """

    x: np.ndarray  # (m,)
    temperature: float
    z: np.ndarray  # (m,) x / T
    shift: float
    exp: np.ndarray  # (m,) e^(z - shift)
    total: float
    s: np.ndarray  # (m,)
    jacobian: np.ndarray  # (m, m), rows sum to 0


def softmax_steps(x, temperature: float = 1.0) -> SoftmaxSteps:  # (m,) -> steps
    """softmax(x / T) with every intermediate, and its Jacobian with respect to x.

    [1, 2, 3], T = 1: shift 3, exp [e^-2, e^-1, 1] = [0.1353, 0.3679, 1], total 1.5032,
    s = [0.0900, 0.2447, 0.6652] (the same as e^x / sum e^x = [2.718, 7.389, 20.09] / 30.19).
    """
    x = np.asarray(x, dtype=np.float64)  # (m,)
    with np.errstate(over="ignore", under="ignore"):
        z = x / temperature
    if not np.isfinite(z).all():
        raise UsageError(f"x / T overflows (T = {temperature:g}): use a larger --temperature or smaller numbers")
    if temperature < 1e-300 or not np.isfinite(1 / temperature):
        raise UsageError(f"a temperature of {temperature:g} is too small to divide by: use a larger --temperature")
    shift = float(z.max())
    exp = np.exp(z - shift)
    total = float(exp.sum())
    s = exp / total
    jacobian = (np.diag(s) - np.outer(s, s)) / temperature  # (m, m)
    return SoftmaxSteps(x, float(temperature), z, shift, exp, total, s, jacobian)
