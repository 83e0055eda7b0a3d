"""Benchmark ``lmtoy bpe train`` against Hugging Face tokenizers, sentencepiece, rustbpe and
minbpe's algorithm, training to the same vocabulary on the same text.

- lmtoy: the command ``python -m lmtoy bpe train TEXT --vocab-size K --out FILE``, timed
  as a whole (start-up, reading, counting, merging, writing the file);
- tokenizers (when installed): ``models.BPE`` with the ``ByteLevel`` pre-tokenizer and a
  ``BpeTrainer`` seeded with the 256 byte symbols, trained on the file;
- sentencepiece (when installed): ``model_type="bpe"``, its other options the defaults;
- rustbpe (when installed): ``train_from_iterator`` over the file's lines (GPT-4's split);
- minbpe: ``minbpe_reference.py`` (recount everything after each merge), on the first
  ``--slice`` bytes only, since on 10 MB it takes hours; its time is scaled by the size
  ratio (its work is proportional to the text's length), and its merges must equal
  lmtoy's on the same slice.

Every run is a fresh process: the parent takes its wall time and peak resident memory
(``os.wait4``), and the child reports its own time after its imports. The fastest of
``--repeat`` runs counts (minbpe runs once). Encoding is timed too: lmtoy's (and
tokenizers') trained tokenizer encodes the whole text, and lmtoy's must decode back to it.

Without a path, a ~10 MB book-like text is generated (seed 0): make_corpus.py's
sentences with a fifth of the words drawn from a Zipf lexicon of 60,000 invented words,
so that it has tens of thousands of distinct words, as a novel has.

Usage::

    python bench/bench_bpe.py                      # generate ~10 MB, vocab 1,000
    python bench/bench_bpe.py book.txt --vocab-size 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINES = ("tokenizers", "sentencepiece", "rustbpe")
TARGETS = {"tokenizers": 1.0, "minbpe": 1 / 100}  # lmtoy's time / theirs at most
GOAL = ("sentencepiece", 1.0)
MAX_PEAK_MIB = 1024


# -- the text -------------------------------------------------------------------


def invented_words(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct pronounceable invented words ('brastel', 'oumin', ...)."""
    onsets = ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
              "br", "cl", "st", "tr", "sh", "ch", "th", "gr", "pl", "fr", "sp"]
    nuclei = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ie", "oo", "y"]
    codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "rk", "ck", "th"]
    words: dict[str, None] = {}
    while len(words) < n:
        syllables = rng.choice((1, 2, 2, 2, 3))
        words["".join(rng.choice(onsets) + rng.choice(nuclei) + rng.choice(codas) for _ in range(syllables))] = None
    return list(words)


