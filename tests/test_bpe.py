"""Byte pair encoding: the hand-worked examples, the incremental trainer against a naive
reference that recounts everything after each merge, encode/decode round trips
(hypothesis), the chunking rules and the tokenizer file."""

from __future__ import annotations

import json
import re
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy.bpe import Trainer, count_chunks, exact_weights, replay, replay_text, sentence_text, train
from lmtoy.bpe_tokenizer import SPLIT, Tokenizer, TokenizerFileError, load_tokenizer, merge, token_label
from lmtoy.corpus import BUNDLED, parse_corpus, sentence_texts, tokenize
from lmtoy.errors import CorpusError, VocabularyError


def trained(text: str, vocab_size: int, split: bool = False, keep_case: bool = False):
    return train(count_chunks(sentence_texts(text), split, keep_case), vocab_size, split)


# -- a deliberately naive reference ----------------------------------------------


def naive_merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:
    out, i = [], 0
    while i < len(ids):
        if ids[i : i + 2] == list(pair):
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def naive_train(sentences, vocab_size: int, split: bool = True, keep_case: bool = False) -> list[tuple[int, int]]:
    """Every chunk occurrence as its own list of bytes, weighted by an exact Fraction;
    after each merge every pair of every chunk is counted again from scratch."""
    chunks = []
    for raw, weight in sentences:
        text = " ".join(raw.split())
        text = text if keep_case else text.lower()
        if text and weight > 0:
            for chunk in re.findall(SPLIT, text) if split else [text]:
                chunks.append((list(chunk.encode("utf-8")), Fraction(repr(weight))))
    merges = []
    for k in range(vocab_size - 256):
        stats: Counter = Counter()
        for ids, weight in chunks:
            for pair in zip(ids, ids[1:]):
                stats[pair] += weight
        if not stats:
            break
        best = max(stats.values())
        pair = min(p for p, c in stats.items() if c == best)  # smaller left id, then right id
        merges.append(pair)
        chunks = [(naive_merge(ids, pair, 256 + k), w) for ids, w in chunks]
    return merges


def naive_encode(tokenizer: Tokenizer, text: str) -> list[int]:
    """minbpe's encode: while some pair has a merge, merge the one learned first."""
    out = []
    for chunk in tokenizer.chunks(text):
        ids = list(chunk.encode("utf-8"))
        while len(ids) >= 2:
            pair = min(zip(ids, ids[1:]), key=lambda p: tokenizer.ranks.get(p, float("inf")))
            if pair not in tokenizer.ranks:
                break
            ids = naive_merge(ids, pair, 256 + tokenizer.ranks[pair])
        out += ids
    return out


# -- the hand-worked examples ---------------------------------------------------


def test_wikipedia_example():
    """'aaabdaaabac' as bytes (a=97, b=98, c=99, d=100), one chunk. Pairs, overlapping:
    aa 4, ab 2, bd/da/ba/ac 1, so aa -> 256: [256, 97, 98, 100, 256, 97, 98, 97, 99].
    Now (97, 98) and (256, 97) tie at 2; the smaller left id wins: ab -> 257:
    [256, 257, 100, 256, 257, 97, 99]. Then (256, 257) has 2, the rest 1: -> 258.
    The text encodes to [258, 100, 258, 97, 99]: 11 bytes in 5 tokens."""
    tokenizer, steps = trained("aaabdaaabac", 259)
    assert tokenizer.merges == ((97, 97), (97, 98), (256, 257))
    assert [s.count for s in steps] == [4, 2, 2]
    assert steps[1].tie and steps[1].runner_up == ((256, 97), 2)
    assert not steps[0].tie and steps[0].runner_up == ((97, 98), 2)
    assert tokenizer.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tokenizer.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"
    assert tokenizer.labels[256:] == ("aa", "ab", "aaab")
    ids = [s.ids for s in replay(steps, None, "aaabdaaabac")]
    assert ids == [[256, 97, 98, 100, 256, 97, 98, 97, 99], [256, 257, 100, 256, 257, 97, 99], [258, 100, 258, 97, 99]]


