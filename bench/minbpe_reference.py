"""minbpe's training algorithm in plain Python, as a baseline for ``bench_bpe.py``.

Karpathy's minbpe (``RegexTokenizer.train``) keeps every chunk of the text as a list of
ids and, for each merge, recounts every pair of every chunk from scratch, takes the most
frequent and rewrites every chunk: O(merges x text length). This is that loop, reading
the text with lmtoy's rules (sentence texts, lmtoy's split regex) and breaking ties as
lmtoy does (smaller left id, then smaller right id; minbpe keeps the first pair it saw),
so its merges must equal lmtoy's on the same text: the benchmark checks that.

Usage::

    python bench/minbpe_reference.py corpus.txt --vocab-size 1000 --bytes 100000
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lmtoy.bpe_tokenizer import SPLIT  # noqa: E402
from lmtoy.corpus import sentence_texts  # noqa: E402


def get_stats(chunks: list[list[int]], weights: list[float]) -> dict[tuple[int, int], float]:
    """Every adjacent pair's weighted count, overlapping: [[97, 97, 97]] -> {(97, 97): 2}."""
    stats: dict[tuple[int, int], float] = {}
    for ids, w in zip(chunks, weights):
        for pair in zip(ids, ids[1:]):
            stats[pair] = stats.get(pair, 0) + w
    return stats


def merge(ids: list[int], pair: tuple[int, int], idx: int) -> list[int]:
    """minbpe's merge: [1, 2, 1, 2], (1, 2), 4 -> [4, 4]."""
    out, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def chunks_of(text: str, split: bool = True, keep_case: bool = False) -> tuple[list[list[int]], list[float]]:
    """Every chunk occurrence of a corpus text, as byte ids, with its sentence's weight."""
    pattern = re.compile(SPLIT)
    chunks, weights = [], []
    for raw, weight in sentence_texts(text):
        sentence = " ".join(raw.split())
        sentence = sentence if keep_case else sentence.lower()
        if not sentence or weight <= 0:
            continue
        for chunk in pattern.findall(sentence) if split else [sentence]:
            chunks.append(list(chunk.encode("utf-8")))
            weights.append(weight)
    return chunks, weights


def train(text: str, vocab_size: int, split: bool = True) -> list[tuple[int, int]]:
    """The merges, recounting everything after each one."""
    chunks, weights = chunks_of(text, split)
    merges = []
    for k in range(vocab_size - 256):
        stats = get_stats(chunks, weights)
        if not stats:
            break
        pair = min(stats, key=lambda p: (-stats[p], p))
        merges.append(pair)
        chunks = [merge(ids, pair, 256 + k) for ids in chunks]
    return merges


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--vocab-size", type=int, default=1000)
    parser.add_argument("--bytes", type=int, default=100_000, help="train on the first N bytes (whole lines)")
    args = parser.parse_args(argv)
    text = Path(args.corpus).read_bytes()[: args.bytes].decode("utf-8", errors="ignore")
    text = text[: text.rfind("\n") + 1] or text
    start = time.perf_counter()
    merges = train(text, args.vocab_size)
    print(f"{len(merges)} merges in {time.perf_counter() - start:.1f} s on {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main()
