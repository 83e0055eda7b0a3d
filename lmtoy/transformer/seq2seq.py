"""The encoder-decoder (task "translate"): sizes and weight names, forward, backward, loss
and the gradient check (batches of pairs and ``setup``: ``pair_batches``; decoding:
``translate``).

Letters as in ``layers``, plus: n_s source positions (the source words, then END), n_t
decoder positions (END, then the target words), N_s and N_t the source and target
vocabularies, E encoder layers (``config.encoder_layers``), L decoder layers
(``config.n_layers``). With row vectors and the .npz weight names:

    S_0 = E_s[source ids] + P[:n_s]      E_s = source_embedding (N_s, d); source ids w_1 .. w_n END
    H   = Encoder(S_0)                   E blocks ``encoder.layer{l}.*`` without the causal mask
                                         (``model.encode``); pre-norm ends with ``encoder.final_norm``
    X_0 = E_t[decoder ids] + P[:n_t]     E_t = embedding (N_t, d); decoder ids END t_1 .. t_m
    decoder layer l (``decoder.layer{l}.*``), three sublayers in this order:
      post:  Y = LN1(X + MaskedMultiHead(X));  Z = LN3(Y + Cross(Y, H));  X' = LN2(Z + FFN(Z))
      pre:   Y = X + MaskedMultiHead(LN1(X));  Z = Y + Cross(LN3(Y), H);  X' = Z + FFN(LN2(Z))
      MaskedMultiHead: W_q, W_k, W_v, W_o, causal (``layers.self_attention``); LN1 = norm1
      Cross(Y, H) = concat_j(softmax(Y Wc_q[j] (H Wc_k[j])^T / sqrt(d_k)) H Wc_v[j]) Wc_o:
        Q from the decoder, K and V from the final encoder output H, the same H in every
        layer, no mask; weights cross.W_q, cross.W_k, cross.W_v, cross.W_o; LN3 = norm3
      FFN: W_1, b_1, W_2, b_2; LN2 = norm2
      (norm1 and norm2 are named as in a decoder-only block, ``model.block_shapes``: the
      cross-attention's add & norm, added between them, is norm3)
    logits = X_L U  (pre-norm: LN_f(X_L) U, ``final_norm.*``), U = de_embedding (d, N_t), or E_t^T tied
    loss = mean over the n_t positions of -log softmax(logits)[t_1 .. t_m END]  (teacher forcing)

P is the sinusoidal table, or the learned ``positions`` (context, d) that both sides share.
``config.context`` bounds both sides: n_s <= context and n_t <= context.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lmtoy.transformer import layers
from lmtoy.transformer.model import (
    Config, block_numbers, block_shapes, de_embedding, encode, encode_backward, position_table,
)
from lmtoy.transformer.pair_batches import PairBatch, PairBatches, setup  # noqa: F401  (train.setup calls it here)

CROSS = ("cross.W_q", "cross.W_k", "cross.W_v", "cross.W_o", "norm3.gain", "norm3.bias")


def cross_shapes(prefix: str, c: Config) -> dict[str, tuple[int, ...]]:
    """The cross-attention sublayer's 6 weights, ``{prefix}.cross.W_q`` .. ``.cross.W_o`` and its
    add & norm's ``{prefix}.norm3.*``, in file order."""
    shapes = (
        (c.n_heads, c.d_model, c.d_k), (c.n_heads, c.d_model, c.d_k), (c.n_heads, c.d_model, c.d_v),
        (c.n_heads * c.d_v, c.d_model), (c.d_model,), (c.d_model,),
    )  # fmt: skip
    return {f"{prefix}.{name}": shape for name, shape in zip(CROSS, shapes)}


