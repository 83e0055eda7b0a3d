"""Config, initialisation, forward pass, trace, generation and the .npz model file."""

from __future__ import annotations

import json
import os
import signal
from contextlib import contextmanager

import numpy as np
import pytest

from lmtoy.errors import ModelFileError, UsageError
from lmtoy.transformer import inference, io, model
from lmtoy.transformer.model import Config

VARIANTS = [
    {"norm": norm, "positions": positions, "tied": tied}
    for norm in ("post", "pre")
    for positions in ("sinusoidal", "learned")
    for tied in (False, True)
]


def small(**options):  # -> Config
    return Config(**({"vocab_size": 9, "d_model": 8, "n_heads": 2, "n_layers": 2, "context": 6} | options))


def random_model(config, seed=0):  # -> params, with gains and biases moved off 1 and 0
    rng = np.random.default_rng(seed)
    params = model.init_params(config, rng, dtype=np.float64)
    return {k: v + rng.normal(0, 0.1, v.shape) if v.ndim == 1 else v for k, v in params.items()}


def test_config_derives_head_sizes_and_feed_forward_width():
    config = Config(vocab_size=14, d_model=12, n_heads=3)
    assert (config.d_k, config.d_v, config.d_ff) == (4, 4, 48)
    assert Config(vocab_size=5, d_model=10, n_heads=3, d_k=4, d_v=2).d_k == 4


def test_config_refuses_sizes_that_do_not_divide():
    with pytest.raises(UsageError, match="d_model 10 is not divisible by 3 heads") as error:
        Config(vocab_size=5, d_model=10, n_heads=3)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"positions": "rotary"}, "positions must be one of sinusoidal, learned"),
        ({"norm": "middle"}, "norm must be one of post, pre"),
        ({"init": "zeros"}, "init must be one of xavier, he, normal"),
        ({"d_model": 0}, "d_model must be a positive whole number"),
        ({"context": 2.5}, "context must be a positive whole number"),
    ],
)
def test_config_refuses_bad_choices(options, message):
    with pytest.raises(UsageError, match=message):
        Config(vocab_size=5, **options)


def test_config_json_round_trip():
    config = small(positions="learned", norm="pre", tied=True, init="he")
    assert Config.from_json(config.to_json()) == config


