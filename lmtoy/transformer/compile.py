"""Compile, not train: a one-layer transformer whose weights are set by hand from the counts
of the second-order-with-skips model (sections 4-7), so that its logits are the feature votes.

Letters: W corpus words (ids 0..W-1, sorted), N = W + 1 model words (the corpus words, then
<end> at id W), R skip rows (features (a, b): earlier word a, most recent word b), n positions,
C = context, h heads (1, or 2 with ``masked``), d = d_model, d_ff = 2 R.

The model (``model.Config``): 1 layer, norm "none", attention "linear" with scale 1 (weights =
Q K^T, 0 on later words, no softmax), learned positions held at 0 (order plays no part), no
tying. The residual stream of d = N + h W + N dimensions holds three blocks:

    word   [0, N)             the one-hot of the position's word: E = [I_N | 0]
    counts [N, N + h W)       head j's output: how often each word a occurs at positions <= i
                              among the words head j picks (a count, not yet a presence)
    logits [N + h W, d)       written by the feed-forward layer; U = [0 | 0 | I_N]^T reads them

Attention, head j (d_k = d_v = W): Q = one-hot of the query's word (W_q = I on the word block),
K rows = row a of the mask matrix K_j (W_k[a, b] = K_j[a, b]), so (Q K^T)[i, t] = K_j[word_t,
word_i]: the query word's mask, looked up (section 6). V = one-hot of the key's word (W_v = I),
W_o copies head j into its count block. <end> has a zero key and value: it is never counted.
Head 1's K is all ones on the corpus words (every earlier word), or with ``masked`` the
``attention.mask_matrix`` of the informative rows (the words ``vote --auto-mask`` keeps, and the
query word itself); ``masked`` adds head 2, all ones, for the fallback.

Feed-forward (section 7). At the last position i, with r the one-hot of the most recent word
(word block) and c_j(a) head j's count, e_j(a) = c_j(a) - r(a) counts a at the positions before
i (0 <= e <= C - 1). Each feature (a, b) has two hidden units, with M = C:

    g = e_j(a) + M r(b) - M  (- M gate for a gated feature)      units ReLU(g), ReLU(g - 1)

W_2 sends them +row(a, b) and -row(a, b) (the skip model's normalised row, ``values``) into the
logits block. Proof: if b is the most recent word, g = e(a), an integer >= 0, so ReLU(g) -
ReLU(g - 1) = min(1, e(a)): 1 when a occurs before i, else 0 -- a presence, so a repeated word
(and (ran, ran) when 'ran' occurred earlier too) counts once. Otherwise g = e(a) - M <= -1 and
both units are 0. So logits[i] = sum of the rows of the active features: the vote.

Masked. Informative features (a, b) read head 1 (a is in b's mask, so c_1(a) = c(a)). Every
other feature reads head 2 and is gated: gate = sum over the informative earlier words a' of b
of e_1(a') (>= 0 always), and g gets - M gate. If an informative feature is active, gate >= 1 and
g <= e - M <= -1: the gated units are 0, the logits are the masked totals. If none is, gate = 0
and the gated features vote as above: the logits are the unmasked totals (the fallback of
``complete.next_scores``). Rows exist only for observed features, so a feature never seen
has no unit; <end> (read before every prompt) is no earlier word. <end>'s own logit is the
constant 1 / (2 W) (b_2), so it wins only where no feature votes: generation stops there.

Window. ``skips(corpus, K)`` looks K words back: the context is K + 1, the last K words and the
most recent, and a longer prompt is read as its last window, as every command reads it.
Without a window the context is the longest sentence + 1 (the <end> and a whole sentence).

Example (program_log): W = 13, N = 14, R = 64, d = 41, d_ff = 128; after "check the battery
log and find out whether it ran" the logits hold down 5, please 4 (``vote``'s totals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtoy import attention
from lmtoy.corpus import Corpus
from lmtoy.errors import CorpusError, TooLargeError
from lmtoy.ngrams import TransitionModel, first_order, skips
from lmtoy.transformer.model import END, Config, param_count, param_shapes

MAX_NUMBERS = 50_000_000  # weights a compiled model may hold (200 MB of float32)


@dataclass(frozen=True)
class Compiled:
    """A compiled model: weights, config and vocabulary (``io.save_model``'s), and what they hold.

    features : (R, 2) the skip rows' (earlier, recent) ids, in hidden-unit order (unit 2k, 2k+1)
    informative : (R,) bool, the rows the mask keeps (all False without ``masked``)
    """

    params: dict
    config: Config
    vocabulary: tuple
    features: np.ndarray
    informative: np.ndarray
    masked: bool


def _config(corpus, model: TransitionModel, window, masked) -> Config:
    w = len(corpus.vocabulary)
    h = 2 if masked else 1
    context = window + 1 if window is not None else int(corpus.lengths.max()) + 1
    config = Config(vocab_size=w + 1, d_model=2 * (w + 1) + h * w, n_heads=h, n_layers=1, context=context, d_k=w,
                    d_v=w, d_ff=max(2 * model.n_rows, 1), positions="learned", norm="none", attention="linear",
                    attention_scale=1.0)
    _, numbers = param_count(config)
    if numbers > MAX_NUMBERS:
        raise TooLargeError(
            f"{corpus.name}: a compiled model of {w:,} words and {model.n_rows:,} skip features needs "
            f"{numbers:,} weights (d_model {config.d_model:,}, d_ff {config.d_ff:,}), more than {MAX_NUMBERS:,}: "
            "use a smaller corpus, or --window K")
    return config


def compile_model(corpus: Corpus, window: int | None = None, masked: bool = False,
                  min_gain: float = attention.DEFAULT_MIN_GAIN) -> Compiled:
    """Set every weight of a transformer from ``corpus``'s skip model (the module docstring).

    program_log: the logits after "check the program log and find out whether it ran" are
    down 4, please 5; with ``masked`` down 0, please 1.
    """
    if len(corpus.vocabulary) == 0 or corpus.ids.size == 0:
        raise CorpusError(f"{corpus.name}: the corpus holds no words: nothing to compile")
    model = skips(corpus, window)
    config = _config(corpus, model, window, masked)
    flags = attention.informative(model, first_order(corpus), min_gain) if masked else np.zeros(model.n_rows, bool)
    params = {name: np.zeros(shape, np.float32) for name, shape in param_shapes(config).items()}
    w, n = len(corpus.vocabulary), config.vocab_size
    params["embedding"][np.arange(n), np.arange(n)] = 1
    masks = [attention.mask_matrix(model, flags)] if masked else []
    for j, k in enumerate(masks + [_all_words(w)]):
        _head(params, j, k, w, n)
    _feed_forward(params, model, flags, config, w, n)
    logits = n + config.n_heads * w
    params["de_embedding"][logits + np.arange(n), np.arange(n)] = 1
    params["layer0.b_2"][logits + w] = end_logit(w)  # <end> wins only where no feature votes
    vocabulary = tuple(corpus.vocabulary.words) + (END,)
    return Compiled(params, config, vocabulary, model.keys.copy(), flags, masked)


def end_logit(w: int) -> float:
    """<end>'s constant logit, 1 / (2 W): below every vote's top total (an active row's largest
    entry is at least 1 / W), above the 0 of a prompt no feature votes on, so greedy generation
    stops where ``complete`` finds a dead end."""
    return 1 / (2 * w)


def _all_words(w: int) -> np.ndarray:  # (W, W)
    """The unmasked K: every corpus word is in every word's mask."""
    return np.ones((w, w))


def _head(params, j: int, k: np.ndarray, w: int, n: int) -> None:
    """Head j: Q = one-hot(query word), K = rows of the mask matrix ``k`` (W, W), V = one-hot,
    W_o into count block j."""
    words = np.arange(w)
    params["layer0.W_q"][j, words, words] = 1
    params["layer0.W_k"][j, :w, :] = k
    params["layer0.W_v"][j, words, words] = 1
    params["layer0.W_o"][j * w + words, n + j * w + words] = 1


def _feed_forward(params, model: TransitionModel, flags: np.ndarray, config: Config, w: int, n: int) -> None:
    """Two hidden units per skip row (module docstring): rows 2r, 2r+1 of W_1's columns."""
    w1, b1, w2 = params["layer0.W_1"], params["layer0.b_1"], params["layer0.W_2"]
    big = float(config.context)
    masked = config.n_heads == 2
    logits = n + config.n_heads * w
    values = model.dense()  # (R, W)
    informative_of = {}
    for r in np.flatnonzero(flags):
        informative_of.setdefault(int(model.keys[r, 1]), set()).add(int(model.keys[r, 0]))
    for r, (a, b) in enumerate(model.keys):
        head = 1 if masked and not flags[r] else 0
        units = [2 * r, 2 * r + 1]
        for unit, threshold in zip(units, (0.0, 1.0)):
            w1[n + head * w + a, unit] += 1  # c_j(a)
            w1[a, unit] -= 1  # - r(a): the most recent word is not an earlier one
            w1[b, unit] += big  # + M r(b)
            b1[unit] = -big - threshold
            if head == 1:
                for earlier in informative_of.get(int(b), ()):  # - M gate
                    w1[n + earlier, unit] -= big
                    w1[earlier, unit] += big
        w2[units[0], logits : logits + w] = values[r]
        w2[units[1], logits : logits + w] = -values[r]


def reference_scores(model: TransitionModel, flags: np.ndarray | None, ids: np.ndarray) -> np.ndarray:  # (n,) -> (W,)
    """What the compiled model's logits must equal: ``vote``'s totals (``flags`` None) or the
    masked-skips totals (masked by ``flags``, the unmasked vote when no informative feature
    is active), as ``complete.next_scores`` computes them."""
    v = attention.vote(model, ids)
    if flags is None:
        return v.totals
    mask = attention.auto_mask(v, flags)
    return attention.masked(v, mask).totals if mask.any() else v.unmasked_totals


def read_ids(compiled: Compiled, ids: np.ndarray) -> np.ndarray:  # (n,) -> (<= C,)
    """A prompt's ids as the commands feed them: <end> first when it fits, then the last C."""
    c = compiled.config.context
    end = compiled.vocabulary.index(END)
    seen = ids if len(ids) >= c else np.r_[end, ids]
    return np.asarray(seen[-c:], dtype=np.int64)


def feature_labels(compiled: Compiled) -> list[str]:
    """The hidden units' labels: 'battery,ran' and 'battery,ran -1' (the threshold unit)."""
    words = compiled.vocabulary
    out = []
    for a, b in compiled.features:
        out += [f"{words[a]},{words[b]}", f"{words[a]},{words[b]} -1"]
    return out


def dimension_labels(compiled: Compiled) -> list[str]:
    """d_model's labels: the words, '#word' per head's counts ('#1 word', '#2 word' when masked),
    then '>word' for the logits."""
    words = list(compiled.vocabulary)
    corpus_words = words[:-1]
    h = compiled.config.n_heads
    counts = [f"#{w}" if h == 1 else f"#{j + 1} {w}" for j in range(h) for w in corpus_words]
    return words + counts + [f">{w}" for w in words]
