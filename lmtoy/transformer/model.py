"""The decoder-only transformer: Config, initialisation, forward, backward, generation, trace.

Letters as in ``layers``: B batch, n sequence length (at most ``context``), N
vocabulary, d = d_model, h heads, d_k, d_v, d_ff, L layers. The forward pass,
with row vectors (x W) and the .npz weight names:

    X_0 = E[ids] + P[:n]          E = embedding (N, d); P = sinusoidal_positions(n, d),
                                  or the learned positions (context, d)
    MultiHead(X) = concat_j(softmax(Q_j K_j^T / sqrt(d_k) + M) V_j) W_o,
        Q_j = X W_q[j], K_j = X W_k[j], V_j = X W_v[j]   (j = 0..h-1, concat in head order),
        M[a, b] = -inf when b > a (a later word), else 0
    LN(x) = gain * (x - mean(x)) / sqrt(var(x) + 1e-5) + bias   (over the last axis)
    FFN(x) = max(0, x W_1 + b_1) W_2 + b_2

each layer l (weights ``layer{l}.*``) maps X to X', post-norm (the paper's order,
the default) or pre-norm:

    post:  Y = LN1(X + MultiHead(X));     X' = LN2(Y + FFN(Y))
    pre:   Y = X + MultiHead(LN1(X));     X' = Y + FFN(LN2(Y))
    none:  Y = X + MultiHead(X);          X' = Y + FFN(Y)        (no norm weights in the file)

The scale 1 / sqrt(d_k) is ``attention_scale`` when given; with ``attention`` "linear" the
softmax is left out: A_j = scale Q_j K_j^T with the later words' entries set to 0, so a head
sums the values its scores pick (``lmtoy.transformer.compile`` sets such weights by hand).

    logits = X_L U  (pre-norm: LN_f(X_L) U, ``final_norm.*``), U = de_embedding (d, N),
             or E^T when tied;  P(word after ids[:i+1]) = softmax(logits[i])
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import numpy as np

from lmtoy.errors import UsageError
from lmtoy.transformer import layers

END = "<end>"  # appended to the corpus words: ends every sentence, stops generation
TASKS = ("next-word", "translate", "classify")  # decoder-only; encoder-decoder; encoder + class head
POOLS = ("mean", "max")
POSITIONS = ("sinusoidal", "learned")
NORMS = ("post", "pre", "none")  # none: no layer norm at all (the residual adds alone; next-word only)
ATTENTIONS = ("softmax", "linear")  # linear: weights = scale Q K^T, 0 on later words, no softmax (next-word only)
INITS = ("xavier", "he", "normal")


@dataclass(frozen=True)
class Config:
    """Every size and choice of a model; the defaults are the tour's (section 11).

    ``d_k`` and ``d_v`` default to d_model // n_heads and ``d_ff`` to 4 * d_model;
    after construction they always hold numbers.
    """

    vocab_size: int
    d_model: int = 16
    n_heads: int = 2
    n_layers: int = 1
    context: int = 16
    d_k: int | None = None
    d_v: int | None = None
    d_ff: int | None = None
    positions: str = "sinusoidal"
    norm: str = "post"
    tied: bool = False
    init: str = "xavier"
    task: str = "next-word"
    encoder_layers: int | None = None  # translate, classify: encoder blocks (default n_layers); next-word: 0
    source_vocab_size: int | None = None  # translate: the source side's vocabulary
    n_classes: int | None = None  # classify: how many labels
    pool: str = "mean"  # classify: how the encoder's outputs become one vector (mean or max over positions)
    attention: str = "softmax"  # or "linear": scale Q K^T without the softmax (next-word only)
    attention_scale: float | None = None  # the factor on Q K^T; None: 1 / sqrt(d_k)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_heads", "n_layers", "context"):
            _check_positive(name, getattr(self, name))
        if None in (self.d_k, self.d_v) and self.d_model % self.n_heads:
            raise UsageError(
                f"d_model {self.d_model} is not divisible by {self.n_heads} heads; "
                "change d_model or heads, or give d_k and d_v"
            )
        derived = {"d_k": self.d_model // self.n_heads, "d_v": self.d_model // self.n_heads}
        for name, value in (derived | {"d_ff": 4 * self.d_model}).items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
            _check_positive(name, getattr(self, name))
        for name, allowed in (("positions", POSITIONS), ("norm", NORMS), ("init", INITS), ("attention", ATTENTIONS)):
            if (value := getattr(self, name)) not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if not isinstance(self.tied, bool):
            raise UsageError(f"tied must be true or false, not {self.tied!r}")
        scale = self.attention_scale
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < math.inf):
            raise UsageError(f"attention_scale must be a number above 0, not {scale!r}")
        self._check_task()
        for name in ("norm", "attention"):
            if self.task != "next-word" and getattr(self, name) in ("none", "linear"):
                raise UsageError(f"{name} {getattr(self, name)} is for the next-word task, not {self.task}")

    def _check_task(self) -> None:
        """The task's own fields: present where it needs them, absent elsewhere."""
        for name, allowed in (("task", TASKS), ("pool", POOLS)):
            if (value := getattr(self, name)) not in allowed:
                raise UsageError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        needs = {"translate": ("source_vocab_size",), "classify": ("n_classes",)}.get(self.task, ())
        for name in ("source_vocab_size", "n_classes"):
            value = getattr(self, name)
            if name in needs:
                _check_positive(name, value)
            elif value is not None:
                raise UsageError(f"{name} is for the {'translate' if name[0] == 's' else 'classify'} task, not {self.task}")
        if self.task == "next-word":
            if self.encoder_layers not in (None, 0):
                raise UsageError("encoder layers are for the translate and classify tasks")
            object.__setattr__(self, "encoder_layers", 0)
        else:
            object.__setattr__(self, "encoder_layers", self.n_layers if self.encoder_layers is None else self.encoder_layers)
            _check_positive("encoder_layers", self.encoder_layers)
    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Config:
        """The inverse of ``to_json``; raises ValueError on unknown or missing fields."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known or "vocab_size" not in data:
            raise ValueError(f"config fields {sorted(data)} are not {sorted(known)}")
        return cls(**data)


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a positive whole number, not {value!r}")


def param_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """The name and shape of every weight, in a fixed order (the .npz keys)."""
    return dict(iter_param_shapes(config))


def iter_param_shapes(config: Config):  # -> iterator of (name, shape), in param_shapes order
    """``param_shapes`` one weight at a time: reading a file, the first missing name is found
    without building the names of every layer a damaged config claims."""
    c = config
    if c.task != "next-word":
        yield from _task_module(c.task).iter_param_shapes(c)
        return
    yield "embedding", (c.vocab_size, c.d_model)
    if c.positions == "learned":
        yield "positions", (c.context, c.d_model)
    for l in range(c.n_layers):
        yield from block_shapes(f"layer{l}", c).items()
    if c.norm == "pre":
        yield from {"final_norm.gain": (c.d_model,), "final_norm.bias": (c.d_model,)}.items()
    if not c.tied:
        yield "de_embedding", (c.d_model, c.vocab_size)


def param_count(config: Config) -> tuple[int, int]:
    """(weight arrays, numbers) of ``param_shapes(config)``, from the sizes alone: no layer is
    built, so a config claiming 10^9 layers costs nothing to measure.

    vocab 9, d_model 8, 2 heads (d_k = d_v = 4), 1 layer, d_ff 32, post-norm, sinusoidal,
    untied -> (14, 984): E 72; the layer's W_q, W_k 128, W_v 64, W_o 64, norms 32, W_1 256,
    b_1 32, W_2 256, b_2 8 (840 in 12 arrays); U 72.
    """
    c = config
    if c.task != "next-word":
        return _task_module(c.task).param_count(c)
    layer = block_numbers(c)
    learned, pre, untied = c.positions == "learned", c.norm == "pre", not c.tied
    arrays = 1 + learned + (8 if c.norm == "none" else 12) * c.n_layers + 2 * pre + untied
    numbers = (c.vocab_size * c.d_model * (1 + untied) + learned * c.context * c.d_model + c.n_layers * layer
               + pre * 2 * c.d_model)
    return arrays, numbers


def _task_module(task: str):
    """The module that holds a task's model: seq2seq (translate) or classifier (classify)."""
    import importlib

    return importlib.import_module({"translate": "lmtoy.transformer.seq2seq", "classify": "lmtoy.transformer.classifier"}[task])


