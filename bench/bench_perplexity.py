"""Benchmark held-out perplexity: lmtoy against nltk.lm on the same sentences, same run.

Trains on a generated million-word corpus (``make_corpus.py``, seed 0) and scores a
generated held-out text (seed 1, 100,000 words by default), for three smoothed models:
first-order add-1 (nltk ``Laplace(2)``), first-order and second-order Witten-Bell
(nltk ``WittenBellInterpolated(2)`` and ``(3)``).

- lmtoy, core: ``lmtoy.smoothing.smooth`` then ``lmtoy.evaluate.score_ngram`` (what the
  perplexity command calls), from the parsed corpora;
- lmtoy, command: ``lmtoy perplexity TRAIN --held-out HELD -m MODEL --smoothing S`` end
  to end in a fresh process (start-up, reading and tokenizing included);
- nltk: ``fit`` on the same padded sentences (``<s> w_1 .. w_n </s>``, as lmtoy pads,
  tokens taken from lmtoy's parse) then ``perplexity`` over the held-out n-grams. nltk
  is slow, so it runs on a fraction of both texts (``--nltk-fraction``, default 0.2) and
  its time is scaled up by 1 / fraction; the output says so. Its time is linear in the
  text (first-order add-1, fit and perplexity on a quiet machine: 5% 0.44 s, 20% 1.68 s,
  all of it 8.47 s, i.e. 8.7 / 8.4 / 8.5 s scaled); ``--nltk-fraction 1`` runs it all.
  Its perplexity is of that fraction, and infinite where a held-out word was never seen
  (nltk's unigram level gives it 0), so it is shown for information only.

Targets: the core at least 50x faster than nltk. No timed assertions: it prints
figures and ratios. Usage: ``python bench/bench_perplexity.py [--words N] [--held-out N]``.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

CASES = [  # (lmtoy model, smoothing, nltk class, nltk order)
    ("first-order", "add-k", "Laplace", 2),
    ("first-order", "witten-bell", "WittenBellInterpolated", 2),
    ("second-order", "witten-bell", "WittenBellInterpolated", 3),
]
TARGET = 50


def lmtoy_core(train, held, kind: str, method: str) -> tuple[float, float]:
    """(seconds, perplexity) of smoothing and scoring."""
    from lmtoy.evaluate import score_ngram
    from lmtoy.smoothing import smooth

    start = time.perf_counter()
    score = score_ngram(smooth(train, kind, method), held)
    return time.perf_counter() - start, score.perplexity


def lmtoy_command(train_path: str, held_path: str, kind: str, method: str) -> float:
    command = [sys.executable, "-c", "from lmtoy.cli import main; main()", "perplexity", train_path,
               "--held-out", held_path, "-m", kind, "--smoothing", method, "--format", "json"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def padded(corpus, fraction: float) -> list[list[str]]:
    count = max(1, int(corpus.n_sentences * fraction))
    return [["<s>", *corpus.sentence(s), "</s>"] for s in range(count)]


def nltk_run(train: list[list[str]], held: list[list[str]], cls_name: str, order: int) -> tuple[float, float]:
    """(seconds, perplexity) of fitting nltk's model and its perplexity on ``held``."""
    import nltk.lm
    from nltk.util import everygrams

    start = time.perf_counter()
    model = getattr(nltk.lm, cls_name)(order)
    model.fit([list(everygrams(s, max_len=order)) for s in train], [w for s in train for w in s])
    grams = [g for s in held for i in range(1, len(s)) for g in [tuple(s[max(0, i - order + 1) : i + 1])]]
    try:
        perplexity = model.perplexity(grams)
    except (ZeroDivisionError, ValueError):
        perplexity = math.inf
    return time.perf_counter() - start, perplexity


def run(train_path: str, held_path: str, fraction: float, repeat: int) -> None:
    from lmtoy.corpus import read_corpus

    train, held = read_corpus(train_path), read_corpus(held_path)
    words, held_words = int(train.lengths.sum()), int(held.lengths.sum())
    print(f"train {words:,} words ({train.n_sentences:,} sentences, N = {len(train.vocabulary):,}); "
          f"held-out {held_words:,} words ({held.n_sentences:,} sentences)")
    if fraction < 1:
        print(f"nltk runs on {fraction:.0%} of both texts; its time is scaled by 1/{fraction:g} (marked ~)")
    header = f"{'model':<27} {'lmtoy core':>10} {'command':>8} {'nltk':>9} {'x faster':>8}  {'target':>6}  perplexity lmtoy / nltk"
    print(header)
    nltk_train, nltk_held = padded(train, fraction), padded(held, fraction)
    for kind, method, cls_name, order in CASES:
        core, perplexity = min(lmtoy_core(train, held, kind, method) for _ in range(repeat))
        command = min(lmtoy_command(train_path, held_path, kind, method) for _ in range(repeat))
        seconds, theirs = nltk_run(nltk_train, nltk_held, cls_name, order)
        scaled = seconds / fraction
        ratio = scaled / core
        ok = "ok" if ratio >= TARGET else "MISSED"
        print(f"{kind + ' ' + method:<27} {core:>9.3f}s {command:>7.2f}s {('~' if fraction < 1 else '') + format(scaled, '.1f'):>8}s "
              f"{ratio:>7.0f}x  >= {TARGET}x {ok}  {perplexity:.2f} / {theirs:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="training words to generate (default 1,000,000)")
    parser.add_argument("--held-out", type=int, default=100_000, help="held-out words to generate (default 100,000)")
    parser.add_argument("--nltk-fraction", type=float, default=0.2, help="share of both texts nltk runs on (default 0.2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of lmtoy, the fastest counts (default 3)")
    args = parser.parse_args(argv)
    if not 0 < args.nltk_fraction <= 1:
        parser.error("--nltk-fraction must be in (0, 1]")
    from make_corpus import make_corpus  # beside this script

    with tempfile.TemporaryDirectory() as tmp:
        train, held = Path(tmp) / "train.txt", Path(tmp) / "held.txt"
        train.write_text(make_corpus(args.words, 0), encoding="utf-8")
        held.write_text(make_corpus(args.held_out, 1), encoding="utf-8")
        run(str(train), str(held), args.nltk_fraction, args.repeat)


if __name__ == "__main__":
    main()
