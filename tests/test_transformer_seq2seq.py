"""The encoder-decoder: cross-attention by hand and against finite differences, weight names
and counts, the full gradient check, pair batches, decoding, and the bundled task learned."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from lmtoy.corpus import BUNDLED
from lmtoy.errors import CorpusError, ModelFileError, UsageError
from lmtoy.pairs import parse_pairs
from lmtoy.transformer import layers, seq2seq
from lmtoy.transformer.model import Config, init_params, param_count, param_shapes
from lmtoy.transformer.train import numeric_gradient
from lmtoy.transformer.translate import beam_search, greedy


def small(**kw) -> Config:
    sizes = dict(vocab_size=7, source_vocab_size=6, task="translate", d_model=8, n_heads=2, n_layers=2,
                 encoder_layers=1, context=5, d_ff=12) | kw
    return Config(**sizes)


def test_cross_attention_by_hand():
    """One head, d = d_k = d_v = 1, every weight 1: the query 1 scores the source values
    0 and ln 3 as 0 and ln 3; softmax [1/4, 3/4]; the output is 3/4 ln 3 = 0.824."""
    one = np.ones((1, 1, 1))
    out, cache = layers.cross_attention(np.array([[[1.0]]]), np.array([[[0.0], [math.log(3)]]]), one, one, one,
                                        np.ones((1, 1)))
    np.testing.assert_allclose(cache.weights[0, 0], [[0.25, 0.75]])
    np.testing.assert_allclose(out, [[[0.75 * math.log(3)]]])


def test_cross_attention_rows_are_distributions_over_the_source():
    rng = np.random.default_rng(0)
    h, d, d_k, d_v = 2, 6, 3, 4
    x, memory = rng.normal(size=(2, 3, d)), rng.normal(size=(2, 5, d))
    w = [rng.normal(size=s) for s in ((h, d, d_k), (h, d, d_k), (h, d, d_v), (h * d_v, d))]
    out, cache = layers.cross_attention(x, memory, *w)
    assert out.shape == (2, 3, d) and cache.weights.shape == (2, h, 3, 5)
    np.testing.assert_allclose(cache.weights.sum(axis=-1), 1.0)
    q = x @ w[0][1]  # head 1 by plain matrix products
    k, v = memory @ w[1][1], memory @ w[2][1]
    np.testing.assert_allclose(cache.weights[:, 1], layers.softmax(q @ k.swapaxes(1, 2) / math.sqrt(d_k)))
    np.testing.assert_allclose(cache.heads[:, 1], cache.weights[:, 1] @ v)


def test_cross_attention_backward_matches_finite_differences():
    """d(decoder input), d(encoder output) and the four weights, in float64."""
    rng = np.random.default_rng(1)
    h, d, d_k, d_v = 2, 5, 3, 2
    inputs = [rng.normal(size=s) for s in ((2, 3, d), (2, 4, d), (h, d, d_k), (h, d, d_k), (h, d, d_v), (h * d_v, d))]
    dout = rng.normal(size=(2, 3, d))
    loss = lambda: float((layers.cross_attention(*inputs)[0] * dout).sum())
    grads = layers.cross_attention_backward(dout, layers.cross_attention(*inputs)[1])
    for name, value, grad in zip(("x", "memory", "W_q", "W_k", "W_v", "W_o"), inputs, grads):
        assert grad.shape == value.shape
        np.testing.assert_allclose(grad, numeric_gradient(loss, value), rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("kw", [{}, {"norm": "pre"}, {"positions": "learned", "tied": True}, {"encoder_layers": 3}])
def test_names_and_counts(kw):
    """param_count, from the sizes alone, agrees with the names param_shapes lists."""
    c = small(**kw)
    shapes = param_shapes(c)
    assert param_count(c) == (len(shapes), sum(math.prod(s) for s in shapes.values()))
    assert list(shapes)[:2] == ["source_embedding", "embedding"]
    assert shapes["source_embedding"] == (6, 8) and shapes["embedding"] == (7, 8)
    assert shapes["decoder.layer1.cross.W_k"] == (2, 8, 4) and shapes["decoder.layer1.norm3.gain"] == (8,)
    assert ("encoder.final_norm.gain" in shapes) == ("final_norm.gain" in shapes) == (c.norm == "pre")
    assert ("de_embedding" in shapes) != c.tied and ("positions" in shapes) == (c.positions == "learned")
    assert sum(name.startswith(f"encoder.layer{c.encoder_layers - 1}.") for name in shapes) == 12


def test_a_config_claiming_a_billion_layers_costs_nothing_to_measure():
    c = small(encoder_layers=10**9, n_layers=10**9)
    start = time.perf_counter()
    arrays, numbers = param_count(c)
    names = seq2seq.iter_param_shapes(c)
    first = [next(names) for _ in range(3)]
    assert time.perf_counter() - start < 0.1 and arrays == 30 * 10**9 + 3
    assert [name for name, _ in first] == ["source_embedding", "embedding", "encoder.layer0.W_q"]


@pytest.mark.parametrize("kw", [{"norm": "post"}, {"norm": "pre"}, {"norm": "post", "positions": "learned", "tied": True},
                                {"norm": "pre", "positions": "learned", "tied": True}])
def test_gradcheck_every_weight_and_the_encoder_output(kw):
    """Analytic against central differences, float64: below 1e-6 for every weight, the
    cross-attention's included, and for d loss / d(final encoder output)."""
    errors = seq2seq.gradcheck(small(**kw), np.random.default_rng(0))
    assert set(errors) == set(param_shapes(small(**kw))) | {"encoder output"}
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-6, (worst, errors[worst])