def test_init_shapes_xavier_bounds_and_seed():
    config = small()
    params = model.init_params(config, np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == model.param_shapes(config)
    assert all(v.dtype == np.float32 for v in params.values())
    limit = np.sqrt(6 / (8 + 4))  # W_q: fan_in d_model 8, fan_out d_k 4
    assert 0.8 * limit < np.abs(params["layer0.W_q"]).max() <= limit
    assert np.all(params["layer1.norm2.gain"] == 1) and np.all(params["layer0.b_1"] == 0)
    again = model.init_params(config, np.random.default_rng(0))
    assert all(np.array_equal(params[k], again[k]) for k in params)


@pytest.mark.parametrize("options", VARIANTS + [{"n_layers": 3, "d_k": 3, "d_v": 5, "d_ff": 7}])
def test_param_count_counts_param_shapes(options):
    """The counts a file is checked against come from the sizes alone, yet match the shapes."""
    config = small(**options)
    shapes = model.param_shapes(config)
    assert model.param_count(config) == (len(shapes), sum(int(np.prod(s)) for s in shapes.values()))
    assert list(model.iter_param_shapes(config)) == list(shapes.items())
    one = Config(vocab_size=9, d_model=8, n_heads=2, n_layers=1, d_ff=32)
    assert model.param_count(one) == (14, 984)  # the docstring's example


def test_param_shapes_follow_the_choices():
    assert "positions" in model.param_shapes(small(positions="learned"))
    assert "final_norm.gain" in model.param_shapes(small(norm="pre"))
    assert "de_embedding" not in model.param_shapes(small(tied=True))


@pytest.mark.parametrize("options", VARIANTS)
def test_forward_is_causal(options):
    """Changing the last word changes no earlier position's logits."""
    config = small(**options)
    params = random_model(config)
    ids = np.array([[1, 4, 2, 7, 3, 0]])
    changed = ids.copy()
    changed[0, -1] = 8
    a, b = model.forward(params, config, ids), model.forward(params, config, changed)
    assert a.shape == (1, 6, 9)
    np.testing.assert_array_equal(a[:, :-1], b[:, :-1])
    assert not np.allclose(a[:, -1], b[:, -1])


def test_forward_refuses_more_positions_than_the_context():
    config = small(context=4)
    with pytest.raises(UsageError, match="5 positions exceed the model's context of 4"):
        model.forward(random_model(config), config, np.zeros((1, 5), dtype=int))


def test_tied_de_embedding_is_the_embedding_transposed():
    config = small(tied=True, n_layers=1)
    params = random_model(config)
    cache = model.forward_cached(params, config, np.array([[3]]))[1]
    np.testing.assert_array_equal(cache.de_embedding[1], params["embedding"].T)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_trace_lists_every_intermediate_with_its_shape(norm):
    config = small(norm=norm)
    params = random_model(config)
    ids = [1, 4, 2]
    steps = dict(inference.trace(params, config, ids))
    assert [name for name, _ in inference.trace(params, config, ids)][:4] == [
        "one-hot input", "embedded", "positions", "embedded + positions"]  # fmt: skip
    assert steps["one-hot input"].shape == (3, 9) and steps["one-hot input"][1, 4] == 1
    assert steps["layer 2 head 2 Q"].shape == (3, 4)
    assert steps["layer 1 head 1 attention weights"].shape == (3, 3)
    assert steps["layer 1 concat"].shape == (3, 8)
    assert steps["layer 2 feed-forward hidden"].shape == (3, 32)
    masked = steps["layer 1 head 2 masked scores"]
    assert masked[0, 1] == -np.inf and masked[1, 0] == steps["layer 1 head 2 scores"][1, 0]
    np.testing.assert_allclose(steps["logits"], model.forward(params, config, np.array([ids]))[0])
    np.testing.assert_allclose(steps["probabilities"].sum(axis=1), 1.0)
    assert ("layer 1 norm 1" in steps) == (norm == "pre")
    assert ("layer 1 add & norm 2" in steps) == (norm == "post")


def test_attention_weights_view():
    config = small()
    params = random_model(config)
    weights = inference.attention_weights(params, config, [1, 4, 2, 5])
    assert weights.shape == (2, 2, 4, 4)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    assert np.all(weights[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0)
    trace = dict(inference.trace(params, config, [1, 4, 2, 5]))
    np.testing.assert_array_equal(trace["layer 2 head 1 attention weights"], weights[1, 0])


def test_next_distribution_and_long_prompts():
    config = small()
    params = random_model(config)
    p = inference.next_distribution(params, config, [1, 2, 3])
    assert p.shape == (9,) and p.sum() == pytest.approx(1.0)
    long = [1, 2, 3, 4, 5, 6, 7, 8]
    last = inference.next_distribution(params, config, long[-6:])
    np.testing.assert_array_equal(inference.next_distribution(params, config, long), last)
    with pytest.raises(UsageError, match="the prompt has 8 words but the model's context is 6"):
        inference.prompt_window(long, 6, strict=True)
    with pytest.raises(UsageError, match="empty"):
        inference.next_distribution(params, config, [])
    cold, plain, hot = (inference.next_distribution(params, config, [1, 2], temperature=t) for t in (0.5, 1, 2))
    assert cold.max() > plain.max() > hot.max()
    assert np.argmax(cold) == np.argmax(plain) == np.argmax(hot)
    with pytest.raises(UsageError, match="temperature must be above 0"):
        inference.next_distribution(params, config, [1, 2], temperature=0)


def test_generate_greedy_sampling_and_end():
    config = small()
    params = random_model(config)
    greedy = inference.generate(params, config, [1, 2], steps=5)
    assert len(greedy) == 5
    first = int(np.argmax(inference.next_distribution(params, config, [1, 2])))
    assert greedy[0] == first
    assert inference.generate(params, config, [1, 2], steps=5, end_id=first).tolist() == [first]
    top1 = inference.generate(params, config, [1, 2], 5, rng=np.random.default_rng(0), greedy=False, top_k=1)
    np.testing.assert_array_equal(top1, greedy)
    a, b = (inference.generate(params, config, [1], 8, np.random.default_rng(3), greedy=False) for _ in "ab")
    np.testing.assert_array_equal(a, b)
    with pytest.raises(UsageError, match="sampling needs"):
        inference.generate(params, config, [1], 3, greedy=False)


def test_embeddings_2d():
    table = np.random.default_rng(0).normal(size=(9, 8)) * [5, 3, 1, 1, 1, 1, 1, 1]
    coords = inference.embeddings_2d(table)
    assert coords.shape == (9, 2)
    np.testing.assert_allclose(coords.mean(axis=0), 0, atol=1e-12)
    # the two principal axes hold the most variance: the eigenvalues of the covariance, largest first
    eigen = np.sort(np.linalg.eigvalsh(np.cov(table, rowvar=False)))[::-1]
    np.testing.assert_allclose(np.var(coords, axis=0, ddof=1), eigen[:2], rtol=1e-9)


@pytest.mark.parametrize("options", VARIANTS)
def test_save_load_round_trip(tmp_path, options):
    config = small(**options)
    params = model.init_params(config, np.random.default_rng(0))
    words = tuple("abcdefgh") + (model.END,)
    io.save_model(tmp_path / "m.npz", params, config, words)
    saved = io.load_model(tmp_path / "m.npz")
    assert saved.config == config and saved.vocabulary == words
    assert saved.params.keys() == params.keys()
    assert all(np.array_equal(saved.params[k], params[k]) for k in params)
    assert all(saved.params[k].dtype == np.float32 for k in params)
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left


def write_bad(tmp_path, kind):  # -> path of a bad model file
    path = tmp_path / "bad.npz"
    config = small()
    good = tmp_path / "good.npz"
    params = model.init_params(config, np.random.default_rng(0))
    io.save_model(good, params, config, (*"abcdefgh", "<end>"))
    arrays = dict(np.load(good))
    if kind == "truncated":
        path.write_bytes(good.read_bytes()[:300])
    elif kind == "text":
        path.write_text("not a model\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "foreign":
        np.savez(path, weights=np.zeros(3))
    elif kind == "version":
        np.savez(path, **(arrays | {"format_version": np.array(4)}))
    elif kind == "shape":
        np.savez(path, **(arrays | {"layer0.W_q": np.zeros((2, 8, 3))}))
    elif kind == "missing weight":
        np.savez(path, **{k: v for k, v in arrays.items() if k != "layer1.W_2"})
    elif kind == "keep_case array":
        np.savez(path, **(arrays | {"keep_case": np.array([True, False])}))
    elif kind == "keep_case text":
        np.savez(path, **(arrays | {"keep_case": np.array("yes")}))
    elif kind == "no end":
        np.savez(path, **(arrays | {"vocabulary": np.array(list("abcdefghi"))}))
    elif kind == "two ends":
        np.savez(path, **(arrays | {"vocabulary": np.array([*"abcdefg", "<end>", "<end>"])}))
    elif kind == "repeated word":
        np.savez(path, **(arrays | {"vocabulary": np.array([*"abcdefga", "<end>"])}))
    elif kind == "numeric vocabulary":
        np.savez(path, **(arrays | {"vocabulary": np.arange(9.0)}))
    elif kind == "a billion layers":
        claimed = json.loads(str(arrays["config"])) | {"n_layers": 10**9}
        np.savez(path, **(arrays | {"config": np.array(json.dumps(claimed))}))
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "no such model file"),
        ("truncated", "truncated or damaged"),
        ("text", "not an lmtoy transformer model"),
        ("empty", "not an lmtoy transformer model"),
        ("foreign", "not an lmtoy transformer model"),
        ("version", "model format version 4; this lmtoy reads versions 1, 2 and 3"),
        ("shape", "weight 'layer0.W_q' is float64 \\(2, 8, 3\\), expected float \\(2, 8, 4\\)"),
        ("missing weight", "weight 'layer1.W_2' is missing"),
        ("keep_case array", "keep_case is bool \\(2,\\), expected a bool \\(\\)"),
        ("keep_case text", "keep_case is <U3 \\(\\), expected a bool"),
        ("no end", "damaged model: the vocabulary has no <end>"),
        ("two ends", "the vocabulary holds <end> 2 times"),
        ("repeated word", "the vocabulary holds 'a' more than once"),
        ("numeric vocabulary", "the vocabulary is float64 \\(9,\\), expected \\(N,\\) str"),
        ("a billion layers", "weight 'layer2.W_q' is missing \\(its config, 1,000,000,000 layers, needs "
                             "12,000,000,002 weight arrays"),
    ],
)
def test_bad_model_files(tmp_path, kind, message):
    path = tmp_path / "missing.npz" if kind == "missing" else write_bad(tmp_path, kind)
    with within(5), pytest.raises(ModelFileError, match=message) as error:  # a billion layers: refused at once
        io.load_model(path)
    assert "\n" not in str(error.value)


