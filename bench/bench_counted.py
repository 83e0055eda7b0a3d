"""Benchmark lmtoy's counted models against plain Python and nltk.

Builds the first-order, second-order and skip models on a million-word corpus
with three implementations:

- lmtoy: ``read_corpus`` then ``lmtoy.ngrams.build`` and the normalised values;
- Counter: a plain Python reader with the same text rules, ``collections.Counter``
  over pairs / triples / skip features, then normalised rows;
- nltk (when importable): the same reader, then ``nltk.lm.MLE`` fitted to order
  2 (first-order) or 3 (second-order); skips have no nltk equivalent.

Every (implementation, model) pair runs in a fresh subprocess, which times the
whole run after its imports (reading, tokenizing, counting, normalising) and
reports its own peak resident memory (``ru_maxrss``), so peaks do not mix. Each
pair runs ``--repeat`` times (default 3) and the fastest run counts, since a
shared machine adds noise (mostly page faults) to single runs.

Usage::

    python bench/bench_counted.py                   # generates 1,000,000 words (seed 0)
    python bench/bench_counted.py corpus.txt --window 10 --repeat 1
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path

MODELS = ("first-order", "second-order", "skips")
NLTK_ORDER = {"first-order": 2, "second-order": 3}
TARGETS = {  # model: (x faster than nltk, x faster than Counter, peak MiB)
    "first-order": (15, 2, 400),
    "second-order": (30, 2, 400),
    "skips": (None, 10, 1200),
}
_WORD = re.compile(r"'*\w[\w']*")
_WEIGHTED = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([%x])\s+(.*)")


# -- the plain Python implementations ------------------------------------------


def python_sentences(path: str) -> tuple[list[list[str]], list[float]]:
    """Sentences and weights with lmtoy's text rules, in plain Python (no --join-lines)."""
    text = Path(path).read_bytes().decode("utf-8").removeprefix("\ufeff")
    text = text.replace("’", "'").replace("_", " ")
    sentences, weights = [], []
    for line in re.split(r"\r\n|\r|\n", text):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        weighted = _WEIGHTED.fullmatch(line)
        if weighted:
            value = float(weighted[1]) / (100 if weighted[2] == "%" else 1)
            parts, weight = [weighted[3]], value
        else:
            parts, weight = re.split(r"[.!?]", line), 1.0
        for part in parts:
            words = _WORD.findall(part.lower())
            if words and weight > 0:
                sentences.append(words)
                weights.append(weight)
    return sentences, weights


def counter_events(kind: str, sentence: list[str], window: int | None):
    """The (context..., next word) events of one sentence."""
    if kind == "first-order":
        return pairwise(sentence)
    if kind == "second-order":
        return zip(sentence, sentence[1:], sentence[2:])
    return (
        (earlier, sentence[i], sentence[i + 1])
        for i in range(1, len(sentence) - 1)
        for earlier in set(sentence[max(0, i - window) if window else 0 : i])
    )


def counter_model(kind: str, path: str, window: int | None) -> tuple[dict, int]:
    """Normalised {(context..., next): probability} and the number of tokens."""
    sentences, weights = python_sentences(path)
    counts: Counter = Counter()
    for sentence, weight in zip(sentences, weights):
        events = counter_events(kind, sentence, window)
        if weight == 1:
            counts.update(events)
        else:
            for event in events:
                counts[event] += weight
    totals: Counter = Counter()
    for event, count in counts.items():
        totals[event[:-1]] += count
    probs = {event: count / totals[event[:-1]] for event, count in counts.items()}
    return probs, sum(map(len, sentences))


def nltk_model(kind: str, path: str, window: int | None):
    from nltk.lm import MLE
    from nltk.lm.preprocessing import padded_everygram_pipeline

    sentences, _ = python_sentences(path)
    order = NLTK_ORDER[kind]
    model = MLE(order)
    model.fit(*padded_everygram_pipeline(order, sentences))
    return model, sum(map(len, sentences))


def lmtoy_model(kind: str, path: str, window: int | None):
    from lmtoy.corpus import read_corpus
    from lmtoy.ngrams import build

    corpus = read_corpus(path)
    model = build(kind, corpus, window)
    _ = model.values  # normalise
    return model, len(corpus.ids)