def iter_param_shapes(config: Config):  # -> iterator of (name, shape), in file order
    """Every weight: the two embeddings, positions (learned), the encoder's blocks (and final
    norm), each decoder layer's block and cross-attention, the final norm (pre), U (untied).
    One layer at a time, so a damaged config claiming 10^9 layers costs nothing until read."""
    c = config
    yield "source_embedding", (c.source_vocab_size, c.d_model)
    yield "embedding", (c.vocab_size, c.d_model)
    if c.positions == "learned":
        yield "positions", (c.context, c.d_model)
    for l in range(c.encoder_layers):
        yield from block_shapes(f"encoder.layer{l}", c).items()
    final = {"final_norm.gain": (c.d_model,), "final_norm.bias": (c.d_model,)}
    if c.norm == "pre":
        yield from {f"encoder.{name}": shape for name, shape in final.items()}.items()
    for l in range(c.n_layers):
        yield from block_shapes(f"decoder.layer{l}", c).items()
        yield from cross_shapes(f"decoder.layer{l}", c).items()
    if c.norm == "pre":
        yield from final.items()
    if not c.tied:
        yield "de_embedding", (c.d_model, c.vocab_size)


def param_count(config: Config) -> tuple[int, int]:
    """(weight arrays, numbers) of ``iter_param_shapes(config)``, from the sizes alone.

    N_s 6, N_t 7, d_model 8, 2 heads (d_k = d_v = 4), d_ff 32, 1 encoder and 1 decoder layer,
    post-norm, sinusoidal, untied -> (33, 2112): E_s 48, E_t 56, the encoder block 840 (12
    arrays), the decoder block 840 + cross-attention 272 (18 arrays), U 56.
    """
    c = config
    learned, pre, untied = c.positions == "learned", c.norm == "pre", not c.tied
    cross = 2 * c.n_heads * c.d_model * c.d_k + 2 * c.n_heads * c.d_model * c.d_v + 2 * c.d_model
    arrays = 2 + learned + 12 * c.encoder_layers + 18 * c.n_layers + 4 * pre + untied
    numbers = (c.source_vocab_size * c.d_model + c.vocab_size * c.d_model * (1 + untied)
               + learned * c.context * c.d_model + (c.encoder_layers + c.n_layers) * block_numbers(c)
               + c.n_layers * cross + pre * 4 * c.d_model)  # fmt: skip
    return arrays, numbers


def _residual(x, sublayer, gain, bias, norm):  # (B, n, d) -> (B, n, d), cache
    """One sublayer with its residual add & norm: post LN(x + f(x)), pre x + f(LN(x)).
    ``sublayer(x) -> (out, cache)``; the cache keeps f's output too (the trace shows it)."""
    if norm == "post":
        out, sub = sublayer(x)
        y, nc = layers.layer_norm(x + out, gain, bias)
    else:
        xn, nc = layers.layer_norm(x, gain, bias)
        out, sub = sublayer(xn)
        y = x + out
    return y, (sub, nc, out, y)


def _residual_backward(dy, cache, sublayer_backward, norm):  # (B, n, d) -> dx, dgain, dbias, [sublayer grads]
    sub, nc, _, _ = cache
    if norm == "post":
        ds, dgain, dbias = layers.layer_norm_backward(dy, nc)
        dx, *grads = sublayer_backward(ds, sub)
        dx += ds
    else:
        dxn, *grads = sublayer_backward(dy, sub)
        dx, dgain, dbias = layers.layer_norm_backward(dxn, nc)
        dx += dy
    return dx, dgain, dbias, grads


class DecoderLayerCache(NamedTuple):  # each: (sublayer cache, norm cache, sublayer output, output)
    self_attention: tuple
    cross: tuple
    ffn: tuple


def _decoder_layer(x, memory, params, prefix, norm):  # (B,n_t,d),(B,n_s,d) -> (B,n_t,d), DecoderLayerCache
    p = lambda name: params[f"{prefix}.{name}"]
    masked = lambda v: layers.self_attention(v, p("W_q"), p("W_k"), p("W_v"), p("W_o"), causal=True)
    cross = lambda v: layers.cross_attention(v, memory, p("cross.W_q"), p("cross.W_k"), p("cross.W_v"), p("cross.W_o"))
    ffn = lambda v: layers.feed_forward(v, p("W_1"), p("b_1"), p("W_2"), p("b_2"))
    y, sc = _residual(x, masked, p("norm1.gain"), p("norm1.bias"), norm)
    z, cc = _residual(y, cross, p("norm3.gain"), p("norm3.bias"), norm)
    out, fc = _residual(z, ffn, p("norm2.gain"), p("norm2.bias"), norm)
    return out, DecoderLayerCache(sc, cc, fc)