def test_ties_go_to_the_smaller_left_then_right_id():
    """'bacab' (a=97, b=98, c=99): pairs ba (98, 97), ac (97, 99), ca (99, 97), ab (97, 98),
    one each, all tied. Smallest left id 97: ac and ab; smaller right id 98: ab -> 256,
    [98, 97, 99, 256]. Now ba, ac, (99, 256) tie at 1: left 97 wins, ac -> 257,
    [98, 257, 256]. Then (98, 257) and (257, 256) tie: left 98 < 257, -> 258, [258, 256];
    then (258, 256) -> 259, [259]; then no pair is left: training stops at 260 ids."""
    tokenizer, steps = trained("bacab", 1000)
    assert tokenizer.merges == ((97, 98), (97, 99), (98, 257), (258, 256))
    assert [s.tie for s in steps] == [True, True, True, False]
    assert steps[0].runner_up == ((97, 99), 1)
    assert tokenizer.vocab_size == 260 and tokenizer.encode("bacab") == [259]


def test_a_tie_of_weights_is_exact():
    """0.1 + 0.1 + 0.1 is 0.30000000000000004 in floats, more than 0.3; exactly, 'cd'
    three times at 0.1 and 'ab' once at 0.3 tie at 3/10, and ab (left id 97) wins."""
    text = "0.1x cd\n0.1x cd\n10% cd\n0.3x ab\n"
    tokenizer, steps = trained(text, 257)
    assert tokenizer.merges == ((97, 98),) and steps[0].tie
    assert steps[0].count == steps[0].runner_up[1] == 3 and steps[0].runner_up[0] == (99, 100)


def test_exact_weights():
    assert exact_weights([1.0, 0.2, 0.5]) == ({1.0: 10, 0.2: 2, 0.5: 5}, 10)
    assert exact_weights([3.0]) == ({3.0: 3}, 1)
    assert exact_weights([1e24, 0.001]) == ({1e24: 10**27, 0.001: 1}, 1000)


def test_vocab_256_is_bytes_only_and_a_corpus_without_pairs_stops_at_once():
    tokenizer, steps = trained("a\nb\nc", 1000)
    assert steps == [] and tokenizer.vocab_size == 256
    assert trained("hello", 256)[0].merges == ()
    with pytest.raises(CorpusError, match="no text"):
        train(count_chunks(sentence_texts("# only a comment\n")), 300)


# -- the sentence text and the chunks -------------------------------------------


def test_sentence_text_rule():
    assert sentence_text("  Hello,\tWorld\u3000 ") == "hello, world"
    assert sentence_text("Hello  World", keep_case=True) == "Hello World"
    assert [t for t, _ in sentence_texts("20% show me. now\nShow it! Go")] == ["show me  now", "Show it", " Go"]
    assert list(sentence_texts("3x a。b\n0% gone\n# no")) == [("a b", 3.0)]


def test_sentence_texts_hold_the_corpus_readers_sentences():
    """Split into words, the sentence texts give parse_corpus's sentences and weights."""
    for path in sorted(BUNDLED.glob("*.txt")):
        for join_lines in (False, True):
            data = path.read_bytes()
            corpus = parse_corpus(data, join_lines=join_lines)
            expected = [(corpus.sentence(s), corpus.weights[s]) for s in range(corpus.n_sentences)]
            found = [(tokenize(t), w) for t, w in sentence_texts(data, join_lines=join_lines) if tokenize(t)]
            assert found == expected, path.name


