"""Labelled lines, fastText's convention, for the classify task: a class name and a text per line.

The format (README, "Labelled corpora"): every line that is not blank and not a comment
(first non-blank character ``#``) is

    [WEIGHT] __label__NAME [__label__OTHER ...] TEXT

- the first ``__label__`` token names the line's class (the name as written, case kept;
  any further labels are read past and ignored); a line without one is an error;
- a weight, as in every corpus (``20%``, ``0.4x``, ``3x``), may begin the line, or follow
  the labels (``__label__files 3x find my photos``, fastText's order); a zero weight drops
  the line;
- the text is one sequence, read into words exactly like a weighted corpus line (sentence
  ends inside it are dropped), and must hold at least one word.

Shapes: S lines kept, C labels. Example::

    __label__files find my photos
    2x __label__battery check the battery.

gives the sentences ``[find, my, photos]`` (weight 1) and ``[check, the, battery]``
(weight 2), labels ``(battery, files)`` and label ids ``[1, 0]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtoy.corpus import Corpus, parse_corpus, parse_weight, text_lines, tokenize
from lmtoy.errors import CorpusError

LABEL = "__label__"
_COUNT = {2: "two", 3: "three"}


@dataclass(frozen=True)
class Labelled:
    """Labelled lines.

    Attributes
    ----------
    text : Corpus, one sentence per kept line, in file order, with the line's weight
    labels : tuple of str, the distinct class names, sorted; a label's id is its place here
    label_ids : (S,) ndarray of int64, the label id of each sentence
    lines : (S,) ndarray of int64, the line (from 1) each sentence came from, for messages
    """

    text: Corpus
    labels: tuple[str, ...]
    label_ids: np.ndarray
    lines: np.ndarray

    @property
    def name(self) -> str:
        return self.text.name


def parse_labelled(data: str | bytes, *, name: str = "<text>", keep_case: bool = False,
                   min_labels: int = 2, tokenizer=None) -> Labelled:
    """Parse labelled lines (text or UTF-8 bytes); raises CorpusError naming the line.

    ``tokenizer`` (``lmtoy.tokenizers``; None: words) splits each line's text.

    ``min_labels``: how many distinct labels the lines must hold (2 to train a classifier,
    which has nothing to tell apart with one; 1 to evaluate one on a file).
    """
    lines = text_lines(data, name)
    rebuilt = [""] * len(lines)  # line for line, so parse_corpus's messages name the same lines
    kept, names = [], []
    for no, line in enumerate(lines, 1):
        try:
            parsed = _parse_line(line, no, keep_case, tokenizer.tokens if tokenizer else tokenize)
        except CorpusError as error:
            raise CorpusError(f"{name}: {error}") from None
        if parsed is not None:
            label, weight, text = parsed
            rebuilt[no - 1] = f"{weight} {text}"  # a weighted line: one sequence
            kept.append(no)
            names.append(label)
    if not kept:
        raise CorpusError(f"{name}: no labelled lines found (expected lines such as "
                          f"'{LABEL}files find my photos'; the file is empty, has only comments, or every line weighs 0)")
    labels = tuple(sorted(set(names)))
    if len(labels) < min_labels:
        raise CorpusError(f"{name}: needs at least {_COUNT.get(min_labels, min_labels)} labels to tell apart, but every line is "
                          f"'{LABEL}{labels[0]}'")
    read = parse_corpus if tokenizer is None else tokenizer.read
    corpus = read("\n".join(rebuilt), name=name, keep_case=keep_case)
    assert corpus.n_sentences == len(kept), (corpus.n_sentences, len(kept))
    index = {label: i for i, label in enumerate(labels)}
    return Labelled(corpus, labels, np.array([index[n] for n in names], dtype=np.int64),
                    np.array(kept, dtype=np.int64))


def _parse_line(line: str, no: int, keep_case: bool, tokenize=tokenize) -> tuple[str, str, str] | None:
    """(label, weight token, text) of one line; None for a blank line, a comment or a zero weight.

    "3x __label__files find my photos" -> ("files", "3x", "find my photos");
    "__label__files __label__photos find them" -> ("files", "1x", "find them").
    """
    stripped = line.strip()
    if not stripped or stripped[0] == "#":
        return None
    head, rest = _split_first(stripped)
    weight, head_weight = _weight_token(head, no), None
    if weight is not None:
        head_weight = head
        if not rest:
            raise CorpusError(f"line {no}: weight '{head}' is not followed by a label and a text")
        head, rest = _split_first(rest)
    if not head.startswith(LABEL):
        raise CorpusError(f"line {no}: no {LABEL} at the start (expected e.g. '{LABEL}files find my photos', "
                          f"got '{_cut(stripped)}')")
    label = head[len(LABEL):]
    if not label:
        raise CorpusError(f"line {no}: '{LABEL}' has no name after it (expected e.g. '{LABEL}files')")
    while rest.startswith(LABEL):  # further labels: fastText's multi-label lines; the first counts
        _, rest = _split_first(rest)
    if head_weight is None and rest:
        first, after = _split_first(rest)
        if (weight := _weight_token(first, no)) is not None:
            head_weight, rest = first, after
    if weight == 0:
        return None
    if not tokenize(rest, keep_case):
        raise CorpusError(f"line {no}: no words after '{LABEL}{_cut(label)}' (a labelled line needs a text)")
    return label, head_weight or "1x", rest


def _split_first(text: str) -> tuple[str, str]:
    """'a b  c' -> ('a', 'b  c'); 'a' -> ('a', '')."""
    first, *rest = text.split(None, 1)
    return first, rest[0] if rest else ""


def _weight_token(token: str, no: int) -> float | None:
    """The weight ``token`` gives, None when it is a word (CorpusError when it is a bad weight)."""
    return parse_weight(token, no) if token[0] in "0123456789.+-" else None


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
