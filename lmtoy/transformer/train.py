"""Training by hand: windows from a corpus, next-token cross-entropy, Adam, gradient checks.

Letters as in ``layers``: B batch, n = context, N vocabulary, S sentences.
``train`` is a generator: it yields a ``Progress`` record after every step and
never prints, so a caller can draw a progress bar and stop whenever it likes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lmtoy.errors import UsageError
from lmtoy.errors import TrainingError
from lmtoy.transformer import layers
from lmtoy.transformer.model import END, Config, _task_module, backward, forward_cached, init_params, param_shapes


@dataclass(frozen=True)
class TrainSettings:
    """How to train; the defaults are the tour's (program_log.txt in a fraction of a second)."""

    steps: int = 300
    lr: float = 0.01
    batch: int = 16
    clip: float | None = 1.0  # largest global gradient norm, None for no clipping
    beta1: float = 0.9
    beta2: float = 0.98
    eps: float = 1e-8

    def __post_init__(self) -> None:
        rules = {
            "steps": (self.steps >= 0, "0 or more"),
            "batch": (self.batch >= 1, "at least 1"),
            "lr": (self.lr >= 0, "0 or more"),
            "clip": (self.clip is None or self.clip > 0, "above 0, or None for no clipping"),
        }
        for name, (ok, expected) in rules.items():
            if not ok:
                raise UsageError(f"{name} must be {expected}, not {getattr(self, name)}")


AVERAGE_OVER = 20  # steps in Progress.average_loss


class Progress(NamedTuple):
    step: int  # 1-based
    steps: int
    loss: float  # mean cross-entropy of this step's batch, in nats
    tokens_per_second: float  # since the start
    average_loss: float  # mean of the last AVERAGE_OVER steps' losses (fewer at the start)
    seconds: float  # since the start

    @property
    def eta(self) -> float:
        """Seconds the remaining steps should take, at the pace so far."""
        return self.seconds / self.step * (self.steps - self.step)


DIVERGED_FACTOR = 2  # a final loss above twice ln N (and above the first step's) has diverged


def choices(config: Config) -> int:
    """How many outcomes the loss chooses among: the labels (classify) or the words (N)."""
    return config.n_classes if config.task == "classify" else config.vocab_size


def diverged(average_loss: float, first_loss: float, vocab_size: int) -> bool:
    """True when a run ended far worse than guessing: its final ``average_loss`` (nats) is above
    ``DIVERGED_FACTOR`` x ln N, the cost of guessing uniformly among N words, and above
    ``first_loss``, where the untrained model started (a fresh model can start above 2 ln N
    when N is tiny: N=4, ln 4 = 1.39, he init on find_my_files starts at 3.9).

    N=14: ln 14 = 2.64; a run ending at 14.8 million nats diverged, one ending at 0.05 did not.
    """
    return not math.isfinite(average_loss) or average_loss > max(DIVERGED_FACTOR * math.log(vocab_size), first_loss)


LITTLE_FACTOR = 0.9  # a final loss above this x ln N after LITTLE_AFTER steps: little was learned
LITTLE_AFTER = 100


def learned_little(average_loss: float, steps: int, vocab_size: int) -> bool:
    """True when, after at least LITTLE_AFTER steps, the final mean loss is still above
    LITTLE_FACTOR x ln N: close to guessing uniformly among N words, where even word
    frequencies alone do better on real text. N=29: ln 29 = 3.37; 3.03 after 4,000 steps is
    close to guessing (above 0.9 x 3.37 = 3.03); 0.29 is not."""
    return steps >= LITTLE_AFTER and average_loss >= LITTLE_FACTOR * math.log(vocab_size)


def model_vocabulary(words):  # -> tuple of str
    """The corpus words (sorted) then END, so a corpus word keeps its id."""
    return tuple(words) + (END,)


