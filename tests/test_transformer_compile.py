"""The compiled transformer (lmtoy.transformer.compile): its logits are the feature votes, exactly.

The reference is independent of the construction: ``attention.vote`` (the ``vote`` command's
totals) and the masked-skips totals of ``complete.next_scores``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmtoy import attention
from lmtoy.complete import Ladder, next_scores
from lmtoy.corpus import parse_corpus
from lmtoy.errors import TooLargeError, UsageError
from lmtoy.ngrams import first_order, skips
from lmtoy.transformer import Config, gradcheck, io, layers, model
from lmtoy.transformer import compile as compiler
from lmtoy.transformer.compile import compile_model, read_ids, reference_scores

CORPORA = ("program_log", "battery", "commands", "show_me", "find_my_files")
BATTERY = "check the battery log and find out whether it ran"
PROGRAM = "check the program log and find out whether it ran"


def corpus_of(name):
    from importlib.resources import files

    return parse_corpus((files("lmtoy") / "corpora" / f"{name}.txt").read_bytes(), name=name)


def logits_after(compiled, ids):  # (n,) -> (N,)
    return model.forward(compiled.params, compiled.config, read_ids(compiled, np.asarray(ids))[None])[0, -1]


def prefixes(corpus):
    """Every prefix of at least two words whose last word has a next word."""
    for s in range(len(corpus.starts) - 1):
        sentence = corpus.ids[corpus.starts[s] : corpus.starts[s + 1]]
        for k in range(2, len(sentence)):
            yield sentence[:k]


def batch_logits(compiled, prompts):  # [(n,)] -> (P, N)
    """The logits after each prompt, read as the commands read it, in one forward pass: the reads
    are padded on the right, which a causal model's earlier positions never see."""
    reads = [read_ids(compiled, np.asarray(ids)) for ids in prompts]
    end = compiled.vocabulary.index(model.END)
    batch = np.full((len(reads), max(map(len, reads))), end, dtype=np.int64)
    for row, ids in enumerate(reads):
        batch[row, : len(ids)] = ids
    logits = model.forward(compiled.params, compiled.config, batch)
    return logits[np.arange(len(reads)), [len(ids) - 1 for ids in reads]]


def assert_votes(corpus, window, masked, prompts=None):
    """The exact acceptance: logits == vote totals (masked: the masked-skips totals) to 1e-5."""
    compiled = compile_model(corpus, window, masked)
    skip = skips(corpus, window)
    flags = attention.informative(skip, first_order(corpus)) if masked else None
    ladder = Ladder(corpus, window)
    prompts = list(prefixes(corpus)) if prompts is None else prompts
    if not prompts:
        return 0
    for ids, logits in zip(prompts, batch_logits(compiled, prompts)):
        expected = reference_scores(skip, flags, ids)
        np.testing.assert_allclose(logits[:-1], expected, atol=1e-5, rtol=0)
        scores = next_scores(ladder, "masked-skips" if masked else "skips", ids)
        np.testing.assert_allclose(expected, np.zeros_like(expected) if scores is None else scores.values, atol=1e-12)
        top = np.sort(expected)[-2:]
        if expected.any() and top[-1] - top[0] > 1e-5:  # a tie may break either way in float32
            assert int(np.argmax(logits)) == int(np.argmax(expected))  # and <end> never wins over a vote
    return len(prompts)


@pytest.mark.parametrize("name", CORPORA)
@pytest.mark.parametrize("window", [None, 1, 3])
@pytest.mark.parametrize("masked", [False, True])
def test_logits_are_the_votes_on_every_prefix(name, window, masked):
    assert assert_votes(corpus_of(name), window, masked) > 0


