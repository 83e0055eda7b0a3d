"""The classification transformer: gradients, pooling, batches, evaluation, and training to 100%."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lmtoy.corpus import Vocabulary
from lmtoy.errors import CorpusError, UsageError, VocabularyError
from lmtoy.labelled import parse_labelled
from lmtoy.transformer import END, classifier, model
from lmtoy.transformer.classifier import LabelledBatches, evaluate, pool, pool_backward, probabilities
from lmtoy.transformer.io import load_model, save_model
from lmtoy.transformer.model import Config, param_count, param_shapes
from lmtoy.transformer.train import TrainSettings, loss_and_grads, setup, train

INTENTS = Path(__file__).parent.parent / "lmtoy" / "corpora" / "intents.txt"


def small(**kw) -> Config:
    return Config(**{"vocab_size": 7, "d_model": 8, "n_heads": 2, "n_layers": 2, "context": 5, "d_ff": 12,
                     "task": "classify", "n_classes": 3} | kw)


@pytest.mark.parametrize("pool_kind", ["mean", "max"])
@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("norm", ["post", "pre"])
def test_gradcheck_every_weight(norm, positions, pool_kind):
    """Every weight, the encoder's, the embedding's, the positions' and the head's, through
    the pooling: below 1e-6 worst relative error in float64."""
    config = small(norm=norm, positions=positions, pool=pool_kind)
    errors = classifier.gradcheck(config, np.random.default_rng(1))
    assert list(errors) == list(param_shapes(config))
    assert {"classifier.W", "classifier.b", "embedding"} <= errors.keys()
    assert max(errors.values()) < 1e-6, errors


def test_gradcheck_with_one_layer_unequal_heads_and_a_long_text():
    config = small(n_heads=3, d_k=3, d_v=1, encoder_layers=1, context=9, pool="max", n_classes=2)
    assert max(classifier.gradcheck(config, np.random.default_rng(2), batch=3).values()) < 1e-6


def test_weights_in_file_order():
    config = small(norm="pre", positions="learned", encoder_layers=1)
    names = list(param_shapes(config))
    assert names[:2] == ["embedding", "positions"] and names[-2:] == ["classifier.W", "classifier.b"]
    assert names[2] == "encoder.layer0.W_q" and names[-4:-2] == ["encoder.final_norm.gain", "encoder.final_norm.bias"]
    assert param_shapes(config)["classifier.W"] == (8, 3) and "de_embedding" not in names


@pytest.mark.parametrize("kw", [{}, {"norm": "pre"}, {"positions": "learned", "encoder_layers": 3}, {"n_classes": 9}])
def test_param_count_from_the_sizes_alone(kw):
    config = small(**kw)
    shapes = param_shapes(config)
    assert param_count(config) == (len(shapes), sum(math.prod(s) for s in shapes.values()))


def test_param_count_docstring_example():
    config = Config(vocab_size=9, d_model=8, n_heads=2, n_layers=1, d_ff=32, task="classify", n_classes=3)
    assert param_count(config) == (15, 939)


def test_pooling_worked_example():
    """[[1, 4], [3, 2]]: the mean is [2, 3]; the max takes 3 from position 1 and 4 from position 0,
    so its backward sends each dimension's gradient there alone."""
    h = np.array([[[1.0, 4.0], [3.0, 2.0]]])
    mean, cache = pool(h, "mean")
    np.testing.assert_array_equal(mean, [[2.0, 3.0]])
    np.testing.assert_array_equal(pool_backward(np.array([[1.0, 2.0]]), cache), [[[0.5, 1.0], [0.5, 1.0]]])
    top, cache = pool(h, "max")
    np.testing.assert_array_equal(top, [[3.0, 4.0]])
    np.testing.assert_array_equal(pool_backward(np.array([[1.0, 2.0]]), cache), [[[0.0, 2.0], [1.0, 0.0]]])


def test_max_pooling_ties_go_to_the_first_position():
    h = np.array([[[5.0], [5.0], [1.0]]])
    _, cache = pool(h, "max")
    np.testing.assert_array_equal(pool_backward(np.array([[1.0]]), cache)[0, :, 0], [1.0, 0.0, 0.0])


def test_loss_of_an_untrained_model_is_near_ln_c_and_probabilities_sum_to_1():
    config = small()
    params = model.init_params(config, np.random.default_rng(0))
    ids = np.array([[1, 2, 3], [4, 5, 6]])
    loss, grads = loss_and_grads(params, config, ids, np.array([0, 2]))
    assert abs(loss - math.log(3)) < 0.5 and grads.keys() == params.keys()
    p = probabilities(params, config, [1, 2, 3])
    assert p.shape == (3,) and p.dtype == np.float64 and p.sum() == pytest.approx(1.0)


def test_a_text_longer_than_the_context_is_read_by_its_first_words():
    config = small(context=3)
    params = model.init_params(config, np.random.default_rng(0))
    np.testing.assert_array_equal(probabilities(params, config, [1, 2, 3, 4, 5]), probabilities(params, config, [1, 2, 3]))
    with pytest.raises(UsageError, match="empty"):
        probabilities(params, config, [])


def test_a_diverged_model_is_refused():
    config = small()
    params = model.init_params(config, np.random.default_rng(0))
    params["classifier.W"][:] = np.float32(3e38)
    params["embedding"][:] = np.float32(3e38)
    from lmtoy.errors import ModelFileError

    with pytest.raises(ModelFileError, match="not finite"):
        probabilities(params, config, [1, 2])


