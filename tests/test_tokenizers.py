"""lmtoy.tokenizers: words (today's reader, unchanged), chars and a BPE file."""

from __future__ import annotations

import numpy as np
import pytest

from lmtoy.bpe_tokenizer import Tokenizer, TokenizerFileError
from lmtoy.corpus import BUNDLED, parse_corpus
from lmtoy.errors import CorpusError
from lmtoy.tokenizers import CHARS, WORDS, Bpe, loads

SHOW_ME = (BUNDLED / "show_me.txt").read_bytes()


def test_words_is_the_corpus_reader():
    a, b = WORDS.read(SHOW_ME), parse_corpus(SHOW_ME)
    assert a.vocabulary == b.vocabulary and (a.ids == b.ids).all() and (a.weights == b.weights).all()
    assert WORDS.tokens("Show me.") == ["show", "me"] and WORDS.text(["show", "me"]) == "show me"


def test_chars_reads_each_sentence_character_by_character():
    """"20% Show  me. now\\nGo!" has two sentences (a weighted line is one, its '.' a space):
    'show me now' (0.2; the run of spaces is one ␣) and 'go' (1)."""
    c = CHARS.read("20% Show  me. now\nGo!")
    assert [c.sentence(s) for s in range(c.n_sentences)] == [list("show␣me␣now"), list("go")]
    assert c.weights.tolist() == [0.2, 1.0]
    assert c.vocabulary.words == tuple(sorted(set("showmenog␣")))
    assert CHARS.read("Ab", keep_case=True).vocabulary.words == ("A", "b")


def test_chars_prompts_and_text():
    assert CHARS.tokens("Me to.") == ["m", "e", "␣", "t", "o"]
    assert CHARS.text(["m", "e", "␣", "t", "o"]) == "me to"
    assert CHARS.token(" ") == "␣" and CHARS.token("A") == "a" and CHARS.token("A", keep_case=True) == "A"


def test_bpe_tokens_are_the_labels_of_each_sentence_text():
    """Merges ' '+'m' (256) and 256+'e' (257): 'show me' -> s h o w ␣me, as bpe encode labels them."""
    bpe = Bpe(Tokenizer(((32, 109), (256, 101))))
    c = bpe.read("Show me. me")
    assert [c.sentence(s) for s in range(c.n_sentences)] == [list("show") + ["␣me"], list("me")]
    assert bpe.tokens("show me") == list("show") + ["␣me"]
    assert bpe.text(list("show") + ["␣me", "<0xE2>", "<0x82>", "<0xAC>"]) == "show me€"
    assert bpe.token(" me") == "␣me"


@pytest.mark.parametrize("tokenizer", [WORDS, CHARS, Bpe(Tokenizer(((32, 109),)))], ids=["words", "chars", "bpe"])
def test_stored_form_round_trips(tokenizer):
    again = loads(tokenizer.dumps())
    assert again.kind == tokenizer.kind and again.dumps() == tokenizer.dumps()


@pytest.mark.parametrize("text", ['{"kind": "letters"}', "[1]", "not json"])
def test_a_stored_form_that_is_not_a_tokenizer(text):
    with pytest.raises(TokenizerFileError):
        loads(text)


def test_an_empty_corpus_has_no_tokens():
    with pytest.raises(CorpusError, match="no tokens found"):
        CHARS.read("# only a comment\n0% gone\n")


def test_chars_counts_match_a_plain_loop():
    c = CHARS.read(SHOW_ME)
    expected = {}
    for line in SHOW_ME.decode().splitlines():
        if line and not line.startswith("#"):
            for ch in line.split(None, 1)[1].rstrip(".").lower():
                expected[ch] = expected.get(ch, 0) + 1
    counts = np.bincount(c.ids, minlength=len(c.vocabulary))
    assert {w: int(n) for w, n in zip(c.vocabulary.words, counts)} == {k.replace(" ", "␣"): v for k, v in expected.items()}