IMPLEMENTATIONS = {"lmtoy": lmtoy_model, "Counter": counter_model, "nltk": nltk_model}


def child(impl: str, kind: str, path: str, window: int | None) -> None:
    """Run one implementation once and print its figures as JSON."""
    if impl == "lmtoy":  # imports are not timed, for any implementation
        import lmtoy.ngrams  # noqa: F401
    elif impl == "nltk":
        import nltk.lm  # noqa: F401
    start = time.perf_counter()
    _, tokens = IMPLEMENTATIONS[impl](kind, path, window)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "tokens": tokens, "peak_mib": peak}))


# -- the parent: runs every child, prints the table ----------------------------


def measure(impl: str, kind: str, path: str, window: int | None, repeat: int) -> dict:
    """The fastest of ``repeat`` fresh runs, with the highest peak memory among them."""
    command = [sys.executable, __file__, path, "--child", impl, kind]
    if window is not None:
        command += ["--window", str(window)]
    runs = []
    for _ in range(repeat):
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(result.stdout))
    return min(runs, key=lambda run: run["seconds"]) | {"peak_mib": max(run["peak_mib"] for run in runs)}


def report(label: str, kind: str, figures: dict[str, dict]) -> list[str]:
    """The table rows of one model and its target checks."""
    ours = figures["lmtoy"]
    speedup = {impl: f["seconds"] / ours["seconds"] for impl, f in figures.items()}
    lines = []
    for impl, f in figures.items():
        ratios = "" if impl == "lmtoy" else f"{speedup[impl]:8.1f}x {f['peak_mib'] / ours['peak_mib']:7.2f}x"
        tokens_per_s = f["tokens"] / f["seconds"]
        lines.append(f"{label:<13} {impl:<8} {f['seconds']:8.2f} {tokens_per_s:12,.0f} {f['peak_mib']:9.0f} {ratios}")
    vs_nltk, vs_counter, max_mib = TARGETS[kind]
    checks = [(f"peak < {max_mib} MiB", ours["peak_mib"] < max_mib)]
    checks.append((f">= {vs_counter}x vs Counter", speedup["Counter"] >= vs_counter))
    if vs_nltk and "nltk" in speedup:
        checks.append((f">= {vs_nltk}x vs nltk", speedup["nltk"] >= vs_nltk))
    verdicts = "; ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks)
    lines.append(f"{'':13} targets: {verdicts}")
    return lines


def run(path: str, window: int | None, repeat: int) -> None:
    have_nltk = importlib.util.find_spec("nltk") is not None
    print(f"corpus: {path}")
    print(f"python {sys.version.split()[0]}; nltk {'found' if have_nltk else 'not installed (skipped)'}")
    if window is not None:
        print(f"skips: window {window} applied (features reach at most {window} words back)")
    print(f"time = whole run after imports (reading, tokenizing, counting, normalising), best of {repeat}")
    print("peak = the process's maximum resident memory (ru_maxrss), one fresh process per run")
    print("speed-up = that implementation's time / lmtoy's; memory = its peak / lmtoy's\n")
    print(f"{'model':<13} {'impl':<8} {'seconds':>8} {'tokens/s':>12} {'peak MiB':>9} {'speed-up':>9} {'memory':>8}")
    print("-" * 72)
    for kind in MODELS:
        impls = ["lmtoy", "Counter"] + (["nltk"] if have_nltk and kind in NLTK_ORDER else [])
        figures = {impl: measure(impl, kind, path, window, repeat) for impl in impls}
        label = f"skips (w={window})" if kind == "skips" and window is not None else kind
        print("\n".join(report(label, kind, figures)), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", help="corpus file (default: generate one)")
    parser.add_argument("--window", type=int, help="limit how far back skip features reach")
    parser.add_argument("--words", type=int, default=1_000_000, help="words to generate (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated corpus (default 0)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the fastest counts (default 3)")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child, args.corpus, args.window)
    if args.corpus:
        return run(args.corpus, args.window, args.repeat)
    from make_corpus import make_corpus  # beside this script

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"corpus-{args.words}-seed{args.seed}.txt"
        path.write_text(make_corpus(args.words, args.seed), encoding="utf-8")
        run(str(path), args.window, args.repeat)


if __name__ == "__main__":
    main()
