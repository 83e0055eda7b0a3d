"""Pairs corpora: one sentence pair a line, ``source<TAB>target``, for translation.

The layout of the Tatoeba sentence-pair files (``eng-fra.txt``, the PyTorch seq2seq
tutorial's), so a downloaded pairs file works as it is:

- a line is ``source<TAB>target``; further TAB-separated columns (Tatoeba's
  attribution) are ignored;
- comments (``#`` first), blank lines, line breaks and weights (``3x``, ``20%``, then
  whitespace, at the start of the line) work as in every corpus (``lmtoy.corpus``); a zero
  weight drops the line;
- each side is split into words by the corpus word rule (``lmtoy.corpus.tokenize``:
  sentence ends dropped, lower-cased unless ``keep_case``) and has its own vocabulary;
- a line without a TAB, or with a side that has no words, is an error naming the line.

Example: ``parse_pairs("Go.\\tVa !\\n3x Hi.\\tSalut !\\n", name="p")`` has two pairs,
``[go] -> [va]`` (weight 1) and ``[hi] -> [salut]`` (weight 3); source vocabulary
``(go, hi)``, target vocabulary ``(salut, va)``.

Shapes: P pairs, T_s and T_t words on the source and target sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtoy.corpus import Corpus, corpus_of, parse_weight, text_lines, tokenize
from lmtoy.errors import CorpusError

TAB = "\t"


@dataclass(frozen=True)
class Pairs:
    """Aligned sentence pairs: pair i is sentence i of ``source`` and sentence i of ``target``.

    Attributes
    ----------
    source, target : Corpus, one sentence per pair on each side, the same weights
    lines : (P,) ndarray of int64, the line each pair was read from (from 1)
    name : str, where the text came from
    """

    source: Corpus
    target: Corpus
    lines: np.ndarray
    name: str = "<text>"

    def __len__(self) -> int:
        return len(self.lines)

    def pair(self, i: int) -> tuple[list[str], list[str]]:
        """The words of pair ``i``: (source words, target words)."""
        return self.source.sentence(i), self.target.sentence(i)


def parse_pairs(data: str | bytes, *, name: str = "<text>", keep_case: bool = False, tokenize=tokenize) -> Pairs:
    """Read a pairs corpus (text or UTF-8 bytes); raises CorpusError naming the line.
    ``tokenize(text, keep_case)`` splits each side (``lmtoy.tokenizers``: words by default)."""
    sources, targets, weights, lines = [], [], [], []
    for no, line in enumerate(text_lines(data, name), 1):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        try:
            pair, weight = _read_line(line.lstrip(" "), no, keep_case, tokenize)
        except CorpusError as error:
            raise CorpusError(f"{name}: {error}") from None
        if weight > 0:
            sources.append(pair[0])
            targets.append(pair[1])
            weights.append(weight)
            lines.append(no)
    if not lines:
        raise CorpusError(f"{name}: no pairs found (the file is empty, has only comments, or every line weighs 0)")
    weights = np.asarray(weights, dtype=np.float64)
    return Pairs(corpus_of(sources, weights, name), corpus_of(targets, weights, name), np.asarray(lines, dtype=np.int64), name)


def _read_line(line: str, no: int, keep_case: bool, tokenize=tokenize) -> tuple[tuple[list[str], list[str]], float]:
    """((source words, target words), weight) of one line that is not blank or a comment.

    "3x Hi.\\tSalut !\\tCC-BY" -> (([hi], [salut]), 3.0).
    """
    weight, text = 1.0, line
    first = line.split(None, 1) if not line.startswith(TAB) else []  # a TAB first: an empty source
    if first and (found := parse_weight(first[0], no)) is not None:
        if len(first) == 1:
            raise CorpusError(f"line {no}: weight '{first[0]}' is not followed by a pair")
        weight, text = found, first[1]
    if TAB not in text:
        raise CorpusError(f"line {no}: no TAB between source and target (expected source<TAB>target)")
    source, target = text.split(TAB)[:2]
    words = tokenize(source, keep_case), tokenize(target, keep_case)
    for side, found in zip(("source", "target"), words):
        if not found:
            raise CorpusError(f"line {no}: the {side} side has no words")
    return words, weight


def looks_like_pairs(data: str | bytes) -> bool:
    """True when most lines that are not blank or comments hold a TAB: a pairs corpus given to
    a command that reads prose. Reads at most the first 1,000 such lines; never raises.

    "a\\tb\\nc\\td\\ne" -> True (2 of 3); "show me.\\n" -> False.
    """
    if isinstance(data, bytes):
        data = data[:1_000_000].decode("utf-8", errors="replace")
    counted = tabbed = 0
    for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        counted += 1
        tabbed += TAB in line
        if counted == 1000:
            break
    return counted > 0 and 2 * tabbed > counted