def book_like(size: int, seed: int = 0) -> str:
    """About ``size`` bytes of prose with a novel's spread of words (see the module docstring)."""
    sys.path.insert(0, str(HERE))
    from make_corpus import make_corpus

    rng = random.Random(seed)
    lexicon = invented_words(60_000, rng)
    weights = [1 / (k + 1) for k in range(len(lexicon))]
    base = make_corpus(max(1, int(size / 5.4)), seed)  # ~5.9 bytes a word: a little more than needed
    draws = iter(rng.choices(lexicon, weights, k=len(base) // 20))

    def swap(match: re.Match) -> str:
        word = match.group(0)
        if rng.random() >= 0.2:
            return word
        new = next(draws, word)
        return new.capitalize() if word[0].isupper() else new

    text = "\n".join(line if line.startswith("#") else re.sub(r"[A-Za-z]+", swap, line) for line in base.split("\n"))
    return text[: text.rfind("\n", 0, size) + 1]  # whole lines, at most ``size`` characters (ASCII: bytes)


# -- the children: one implementation each --------------------------------------


def child(impl: str, path: str, vocab: int, out: str, slice_bytes: int) -> dict:
    """Train (or encode) once; figures measured inside the process, after imports."""
    if impl == "tokenizers":
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        start = time.perf_counter()
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False)
        tok.train([path], trainer)
        tok.save(out)
        return {"seconds": time.perf_counter() - start, "vocab": tok.get_vocab_size()}
    if impl == "sentencepiece":
        import sentencepiece as spm

        start = time.perf_counter()
        spm.SentencePieceTrainer.train(input=path, model_prefix=out, vocab_size=vocab, model_type="bpe",
                                       minloglevel=2)
        return {"seconds": time.perf_counter() - start, "vocab": vocab}
    if impl == "rustbpe":
        import rustbpe

        start = time.perf_counter()
        tok = rustbpe.Tokenizer()
        with open(path, encoding="utf-8") as lines:
            tok.train_from_iterator(lines, vocab)
        return {"seconds": time.perf_counter() - start, "vocab": tok.vocab_size}
    if impl == "minbpe":
        from minbpe_reference import train

        text = _head(path, slice_bytes)
        start = time.perf_counter()
        merges = train(text, vocab)
        return {"seconds": time.perf_counter() - start, "bytes": len(text.encode()), "merges": merges}
    if impl == "lmtoy-slice":
        from lmtoy.bpe import count_chunks, train
        from lmtoy.corpus import sentence_texts

        text = _head(path, slice_bytes)
        tok, _ = train(count_chunks(sentence_texts(text)), vocab)
        return {"merges": [list(m) for m in tok.merges]}
    if impl == "lmtoy-encode":
        from lmtoy.bpe_tokenizer import load_tokenizer

        tok = load_tokenizer(out)
        text = Path(path).read_text(encoding="utf-8")
        start = time.perf_counter()
        ids = tok.encode(text)
        seconds = time.perf_counter() - start
        assert tok.decode(ids) == text, "lmtoy: decode(encode(text)) != text"
        return {"seconds": seconds, "tokens": len(ids), "bytes": len(text.encode())}
    if impl == "tokenizers-encode":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(out)
        lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
        start = time.perf_counter()
        encodings = tok.encode_batch(lines)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "tokens": sum(len(e.ids) for e in encodings), "bytes": os.path.getsize(path)}
    raise SystemExit(f"unknown implementation {impl}")


def _head(path: str, size: int) -> str:
    """The first ``size`` bytes of a text file, cut after its last whole line."""
    text = Path(path).read_bytes()[:size].decode("utf-8", errors="ignore")
    return text[: text.rfind("\n") + 1] or text


# -- the parent -------------------------------------------------------------------


def measure(impl: str, path: str, vocab: int, out: str, slice_bytes: int, repeat: int) -> dict:
    """The fastest of ``repeat`` fresh runs, with the highest peak memory among them."""
    if impl == "lmtoy":
        command = [sys.executable, "-m", "lmtoy", "bpe", "train", path, "--vocab-size", str(vocab), "--out", out,
                   "--format", "json"]
    else:
        command = [sys.executable, __file__, path, "--child", impl, "--vocab-size", str(vocab), "--out", out,
                   "--slice", str(slice_bytes)]
    runs = []
    for _ in range(repeat):
        runs.append(_peak(command))
    best = min(runs, key=lambda run: run.get("seconds", run["wall"]))
    return best | {"peak_mib": max(run["peak_mib"] for run in runs)}