def init_params(config: Config, rng: np.random.Generator, dtype=np.float32) -> dict[str, np.ndarray]:
    """Fresh weights: gains 1, biases 0, matrices by ``config.init``.

    xavier: uniform in +-sqrt(6 / (fan_in + fan_out)) (Glorot); he: normal with
    std sqrt(2 / fan_in); normal: std 0.02. The fans are a matrix's rows and
    columns: N and d for the embedding, d and d_k for a per-head (h, d, d_k)
    weight. Draws happen in ``param_shapes`` order from ``rng`` alone.
    """
    params = {}
    for name, shape in param_shapes(config).items():
        if len(shape) == 1:
            params[name] = (np.ones if name.endswith(".gain") else np.zeros)(shape, dtype)
        else:
            params[name] = _draw(config.init, shape[-2], shape[-1], shape, rng).astype(dtype)
    return params


def _draw(init, fan_in, fan_out, shape, rng):  # -> shape
    if init == "xavier":
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    return rng.normal(0, np.sqrt(2 / fan_in) if init == "he" else 0.02, shape)


def de_embedding(params, config):  # -> (d, N)
    return params["embedding"].T if config.tied else params["de_embedding"]


def position_table(params, config, n, dtype):  # -> (context, d)
    if config.positions == "learned":
        return params["positions"]
    return layers.sinusoidal_positions(n, config.d_model).astype(dtype)