def test_the_split_regex():
    assert re.findall(SPLIT, " don't stop_now, 42!") == [" don't", " stop", "_", "now", ",", " 42", "!"]
    assert re.findall(SPLIT, "rock'n'roll 'tis  x\n\ty") == ["rock'n'roll", " '", "tis", "  ", "x", "\n\t", "y"]
    assert re.findall(SPLIT, "naïve 東京 x²") == ["naïve", " 東京", " x²"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_chunks_join_to_the_text(text):
    assert "".join(re.findall(SPLIT, text)) == text


sentence_lists = st.lists(
    st.tuples(st.text(st.sampled_from("ab cA'’\t.1_é東\u00a0-"), max_size=12), st.sampled_from([1.0, 0.2, 3.0, 0.5])),
    max_size=8)


@settings(max_examples=200, deadline=None)
@given(sentence_lists, st.booleans(), st.booleans())
def test_chunk_counts_are_the_sentences_chunks(sentences, split, keep_case):
    """Counted word by word, the chunks are those of each whole sentence text, weighted."""
    expected: Counter = Counter()
    weights, scale = exact_weights(w for _, w in sentences)
    for raw, weight in sentences:
        text = sentence_text(raw, keep_case)
        for chunk in (re.findall(SPLIT, text) if split else [text]) if text else []:
            expected[chunk] += weights[weight]
    found = count_chunks(sentences, split, keep_case)
    assert found.counts == dict(expected) and found.scale == scale
    assert found.sentences == sum(1 for raw, _ in sentences if raw.strip())


# -- the trainer against the naive reference ------------------------------------


@pytest.mark.parametrize("name, split", [("commands", True), ("commands", False), ("show_me", True),
                                         ("program_log", False)])
def test_merges_equal_the_naive_reference_on_a_bundled_corpus(name, split):
    data = (BUNDLED / f"{name}.txt").read_text(encoding="utf-8")
    tokenizer, _ = train(count_chunks(sentence_texts(data), split), 256 + 200, split)
    assert list(tokenizer.merges) == naive_train(sentence_texts(data), 256 + 200, split)
    assert len(tokenizer.merges) > 20  # show_me runs out of pairs after 30


@settings(max_examples=150, deadline=None)
@given(sentence_lists, st.booleans(), st.integers(256, 300))
def test_merges_equal_the_naive_reference(sentences, split, vocab_size):
    chunks = count_chunks(sentences, split)
    if not chunks.counts:
        return
    tokenizer, steps = train(chunks, vocab_size, split)
    assert list(tokenizer.merges) == naive_train(sentences, vocab_size, split)
    for step in steps:  # the runner-up is the next pair in the order
        assert step.runner_up is None or (-step.runner_up[1], step.runner_up[0]) > (-step.count, step.pair)


def test_top_pairs_and_runner_up():
    trainer = Trainer(count_chunks([("aaabdaaabac", 1.0)], split=False))
    assert trainer.top(3) == [((97, 97), 4), ((97, 98), 2), ((97, 99), 1)]
    first = next(trainer.run(3, top=5))
    assert first.top[0] == ((97, 97), 4) and len(first.top) == 5


# -- encoding and decoding ------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizers():
    data = (BUNDLED / "commands.txt").read_text(encoding="utf-8")
    return {split: train(count_chunks(sentence_texts(data), split), 600, split)[0] for split in (True, False)}


@settings(max_examples=300, deadline=None)
@given(st.text(), st.booleans())
def test_decode_inverts_encode(tokenizers, text, split):
    """Any text (CJK, emoji, combining marks, NUL: every character but a lone surrogate)."""
    tokenizer = tokenizers[split]
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert all(0 <= i < tokenizer.vocab_size for i in ids)


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("show me the files please\n'.东😀"), max_size=80), st.booleans())
def test_encode_applies_merges_as_minbpe_does(tokenizers, text, split):
    tokenizer = tokenizers[split]
    assert tokenizer.encode(text) == naive_encode(tokenizer, text)


def test_decode_round_trips_named_texts(tokenizers):
    for text in ["", "show me my files", "東京 😀 e\u0301 \x00 \n\t end", "x" * 5000]:
        for tokenizer in tokenizers.values():
            assert tokenizer.decode(tokenizer.encode(text)) == text


def test_encoding_a_training_sentence_gives_the_trained_tokens(tokenizers):
    tokenizer = tokenizers[True]
    ids = tokenizer.encode("show me my files")
    assert len(ids) < len("show me my files") and tokenizer.decode(ids) == "show me my files"