def _peak(command: list[str]) -> dict:
    """Run ``command`` to its end: its JSON figures, wall time and peak resident MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    out, err = b"", b""
    with process.stdout, process.stderr:  # small outputs: read them after the end
        _, status, usage = os.wait4(process.pid, 0)
        out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[2:6])} failed ({process.returncode}):\n{err.decode()[-2000:]}")
    text = out.decode()
    figures = json.loads(text) if text.strip().startswith("{") else {}
    return figures | {"wall": wall, "peak_mib": usage.ru_maxrss / 1024}


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), str(HERE), env.get("PYTHONPATH", "")]))
    return env


def run(path: str, vocab: int, slice_bytes: int, repeat: int) -> None:
    size = os.path.getsize(path)
    found = [b for b in BASELINES if importlib.util.find_spec(b) is not None]
    missing = [b for b in BASELINES if b not in found]
    print(f"text: {path} ({size / 1e6:.2f} MB); vocabulary {vocab:,}; {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}")
    print(f"baselines: {', '.join(found) or 'none'}" + (f"; not installed (skipped): {', '.join(missing)}" if missing else ""))
    print(f"time = the work after imports (lmtoy: the whole command, start-up included), best of {repeat}; "
          "peak = maximum resident memory of that process\n")
    with tempfile.TemporaryDirectory() as tmp:
        figures = {"lmtoy": measure("lmtoy", path, vocab, f"{tmp}/lmtoy.json", slice_bytes, repeat)}
        figures["lmtoy"]["seconds"] = figures["lmtoy"]["wall"]
        for impl in found:
            figures[impl] = measure(impl, path, vocab, f"{tmp}/{impl}.json", slice_bytes, repeat)
        slice_run = measure("minbpe", path, vocab, "", slice_bytes, 1)
        scale = size / slice_run["bytes"]
        figures["minbpe"] = slice_run | {"seconds": slice_run["seconds"] * scale}
        ours = measure("lmtoy-slice", path, vocab, "", slice_bytes, 1)["merges"]
        same = ours == [list(m) for m in slice_run["merges"]]
        encode = {"lmtoy": measure("lmtoy-encode", path, vocab, f"{tmp}/lmtoy.json", slice_bytes, repeat)}
        if "tokenizers" in found:
            encode["tokenizers"] = measure("tokenizers-encode", path, vocab, f"{tmp}/tokenizers.json", slice_bytes, repeat)
    report(figures, encode, slice_run, scale, same)


def report(figures: dict, encode: dict, slice_run: dict, scale: float, same: bool) -> None:
    ours = figures["lmtoy"]["seconds"]
    print(f"{'training':<14} {'seconds':>9} {'peak MiB':>9} {'lmtoy / it':>11}")
    print("-" * 46)
    for impl, f in figures.items():
        name = f"{impl} (scaled)" if impl == "minbpe" else impl
        ratio = "" if impl == "lmtoy" else f"{ours / f['seconds']:10.3f}x"
        print(f"{name:<14} {f['seconds']:9.2f} {f['peak_mib']:9.0f} {ratio:>11}")
    print(f"\nminbpe ran {slice_run['seconds']:.1f} s on the first {slice_run['bytes']:,} bytes, "
          f"x {scale:.1f} for the whole text; its merges {'equal' if same else 'DIFFER FROM'} lmtoy's there")
    print(f"\n{'encoding':<14} {'seconds':>9} {'MB/s':>9} {'tokens':>11} {'bytes/token':>12}")
    print("-" * 59)
    for impl, e in encode.items():
        print(f"{impl:<14} {e['seconds']:9.2f} {e['bytes'] / e['seconds'] / 1e6:9.2f} {e['tokens']:11,} "
              f"{e['bytes'] / e['tokens']:12.2f}")
    checks = [(f"peak < {MAX_PEAK_MIB} MiB", figures["lmtoy"]["peak_mib"] < MAX_PEAK_MIB)]
    for impl, at_most in list(TARGETS.items()) + [GOAL]:
        if impl in figures:
            label = f"<= {at_most:g}x {impl}" if at_most >= 1 else f">= {1 / at_most:g}x faster than {impl}"
            checks.append((label + (" (goal)" if (impl, at_most) == GOAL else ""), ours <= at_most * figures[impl]["seconds"]))
    checks.append(("merges equal minbpe's on the slice", same))
    print("\ntargets: " + "; ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", help="a UTF-8 text file (default: generate one)")
    parser.add_argument("--vocab-size", type=int, default=1000, help="the vocabulary to train to (default 1,000)")
    parser.add_argument("--size", type=float, default=10.0, help="MB of text to generate (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated text (default 0)")
    parser.add_argument("--slice", type=int, default=100_000, help="bytes minbpe trains on (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the fastest counts (default 3)")
    parser.add_argument("--keep", help="also write the generated text to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.text, args.vocab_size, args.out, args.slice)))
        return
    if args.text:
        return run(args.text, args.vocab_size, args.slice, args.repeat)
    text = book_like(int(args.size * 1e6), args.seed)
    if args.keep:
        Path(args.keep).write_text(text, encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"book-{args.size:g}MB-seed{args.seed}.txt"
        path.write_text(text, encoding="utf-8")
        run(str(path), args.vocab_size, args.slice, args.repeat)


if __name__ == "__main__":
    main()
