"""Training data for the encoder-decoder: rectangular batches of sentence pairs, and the
setup that turns ``lmtoy.pairs.Pairs`` into a config, two vocabularies and batches.

Letters as in ``seq2seq``: B batch, n_s source positions (the words, then END), n_t decoder
positions (END, then the words), P pairs, G the pairs of one length group.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmtoy.errors import CorpusError
from lmtoy.transformer.model import END, Config


class PairBatch(NamedTuple):
    """The inputs of one batch: what the encoder and the decoder read."""

    source: np.ndarray  # (B, n_s) int: w_1 .. w_n END
    target: np.ndarray  # (B, n_t) int: END t_1 .. t_m, the decoder's inputs

    @property
    def size(self) -> int:
        """Token positions read, both sides (training's tokens/s counts these)."""
        return self.source.size + self.target.size


class _Group(NamedTuple):
    """The pairs of one (source length, target length), as rectangular id arrays."""

    source: np.ndarray  # (G, n_s) w_1 .. w_n END
    decoder: np.ndarray  # (G, n_t) END t_1 .. t_m
    targets: np.ndarray  # (G, n_t) t_1 .. t_m END
    cumulative: np.ndarray  # (G,) the pairs' weights, summed


class PairBatches:
    """Batches of sentence pairs without padding: every pair in a batch has the same lengths.

    ``sample`` draws one pair by weight, which fixes the lengths (n, m); then ``batch`` pairs
    of exactly those lengths, by weight and with replacement. So a pair's chance to be in a
    batch follows its weight, and a batch is a rectangle that needs no mask. Pairs "a b ->
    x" and "c d -> y" share a group; "a -> x y" has its own.
    """

    def __init__(self, pairs, source_end: int, target_end: int):
        src, tgt = pairs.source, pairs.target
        key = src.lengths * (int(tgt.lengths.max()) + 1) + tgt.lengths  # (P,) one code per (n, m)
        codes, self.group_of = np.unique(key, return_inverse=True)
        self.cumulative = np.cumsum(src.weights)  # (P,)
        self.groups = [self._group(src, tgt, np.flatnonzero(self.group_of == g), source_end, target_end)
                       for g in range(len(codes))]  # fmt: skip

    @staticmethod
    def _group(src, tgt, members, source_end, target_end) -> _Group:
        def words(corpus):  # -> (G, length)
            length = int(corpus.lengths[members[0]])
            return corpus.ids[corpus.starts[members][:, None] + np.arange(length)]

        source, target = words(src), words(tgt)
        end = lambda value: np.full((len(members), 1), value, dtype=np.int64)
        return _Group(np.hstack([source, end(source_end)]), np.hstack([end(target_end), target]),
                      np.hstack([target, end(target_end)]), np.cumsum(src.weights[members]))

    def sample(self, rng, batch):  # -> PairBatch, (B, n_t) int
        first = np.searchsorted(self.cumulative, rng.random() * self.cumulative[-1], side="right")
        group = self.groups[self.group_of[min(first, len(self.group_of) - 1)]]
        rows = np.searchsorted(group.cumulative, rng.random(batch) * group.cumulative[-1], side="right")
        rows = np.minimum(rows, len(group.cumulative) - 1)
        return PairBatch(group.source[rows], group.decoder[rows]), group.targets[rows]


def setup(pairs, **sizes):
    """The config, vocabularies and batches for training on ``lmtoy.pairs.Pairs``.

    Each side's vocabulary is its words (sorted) then END; ``sizes`` are Config fields
    other than the vocabulary sizes and the task. CorpusError (naming the line) when a pair
    does not fit the context: the encoder reads n + 1 positions, the decoder m + 1.
    """
    from lmtoy.transformer.train import Setup

    source_vocabulary = tuple(pairs.source.vocabulary.words) + (END,)
    vocabulary = tuple(pairs.target.vocabulary.words) + (END,)
    config = Config(vocab_size=len(vocabulary), source_vocab_size=len(source_vocabulary), task="translate", **sizes)
    _check_fit(pairs, config.context)
    batches = PairBatches(pairs, len(source_vocabulary) - 1, len(vocabulary) - 1)
    return Setup(config, vocabulary, batches, source_vocabulary=source_vocabulary)


def _check_fit(pairs, context: int) -> None:
    """CorpusError for the first pair whose source or target (with its END) exceeds ``context``."""
    need = np.maximum(pairs.source.lengths, pairs.target.lengths) + 1  # (P,) positions each pair needs
    if need.max() <= context:
        return
    i = int(np.argmax(need > context))
    side = "source" if pairs.source.lengths[i] + 1 == need[i] else "target"
    raise CorpusError(
        f"{pairs.name}: line {pairs.lines[i]}: the {side} has {need[i] - 1} words, {need[i]} positions with {END}, "
        f"more than the context of {context}: give --context {int(need.max())} (the longest pair's need) or more"
    )