def test_batches_are_rectangular_one_length_each():
    labelled = parse_labelled("__label__a x y\n__label__b y z\n__label__a z\n__label__b q r s t u")
    batches = LabelledBatches.from_labelled(labelled, context=4)  # the 5-word line is read as 4
    rng = np.random.default_rng(0)
    shapes = set()
    for _ in range(200):
        inputs, targets = batches.sample(rng, 8)
        assert inputs.shape[0] == targets.shape[0] == 8
        shapes.add(inputs.shape)
        if inputs.shape[1] == 1:
            assert targets.tolist() == [0] * 8  # "z" alone is a's
    assert shapes == {(8, 1), (8, 2), (8, 4)}


def test_batches_respect_line_weights():
    """Lines of one length: 3x and 1x, so 3 in 4 draws are the first line's label."""
    labelled = parse_labelled("3x __label__a x y\n__label__b y z")
    _, targets = LabelledBatches.from_labelled(labelled, context=4).sample(np.random.default_rng(0), 4000)
    assert np.mean(targets == 0) == pytest.approx(0.75, abs=0.03)


def test_evaluate_worked_example():
    """Both texts predicted class 0 (a zero head whose bias favours 0): the first is right,
    the second (labelled 1, weight 3) wrong: accuracy 1/4, confusion [[1, 0], [3, 0]]."""
    config = small(n_classes=2)
    params = model.init_params(config, np.random.default_rng(0))
    params["classifier.W"][:] = 0
    params["classifier.b"][:] = [1, 0]
    accuracy, confusion = evaluate(params, config, [np.array([1, 2]), np.array([3])], np.array([0, 1]), [1, 3])
    assert accuracy == 0.25
    np.testing.assert_array_equal(confusion, [[1, 0], [3, 0]])


def test_setup_sizes_the_model_from_the_lines():
    labelled = parse_labelled("__label__b one two three\n__label__a four\n")
    plan = setup("classify", labelled, d_model=8, n_heads=2)
    c = plan.config
    assert (c.task, c.n_classes, c.context, c.vocab_size) == ("classify", 2, 3, 5)
    assert plan.vocabulary == ("four", "one", "three", "two", END) and plan.labels == ("a", "b")
    assert setup("classify", labelled, context=2).config.context == 2  # --context caps it
    with pytest.raises(UsageError, match="--tied is for next-word models"):
        setup("classify", labelled, tied=True)


def test_encode_labelled_names_the_line_of_an_unknown_word_or_label():
    vocabulary = Vocabulary(("battery", "check", "my", END))
    ok = parse_labelled("__label__b check my battery\n__label__a check", name="e.txt", min_labels=1)
    texts, labels = classifier.encode_labelled(ok, vocabulary, ("a", "b"))
    assert [t.tolist() for t in texts] == [[1, 2, 0], [1]] and labels.tolist() == [1, 0]
    unknown = parse_labelled("__label__a check\n\n__label__b check my batery", name="e.txt")
    with pytest.raises(VocabularyError, match=r"^e.txt: line 3: not in the vocabulary: 'batery'; did you mean battery\?$"):
        classifier.encode_labelled(unknown, vocabulary, ("a", "b"))
    other = parse_labelled("__label__a check\n__label__c my", name="e.txt")
    with pytest.raises(CorpusError, match=r"^e.txt: line 2: label 'c' is not one of the model's 2 labels \(a, b\)$"):
        classifier.encode_labelled(other, vocabulary, ("a", "b"))


def test_a_classifier_file_round_trip(tmp_path):
    labelled = parse_labelled("__label__b one two\n__label__a three\n")
    plan = setup("classify", labelled, d_model=4, n_heads=1, pool="max")
    params = model.init_params(plan.config, np.random.default_rng(0))
    path = save_model(tmp_path / "c.npz", params, plan.config, plan.vocabulary, labels=plan.labels)
    saved = load_model(path)
    assert saved.config == plan.config and saved.labels == ("a", "b") and saved.params.keys() == params.keys()


@pytest.mark.parametrize("pool_kind", ["mean", "max"])
def test_trains_to_100_percent_on_the_bundled_intents(pool_kind):
    """The README's run: `train intents --task classify --steps 600` (otherwise the defaults:
    batch 16, lr 0.01, d_model 16, 2 heads, 1 encoder layer, seed 0) classifies every training
    line right, with either pooling (timings in bench/, not here)."""
    labelled = parse_labelled(INTENTS.read_bytes(), name="intents.txt")
    plan = setup("classify", labelled, d_model=16, n_heads=2, n_layers=1, context=16, pool=pool_kind)
    rng = np.random.default_rng(0)
    params = model.init_params(plan.config, rng)
    losses = [p.loss for p in train(params, plan.config, plan.batches, TrainSettings(steps=600), rng)]
    corpus = labelled.text
    texts = [corpus.ids[corpus.starts[s]:corpus.starts[s + 1]] for s in range(corpus.n_sentences)]
    accuracy, confusion = evaluate(params, plan.config, texts, labelled.label_ids)
    assert accuracy == 1.0, confusion
    assert np.diag(confusion).tolist() == [50] * 6 and losses[-1] < losses[0] / 10