class Windows:
    """Training windows: sentences, each followed by END, drawn by weight and laid end to end.

    A window starts at a random position (word or END) of a sentence drawn with
    probability proportional to its weight; further sentences, drawn the same
    way, fill it to ``context + 1`` ids. Inputs are ids [0, context), targets
    [1, context]. Sentences ["a b", "c"] with END 3 read as the stream a b <end> c <end>.
    """

    def __init__(self, ids, starts, weights, end_id, context):  # (T,), (S+1,), (S,)
        lengths = np.diff(starts) + 1  # (S,) with the END
        self.stream = np.insert(ids, starts[1:], end_id)  # (T + S,)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # (S,)
        self.lengths = lengths
        self.p = np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.context = context
        self.k = 1 + -(-context // int(lengths.min()))  # sentences enough to fill a window

    @classmethod
    def from_corpus(cls, corpus, context):
        """Windows over a ``lmtoy.corpus.Corpus``; END's id is len(vocabulary)."""
        return cls(corpus.ids, corpus.starts, corpus.weights, len(corpus.vocabulary), context)

    def sample(self, rng, batch):  # -> (B, n), (B, n)
        sentences = rng.choice(len(self.p), size=(batch, self.k), p=self.p)  # (B, k)
        lengths = self.lengths[sentences]
        ends = np.cumsum(lengths, axis=1)  # (B, k)
        first = rng.integers(0, lengths[:, 0])  # (B,) where in the first sentence
        t = first[:, None] + np.arange(self.context + 1)  # (B, n+1) place in the row's stream
        slot = (t[..., None] >= ends[:, None, :]).sum(axis=-1)  # (B, n+1) which sentence
        within = t - np.take_along_axis(ends - lengths, slot, axis=1)
        window = self.stream[self.offsets[np.take_along_axis(sentences, slot, axis=1)] + within]
        return window[:, :-1], window[:, 1:]


def loss_and_grads(params, config, inputs, targets):  # (B, n), (B, n) -> float, {name: gradient}
    """Mean next-token cross-entropy and its gradient for every weight; for the translate and
    classify tasks, their own loss (``seq2seq.loss_and_grads``, ``classifier.loss_and_grads``)."""
    if config.task != "next-word":
        return _task_module(config.task).loss_and_grads(params, config, inputs, targets)
    logits, cache = forward_cached(params, config, inputs)
    loss, (probs, _) = layers.cross_entropy(logits, targets, out=logits)  # logits -> probabilities
    dlogits = layers.cross_entropy_backward(1.0, (probs, targets), out=probs)  # -> d loss / d logits
    return loss, backward(params, config, dlogits, cache)


class Adam:
    """Adam on one flat buffer that every weight of ``params`` becomes a view of.

    Each step changes the weights with a single in-place subtraction, so when
    the caller stops between or during steps ``params`` holds the weights after
    the last completed step.
    """

    def __init__(self, params, settings: TrainSettings):
        self.names = list(params)
        self.flat = np.concatenate([params[name].ravel() for name in self.names])
        offset = 0
        for name in self.names:
            size, shape = params[name].size, params[name].shape
            params[name] = self.flat[offset : offset + size].reshape(shape)
            offset += size
        self.m, self.v = np.zeros_like(self.flat), np.zeros_like(self.flat)
        self.grad, self.step_size = np.empty_like(self.flat), np.empty_like(self.flat)
        self.s, self.t = settings, 0

    def step(self, grads) -> float:
        """Update the weights from ``grads`` (name -> array); returns the gradient norm."""
        s, g = self.s, self.grad
        np.concatenate([grads[name].ravel() for name in self.names], out=g)
        norm = math.sqrt(np.dot(g, g))
        if s.clip is not None and norm > s.clip:
            g *= s.clip / norm
        self.t += 1
        self.m *= s.beta1
        self.m += (1 - s.beta1) * g
        self.v *= s.beta2
        g *= g
        g *= 1 - s.beta2
        self.v += g
        u = np.sqrt(self.v, out=self.step_size)
        u *= 1 / math.sqrt(1 - s.beta2**self.t)  # a Python float keeps float32 fast
        u += s.eps
        np.divide(self.m, u, out=u)
        u *= s.lr / (1 - s.beta1**self.t)
        self.flat -= u
        if not math.isfinite(float(self.flat.sum())):  # inf or nan somewhere (or near it): undo the update
            self.flat += u
            raise TrainingError(f"training diverged at step {self.t}: the weights overflowed; try a lower --lr")
        return norm


def train(params, config, windows, settings, rng) -> Iterator[Progress]:
    """Train ``params`` in place; yields a Progress record after each step.

    ``params``'s arrays are replaced by views of Adam's flat buffer. A caller
    that stops early (say on Ctrl-C) finds in ``params`` the weights after the
    last completed step, ready to save. The same initial weights, settings and
    rng state give the same weights bit for bit. ``windows`` needs only
    ``sample(rng, batch) -> (inputs, targets)``, each (B, n) int.
    """
    adam = Adam(params, settings)
    start, tokens, recent = time.perf_counter(), 0, deque(maxlen=AVERAGE_OVER)
    for step in range(1, settings.steps + 1):
        inputs, targets = windows.sample(rng, settings.batch)
        loss, grads = loss_and_grads(params, config, inputs, targets)
        if not math.isfinite(loss):  # stop before the update: params keep the last finite weights
            raise TrainingError(f"training diverged at step {step} (loss {loss}): try a lower --lr or --clip")
        adam.step(grads)
        tokens += inputs.size
        recent.append(loss)
        seconds = max(time.perf_counter() - start, 1e-9)
        yield Progress(step, settings.steps, loss, tokens / seconds, math.fsum(recent) / len(recent), seconds)


@dataclass(frozen=True)
class Setup:
    """What training a task needs: the config, the vocabularies and the batches to draw.

    batches : has ``sample(rng, batch) -> (inputs, targets)``, the task's training examples
    """

    config: Config
    vocabulary: tuple
    batches: object
    source_vocabulary: tuple | None = None  # translate
    labels: tuple | None = None  # classify


def setup(task: str, data, **sizes) -> Setup:
    """The config and batches for ``task`` on ``data``: a Corpus (next-word), the pairs of
    ``lmtoy.pairs`` (translate) or the labelled lines of ``lmtoy.labelled`` (classify).
    ``sizes`` are Config fields other than the vocabulary sizes."""
    if task == "next-word":
        vocabulary = model_vocabulary(data.vocabulary.words)
        config = Config(vocab_size=len(vocabulary), **sizes)
        return Setup(config, vocabulary, Windows.from_corpus(data, config.context))
    return _task_module(task).setup(data, **sizes)


def train_corpus(corpus, config_options=None, settings=TrainSettings(), seed=0):
    """Initialise and train a model on a corpus to the end: (params, config, vocabulary, losses).

    ``config_options`` are Config fields other than vocab_size. One seed drives
    the initialisation and the windows.
    """
    vocabulary = model_vocabulary(corpus.vocabulary.words)
    config = Config(vocab_size=len(vocabulary), **(config_options or {}))
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    windows = Windows.from_corpus(corpus, config.context)
    losses = [p.loss for p in train(params, config, windows, settings, rng)]
    return params, config, vocabulary, losses


def memory_estimate(config: Config, batch: int) -> int:
    """Roughly the bytes a training step needs (float32): weights with their gradients and
    Adam moments, and every layer's cached activations."""
    c = config
    weights = sum(math.prod(shape) for shape in param_shapes(c).values())
    per_layer = c.context * (12 * c.d_model + 2 * c.d_ff + 2 * c.n_heads * (c.d_k + c.d_v)) + 3 * c.n_heads * c.context**2
    activations = batch * (blocks(c) * per_layer + 3 * c.context * c.vocab_size)
    return 4 * (4 * weights + activations)


def blocks(config: Config) -> int:
    """Blocks a step runs, for the estimates: the decoder's (or the only stack's), the encoder's,
    and a translate model's cross-attentions counted as one block each (an upper bound)."""
    return config.n_layers + config.encoder_layers + (config.n_layers if config.task == "translate" else 0)


def step_flops(config: Config, batch: int) -> int:
    """Floating-point operations in one training step's matrix multiplications: the forward
    pass's (2 per multiply-add) times 3, as the backward pass does twice the forward's work.

    Per token and layer: Q, K, V and the output projection, the two feed-forward matrices,
    and the n x n attention scores and their weighted sum (an encoder's blocks and a decoder's
    cross-attentions alike, see ``blocks``); then the de-embedding. The tour's
    model (N=14, d_model 16, 1 layer, context 16, batch 16) takes 5.8 million.
    """
    c = config
    per_layer = 2 * c.d_model * c.n_heads * (2 * c.d_k + 2 * c.d_v) + 4 * c.d_model * c.d_ff \
        + 2 * c.context * c.n_heads * (c.d_k + c.d_v)
    return 3 * batch * c.context * (blocks(c) * per_layer + 2 * c.d_model * c.vocab_size)


ONE_THREAD_BELOW = 10**9  # FLOPs per step under which BLAS threads only get in the way


def default_threads(config: Config, batch: int) -> int | None:
    """BLAS threads for training: 1 when a step is below ``ONE_THREAD_BELOW`` FLOPs (threads
    gain nothing there and spin when the machine is busy), None (the BLAS's own default,
    one per core) for bigger models."""
    return 1 if step_flops(config, batch) < ONE_THREAD_BELOW else None


def gradcheck(config, rng, batch=2, h=1e-5) -> dict[str, float]:
    """Compare each weight's analytic gradient with central finite differences, in float64.

    A random model (gains and biases moved off 1 and 0 too) on random ids and
    targets. For each weight: the worst element's |analytic - numeric|, divided
    by the largest |gradient| of that weight (a plain elementwise ratio would
    divide the finite differences' rounding noise by near-zero gradients).
    """
    draw = lambda: tuple(rng.integers(0, config.vocab_size, size=(2, batch, config.context)))
    params, inputs, targets = checkable(config, rng, draw, lambda p, x: _clear_of_kinks(p, config, x, 100 * h))
    return weight_errors(params, loss_and_grads(params, config, inputs, targets)[1],
                         lambda: _loss(params, config, inputs, targets), h)


def checkable(config, rng, draw, clear):  # -> params (float64), inputs, targets
    """A random float64 model (gains and biases moved off 1 and 0 too) and ``draw()``'s
    (inputs, targets), drawn again (up to 100 times) until ``clear(params, inputs)``: finite
    differences across a ReLU kink (or a max-pooling tie) are wrong. Every task's gradcheck
    starts here."""
    for _ in range(100):
        params = init_params(config, rng, dtype=np.float64)
        for value in params.values():
            if value.ndim == 1:
                value += rng.normal(0, 0.1, value.shape)
        inputs, targets = draw()
        if clear(params, inputs):
            break
    return params, inputs, targets


def weight_errors(params, grads, loss, h=1e-5) -> dict[str, float]:
    """Each weight's ``relative_error`` between ``grads`` and central finite differences of ``loss()``."""
    return {name: relative_error(grads[name], numeric_gradient(loss, value, h)) for name, value in params.items()}


def relative_error(analytic, numeric) -> float:
    """The worst |analytic - numeric|, divided by the largest |gradient| of the two."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max(), 1e-300)
    return float(np.abs(analytic - numeric).max() / scale)


def _clear_of_kinks(params, config, inputs, margin) -> bool:
    """True when every feed-forward pre-activation x W_1 + b_1 is at least ``margin`` from 0."""
    _, cache = forward_cached(params, config, inputs)
    for l, block in enumerate(cache.blocks):
        pre = block.ffn[0] @ params[f"layer{l}.W_1"] + params[f"layer{l}.b_1"]  # (B, n, d_ff)
        if np.abs(pre).min() < margin:
            return False
    return True


def numeric_gradient(f, value, h=1e-5):  # f() -> float; value changed in place and restored -> like value
    """Central finite differences of f with respect to each element of ``value``."""
    grad = np.zeros_like(value)
    for i in np.ndindex(value.shape):
        saved = value[i]
        value[i] = saved + h
        plus = f()
        value[i] = saved - h
        minus = f()
        value[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad


def _loss(params, config, inputs, targets):  # (B, n), (B, n) -> float
    logits, _ = forward_cached(params, config, inputs)
    return layers.cross_entropy(logits, targets)[0]