def test_decode_refuses_ids_out_of_range(tokenizers):
    with pytest.raises(VocabularyError, match=r"ids 600, -1 not in the vocabulary \(ids are 0 to 599\)"):
        tokenizers[True].decode([1, 600, -1])


def test_a_lone_surrogate_is_refused(tokenizers):
    with pytest.raises(CorpusError, match="U\\+D800"):
        tokenizers[True].encode("a\ud800")


def test_merge_is_left_to_right_without_overlap():
    assert merge([97, 97, 97, 98], (97, 97), 256) == [256, 97, 98]
    assert merge([97, 97, 97, 97], (97, 97), 256) == [256, 256]


@pytest.mark.parametrize("data, label", [
    (b" the", "␣the"), (b"\xe2\x82", "<0xE2><0x82>"), (b"a\n", "a<0x0A>"), ("é€😀".encode(), "é€😀"),
    (b"\xac", "<0xAC>"), ("\u00a0x".encode(), "<0xC2><0xA0>x"), (b"\x00", "<0x00>"), (b"\xed\xa0\x80", "<0xED><0xA0><0x80>"),
])  # fmt: skip
def test_token_labels(data, label):
    assert token_label(data) == label


# -- the tokenizer file ----------------------------------------------------------


def test_file_round_trip(tmp_path, tokenizers):
    for tokenizer in tokenizers.values():
        path = tmp_path / "tok.json"
        tokenizer.save(path)
        data = json.loads(path.read_text())
        assert list(data) == ["format", "version", "split", "merges", "vocab_size"]
        assert data["format"] == "lmtoy-bpe" and data["version"] == 1 and data["vocab_size"] == 600
        assert data["split"] == tokenizer.split and data["merges"] == [list(m) for m in tokenizer.merges]
        assert load_tokenizer(path) == tokenizer
        assert not list(tmp_path.glob(".*tmp"))  # the temporary file is gone


def file_text(**changes) -> str:
    data = {"format": "lmtoy-bpe", "version": 1, "split": None, "merges": [[97, 97], [256, 98]], "vocab_size": 258}
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not a tokenizer file: not JSON"),
    ("[1, 2]", 'its format is "list", expected "lmtoy-bpe"'),
    (file_text(format="lmtoy-transformer"), 'its format is "lmtoy-transformer"'),
    (file_text(version=2), "version 2 is not one this lmtoy reads"),
    (file_text(merges=[[97, 97], [257, 98]]), r"merge 1 names id 257, which is not defined before it \(ids 0 to 256\)"),
    (file_text(merges=[[97, 97], [97, 97]]), r"merge 1 repeats merge 0 \[97, 97\]"),
    (file_text(merges=[[97, 97], [97]]), r"merge 1 is \[97\], not a pair"),
    (file_text(merges=[[97, True], [97, 98]]), "merge 0 is"),
    (file_text(merges="97 97"), "'merges' is missing or not a list"),
    (file_text(vocab_size=300), "vocab_size is 300, but 256 bytes and 2 merges make 258"),
    (file_text(split="\\w+"), "its split is not lmtoy's"),
])  # fmt: skip
def test_bad_files_say_what_is_wrong(text, message):
    with pytest.raises(TokenizerFileError, match=message):
        Tokenizer.loads(text, "tok.json")


def test_a_file_that_cannot_be_read(tmp_path):
    with pytest.raises(TokenizerFileError, match="cannot read"):
        load_tokenizer(tmp_path / "missing.json")


def test_replay_text_counts_the_texts_own_pairs():
    tokenizer, _ = trained("aaabdaaabac", 259)
    steps = list(replay_text(tokenizer, "aab ab"))
    assert [s.merge.k for s in steps] == [0, 1]  # merge 2 (aa + ab) finds no (256, 257) in it
    assert steps[0].merge.count == 1 and steps[0].ids == [256, 98, 32, 97, 98]
    assert steps[0].merge.runner_up == ((97, 98), 2)  # the text's own counts: ab is more frequent here
    assert steps[1].ids == [256, 98, 32, 257]