def test_the_worked_example_section_4_and_5():
    """program_log: down 5 / please 4 after the battery prompt, 4 / 5 after the program prompt
    (section 4); masked, down 1 / please 0 and 0 / 1 (section 5)."""
    c = corpus_of("program_log")
    words = c.vocabulary.words
    down, please = words.index("down"), words.index("please")
    for masked, battery, program in ((False, (5, 4), (4, 5)), (True, (1, 0), (0, 1))):
        compiled = compile_model(c, masked=masked)
        for prompt, (d, p) in ((BATTERY, battery), (PROGRAM, program)):
            logits = logits_after(compiled, c.vocabulary.encode(prompt.split()))
            assert logits[down] == pytest.approx(d, abs=1e-6) and logits[please] == pytest.approx(p, abs=1e-6)
    assert compile_model(c).config.d_model == 41 and compile_model(c).config.d_ff == 128  # the docstring's sizes


def test_repeats_and_the_recent_word_seen_before():
    """'a b a a' : (a, a) is active once (a presence), and (b, a) once."""
    c = parse_corpus(b"a b a a c\nb a a b c\na a a c\n", name="repeats")
    prompts = [c.vocabulary.encode(p.split()) for p in ("a b a a", "a a a", "b a a b", "a b a a a a a", "b b b b")]
    for window in (None, 2):
        for masked in (False, True):
            assert_votes(c, window, masked, prompts)


def test_masked_falls_back_to_the_unmasked_vote():
    """A prompt with no informative active feature gets the unmasked vote (complete's note), and
    one with an informative feature gets only the masked rows."""
    c = corpus_of("program_log")
    compiled = compile_model(c, masked=True)
    skip = skips(c)
    flags = attention.informative(skip, first_order(c))
    fell_back = masked_seen = 0
    for ids in prefixes(c):
        v = attention.vote(skip, ids)
        mask = attention.auto_mask(v, flags)
        expected = v.unmasked_totals if not mask.any() else mask @ v.values
        np.testing.assert_allclose(logits_after(compiled, ids)[:-1], expected, atol=1e-5)
        fell_back += not mask.any() and v.unmasked_totals.any()
        masked_seen += bool(mask.any())
    assert fell_back > 0 and masked_seen > 0


def test_prompts_longer_than_the_window_read_their_last_window():
    c = corpus_of("program_log")
    ids = c.vocabulary.encode((BATTERY + " please check the battery log and find out whether it ran").split())
    for window in (1, 2, 5):
        prompts = [ids[:k] for k in range(2, len(ids) + 1)]
        assert_votes(c, window, False, prompts)
        assert_votes(c, window, True, prompts)


def test_end_is_no_earlier_word_and_wins_where_nothing_votes():
    c = corpus_of("show_me")
    compiled = compile_model(c)
    end = compiled.vocabulary.index(model.END)
    ids = c.vocabulary.encode("show me my photos please".split())
    with_end = model.forward(compiled.params, compiled.config, np.r_[end, ids][None])[0, -1]
    without = model.forward(compiled.params, compiled.config, ids[None])[0, -1]
    np.testing.assert_array_equal(with_end, without)
    assert int(np.argmax(with_end)) == end  # nothing follows please: generation stops


sentences = st.lists(st.lists(st.sampled_from("abcde"), min_size=1, max_size=9), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sentences, st.sampled_from([None, 1, 2, 4]), st.booleans(),
       st.lists(st.sampled_from([1, 2, 3]), min_size=6, max_size=6))
def test_logits_are_the_votes_on_generated_corpora(lines, window, masked, weights):
    text = "\n".join(f"{w} " + " ".join(line) for w, line in zip(weights, lines))
    c = parse_corpus(text.encode(), name="generated")
    assert_votes(c, window, masked)


@settings(max_examples=40, deadline=None)
@given(sentences, st.sampled_from([1, 2, 3]), st.booleans(), st.lists(st.integers(0, 20), min_size=2, max_size=14))
def test_any_prompt_within_a_window_votes_alike(lines, window, masked, picks):
    """With a window, any prompt (not only the corpus's prefixes) gives the vote."""
    c = parse_corpus("\n".join(" ".join(line) for line in lines).encode(), name="generated")
    ids = np.array([p % len(c.vocabulary) for p in picks])
    assert_votes(c, window, masked, [ids])