class BlockCache(NamedTuple):
    norm1: tuple
    attention: layers.AttentionCache
    attention_out: np.ndarray  # (B, n, d) concat W_o
    after_attention: np.ndarray  # (B, n, d) post: LN1(X + A); pre: X + A
    norm2: tuple
    ffn: tuple
    ffn_out: np.ndarray  # (B, n, d) FFN(.) before the residual add
    out: np.ndarray  # (B, n, d)


class ForwardCache(NamedTuple):
    embedding: tuple
    positions: tuple
    blocks: list[BlockCache]
    final_norm: tuple | None
    de_embedding: tuple


def _prefix(layer) -> str:  # 0 -> "layer0"; "encoder.layer1" stays
    return layer if isinstance(layer, str) else f"layer{layer}"


def _block(x, params, layer, norm, causal=True, linear=False, scale=None):  # (B, n, d) -> (B, n, d), BlockCache
    """One transformer block: self-attention (causal in a decoder, not in an encoder), add &
    norm, feed-forward, add & norm (or pre-norm); weights ``{prefix}.W_q`` ..., where the prefix
    is ``layer{l}`` (decoder-only) or e.g. ``encoder.layer{l}``. ``linear`` and ``scale`` are
    the attention's (``Config.attention`` "linear", ``Config.attention_scale``)."""
    prefix = _prefix(layer)
    p = {name: params.get(f"{prefix}.{name}") for name in _LAYER_PARAMS}  # norm "none": no norm weights
    attention = (p["W_q"], p["W_k"], p["W_v"], p["W_o"])
    ffn = (p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    if norm == "none":
        a, ac = layers.self_attention(x, *attention, causal=causal, linear=linear, scale=scale)
        y = x + a
        f, fc = layers.feed_forward(y, *ffn)
        return y + f, BlockCache(None, ac, a, y, None, fc, f, y + f)
    if norm == "post":
        a, ac = layers.self_attention(x, *attention, causal=causal, linear=linear, scale=scale)
        y, n1 = layers.layer_norm(x + a, p["norm1.gain"], p["norm1.bias"])
        f, fc = layers.feed_forward(y, *ffn)
        out, n2 = layers.layer_norm(y + f, p["norm2.gain"], p["norm2.bias"])
    else:
        x1, n1 = layers.layer_norm(x, p["norm1.gain"], p["norm1.bias"])
        a, ac = layers.self_attention(x1, *attention, causal=causal, linear=linear, scale=scale)
        y = x + a
        y2, n2 = layers.layer_norm(y, p["norm2.gain"], p["norm2.bias"])
        f, fc = layers.feed_forward(y2, *ffn)
        out = y + f
    return out, BlockCache(n1, ac, a, y, n2, fc, f, out)


_LAYER_PARAMS = ("W_q", "W_k", "W_v", "W_o", "norm1.gain", "norm1.bias", "W_1", "b_1", "W_2", "b_2",
                 "norm2.gain", "norm2.bias")  # fmt: skip


def _block_backward(dout, cache, layer, norm):  # (B, n, d) -> (B, n, d), grads of that block
    g = {}
    if norm == "none":
        dy, g["W_1"], g["b_1"], g["W_2"], g["b_2"] = layers.feed_forward_backward(dout, cache.ffn)
        dy += dout
        dx, g["W_q"], g["W_k"], g["W_v"], g["W_o"] = layers.self_attention_backward(dy, cache.attention)
        dx += dy
    elif norm == "post":
        dy_f, g["norm2.gain"], g["norm2.bias"] = layers.layer_norm_backward(dout, cache.norm2)
        dy, g["W_1"], g["b_1"], g["W_2"], g["b_2"] = layers.feed_forward_backward(dy_f, cache.ffn)
        dx_a, g["norm1.gain"], g["norm1.bias"] = layers.layer_norm_backward(dy + dy_f, cache.norm1)
        dx, g["W_q"], g["W_k"], g["W_v"], g["W_o"] = layers.self_attention_backward(dx_a, cache.attention)
        dx += dx_a
    else:
        dy2, g["W_1"], g["b_1"], g["W_2"], g["b_2"] = layers.feed_forward_backward(dout, cache.ffn)
        dy, g["norm2.gain"], g["norm2.bias"] = layers.layer_norm_backward(dy2, cache.norm2)
        dy += dout
        dx1, g["W_q"], g["W_k"], g["W_v"], g["W_o"] = layers.self_attention_backward(dy, cache.attention)
        dx, g["norm1.gain"], g["norm1.bias"] = layers.layer_norm_backward(dx1, cache.norm1)
        dx += dy
    prefix = _prefix(layer)
    return dx, {f"{prefix}.{name}": value for name, value in g.items()}


def block_shapes(prefix: str, c: "Config") -> dict[str, tuple[int, ...]]:
    """The 12 weights of one block named ``{prefix}.W_q`` ... (``_block``'s), in file order."""
    shapes = {
        f"{prefix}.W_q": (c.n_heads, c.d_model, c.d_k),
        f"{prefix}.W_k": (c.n_heads, c.d_model, c.d_k),
        f"{prefix}.W_v": (c.n_heads, c.d_model, c.d_v),
        f"{prefix}.W_o": (c.n_heads * c.d_v, c.d_model),
        f"{prefix}.norm1.gain": (c.d_model,),
        f"{prefix}.norm1.bias": (c.d_model,),
        f"{prefix}.W_1": (c.d_model, c.d_ff),
        f"{prefix}.b_1": (c.d_ff,),
        f"{prefix}.W_2": (c.d_ff, c.d_model),
        f"{prefix}.b_2": (c.d_model,),
        f"{prefix}.norm2.gain": (c.d_model,),
        f"{prefix}.norm2.bias": (c.d_model,),
    }
    return shapes if c.norm != "none" else {name: shape for name, shape in shapes.items() if ".norm" not in name}


def block_numbers(c: "Config") -> int:
    """How many numbers one block holds (the sizes of ``block_shapes``)."""
    return (2 * c.n_heads * c.d_model * c.d_k + c.n_heads * c.d_model * c.d_v + c.n_heads * c.d_v * c.d_model
            + 4 * c.d_model * (c.norm != "none") + 2 * c.d_model * c.d_ff + c.d_ff + c.d_model)


def encode(params, config, x, prefix="encoder"):  # (B, n, d) -> (B, n, d), [BlockCache]
    """The encoder stack: ``config.encoder_layers`` blocks without the causal mask (every
    position attends to every other), weights ``{prefix}.layer{l}.*``; pre-norm ends with
    ``{prefix}.final_norm``. Returns the output and the caches ``encode_backward`` needs."""
    caches = []
    for l in range(config.encoder_layers):
        x, cache = _block(x, params, f"{prefix}.layer{l}", config.norm, causal=False)
        caches.append(cache)
    final = None
    if config.norm == "pre":
        x, final = layers.layer_norm(x, params[f"{prefix}.final_norm.gain"], params[f"{prefix}.final_norm.bias"])
    return x, (caches, final)


def encode_backward(dout, cache, config, prefix="encoder"):  # (B, n, d) -> (B, n, d), {name: gradient}
    """Back through ``encode``: the gradient into its input and every encoder weight's."""
    caches, final = cache
    grads = {}
    if final is not None:
        dout, grads[f"{prefix}.final_norm.gain"], grads[f"{prefix}.final_norm.bias"] = layers.layer_norm_backward(dout, final)
    for l in reversed(range(config.encoder_layers)):
        dout, g = _block_backward(dout, caches[l], f"{prefix}.layer{l}", config.norm)
        grads |= g
    return dout, grads


def encoder_shapes(config: "Config", prefix="encoder") -> dict[str, tuple[int, ...]]:
    """The encoder's weights in file order: its blocks, then (pre-norm) its final norm."""
    shapes = {}
    for l in range(config.encoder_layers):
        shapes |= block_shapes(f"{prefix}.layer{l}", config)
    if config.norm == "pre":
        shapes |= {f"{prefix}.final_norm.gain": (config.d_model,), f"{prefix}.final_norm.bias": (config.d_model,)}
    return shapes


def forward_cached(params, config, ids):  # (B, n) int -> (B, n, N), ForwardCache
    """The logits of every position, and the cache ``backward`` needs."""
    if ids.shape[1] > config.context:
        raise UsageError(f"{ids.shape[1]} positions exceed the model's context of {config.context}")
    x, ec = layers.embedding(ids, params["embedding"])
    x, pc = layers.add_positions(x, position_table(params, config, ids.shape[1], x.dtype))
    blocks = []
    for l in range(config.n_layers):
        x, bc = _block(x, params, l, config.norm, linear=config.attention == "linear", scale=config.attention_scale)
        blocks.append(bc)
    fc = None
    if config.norm == "pre":
        x, fc = layers.layer_norm(x, params["final_norm.gain"], params["final_norm.bias"])
    logits, dc = layers.project(x, de_embedding(params, config))
    return logits, ForwardCache(ec, pc, blocks, fc, dc)


def forward(params, config, ids):  # (B, n) int -> (B, n, N)
    """Logits: entry [b, i, w] scores word w as the word after ids[b, :i+1]."""
    return forward_cached(params, config, ids)[0]


def backward(params, config, dlogits, cache):  # (B, n, N) -> {name: gradient}
    """The gradient of every weight, given d loss / d logits and ``forward_cached``'s cache."""
    grads = {}
    dx, dw = layers.project_backward(dlogits, cache.de_embedding)
    if config.norm == "pre":
        dx, *final = layers.layer_norm_backward(dx, cache.final_norm)
        grads["final_norm.gain"], grads["final_norm.bias"] = final
    for l in reversed(range(config.n_layers)):
        dx, g = _block_backward(dx, cache.blocks[l], l, config.norm)
        grads |= g
    if config.positions == "learned":
        dx, grads["positions"] = layers.add_positions_backward(dx, cache.positions)
    grads["embedding"] = layers.embedding_backward(dx, cache.embedding)
    if config.tied:
        grads["embedding"] += dw.T
    else:
        grads["de_embedding"] = dw
    return grads
