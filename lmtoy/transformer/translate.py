"""Using an encoder-decoder: greedy and beam-search translation, the attention weights of
both stacks and the cross-attention, and the step-by-step trace.

Letters as in ``seq2seq``: n_s source positions (the words, then END), n_t decoder positions
(END, then the target words), N_s, N_t vocabularies, E encoder and L decoder layers, h heads.

Decoding reads the source once (the encoder output H), then feeds the decoder END and each
word it chose so far; the decoder is run on the whole prefix at every step (no key-value
cache: the models are small). Beam search with width K (greedy is width 1):

- each step extends each live hypothesis by every word and keeps the K - F best
  extensions by their log probability, sum_i log P(t_i | t_<i, source), where F is how
  many hypotheses have finished; an extension ending in END is finished and leaves the beam;
- the search stops when K hypotheses have finished, after ``steps`` words, or when the
  decoder has read its whole context;
- the answer is the finished hypothesis (if none finished, the live one) with the highest
  length-normalised score, sum log P / length, where the length counts END.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmtoy.errors import ModelFileError, UsageError
from lmtoy.transformer import layers
from lmtoy.transformer.inference import DIVERGED
from lmtoy.transformer.model import END
from lmtoy.transformer.seq2seq import decode, encode_source


class Translation(NamedTuple):
    ids: list[int]  # the target words' ids, END left out
    score: float  # the length-normalised log probability: sum log P / length (END counted)
    stopped: str  # "end": the model produced END; "context": the decoder's context is full;
    #               "steps": ``steps`` words were produced


def source_ids(words_ids, end_id: int, context: int) -> np.ndarray:  # (n,) int -> (n + 1,)
    """What the encoder reads: the source words then END; UsageError when longer than the context."""
    ids = np.append(np.asarray(words_ids, dtype=np.int64), end_id)
    if len(ids) > context:
        raise UsageError(f"the source has {len(ids) - 1} words; the model reads at most {context - 1} "
                         f"(its context of {context} positions holds the words and {END})")
    return ids


def _checked(*arrays) -> None:
    if not all(np.isfinite(a).all() for a in arrays):
        raise ModelFileError(DIVERGED)


def encoded(params, config, source):  # (n_s,) int -> (1, n_s, d)
    """The final encoder output H of one source; ModelFileError when not finite numbers."""
    with np.errstate(all="ignore"):
        memory, _ = encode_source(params, config, source[None])
    _checked(memory)
    return memory


def log_next(params, config, memory, prefixes):  # (1, n_s, d), (k, t) int -> (k, N_t) float64
    """log P(next word | source, prefix) for k prefixes of one length."""
    with np.errstate(all="ignore"):
        memories = np.broadcast_to(memory, (len(prefixes), *memory.shape[1:]))
        logits = decode(params, config, memories, prefixes)[0][:, -1].astype(np.float64)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    _checked(logp)
    return logp


def beam_search(params, config, source, end_id: int, width: int = 1, steps: int | None = None) -> Translation:
    """Translate source ids (words then END) by beam search of ``width`` (1: greedy); at most
    ``steps`` words (None: as many as the context allows). See the module docstring."""
    if width < 1:
        raise UsageError(f"the beam width must be at least 1, not {width}")
    if steps is not None and steps < 1:
        raise UsageError(f"a translation needs at least 1 step, not {steps}")
    limit = config.context if steps is None else min(steps, config.context)
    memory = encoded(params, config, source)
    live, sums, finished = np.full((1, 1), end_id, dtype=np.int64), np.zeros(1), []
    for _ in range(limit):
        total = sums[:, None] + log_next(params, config, memory, live)  # (k, N_t)
        best = np.argsort(-total, axis=None, kind="stable")[: width - len(finished)]
        rows, words = np.divmod(best, total.shape[1])
        ended = words == end_id
        finished += [(live[r, 1:].tolist(), total[r, w]) for r, w in zip(rows[ended], words[ended])]
        live = np.hstack([live[rows[~ended]], words[~ended, None]])
        sums = total[rows[~ended], words[~ended]]
        if not len(live):
            break
    if finished:
        ids, total = max(finished, key=lambda f: f[1] / (len(f[0]) + 1))
        return Translation(ids, float(total / (len(ids) + 1)), "end")
    scores = sums / (live.shape[1] - 1)
    best = int(np.argmax(scores))
    ran_out = "steps" if steps is not None and steps <= config.context else "context"
    return Translation(live[best, 1:].tolist(), float(scores[best]), ran_out)


def greedy(params, config, source, end_id: int, steps: int | None = None) -> Translation:
    """The most probable word at every step: ``beam_search`` of width 1."""
    return beam_search(params, config, source, end_id, 1, steps)


class Attention(NamedTuple):
    """Every attention matrix of one source and decoder input; rows sum to 1."""

    encoder: np.ndarray  # (E, h, n_s, n_s) source x source, no mask
    decoder: np.ndarray  # (L, h, n_t, n_t) target x target, causal
    cross: np.ndarray  # (L, h, n_t, n_s) target rows (the decoder's positions), source columns


def _forward(params, config, source, target):  # (n_s,), (n_t,) int -> memory, encoder caches, logits, decoder caches
    if len(target) > config.context:
        raise UsageError(f"the target has {len(target) - 1} words; the model reads at most {config.context - 1} "
                         f"(its context of {config.context} positions holds {END} and the words)")
    with np.errstate(all="ignore"):  # a diverged model is reported by the caller's checks
        memory, encoder = encode_source(params, config, source[None])
        logits, decoder = decode(params, config, memory, target[None])
    return memory, encoder, logits, decoder


def attention_weights(params, config, source, target) -> Attention:
    """The attention weights of source ids (words then END) and decoder ids (END then words)."""
    memory, (_, _, (blocks, _)), logits, (_, _, caches, _, _) = _forward(params, config, source, target)
    stack = lambda arrays: np.stack([a[0] for a in arrays]).astype(np.float64)
    weights = Attention(stack([b.attention.weights for b in blocks]),
                        stack([c.self_attention[0].weights for c in caches]), stack([c.cross[0].weights for c in caches]))
    _checked(memory, logits, *weights)
    return weights


class TraceStep(NamedTuple):
    name: str
    values: np.ndarray  # (rows, columns), the batch axis dropped
    rows: str  # "source" or "target": the positions the rows follow
    columns: str | None  # "source"/"target": positions (attention keys); "source words"/"target words":
    #                      one column per vocabulary word; None: numbered dimensions


def trace(params, config, source, target) -> list[TraceStep]:
    """One forward pass step by step (the encoder, then the decoder), every intermediate with
    the batch axis dropped; scores are recomputed from the cached Q and K.

    Names, in order: source one-hot (n_s, N_s), source embedded, source positions, source
    embedded + positions; per encoder layer ("encoder layer 1 ...") as ``inference.trace``'s
    blocks without the masked scores; (pre-norm) encoder final norm: H; target one-hot (n_t,
    N_t) ... target embedded + positions; per decoder layer ("decoder layer 1 ..."): the
    masked self-attention as in ``inference.trace``, add & norm 1, then cross head j Q (n_t,
    d_k), K, V (n_s, .), scores, attention weights (n_t, n_s), head output, cross concat,
    cross-attention output, add & norm 3 (its weights are norm3), then the feed-forward and
    add & norm 2 (pre-norm: the norms before the sublayers, plain adds); then (pre) final
    norm, logits, probabilities.
    """
    memory, (_, _, (blocks, _)), logits, (_, _, caches, _, dc) = _forward(params, config, source, target)
    pre = config.norm == "pre"
    with np.errstate(all="ignore"):  # checked below
        steps = _inputs("source", params["source_embedding"], source, params, config)
        for l, block in enumerate(blocks, 1):
            steps += _encoder_block(f"encoder layer {l}", block, pre)
        if pre:
            steps.append(TraceStep("encoder final norm", memory[0], "source", None))
        steps += _inputs("target", params["embedding"], target, params, config)
        for l, cache in enumerate(caches, 1):
            steps += _decoder_layer(f"decoder layer {l}", cache, pre)
        if pre:
            steps.append(TraceStep("final norm", dc[0][0], "target", None))
        steps += [TraceStep("logits", logits[0], "target", "target words"),
                  TraceStep("probabilities", layers.softmax(logits[0].astype(np.float64)), "target", "target words")]
    masked = np.isneginf(layers.causal_mask(len(target)))  # the one place minus infinity belongs
    for step in steps:
        if not (np.isfinite(step.values) | (masked if step.name.endswith("masked scores") else False)).all():
            raise ModelFileError(DIVERGED)
    return steps


def _inputs(side, table, ids, params, config) -> list[TraceStep]:
    from lmtoy.onehot import one_hot
    from lmtoy.transformer.model import position_table

    embedded = table[ids]
    positions = position_table(params, config, len(ids), embedded.dtype)[: len(ids)]
    return [TraceStep(f"{side} one-hot", one_hot(ids, len(table)), side, f"{side} words"),
            TraceStep(f"{side} embedded", embedded, side, None), TraceStep(f"{side} positions", positions, side, None),
            TraceStep(f"{side} embedded + positions", embedded + positions, side, None)]  # fmt: skip


def _heads(prefix, a, queries, keys, masked) -> list[TraceStep]:
    """Per head: Q, K, V, the scores (and masked scores), the weights and the head's output."""
    scores = a.q @ a.k.swapaxes(-1, -2) / np.sqrt(a.q.shape[-1])  # training keeps only the weights
    steps = []
    for j in range(a.q.shape[1]):
        head = f"{prefix} head {j + 1}"
        steps += [TraceStep(f"{head} Q", a.q[0, j], queries, None), TraceStep(f"{head} K", a.k[0, j], keys, None),
                  TraceStep(f"{head} V", a.v[0, j], keys, None),
                  TraceStep(f"{head} scores", scores[0, j], queries, keys)]
        if masked:
            steps.append(TraceStep(f"{head} masked scores", scores[0, j] + layers.causal_mask(scores.shape[-1]),
                                   queries, keys))  # fmt: skip
        steps += [TraceStep(f"{head} attention weights", a.weights[0, j], queries, keys),
                  TraceStep(f"{head} head output", a.heads[0, j], queries, None)]
    return steps