def test_training_gradients_are_float32_and_complete():
    c = small()
    params = init_params(c, np.random.default_rng(0))
    batch = seq2seq.PairBatch(np.array([[1, 2, 5]]), np.array([[6, 0]]))
    loss, grads = seq2seq.loss_and_grads(params, c, batch, np.array([[0, 6]]))
    assert math.isfinite(loss) and set(grads) == set(params)
    assert all(grads[name].dtype == np.float32 and grads[name].shape == params[name].shape for name in params)


PAIRS = "a b\tx\nb a\ty x\n3x c\tz\nc a\tz y\n"


def test_batches_are_rectangles_of_one_length_pair():
    """'a b -> x' and 'c a -> z y'... each batch holds pairs of one (source, target) length;
    the encoder reads the words then <end>; the decoder <end> then the words; the targets end
    with <end>."""
    plan = seq2seq.setup(parse_pairs(PAIRS), d_model=8, n_heads=2, context=4)
    end_s, end_t = len(plan.source_vocabulary) - 1, len(plan.vocabulary) - 1
    rng = np.random.default_rng(0)
    for _ in range(50):
        inputs, targets = plan.batches.sample(rng, 6)
        assert inputs.source.shape[0] == 6 and inputs.target.shape == targets.shape
        assert (inputs.source[:, -1] == end_s).all() and (inputs.target[:, 0] == end_t).all()
        assert (targets[:, -1] == end_t).all() and (inputs.target[:, 1:] == targets[:, :-1]).all()
        assert inputs.size == inputs.source.size + inputs.target.size
    assert plan.source_vocabulary == ("a", "b", "c", "<end>") and plan.vocabulary == ("x", "y", "z", "<end>")
    assert plan.config.task == "translate" and plan.config.source_vocab_size == 4 and plan.config.vocab_size == 4


def test_batches_follow_the_weights():
    """'c -> z' weighs 3 of 6: about half the batches are its group (a group of one pair)."""
    plan = seq2seq.setup(parse_pairs(PAIRS), d_model=8, n_heads=2, context=4)
    rng = np.random.default_rng(0)
    alone = sum(plan.batches.sample(rng, 2)[0].source.shape[1] == 2 for _ in range(4000))
    assert abs(alone / 4000 - 0.5) < 0.03


def test_a_pair_longer_than_the_context_is_refused_naming_its_line():
    with pytest.raises(CorpusError, match=r"p.txt: line 2: the target has 4 words, 5 positions with <end>, more than "
                                          r"the context of 4: give --context 5"):
        seq2seq.setup(parse_pairs("a\tb\nc\tw x y z\n", name="p.txt"), d_model=8, n_heads=2, context=4)


@pytest.fixture(scope="module")
def trained():
    """The bundled task, the tour's sizes, 1,000 steps of batch 32, seed 0 (~2 s on 2 cores;
    bench figures are in the README)."""
    from lmtoy.transformer.train import TrainSettings, train

    pairs = parse_pairs((BUNDLED / "commands_pairs.txt").read_bytes(), name="commands_pairs")
    plan = seq2seq.setup(pairs, d_model=16, n_heads=2, n_layers=1, context=16)
    rng = np.random.default_rng(0)
    params = init_params(plan.config, rng)
    for _ in train(params, plan.config, plan.batches, TrainSettings(steps=1000, batch=32), rng):
        pass
    return pairs, plan, params


def _source(plan, words):
    index = {w: i for i, w in enumerate(plan.source_vocabulary)}
    return np.array([index[w] for w in words] + [len(plan.source_vocabulary) - 1])


