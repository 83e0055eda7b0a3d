"""Using a trained model (sections 8-10): the next-word distribution, generation, the
attention weights, the step-by-step trace, and 2-D embeddings.

Letters as in ``layers``: n prompt length (at most ``context``), N vocabulary, d = d_model,
L layers, h heads.
"""

from __future__ import annotations

import numpy as np

from lmtoy.errors import ModelFileError, UsageError
from lmtoy.onehot import one_hot
from lmtoy.transformer import layers
from lmtoy.transformer.model import forward_cached, position_table


def prompt_window(ids, context, strict=False):  # (n,) int -> (min(n, context),)
    """The last ``context`` ids of a prompt; with ``strict`` a longer prompt is an error."""
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        raise UsageError("the prompt is empty; give at least one word")
    if strict and len(ids) > context:
        raise UsageError(f"the prompt has {len(ids)} words but the model's context is {context}")
    return ids[-context:]


DIVERGED = ("the model's probabilities are not finite numbers: its weights have diverged "
            "(train it again with a lower --lr)")


def checked_forward(params, config, window):  # (n,) int -> (1, n, N), ForwardCache
    """``forward_cached`` on one window, without numpy's overflow warnings; ModelFileError
    (``DIVERGED``) when an activation is not a finite number.

    Every command that runs the model reads it through here, so a model whose weights
    overflow the forward pass is refused alike by predict, generate, attention and trace.
    """
    with np.errstate(all="ignore"):  # a diverged model is reported below, not warned about
        logits, cache = forward_cached(params, config, window[None])
    activations = [logits] + [a for block in cache.blocks for a in (block.attention.weights, block.out)]
    if not all(np.isfinite(a).all() for a in activations):
        raise ModelFileError(DIVERGED)
    return logits, cache


def next_distribution(params, config, ids, temperature=1.0):  # (n,) int -> (N,)
    """P(next word | prompt) over the vocabulary, from the last ``context`` ids of the prompt.

    Returns
    -------
    probabilities : (N,) ndarray of float64, softmax(logits / temperature), sums to 1.
    """
    if not temperature > 0:
        raise UsageError(f"temperature must be above 0, not {temperature}")
    window = prompt_window(ids, config.context)
    logits = checked_forward(params, config, window)[0][0, -1].astype(np.float64)
    with np.errstate(all="ignore"):
        p = layers.softmax(logits / temperature)
    if not np.isfinite(p).all():
        raise ModelFileError(DIVERGED)
    return p


def generate(
    params, config, ids, steps, rng=None, temperature=1.0, top_k=None, greedy=True, end_id=None
):  # (n,) int -> (m,) int
    """Append up to ``steps`` words, one at a time; returns the new ids, (m,) int64.

    Greedy takes the most probable word; otherwise a word is drawn from ``rng``
    among the ``top_k`` most probable (all when None), after the temperature.
    Generation stops after ``end_id`` is produced (it is included).
    """
    if not greedy and rng is None:
        raise UsageError("sampling needs a random generator (a seed)")
    if top_k is not None and top_k < 1:
        raise UsageError(f"top-k must be at least 1, not {top_k}")
    ids, new = list(np.asarray(ids, dtype=np.int64)), []
    for _ in range(steps):
        p = next_distribution(params, config, ids, temperature)
        word = int(np.argmax(p)) if greedy else _sample(p, rng, top_k)
        ids.append(word)
        new.append(word)
        if word == end_id:
            break
    return np.array(new, dtype=np.int64)


def _sample(p, rng, top_k):  # (N,) -> int
    if top_k is not None and top_k < len(p):
        kept = np.zeros_like(p)
        top = np.argsort(-p, kind="stable")[:top_k]
        kept[top] = p[top]
        p = kept
    return int(rng.choice(len(p), p=p / p.sum()))


def attention_weights(params, config, ids):  # (n,) int -> (L, h, n, n)
    """Every layer's and head's attention weights for one prompt (rows sum to 1)."""
    window = prompt_window(ids, config.context)
    _, cache = checked_forward(params, config, window)
    return np.stack([block.attention.weights[0] for block in cache.blocks])