def _decoder_layer_backward(dout, cache, prefix, norm):  # (B, n_t, d) -> dx, dmemory, {name: gradient}
    g = {}
    dz, g["norm2.gain"], g["norm2.bias"], (g["W_1"], g["b_1"], g["W_2"], g["b_2"]) = _residual_backward(
        dout, cache.ffn, layers.feed_forward_backward, norm)
    dy, g["norm3.gain"], g["norm3.bias"], (dmemory, *cross) = _residual_backward(
        dz, cache.cross, layers.cross_attention_backward, norm)
    g["cross.W_q"], g["cross.W_k"], g["cross.W_v"], g["cross.W_o"] = cross
    dx, g["norm1.gain"], g["norm1.bias"], (g["W_q"], g["W_k"], g["W_v"], g["W_o"]) = _residual_backward(
        dy, cache.self_attention, layers.self_attention_backward, norm)
    return dx, dmemory, {f"{prefix}.{name}": value for name, value in g.items()}


class ForwardCache(NamedTuple):
    source_embedding: tuple
    source_positions: tuple
    encoder: tuple  # model.encode's: ([BlockCache], final norm cache or None)
    embedding: tuple
    positions: tuple
    decoder: list[DecoderLayerCache]
    final_norm: tuple | None
    de_embedding: tuple


def encode_source(params, config, source):  # (B, n_s) int -> (B, n_s, d), (embedding, positions, encoder caches)
    """The final encoder output H for source ids (w_1 .. w_n END)."""
    x, ec = layers.embedding(source, params["source_embedding"])
    x, pc = layers.add_positions(x, position_table(params, config, source.shape[1], x.dtype))
    memory, enc = encode(params, config, x)
    return memory, (ec, pc, enc)


def decode(params, config, memory, target):  # (B, n_s, d), (B, n_t) int -> (B, n_t, N_t), caches
    """The decoder's logits for inputs END t_1 .. given the encoder output ``memory``."""
    x, ec = layers.embedding(target, params["embedding"])
    x, pc = layers.add_positions(x, position_table(params, config, target.shape[1], x.dtype))
    caches = []
    for l in range(config.n_layers):
        x, cache = _decoder_layer(x, memory, params, f"decoder.layer{l}", config.norm)
        caches.append(cache)
    fc = None
    if config.norm == "pre":
        x, fc = layers.layer_norm(x, params["final_norm.gain"], params["final_norm.bias"])
    logits, dc = layers.project(x, de_embedding(params, config))
    return logits, (ec, pc, caches, fc, dc)


def decode_backward(params, config, dlogits, cache):  # (B, n_t, N_t) -> (B, n_s, d), {name: gradient}
    """d loss / d memory (summed over the decoder layers, which all read it) and the decoder's
    weights' gradients; ``grads["positions"]`` is the decoder side's share only."""
    ec, pc, caches, fc, dc = cache
    grads = {}
    dx, dw = layers.project_backward(dlogits, dc)
    if fc is not None:
        dx, grads["final_norm.gain"], grads["final_norm.bias"] = layers.layer_norm_backward(dx, fc)
    dmemory = 0
    for l in reversed(range(config.n_layers)):
        dx, dm, g = _decoder_layer_backward(dx, caches[l], f"decoder.layer{l}", config.norm)
        dmemory = dmemory + dm
        grads |= g
    dx, dpositions = layers.add_positions_backward(dx, pc)
    if config.positions == "learned":
        grads["positions"] = dpositions
    grads["embedding"] = layers.embedding_backward(dx, ec)
    if config.tied:
        grads["embedding"] += dw.T
    else:
        grads["de_embedding"] = dw
    return dmemory, grads