def _encoder_block(prefix, block, pre) -> list[TraceStep]:
    add = "add" if pre else "add & norm"
    s = lambda name, values: TraceStep(f"{prefix} {name}", values[0], "source", None)
    steps = [s("norm 1", block.attention.x)] if pre else []
    steps += _heads(prefix, block.attention, "source", "source", masked=False)
    steps += [s("concat", block.attention.concat), s("attention output", block.attention_out),
              s(f"{add} 1", block.after_attention)]
    steps += [s("norm 2", block.ffn[0])] if pre else []
    return steps + [s("feed-forward hidden", block.ffn[1]), s("feed-forward output", block.ffn_out),
                    s(f"{add} 2", block.out)]


def _decoder_layer(prefix, cache, pre) -> list[TraceStep]:
    add = "add" if pre else "add & norm"
    t = lambda name, values: TraceStep(f"{prefix} {name}", values[0], "target", None)
    (sa, _, sa_out, y), (ca, _, ca_out, z), (ffn, _, ffn_out, out) = cache
    steps = [t("norm 1", sa.x)] if pre else []
    steps += _heads(prefix, sa, "target", "target", masked=True)
    steps += [t("concat", sa.concat), t("attention output", sa_out), t(f"{add} 1", y)]
    steps += [t("norm 3", ca.x)] if pre else []
    steps += _heads(f"{prefix} cross", ca, "target", "source", masked=False)
    steps += [t("cross concat", ca.concat), t("cross-attention output", ca_out), t(f"{add} 3", z)]
    steps += [t("norm 2", ffn[0])] if pre else []
    return steps + [t("feed-forward hidden", ffn[1]), t("feed-forward output", ffn_out), t(f"{add} 2", out)]