def test_the_bundled_task_is_learned_exactly(trained):
    """Greedy decoding reproduces every one of the 300 training pairs, <end> included."""
    pairs, plan, params = trained
    end = len(plan.vocabulary) - 1
    wrong = []
    for i in range(len(pairs)):
        source, target = pairs.pair(i)
        out = greedy(params, plan.config, _source(plan, source), end)
        if [plan.vocabulary[j] for j in out.ids] != target or out.stopped != "end":
            wrong.append(" ".join(source))
    assert not wrong


def test_the_score_is_the_length_normalised_log_probability(trained):
    """Recomputed by teacher forcing: minus the mean cross-entropy over the translation's words and <end>."""
    pairs, plan, params = trained
    source = _source(plan, "show me my old files in the archive please".split())
    out = beam_search(params, plan.config, source, len(plan.vocabulary) - 1, width=3)
    assert [plan.vocabulary[j] for j in out.ids] == "arkivo la en dosi velo mia mi vido pu".split()
    end = len(plan.vocabulary) - 1
    batch = seq2seq.PairBatch(source[None], np.array([[end, *out.ids]]))
    loss = layers.cross_entropy(seq2seq.forward_cached(params, plan.config, batch)[0], np.array([[*out.ids, end]]))[0]
    assert out.score == pytest.approx(-loss, rel=1e-3, abs=1e-7) and out.score <= 0  # float32 logits


def test_beam_of_one_is_greedy_and_steps_cap_it(trained):
    pairs, plan, params = trained
    source, end = _source(plan, pairs.pair(5)[0]), len(plan.vocabulary) - 1
    assert beam_search(params, plan.config, source, end, width=1) == greedy(params, plan.config, source, end)
    capped = greedy(params, plan.config, source, end, steps=2)
    assert len(capped.ids) == 2 and capped.stopped == "steps"
    assert capped.ids == greedy(params, plan.config, source, end).ids[:2]
    with pytest.raises(UsageError, match="beam width"):
        beam_search(params, plan.config, source, end, width=0)


def test_a_diverged_model_is_refused(trained):
    pairs, plan, params = trained
    broken = dict(params) | {"source_embedding": np.full_like(params["source_embedding"], 3e38)}
    with pytest.raises(ModelFileError, match="not finite"):
        greedy(broken, plan.config, _source(plan, ["show", "my", "files"]), len(plan.vocabulary) - 1)


def test_save_and_load_a_translate_model(trained, tmp_path):
    from lmtoy.transformer.io import load_model, save_model

    _, plan, params = trained
    path = save_model(tmp_path / "m.npz", params, plan.config, plan.vocabulary, source_vocabulary=plan.source_vocabulary)
    saved = load_model(path)
    assert saved.config == plan.config and saved.source_vocabulary == plan.source_vocabulary
    assert all(np.array_equal(saved.params[name], params[name]) for name in params)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "decoder.layer0.cross.W_v"}
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(ModelFileError, match="'decoder.layer0.cross.W_v' is missing"):
        load_model(tmp_path / "damaged.npz")


def test_the_trace_adds_up_in_pre_norm():
    """Pre-norm: add 3 = add 1 + the cross-attention output; the trace's cross weights are
    attention_weights'; the masked scores hide later target words, the encoder's hide nothing."""
    from lmtoy.transformer.translate import attention_weights, trace

    c = small(norm="pre", n_layers=1)
    params = init_params(c, np.random.default_rng(0))
    source, target = np.array([1, 2, 3, 5]), np.array([6, 0, 1])
    steps = {step.name: step for step in trace(params, c, source, target)}
    assert {"encoder final norm", "decoder layer 1 norm 3", "final norm"} <= set(steps)
    np.testing.assert_allclose(steps["decoder layer 1 add 3"].values,
                               steps["decoder layer 1 add 1"].values + steps["decoder layer 1 cross-attention output"].values,
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    cross = steps["decoder layer 1 cross head 2 attention weights"]
    assert cross.values.shape == (3, 4) and (cross.rows, cross.columns) == ("target", "source")
    np.testing.assert_allclose(cross.values, attention_weights(params, c, source, target).cross[0, 1], rtol=1e-6)
    masked = steps["decoder layer 1 head 1 masked scores"].values
    assert np.isneginf(masked[np.triu_indices(3, 1)]).all() and np.isfinite(np.tril(masked)).all()
    assert not any("encoder" in name and "masked" in name for name in steps)
    assert steps["source one-hot"].values.shape == (4, 6) and steps["logits"].values.shape == (3, 7)


def test_beam_search_refuses_zero_steps():
    from lmtoy.errors import UsageError
    from lmtoy.transformer.translate import beam_search

    with pytest.raises(UsageError, match="at least 1 step"):
        beam_search({}, None, np.array([0]), end_id=0, steps=0)