def forward_cached(params, config, batch: PairBatch):  # -> (B, n_t, N_t), ForwardCache
    memory, (sec, spc, enc) = encode_source(params, config, batch.source)
    logits, (ec, pc, caches, fc, dc) = decode(params, config, memory, batch.target)
    return logits, ForwardCache(sec, spc, enc, ec, pc, caches, fc, dc)


def backward(params, config, dlogits, cache: ForwardCache):  # (B, n_t, N_t) -> {name: gradient}
    """The gradient of every weight, the source embedding's included."""
    c = cache
    dmemory, grads = decode_backward(params, config, dlogits, (c.embedding, c.positions, c.decoder, c.final_norm,
                                                               c.de_embedding))
    dx, encoder = encode_backward(dmemory, c.encoder, config)
    grads |= encoder
    dx, dpositions = layers.add_positions_backward(dx, c.source_positions)
    if config.positions == "learned":
        grads["positions"] += dpositions  # one table, read by both sides
    grads["source_embedding"] = layers.embedding_backward(dx, c.source_embedding)
    return grads


def loss_and_grads(params, config, inputs: PairBatch, targets):  # (B, n_t) int -> float, {name: gradient}
    """Mean cross-entropy of the target side (teacher-forced) and every weight's gradient."""
    logits, cache = forward_cached(params, config, inputs)
    loss, (probs, _) = layers.cross_entropy(logits, targets, out=logits)
    dlogits = layers.cross_entropy_backward(1.0, (probs, targets), out=probs)
    return loss, backward(params, config, dlogits, cache)


def _loss(params, config, inputs, targets) -> float:
    return layers.cross_entropy(forward_cached(params, config, inputs)[0], targets)[0]


def gradcheck(config, rng, batch=2, h=1e-5) -> dict[str, float]:
    """``train.gradcheck`` for the encoder-decoder: every weight's analytic gradient against
    central finite differences, in float64, plus "encoder output": d loss / d H, the gradient
    the cross-attention sends into the final encoder output (the decoder alone, H held).

    The source reads ``context`` positions and the decoder one fewer, so the cross-attention
    weights are not square. Errors as in ``train.gradcheck``: the worst |analytic - numeric|
    of each array over its largest |gradient|.
    """
    from lmtoy.transformer.train import numeric_gradient

    n_s, n_t = config.context, max(config.context - 1, 1)
    from lmtoy.transformer.train import checkable, relative_error, weight_errors

    draw = lambda: (PairBatch(rng.integers(0, config.source_vocab_size, (batch, n_s)),
                              rng.integers(0, config.vocab_size, (batch, n_t))),
                    rng.integers(0, config.vocab_size, (batch, n_t)))
    params, inputs, targets = checkable(config, rng, draw, lambda p, x: _clear_of_kinks(p, config, x, 100 * h))
    errors = weight_errors(params, loss_and_grads(params, config, inputs, targets)[1],
                           lambda: _loss(params, config, inputs, targets), h)
    memory = encode_source(params, config, inputs.source)[0]
    logits, cache = decode(params, config, memory, inputs.target)
    _, ce = layers.cross_entropy(logits, targets)
    dmemory, _ = decode_backward(params, config, layers.cross_entropy_backward(1.0, ce), cache)
    decoder_loss = lambda: layers.cross_entropy(decode(params, config, memory, inputs.target)[0], targets)[0]
    errors["encoder output"] = relative_error(dmemory, numeric_gradient(decoder_loss, memory, h))
    return errors


def _clear_of_kinks(params, config, inputs, margin) -> bool:
    """True when every feed-forward pre-activation x W_1 + b_1 (encoder and decoder) is at
    least ``margin`` from 0."""
    _, cache = forward_cached(params, config, inputs)
    ffns = [(f"encoder.layer{l}", block.ffn[0]) for l, block in enumerate(cache.encoder[0])]
    ffns += [(f"decoder.layer{l}", layer.ffn[0][0]) for l, layer in enumerate(cache.decoder)]
    return all(np.abs(x @ params[f"{prefix}.W_1"] + params[f"{prefix}.b_1"]).min() >= margin for prefix, x in ffns)