@contextmanager
def within(seconds):
    """Fail (instead of hanging) when the block runs longer than ``seconds``."""
    def late(*_):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def huge(params, scale=1e38):  # -> the same signs, every magnitude ``scale`` (finite float32)
    return {k: (np.sign(v) * scale).astype(np.float32) for k, v in params.items()}


@pytest.mark.filterwarnings("error")  # a numpy RuntimeWarning fails the test
def test_weights_that_overflow_the_forward_pass_are_refused_alike():
    """Finite weights of magnitude 1e38 make the activations overflow: every view refuses them
    with predict's message, and numpy warns of nothing."""
    config = small()
    params = huge(model.init_params(config, np.random.default_rng(0)))
    for use in (inference.next_distribution, inference.attention_weights, inference.trace):
        with pytest.raises(ModelFileError, match="not finite numbers: its weights have diverged"):
            use(params, config, [1, 4, 2])
    with pytest.raises(ModelFileError, match="diverged"):
        inference.generate(params, config, [1, 4], steps=3)


@pytest.mark.filterwarnings("error")
def test_embeddings_2d_of_huge_or_broken_tables():
    """Float32 sums of 1e38 overflow; the projection works in float64 instead. A table that
    is not finite (or an SVD that fails) is a ModelFileError, never a LinAlgError."""
    table = huge({"e": np.random.default_rng(0).normal(size=(9, 8))})["e"]
    coords = inference.embeddings_2d(table)
    assert coords.shape == (9, 2) and np.isfinite(coords).all() and np.abs(coords).max() > 1e37
    with pytest.raises(ModelFileError, match="not finite numbers"):
        inference.embeddings_2d(np.full((3, 2), np.inf))


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    config = small()
    params = model.init_params(config, np.random.default_rng(0))
    words = tuple("abcdefgh") + ("<end>",)
    io.save_model(tmp_path / "m.npz", params, config, words)
    before = (tmp_path / "m.npz").read_bytes()

    def broken(file, **arrays):
        file.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(KeyboardInterrupt):
        io.save_model(tmp_path / "m.npz", params, config, words)
    assert (tmp_path / "m.npz").read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_save_into_a_missing_directory_is_a_model_file_error(tmp_path):
    config = small()
    params = model.init_params(config, np.random.default_rng(0))
    with pytest.raises(ModelFileError, match="cannot write the model"):
        io.save_model(tmp_path / "no" / "m.npz", params, config, (*"abcdefgh", "<end>"))


