"""Gradient checks, windows, Adam, reproducibility, and the tour's acceptance test."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from lmtoy.corpus import parse_corpus, read_corpus
from lmtoy.errors import UsageError
from lmtoy.transformer import inference, model
from lmtoy.transformer.model import Config
from lmtoy.transformer.train import (
    Adam,
    TrainSettings,
    Windows,
    gradcheck,
    train,
    train_corpus,
)

PROGRAM_LOG = Path(__file__).parent.parent / "lmtoy" / "corpora" / "program_log.txt"


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("norm", ["post", "pre"])
def test_gradcheck_every_parameter(norm, positions, tied):
    config = Config(vocab_size=7, d_model=8, n_heads=2, n_layers=2, context=5, d_ff=12,
                    norm=norm, positions=positions, tied=tied)  # fmt: skip
    errors = gradcheck(config, np.random.default_rng(1))
    assert errors.keys() == model.param_shapes(config).keys()
    assert max(errors.values()) < 1e-6, errors


def test_gradcheck_with_unequal_head_sizes():
    config = Config(vocab_size=5, d_model=6, n_heads=3, d_k=3, d_v=1, n_layers=1, context=4, d_ff=5)
    assert max(gradcheck(config, np.random.default_rng(2)).values()) < 1e-6


def test_windows_are_sentences_with_end_tokens_laid_end_to_end():
    corpus = parse_corpus("a b c.\nd e.")  # ids a0 b1 c2 d3 e4, END 5
    windows = Windows.from_corpus(corpus, context=4)
    inputs, targets = windows.sample(np.random.default_rng(0), batch=200)
    assert inputs.shape == targets.shape == (200, 4)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    allowed = {(0, 1), (1, 2), (2, 5), (3, 4), (4, 5), (5, 0), (5, 3)}  # pairs the stream can hold
    full = np.concatenate([inputs, targets[:, -1:]], axis=1)
    assert set(zip(full[:, :-1].ravel().tolist(), full[:, 1:].ravel().tolist())) == allowed
    assert set(inputs[:, 0].tolist()) == {0, 1, 2, 3, 4, 5}


def test_windows_respect_sentence_weights():
    corpus = parse_corpus("75% x.\n25% y.")  # x0 y1 END 2
    inputs, _ = Windows.from_corpus(corpus, context=8).sample(np.random.default_rng(0), batch=2000)
    counts = np.bincount(inputs.ravel(), minlength=3)
    assert counts[0] / counts[1] == pytest.approx(3, rel=0.1)


def test_windows_over_sentences_longer_than_the_context():
    corpus = parse_corpus(" ".join(f"w{i:02}" for i in range(30)) + ".")  # ids in order, END 30
    inputs, targets = Windows.from_corpus(corpus, context=5).sample(np.random.default_rng(0), batch=50)
    assert np.all(np.diff(np.concatenate([inputs, targets[:, -1:]], axis=1), axis=1) % 31 == 1)


def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient():
    params = {"w": np.array([1.0, 2.0, 3.0], dtype=np.float32)}
    adam = Adam(params, TrainSettings(lr=0.1, clip=None))
    norm = adam.step({"w": np.array([0.5, -2.0, 0.0], dtype=np.float32)})
    assert norm == pytest.approx(np.hypot(0.5, 2.0))
    np.testing.assert_allclose(params["w"], [0.9, 2.1, 3.0], rtol=1e-6)


def test_adam_clips_the_global_gradient_norm():
    params = {"a": np.zeros(1, np.float32), "b": np.zeros(1, np.float32)}
    adam = Adam(params, TrainSettings(clip=1.0))
    adam.step({"a": np.array([3.0], np.float32), "b": np.array([4.0], np.float32)})
    np.testing.assert_allclose(adam.m, [0.1 * 0.6, 0.1 * 0.8], rtol=1e-6)  # (1 - beta1) * g / 5


def tiny_run(seed, steps=30):  # -> params after training on the program log
    return train_corpus(read_corpus(PROGRAM_LOG), {"d_model": 8}, TrainSettings(steps=steps), seed=seed)[0]


def test_same_seed_gives_bit_identical_weights():
    a, b, c = tiny_run(7), tiny_run(7), tiny_run(8)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_train_yields_progress_and_stopping_keeps_the_last_step():
    corpus = read_corpus(PROGRAM_LOG)
    config = Config(vocab_size=len(corpus.vocabulary) + 1, d_model=8)
    rng = np.random.default_rng(0)
    params = model.init_params(config, rng)
    steps = train(params, config, Windows.from_corpus(corpus, 16), TrainSettings(), rng)
    records = list(itertools.islice(steps, 5))
    assert [r.step for r in records] == [1, 2, 3, 4, 5] and records[0].steps == 300
    assert all(r.loss > 0 and r.tokens_per_second > 0 for r in records)
    five = tiny_run(0, steps=5)  # a run asked for 5 steps ends where the stopped one did
    assert all(np.array_equal(params[k], five[k]) for k in params)


def encode(vocabulary, text):  # -> list of ids
    return [vocabulary.index(word) for word in text.split()]


def test_tour_defaults_learn_the_program_log():
    """The section 11 figure: the model reads back past 'ran' to 'battery' or 'program'."""
    start = time.perf_counter()
    params, config, vocabulary, losses = train_corpus(read_corpus(PROGRAM_LOG), seed=0)
    assert time.perf_counter() - start < 30
    assert np.mean(losses[-20:]) < np.mean(losses[:20]) / 10
    battery = encode(vocabulary, "check the battery log and find out whether it ran")
    program = encode(vocabulary, "check the program log and find out whether it ran")
    assert inference.next_distribution(params, config, battery)[vocabulary.index("down")] > 0.9
    assert inference.next_distribution(params, config, program)[vocabulary.index("please")] > 0.9
    ending = inference.generate(params, config, battery, 5, end_id=vocabulary.index(model.END))
    assert [vocabulary[i] for i in ending] == ["down", "please", model.END]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"steps": -1}, "steps must be 0 or more, not -1"),
        ({"batch": 0}, "batch must be at least 1, not 0"),
        ({"lr": -0.1}, "lr must be 0 or more"),
        ({"clip": 0.0}, "clip must be above 0"),
    ],
)
def test_train_settings_refuse_impossible_values(options, message):
    with pytest.raises(UsageError, match=message):
        TrainSettings(**options)


def test_zero_steps_leave_the_initial_weights():
    corpus = read_corpus(PROGRAM_LOG)
    params, config, _, losses = train_corpus(corpus, {"d_model": 8}, TrainSettings(steps=0), seed=3)
    fresh = model.init_params(config, np.random.default_rng(3))
    assert losses == [] and all(np.array_equal(params[k], fresh[k]) for k in params)
