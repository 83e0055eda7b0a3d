"""Byte pair encoding (section 12): training by incremental pair counts, and the replay of
its merges step by step. The tokenizer it makes (encode, decode, the file) is in
``lmtoy.bpe_tokenizer``.

The algorithm, exactly:

1. Each sentence's text (``sentence_text``): the characters between two sentence ends as
   the corpus reader finds them, the weight token removed and the end itself not
   included; runs of whitespace (``str.split``) collapsed to one space, stripped at both
   ends, lower-cased with ``str.lower`` unless ``keep_case``. Blank texts are dropped.
2. Chunks: each text is cut by ``SPLIT`` (GPT-2's idea: merges never cross a chunk), or
   is one chunk with ``split=False``. Chunks are counted first, each weighted by its
   sentence's weight, so the work grows with the distinct chunks, not the text's length.
3. Each chunk is its UTF-8 bytes, ids 0-255. Every adjacent pair inside a chunk is
   counted, overlapping ('aaa' holds 'aa' twice), times the chunk's count.
4. The most frequent pair wins; a tie goes to the smaller left id, then the smaller
   right id. Merge k (from 0) replaces it by id 256 + k in every chunk, left to right,
   without overlap. Only the chunks that held the pair are recounted.
5. Repeat until the vocabulary has ``vocab_size`` ids, or no pair is left (every chunk
   is a single token): training then stops early.

Weights are made exact integers first (``exact_weights``): each weight is read as the
decimal it was written as (0.2 is 1/5) and all are scaled by the least common multiple of
their denominators, so counts are Python integers and a tie is a true tie, whatever the
order of the additions. Shown counts are divided back (``Trainer.scale``).

Worked example (Wikipedia's): 'aaabdaaabac' as one chunk. Pairs: aa 4, ab 2, bd/da/ba/ac 1.
Merge 0: aa -> 256, [256, 97, 98, 100, 256, 97, 98, 97, 99]. Now (97, 98) and (256, 97)
tie at 2: the smaller left id wins, ab -> 257, [256, 257, 100, 256, 257, 97, 99]. Merge 2:
(256, 257) -> 258, [258, 100, 258, 97, 99]: 11 bytes in 5 tokens.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable, Iterator, NamedTuple

from lmtoy.bpe_tokenizer import BYTES, SPLIT, Tokenizer, merge, utf8
from lmtoy.errors import CorpusError

Pair = tuple[int, int]
_FIRST_WORD = re.compile(r"^[^\S\n]*(\S+)", re.MULTILINE)  # each line's first word


def sentence_text(raw: str, keep_case: bool = False) -> str:
    """What is tokenized of a sentence: "  Hello,\\tWorld " -> "hello, world"."""
    text = " ".join(raw.split())
    return text if keep_case else text.lower()


def exact_weights(weights: Iterable[float]) -> tuple[dict[float, int], int]:
    """Each weight as an integer, and the scale they were multiplied by: every weight is read
    as the shortest decimal that gives it (``repr``), the scale is the least common multiple
    of the denominators. [1.0, 0.2, 0.5] -> {1.0: 10, 0.2: 2, 0.5: 5}, 10."""
    exact = {w: Fraction(repr(float(w))) for w in weights}
    scale = math.lcm(*(f.denominator for f in exact.values())) if exact else 1
    return {w: int(f * scale) for w, f in exact.items()}, scale


@dataclass
class ChunkCounts:
    """Distinct chunks with their weighted counts.

    counts : chunk text -> count x ``scale`` (an exact integer)
    scale : divide a count by it for the weighted count
    sentences : the sentences (non-blank texts) read
    """

    counts: dict[str, int]
    scale: int
    sentences: int


def count_chunks(sentences: Iterable[tuple[str, float]], split: bool = True, keep_case: bool = False) -> ChunkCounts:
    """Count the chunks of (raw text, weight) sentences (``lmtoy.corpus.sentence_texts``).

    Sentences of one weight are joined and counted word by word: a chunk never crosses a
    space except as its leading one, so the chunks of a sentence are those of its first
    word and of ' ' + each later word, and only distinct words meet the regex.
    Example: [("The cat, the  hat", 1.0)], split -> {"the": 1, " cat": 1, ",": 1, " the": 1, " hat": 1}.
    """
    groups: dict[float, list[str]] = {}
    for text, weight in sentences:
        if weight > 0:
            groups.setdefault(weight, []).append(text)
    scaled, scale = exact_weights(groups)
    counts: dict[str, int] = {}
    total = 0
    for weight, texts in groups.items():
        joined = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1:  # a text with a line break in it: a space
            joined = "\n".join(t.replace("\n", " ") for t in texts)
        if not keep_case:
            joined = joined.lower()
        found = _split_counts(joined) if split else _whole_counts(joined)
        total += found.pop(None)
        w = scaled[weight]
        for chunk, c in found.items():
            counts[chunk] = counts.get(chunk, 0) + c * w
    return ChunkCounts(counts, scale, total)


def _split_counts(joined: str) -> Counter:
    """Chunk -> count over the lines of ``joined`` (one sentence each); key None: the sentences."""
    find = re.compile(SPLIT).findall
    firsts = Counter(_FIRST_WORD.findall(joined))
    found: Counter = Counter()
    for word, c in Counter(joined.split()).items():
        first = firsts.get(word, 0)
        for chunk in find(word) if first else ():
            found[chunk] += first
        for chunk in find(" " + word) if c > first else ():
            found[chunk] += c - first
    found[None] = firsts.total()
    return found


def _whole_counts(joined: str) -> Counter:
    """Collapsed sentence -> count (``split=False``); key None: the sentences."""
    found = Counter(" ".join(line.split()) for line in joined.split("\n"))
    found.pop("", None)
    found[None] = found.total()
    return found


class Merge(NamedTuple):
    """One training step: merge ``k`` made id 256 + k from ``pair``, which had ``count``
    (x scale); ``runner_up`` is the next pair in the order and its count, or None;
    ``top`` the leading pairs (winner first) when asked for."""

    k: int
    pair: Pair
    count: int
    runner_up: tuple[Pair, int] | None
    top: list[tuple[Pair, int]]

    @property
    def tie(self) -> bool:
        return self.runner_up is not None and self.runner_up[1] == self.count


class Trainer:
    """Incremental BPE over distinct chunks (see the module docstring).

    A chunk is held as a string with one character per token (its code point is the
    token's id), so a merge is ``str.replace(left + right, new)``, which replaces left to
    right without overlap, and a pair is a two-character string, whose order is the
    tie rule's (left id, then right id). It keeps pair -> count (a pair that has left
    every chunk may stay with count 0), pair -> the chunks that held it (a chunk may be
    listed twice, or after the pair left it: it is then skipped), and a heap of
    (-count, pair) whose entries may be stale. An entry is an upper bound of its pair's
    count: only new pairs (holding the new token) grow, and they are pushed; a count that
    shrinks is corrected when its entry comes to the top. So the first entry that
    matches its pair's count is the winner.
    """

    def __init__(self, chunks: ChunkCounts):
        self.words = [utf8(chunk).decode("latin-1") for chunk in chunks.counts]  # each chunk's ids, as characters
        self.weights = list(chunks.counts.values())
        self.scale = chunks.scale
        self.merges: list[Pair] = []
        counts: dict[str, int] = defaultdict(int)
        self.where: dict[str, list[int]] = defaultdict(list)
        for j, (word, c) in enumerate(zip(self.words, self.weights)):
            for pair in map(str.__add__, word, word[1:]):
                counts[pair] += c
                self.where[pair].append(j)
        self.counts = dict(counts)
        self.heap = [(-c, pair) for pair, c in self.counts.items()]
        heapq.heapify(self.heap)

    def best(self, exclude: Pair | None = None) -> tuple[Pair, int] | None:
        """The leading pair (other than ``exclude``) and its count, or None when none is left."""
        heap, counts = self.heap, self.counts
        skip = None if exclude is None else chr(exclude[0]) + chr(exclude[1])
        while heap:
            negative, pair = heap[0]
            actual = counts.get(pair)
            if not actual or pair == skip:
                heapq.heappop(heap)
            elif actual != -negative:
                heapq.heapreplace(heap, (-actual, pair))
            else:
                return (ord(pair[0]), ord(pair[1])), actual
        return None

    def top(self, n: int) -> list[tuple[Pair, int]]:
        """The ``n`` leading pairs in the order (count down, left id up, right id up)."""
        found = heapq.nsmallest(n, ((p, c) for p, c in self.counts.items() if c), key=lambda item: (-item[1], item[0]))
        return [((ord(p[0]), ord(p[1])), c) for p, c in found]

    def merge(self, pair: Pair) -> int:
        """Merge ``pair`` in every chunk that holds it; the new id.

        Only the pairs around each occurrence change. With c the chunk's count, each
        occurrence of ab takes c from (x, a) before it (unless an occurrence ends there:
        that pair is the earlier one's 'after') and from (b, y) after it, and ab itself
        goes; each new token t adds c to (x, t) before it and to (t, y) after it (unless
        y is another t: that pair is the next one's 'before').
        """
        new = BYTES + len(self.merges)
        self.merges.append(pair)
        ab, t = chr(pair[0]) + chr(pair[1]), chr(new)
        a, b = ab
        words, weights, where, counts = self.words, self.weights, self.where, self.counts
        fresh: dict[str, int] = defaultdict(int)  # the new pairs, all holding t
        for j in where.pop(ab):
            old = words[j]
            i = old.find(ab)
            if i < 0:
                continue  # listed twice, or the pair left this chunk in an earlier merge
            c, n, end = weights[j], len(old), -1
            while i >= 0:
                if 0 < i != end:
                    counts[old[i - 1] + a] -= c
                if i + 2 < n:
                    counts[b + old[i + 2]] -= c
                end = i + 2
                i = old.find(ab, end)
            word = words[j] = old.replace(ab, t)
            k, n = word.find(t), len(word)
            while k >= 0:
                if k:
                    p = word[k - 1] + t
                    fresh[p] += c
                    where[p].append(j)
                if k + 1 < n and word[k + 1] != t:
                    p = t + word[k + 1]
                    fresh[p] += c
                    where[p].append(j)
                k = word.find(t, k + 1)
        del counts[ab]
        for p, c in fresh.items():
            counts[p] = c
            heapq.heappush(self.heap, (-c, p))
        return new

    def run(self, n_merges: int, top: int = 0, steps: range | None = None) -> Iterator[Merge]:
        """Merge up to ``n_merges`` times, yielding each step after it is done; it stops early
        when no pair is left. ``top``: also the leading pairs before each merge in ``steps``
        (default all), which costs a pass over every pair."""
        while len(self.merges) < n_merges:
            found = self.best()
            if found is None:
                return
            pair, count = found
            k = len(self.merges)
            leading = self.top(top) if top and (steps is None or k in steps) else []
            runner_up = self.best(exclude=pair)
            self.merge(pair)
            yield Merge(k, pair, count, runner_up, leading)


def train(chunks: ChunkCounts, vocab_size: int, split: bool = True, progress: Callable[[Merge], None] | None = None,
          top: int = 0, steps: range | None = None) -> tuple[Tokenizer, list[Merge]]:
    """Train to ``vocab_size`` ids (256: bytes only); the tokenizer and every step.
    ``progress(merge)`` is called after each merge; ``top`` and ``steps`` as in
    ``Trainer.run``. CorpusError when there are no chunks."""
    if not chunks.counts:
        raise CorpusError("no text to train on (the corpus is empty, has only comments, or every line weighs 0)")
    done = []
    for m in Trainer(chunks).run(vocab_size - BYTES, top, steps):
        done.append(m)
        if progress is not None:
            progress(m)
    return Tokenizer(tuple(m.pair for m in done), SPLIT if split else None), done


class Step(NamedTuple):
    """One merge replayed on a text: ``ids`` is the text after it (see ``Merge``)."""

    merge: Merge
    ids: list[int]


def replay(merges: Iterable[Merge], tokenizer_split: str | None, text: str) -> Iterator[Step]:
    """Apply each training step to ``text`` in turn: its ids after each merge."""
    chunks = [list(utf8(c)) for c in Tokenizer((), tokenizer_split).chunks(text)]
    for m in merges:
        chunks = [merge(w, m.pair, BYTES + m.k) for w in chunks]
        yield Step(m, [t for w in chunks for t in w])


def replay_text(tokenizer: Tokenizer, text: str, top: int = 5) -> Iterator[Step]:
    """Apply a tokenizer's merges to ``text`` one by one, skipping those whose pair is not in
    it; the counts are the text's own (scale 1), ``top`` its leading pairs before each merge."""
    chunks = [list(utf8(c)) for c in tokenizer.chunks(text)]
    counts = _pair_counts(chunks)
    for k, pair in enumerate(tokenizer.merges):
        count = counts.get(pair, 0)
        if not count:
            continue
        order = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        runner_up = next((item for item in order if item[0] != pair), None)
        chunks = [merge(w, pair, BYTES + k) for w in chunks]
        yield Step(Merge(k, pair, count, runner_up, order[:top]), [t for w in chunks for t in w])
        counts = _pair_counts(chunks)


def _pair_counts(chunks: list[list[int]]) -> Counter:
    return Counter(p for w in chunks for p in zip(w, w[1:]))
