"""ARPA files: their structure, and a plain backoff reader (as KenLM scores) that gives
the same sentence scores as lmtoy's interpolated models."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmtoy.arpa import write_arpa
from lmtoy.corpus import BUNDLED, parse_corpus, read_corpus
from lmtoy.errors import UsageError
from lmtoy.evaluate import score_ngram
from lmtoy.smoothing import smooth


def read_arpa(text: str) -> tuple[dict, list[dict]]:
    """Header counts {order: n} and, per order, {words tuple: (log10 p, log10 bo or None)}."""
    lines = text.split("\n")
    assert lines[0] == "\\data\\" and text.endswith("\\end\\\n")
    counts, sections, order = {}, [], 0
    for line in lines[1:]:
        if line.startswith("ngram "):
            k, n = line[6:].split("=")
            counts[int(k)] = int(n)
        elif line.startswith("\\") and line.endswith("-grams:"):
            order = int(line[1:-7])
            sections.append({})
        elif line and order and line != "\\end\\":
            fields = line.split("\t")
            assert len(fields) in (2, 3)
            sections[-1][tuple(fields[1].split(" "))] = (float(fields[0]), float(fields[2]) if len(fields) == 3 else None)
    return counts, sections


def backoff_score(sections: list[dict], words: list[str]) -> list[float]:
    """log10 p of each word and </s> after <s>, by the ARPA backoff rule."""
    n = len(sections)
    known = {w for (w,) in sections[0]}
    seq = ["<s>"] + [w if w in known else "<unk>" for w in words] + ["</s>"]
    out = []
    for i in range(1, len(seq)):
        history = tuple(seq[max(0, i - n + 1) : i])
        total = 0.0
        while True:
            gram = history + (seq[i],)
            if gram in sections[len(gram) - 1]:
                out.append(total + sections[len(gram) - 1][gram][0])
                break
            entry = sections[len(history) - 1].get(history)
            total += entry[1] or 0.0 if entry else 0.0
            history = history[1:]
    return out


def test_show_me_add_one_entries():
    """First-order add-1 (P = 9): unigrams are uniform, log10 1/9; 'my photos' is 0.15 and
    my's backoff is 9 / (1 + 9) (an unseen word after my: 0.9 * 1/9 = 1/10)."""
    counts, sections = read_arpa(write_arpa(smooth(read_corpus(BUNDLED / "show_me.txt"), "first-order", "add-k")))
    assert counts == {1: 10, 2: 10}
    assert sections[0][("my",)] == pytest.approx((math.log10(1 / 9), math.log10(0.9)), abs=1e-7)
    assert sections[0][("<s>",)][0] == -99.0
    assert sections[1][("my", "photos")] == pytest.approx((math.log10(0.15), None), abs=1e-7)


WORDS = ["a", "b", "c"]
sentences = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(sentences, sentences, st.sampled_from(["add-k", "witten-bell", "kneser-ney"]),
       st.sampled_from(["first-order", "second-order"]), st.sampled_from([0.5, 1.0]))
def test_backoff_reading_equals_the_model(train_sents, held_sents, method, kind, k):
    """Header counts match the sections, every k-gram's context is listed, the highest
    order has no backoff, and the backoff rule reproduces score_ngram to 1e-6 log10."""
    train = parse_corpus("\n".join(" ".join(s) for s in train_sents))
    held = parse_corpus("\n".join(" ".join(s) + " d" * (i % 2) for i, s in enumerate(held_sents)))  # d: <unk>
    model = smooth(train, kind, method, k)
    counts, sections = read_arpa(write_arpa(model))
    assert counts == {i + 1: len(s) for i, s in enumerate(sections)}
    for order, section in enumerate(sections[1:], 2):
        assert all(gram[:-1] in sections[order - 2] for gram in section)
    assert all(bo is None for _, bo in sections[-1].values())
    score = score_ngram(model, held)
    for s in range(held.n_sentences):
        expected = score.log10[score.sentence == s]
        assert backoff_score(sections, held.sentence(s)) == pytest.approx(expected.tolist(), abs=1e-6)


def test_none_has_no_arpa_form():
    with pytest.raises(UsageError, match="--smoothing none has no ARPA form"):
        write_arpa(smooth(read_corpus(BUNDLED / "show_me.txt"), "first-order", "none"))


def test_add_k_second_order_refuses_a_file_of_mostly_fill_ins(monkeypatch):
    """add-k at order 3 lists, per context (a, b), the unseen (a, b, w) of every seen (b, w):
    exact, but near a dense table on a real corpus, so past a limit it is refused in one line."""
    from lmtoy import arpa
    from lmtoy.corpus import read_corpus
    from lmtoy.errors import TooLargeError

    model = smooth(read_corpus(BUNDLED / "commands.txt"), "second-order", "add-k", 1.0)
    arpa.write_arpa(model)  # under the limit: fine
    monkeypatch.setattr(arpa, "MAX_FILL_INS", 10)
    monkeypatch.setattr(arpa, "FILL_IN_RATIO", 1)
    with pytest.raises(TooLargeError, match="use --smoothing witten-bell or kneser-ney"):
        arpa.write_arpa(model)
