"""Bloem's classification transformer: encoder blocks, pooling over positions, a class head.

Letters as in ``layers``: B batch, n sequence length (at most ``context``), N vocabulary,
d = d_model, C classes, S labelled lines. The forward pass, with row vectors and the .npz
weight names (Bloem's ``classifier.svg``):

    X_0 = E[ids] + P[:n]           E = embedding (N, d); P sinusoidal, or positions (context, d)
    H = encode(X_0)                the encoder: blocks without the causal mask (every word
                                   sees every other), ``encoder.layer{l}.*``; pre-norm ends
                                   with ``encoder.final_norm``
    z = mean_i H[i]                global average pooling (pool "mean"), or
    z = max_i H[i]                 per dimension (pool "max")
    logits = z W + b               W = classifier.W (d, C), b = classifier.b (C,)
    P(class | text) = softmax(logits)

The loss is the mean cross-entropy over a batch of texts. There is no de-embedding: the
model's output is one distribution over C classes per text, not one over N words per position.
A text longer than ``context`` is read by its first ``context`` words.

Batches are rectangular without padding: ``LabelledBatches`` draws the lines of a batch
among lines of one length.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmtoy.errors import CorpusError, ModelFileError, UsageError, VocabularyError
from lmtoy.transformer import layers, model
from lmtoy.transformer.model import Config, block_numbers, encoder_shapes, position_table


def check_config(config: Config) -> None:
    """Refuse what a classifier cannot be: tied weights (it has no de-embedding to tie)."""
    if config.tied:
        raise UsageError("--tied is for next-word models: a classifier has no de-embedding to tie to its embedding")


def iter_param_shapes(config: Config):  # -> iterator of (name, shape), in file order
    c = config
    yield "embedding", (c.vocab_size, c.d_model)
    if c.positions == "learned":
        yield "positions", (c.context, c.d_model)
    yield from encoder_shapes(c).items()
    yield "classifier.W", (c.d_model, c.n_classes)
    yield "classifier.b", (c.n_classes,)


def param_count(config: Config) -> tuple[int, int]:
    """(weight arrays, numbers) from the sizes alone, as ``model.param_count``.

    vocab 9, d_model 8, 2 heads, 1 encoder layer, d_ff 32, post-norm, sinusoidal, 3 classes
    -> (15, 939): E 72; the block's 840 in 12 arrays; W 24, b 3.
    """
    c = config
    learned, pre = c.positions == "learned", c.norm == "pre"
    arrays = 1 + learned + 12 * c.encoder_layers + 2 * pre + 2
    numbers = (c.vocab_size * c.d_model + learned * c.context * c.d_model + c.encoder_layers * block_numbers(c)
               + pre * 2 * c.d_model + c.d_model * c.n_classes + c.n_classes)
    return arrays, numbers


def pool(h, kind):  # (B, n, d) -> (B, d), cache
    """One vector per text: the mean of its positions (Bloem's global average pooling) or,
    per dimension, their maximum. [[[1, 4], [3, 2]]] -> mean [[2, 3]], max [[3, 4]]."""
    if kind == "mean":
        return h.mean(axis=1), ("mean", h.shape)
    where = h.argmax(axis=1)  # (B, d): the first position holding each dimension's maximum
    return np.take_along_axis(h, where[:, None, :], axis=1)[:, 0], ("max", h.shape, where)


def pool_backward(dpooled, cache):  # (B, d) -> (B, n, d)
    """Mean: each position gets dpooled / n. Max: the position that won each dimension gets
    all of it (ties went to the first), the others 0."""
    kind, shape = cache[:2]
    if kind == "mean":
        return np.repeat(dpooled[:, None, :] / shape[1], shape[1], axis=1)
    dh = np.zeros(shape, dtype=dpooled.dtype)
    np.put_along_axis(dh, cache[2][:, None, :], dpooled[:, None, :], axis=1)
    return dh


class Cache(NamedTuple):
    embedding: tuple
    positions: tuple
    encoder: tuple  # model.encode's cache
    encoded: np.ndarray  # (B, n, d) H, the encoder's output
    pool: tuple
    pooled: np.ndarray  # (B, d) z


def forward_cached(params, config, ids):  # (B, n) int -> (B, C), Cache
    """The class logits of each text, and the cache ``backward`` needs."""
    if ids.shape[1] > config.context:
        raise UsageError(f"{ids.shape[1]} positions exceed the model's context of {config.context}")
    x, ec = layers.embedding(ids, params["embedding"])
    x, pc = layers.add_positions(x, position_table(params, config, ids.shape[1], x.dtype))
    h, enc = model.encode(params, config, x)
    z, plc = pool(h, config.pool)
    logits = z @ params["classifier.W"] + params["classifier.b"]
    return logits, Cache(ec, pc, enc, h, plc, z)


def backward(params, config, dlogits, cache):  # (B, C) -> {name: gradient}
    """The gradient of every weight, given d loss / d logits and ``forward_cached``'s cache."""
    grads = {"classifier.W": cache.pooled.T @ dlogits, "classifier.b": dlogits.sum(axis=0)}
    dh = pool_backward(dlogits @ params["classifier.W"].T, cache.pool)
    dx, encoder = model.encode_backward(dh, cache.encoder, config)
    grads |= encoder
    if config.positions == "learned":
        dx, grads["positions"] = layers.add_positions_backward(dx, cache.positions)
    grads["embedding"] = layers.embedding_backward(dx, cache.embedding)
    return grads


def loss_and_grads(params, config, inputs, targets):  # (B, n) int, (B,) int -> float, {name: gradient}
    """Mean cross-entropy of the texts' labels, and its gradient for every weight."""
    logits, cache = forward_cached(params, config, inputs)
    loss, ce = layers.cross_entropy(logits, targets, out=logits)  # logits -> probabilities
    return loss, backward(params, config, layers.cross_entropy_backward(1.0, ce, out=ce[0]), cache)


def _checked_logits(params, config, ids):  # (B, n) -> (B, C) float64
    from lmtoy.transformer.inference import DIVERGED

    with np.errstate(all="ignore"):  # a diverged model is reported, not warned about
        logits = forward_cached(params, config, ids)[0].astype(np.float64)
    if not np.isfinite(logits).all():
        raise ModelFileError(DIVERGED)
    return logits


def probabilities(params, config, ids):  # (n,) int -> (C,)
    """P(class | text) for one text of ids, read by its first ``context`` ids; sums to 1."""
    ids = np.asarray(ids, dtype=np.int64)[: config.context]
    if len(ids) == 0:
        raise UsageError("the text is empty; give at least one word")
    return layers.softmax(_checked_logits(params, config, ids[None]))[0]


BATCH = 1024  # texts per forward pass when classifying many


def predict(params, config, texts) -> np.ndarray:  # [(n_s,) int] -> (S,) int
    """The most probable class of each text (each read by its first ``context`` ids), in
    batches of texts of one length."""
    cut = [np.asarray(t, dtype=np.int64)[: config.context] for t in texts]
    lengths = np.array([len(t) for t in cut], dtype=np.int64)
    predicted = np.empty(len(cut), dtype=np.int64)
    for n in np.unique(lengths):
        rows = np.flatnonzero(lengths == n)
        for chunk in np.array_split(rows, -(-len(rows) // BATCH)):
            predicted[chunk] = _checked_logits(params, config, np.stack([cut[s] for s in chunk])).argmax(axis=1)
    return predicted


def evaluate(params, config, texts, label_ids, weights=None):  # [(n_s,)], (S,), (S,) -> float, (C, C)
    """Accuracy and the confusion matrix (rows the true label, columns the predicted one) of
    labelled texts; each text counts its weight (default 1). Texts [a, b] labelled [0, 1]
    both predicted 0 -> accuracy 0.5, confusion [[1, 0], [1, 0]]."""
    weights = np.ones(len(texts)) if weights is None else np.asarray(weights, dtype=np.float64)
    confusion = np.zeros((config.n_classes, config.n_classes))
    np.add.at(confusion, (np.asarray(label_ids), predict(params, config, texts)), weights)
    return float(np.trace(confusion) / confusion.sum()), confusion


def encode_labelled(labelled, vocabulary, labels):  # -> [(n_s,) int], (S,) int
    """The model's ids of each labelled line's words and of its label; an unknown word or
    label is an error naming the line (with close words, as for a prompt)."""
    label_index = {label: i for i, label in enumerate(labels)}
    extra = [label for label in labelled.labels if label not in label_index]
    if extra:
        first = int(labelled.lines[np.argmax(labelled.label_ids == labelled.labels.index(extra[0]))])
        raise CorpusError(f"{labelled.name}: line {first}: label '{extra[0]}' is not one of the model's "
                          f"{len(labels)} labels ({', '.join(labels)})")
    texts, corpus = [], labelled.text
    for s in range(corpus.n_sentences):
        words = corpus.sentence(s)
        try:
            vocabulary.require(words)
        except VocabularyError as error:
            raise VocabularyError(f"{labelled.name}: line {labelled.lines[s]}: {error}") from None
        texts.append(vocabulary.encode(words))
    return texts, np.array([label_index[labelled.labels[i]] for i in labelled.label_ids], dtype=np.int64)


class LabelledBatches:
    """Training batches of labelled texts, rectangular without padding.

    A draw picks a line with probability proportional to its weight, then ``batch`` lines
    (by weight, with replacement) among the lines of the same length (in words, at most
    ``context``: longer lines are read by their first ``context`` words). Lines
    ["a b", "c d", "e"] give batches of two-word lines or of "e" alone.
    """

    def __init__(self, ids, starts, weights, label_ids, context):  # (T,), (S+1,), (S,), (S,)
        weights = np.asarray(weights, dtype=np.float64)
        self.lengths = np.minimum(np.diff(starts), context)  # (S,)
        self.cdf = np.cumsum(weights)
        self.groups = {}  # length -> (cdf (S_n,), ids (S_n, n), labels (S_n,))
        for n in np.unique(self.lengths):
            rows = np.flatnonzero(self.lengths == n)
            block = ids[starts[rows][:, None] + np.arange(n)]
            self.groups[int(n)] = (np.cumsum(weights[rows]), block, np.asarray(label_ids)[rows])

    @classmethod
    def from_labelled(cls, labelled, context):
        c = labelled.text
        return cls(c.ids, c.starts, c.weights, labelled.label_ids, context)

    def sample(self, rng, batch):  # -> (B, n) int, (B,) int
        n = int(self.lengths[_draw(self.cdf, rng, 1)[0]])
        cdf, block, labels = self.groups[n]
        rows = _draw(cdf, rng, batch)
        return block[rows], labels[rows]


def _draw(cdf, rng, size):  # (S,) cumulative weights -> (size,) indices drawn by weight
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(cdf) - 1)


def setup(labelled, **sizes):
    """The config, vocabulary and batches to train a classifier on labelled lines.

    The vocabulary is the corpus words sorted, then END (as every lmtoy vocabulary);
    ``context`` is the longest line's length in words, at most ``sizes["context"]``
    (default 16): longer lines are read by their first ``context`` words.
    """
    from lmtoy.transformer.train import Setup, model_vocabulary

    vocabulary = model_vocabulary(labelled.text.vocabulary.words)
    cap = sizes.pop("context", Config.__dataclass_fields__["context"].default)
    context = min(int(labelled.text.lengths.max()), cap) if isinstance(cap, int) and cap >= 1 else cap
    config = Config(vocab_size=len(vocabulary), context=context, task="classify", n_classes=len(labelled.labels),
                    **sizes)
    check_config(config)
    return Setup(config, vocabulary, LabelledBatches.from_labelled(labelled, config.context), labels=labelled.labels)


def gradcheck(config, rng, batch=2, h=1e-5) -> dict[str, float]:
    """``train.gradcheck`` for a classifier: every weight's analytic gradient against central
    finite differences, in float64, on random texts of ``context`` words and random labels.
    Drawn clear of ReLU kinks and, for max pooling, of near ties between positions (where the
    maximum would switch under a finite-difference step)."""
    check_config(config)
    from lmtoy.transformer.train import checkable, weight_errors

    draw = lambda: (rng.integers(0, config.vocab_size, size=(batch, config.context)),
                    rng.integers(0, config.n_classes, size=batch))
    params, inputs, targets = checkable(config, rng, draw, lambda p, x: _clear_of_kinks(p, config, x, 100 * h))
    return weight_errors(params, loss_and_grads(params, config, inputs, targets)[1],
                         lambda: _loss(params, config, inputs, targets), h)


def _clear_of_kinks(params, config, inputs, margin) -> bool:
    """True when every feed-forward pre-activation is at least ``margin`` from 0 and (max
    pooling) each dimension's largest position beats the next by ``margin`` or more."""
    _, cache = forward_cached(params, config, inputs)
    for l, block in enumerate(cache.encoder[0]):
        pre = block.ffn[0] @ params[f"encoder.layer{l}.W_1"] + params[f"encoder.layer{l}.b_1"]
        if np.abs(pre).min() < margin:
            return False
    if config.pool == "max" and cache.encoded.shape[1] > 1:
        top = np.sort(cache.encoded, axis=1)
        return bool((top[:, -1] - top[:, -2]).min() >= margin)
    return True


def _loss(params, config, inputs, targets):  # -> float
    return layers.cross_entropy(forward_cached(params, config, inputs)[0], targets)[0]
