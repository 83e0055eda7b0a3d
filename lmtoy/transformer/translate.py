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
                         f"(its context of {context} positions holds the words and {'<end>'})")
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