def test_the_file_round_trips_and_is_version_3(tmp_path):
    c = corpus_of("program_log")
    compiled = compile_model(c, masked=True)
    io.save_model(tmp_path / "m.npz", compiled.params, compiled.config, compiled.vocabulary)
    saved = io.load_model(tmp_path / "m.npz")
    assert saved.config == compiled.config and saved.config.attention == "linear" and saved.config.norm == "none"
    assert int(np.load(tmp_path / "m.npz")["format_version"]) == 3
    assert not any(".norm" in name for name in saved.params)
    ids = c.vocabulary.encode(BATTERY.split())
    np.testing.assert_array_equal(logits_after(compiled, ids), model.forward(saved.params, saved.config, read_ids(
        compiled, ids)[None])[0, -1])


def test_too_large_is_refused_before_any_weight(monkeypatch):
    monkeypatch.setattr(compiler, "MAX_NUMBERS", 1000)
    monkeypatch.setattr(compiler, "param_shapes", None)  # allocating the weights would fail differently
    with pytest.raises(TooLargeError, match=r"program_log: a compiled model of 13 words and 64 skip features needs "
                                            r"[\d,]+ weights .* more than 1,000"):
        compile_model(corpus_of("program_log"))


# the architecture options the construction needs, each usable in training


def test_linear_attention_sums_the_picked_values():
    """The docstring's example: 0/1 scores, no softmax: row i sums positions 0..i."""
    one = np.ones((1, 1, 1))
    x = np.ones((1, 3, 1))
    out, cache = layers.self_attention(x, one, one, one, np.ones((1, 1)), linear=True, scale=1.0)
    np.testing.assert_array_equal(cache.weights[0, 0], np.tril(np.ones((3, 3))))
    np.testing.assert_array_equal(out[0, :, 0], [1, 2, 3])


@pytest.mark.parametrize("options", [dict(norm="none"), dict(attention="linear"), dict(attention_scale=2.0),
                                     dict(norm="none", attention="linear", attention_scale=0.7),
                                     dict(norm="pre", attention="linear", positions="learned", tied=True)])
def test_gradcheck_covers_the_new_options(options):
    config = Config(vocab_size=7, d_model=8, n_heads=2, n_layers=2, context=5, d_ff=12, **options)
    errors = gradcheck(config, np.random.default_rng(0))
    assert errors.keys() == model.param_shapes(config).keys()
    assert max(errors.values()) < 1e-5


@pytest.mark.parametrize("options", [dict(norm="none"), dict(attention="linear", attention_scale=1.0)])
def test_new_options_round_trip_and_count(options):
    config = Config(vocab_size=7, **options)
    assert Config.from_json(config.to_json()) == config
    shapes = model.param_shapes(config)
    assert model.param_count(config) == (len(shapes), sum(int(np.prod(s)) for s in shapes.values()))


def test_defaults_are_todays_model():
    config = Config(vocab_size=7)
    assert (config.norm, config.attention, config.attention_scale) == ("post", "softmax", None)
    assert Config.from_json('{"vocab_size": 7}') == config  # a version 2 config reads alike


@pytest.mark.parametrize("options, message", [
    (dict(attention="hard"), "attention must be one of softmax, linear"),
    (dict(attention_scale=0.0), "attention_scale must be a number above 0"),
    (dict(attention_scale=float("inf")), "attention_scale must be a number above 0"),
    (dict(norm="none", task="classify", n_classes=2), "norm none is for the next-word task"),
    (dict(attention="linear", task="translate", source_vocab_size=4), "attention linear is for the next-word task"),
])
def test_new_options_refuse_bad_values(options, message):
    with pytest.raises(UsageError, match=message):
        Config(vocab_size=5, **options)