def trace(params, config, ids):  # (n,) int -> [(name, array)]
    """One forward pass step by step: every intermediate with the batch axis dropped.

    Training keeps only the attention weights, so the scores shown here are
    recomputed from the cached Q and K.

    The names, in order: one-hot input (n, N), embedded (n, d), positions (n, d),
    embedded + positions, then per layer ("layer 1 ..."): per head Q, K (n, d_k),
    V (n, d_v), scores, masked scores, attention weights (n, n), head output
    (n, d_v); concat (n, h*d_v), attention output, add & norm, feed-forward hidden
    (n, d_ff), feed-forward output, add & norm (pre-norm: the norms before the
    sublayers and the plain adds); then logits and probabilities (n, N).
    """
    window = prompt_window(ids, config.context)
    logits, cache = checked_forward(params, config, window)
    n = len(window)
    embedded = params["embedding"][window]
    with np.errstate(all="ignore"):  # checked below
        positions = position_table(params, config, n, embedded.dtype)[:n]
        steps = [("one-hot input", one_hot(window, config.vocab_size)), ("embedded", embedded),
                 ("positions", positions), ("embedded + positions", embedded + positions)]  # fmt: skip
        for l, block in enumerate(cache.blocks, 1):
            steps += _block_trace(f"layer {l}", block, config)
        if config.norm == "pre":
            steps.append(("final norm", cache.de_embedding[0][0]))
        steps += [("logits", logits[0]), ("probabilities", layers.softmax(logits[0]))]
    masked = np.isneginf(layers.causal_mask(n))  # the one place minus infinity belongs
    for name, array in steps:
        if not (np.isfinite(array) | (masked if name.endswith("masked scores") else False)).all():
            raise ModelFileError(DIVERGED)
    return steps


def _block_trace(prefix, block, config):  # -> [(name, array)]
    a, pre = block.attention, config.norm == "pre"
    add = "add & norm" if config.norm == "post" else "add"
    scale = 1 / np.sqrt(a.q.shape[-1]) if config.attention_scale is None else config.attention_scale
    scores = a.q @ a.k.swapaxes(-1, -2) * scale  # training keeps only the weights
    masked = scores + layers.causal_mask(scores.shape[-1])
    per_head = {"Q": a.q, "K": a.k, "V": a.v, "scores": scores, "masked scores": masked,
                "attention weights": a.weights, "head output": a.heads}  # fmt: skip
    steps = [(f"{prefix} norm 1", a.x[0])] if pre else []
    for j in range(config.n_heads):
        steps += [(f"{prefix} head {j + 1} {name}", array[0, j]) for name, array in per_head.items()]
    steps += [
        (f"{prefix} concat", a.concat[0]),
        (f"{prefix} attention output", block.attention_out[0]),
        (f"{prefix} {add} 1", block.after_attention[0]),
    ]
    if pre:
        steps.append((f"{prefix} norm 2", block.ffn[0][0]))
    return steps + [
        (f"{prefix} feed-forward hidden", block.ffn[1][0]),
        (f"{prefix} feed-forward output", block.ffn_out[0]),
        (f"{prefix} {add} 2", block.out[0]),
    ]


def embeddings_2d(table):  # (N, d) -> (N, 2)
    """The embedding rows projected on their first two principal axes (PCA by SVD), in float64.

    ModelFileError when the table (or its projection) is not finite numbers, or the SVD
    does not converge.
    """
    table = np.asarray(table, dtype=np.float64)  # float32 sums of huge weights would overflow
    if not np.isfinite(table).all():
        raise ModelFileError("the embedding holds values that are not finite numbers")
    with np.errstate(all="ignore"):
        centred = table - table.mean(axis=0)
        try:
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
        except np.linalg.LinAlgError:
            raise ModelFileError("cannot project the embedding: its SVD did not converge") from None
        coords = centred @ vt[:2].T
    if not np.isfinite(coords).all():
        raise ModelFileError("cannot project the embedding: its values are too large (not finite in float64)")
    return np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