def test_version_1_files_are_read_as_next_word_models(tmp_path):
    """A file from before tasks (format_version 1, a config without task fields) still loads."""
    import json

    from lmtoy.transformer import Config, init_params, load_model, save_model

    config = Config(vocab_size=3, d_model=4, n_heads=1, context=4)
    path = tmp_path / "m.npz"
    save_model(path, init_params(config, np.random.default_rng(0)), config, ("a", "b", "<end>"))
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    old = {k: v for k, v in json.loads(str(arrays["config"])).items()
           if k not in ("task", "encoder_layers", "source_vocab_size", "n_classes", "pool")}
    np.savez(path, **(arrays | {"format_version": np.array(1), "config": np.array(json.dumps(old))}))
    saved = load_model(path)
    assert saved.config.task == "next-word" and saved.config.encoder_layers == 0 and saved.labels is None


def test_task_fields_are_checked():
    from lmtoy.errors import UsageError
    from lmtoy.transformer import Config

    with pytest.raises(UsageError, match="source_vocab_size"):
        Config(vocab_size=3, task="translate")
    with pytest.raises(UsageError, match="n_classes is for the classify task"):
        Config(vocab_size=3, n_classes=2)
    with pytest.raises(UsageError, match="task must be one of"):
        Config(vocab_size=3, task="poetry")
    assert Config(vocab_size=3, task="classify", n_classes=2, n_layers=2).encoder_layers == 2
