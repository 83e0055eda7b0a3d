"""Training-step benchmark: lmtoy's NumPy transformer against the same model in PyTorch (CPU).

One step = forward + backward + Adam on a batch of 32 windows, post-norm,
sinusoidal positions, untied de-embedding, float32; on the NumPy side it is
one step of ``lmtoy.transformer.train.train``, the loop the CLI runs. The
``seq2seq`` config is the encoder-decoder (``--task translate``): 32 pairs of a
16-word source and a 16-position decoder input, an encoder and a decoder stack
whose every layer has cross-attention on the encoder output. Each (framework, config)
runs in its own process, ``--rounds`` times, alternating frameworks (this
machine's speed drifts); a run's figure is the median ms/step over at least
``--seconds`` of steps after warm-up, and the benchmark reports the median over
rounds. Memory is the peak resident memory added by building the model and
training (ru_maxrss minus the RSS before the model was built).

Both frameworks get the same thread count: ``--threads N``, or by default lmtoy's own rule
for the config (``lmtoy.transformer.train.default_threads``: 1 thread below 10^9 FLOPs a
step, else one per core), set for NumPy's BLAS with ``lmtoy.threads.set_blas_threads`` as
``lmtoy transformer train`` does. Each line says the count the run used.

    python bench/bench_transformer.py [--rounds 3] [--seconds 2] [--threads 2] [--configs small,seq2seq] [--task-rounds 3]

At the end it trains the bundled translation task as its test does (``--task-rounds`` times)
and reports the time and how many pairs greedy decoding reproduces.

PyTorch is optional: without it the benchmark says so and reports NumPy alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "small": {"vocab_size": 64, "d_model": 32, "n_heads": 4, "n_layers": 2, "context": 16},
    "large": {"vocab_size": 2000, "d_model": 128, "n_heads": 4, "n_layers": 4, "context": 64},
    "seq2seq": {"vocab_size": 64, "d_model": 32, "n_heads": 4, "n_layers": 2, "context": 16, "task": "translate",
                "source_vocab_size": 64, "encoder_layers": 2},
}
BATCH = 32


def thread_count(name, threads):  # -> the threads a run of config ``name`` should use
    from lmtoy.transformer.model import Config
    from lmtoy.transformer.train import default_threads

    return threads or default_threads(Config(**CONFIGS[name]), BATCH) or os.cpu_count() or 1


def numpy_step(options, threads):
    """A function running one step of lmtoy's own training loop, fed one fixed random batch,
    with ``threads`` BLAS threads; and the count the BLAS reports (None: unknown)."""
    import numpy as np

    from lmtoy.threads import set_blas_threads
    from lmtoy.transformer.model import Config, init_params
    from lmtoy.transformer.train import TrainSettings, train

    used = set_blas_threads(threads)
    config = Config(**options)
    rng = np.random.default_rng(0)
    params = init_params(config, rng)
    windows = rng.integers(0, config.vocab_size, size=(BATCH, config.context + 1))
    inputs = windows[:, :-1]
    if config.task == "translate":
        from lmtoy.transformer.seq2seq import PairBatch

        inputs = PairBatch(rng.integers(0, config.source_vocab_size, size=(BATCH, config.context)), inputs)

    class FixedBatch:  # stands in for train.Windows, as the torch side has no sampling either
        def sample(self, rng, batch):
            return inputs, windows[:, 1:]

    steps = train(params, config, FixedBatch(), TrainSettings(steps=10**9, lr=1e-3, batch=BATCH), rng)
    return (lambda: next(steps)), used


def torch_step(options, threads):
    """The same model written the usual PyTorch way (fused QKV, SDPA, torch.optim.Adam)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    V, d, h, L, n = (options[k] for k in ("vocab_size", "d_model", "n_heads", "n_layers", "context"))

    def heads(x, parts):  # (B, n, parts*d) -> parts x (B, h, n, d/h)
        return x.view(x.shape[0], x.shape[1], parts, h, d // h).permute(2, 0, 3, 1, 4)

    class Block(nn.Module):
        def __init__(self, causal=True):
            super().__init__()
            self.qkv, self.o = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
            self.ff1, self.ff2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
            self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.causal = causal

        def attend(self, x):  # (B, n, d) -> (B, n, d), self-attention and add & norm
            q, k, v = heads(self.qkv(x), 3)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal).transpose(1, 2).reshape(x.shape)
            return self.norm1(x + self.o(a))

        def feed_forward(self, x):
            return self.norm2(x + self.ff2(F.relu(self.ff1(x))))

        def forward(self, x):  # (B, n, d) -> (B, n, d)
            return self.feed_forward(self.attend(x))

    class DecoderBlock(Block):
        """Masked self-attention, cross-attention on the encoder output, feed-forward; each add & norm."""

        def __init__(self):
            super().__init__()
            self.cq, self.ckv, self.co = (nn.Linear(d, m * d, bias=False) for m in (1, 2, 1))
            self.norm3 = nn.LayerNorm(d)

        def forward(self, x, memory):  # (B, n, d), (B, n_s, d) -> (B, n, d)
            x = self.attend(x)
            (q,), (k, v) = heads(self.cq(x), 1), heads(self.ckv(memory), 2)
            c = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(x.shape)
            return self.feed_forward(self.norm3(x + self.co(c)))

    class Seq2seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.source, self.embed = nn.Embedding(options["source_vocab_size"], d), nn.Embedding(V, d)
            self.unembed = nn.Linear(d, V, bias=False)
            self.encoder = nn.Sequential(*[Block(causal=False) for _ in range(options["encoder_layers"])])
            self.decoder = nn.ModuleList([DecoderBlock() for _ in range(L)])
            pos = torch.arange(n)[:, None] / 10000 ** (torch.arange(0, d, 2) / d)
            self.register_buffer("pe", torch.stack([pos.sin(), pos.cos()], -1).reshape(n, d))

        def forward(self, source, ids):  # (B, n_s), (B, n) -> (B, n, V)
            memory = self.encoder(self.source(source) + self.pe)
            x = self.embed(ids) + self.pe
            for block in self.decoder:
                x = block(x, memory)
            return self.unembed(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.unembed = nn.Embedding(V, d), nn.Linear(d, V, bias=False)
            self.blocks = nn.Sequential(*[Block() for _ in range(L)])
            pos = torch.arange(n)[:, None] / 10000 ** (torch.arange(0, d, 2) / d)
            self.register_buffer("pe", torch.stack([pos.sin(), pos.cos()], -1).reshape(n, d))

        def forward(self, ids):  # (B, n) -> (B, n, V)
            return self.unembed(self.blocks(self.embed(ids) + self.pe))

    translate = options.get("task") == "translate"
    net = Seq2seq() if translate else Net()
    for p in net.parameters():
        if p.dim() == 2:
            nn.init.xavier_uniform_(p)
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    windows = torch.randint(0, V, (BATCH, n + 1))
    inputs = (torch.randint(0, options["source_vocab_size"], (BATCH, n)),) if translate else ()

    def step():
        adam.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(*inputs, windows[:, :-1]).reshape(-1, V), windows[:, 1:].reshape(-1))
        loss.backward()
        adam.step()

    return step, torch.get_num_threads()


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(framework, name, seconds, threads):  # -> dict
    """Run in this process: build, warm up, time steps for at least ``seconds`` (10 steps at least)."""
    before = rss_mb()
    make = numpy_step if framework == "numpy" else torch_step
    step, used = make(CONFIGS[name], threads)
    times, end = [], time.perf_counter() + seconds / 4
    while time.perf_counter() < end or len(times) < 3:  # warm-up
        step()
        times.append(0.0)
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 10:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"ms": 1000 * statistics.median(times), "peak_mb": peak - before, "threads": used}


def run(framework, name, args):  # -> dict, or None when torch is missing
    threads = thread_count(name, args.threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    command = [sys.executable, __file__, "--one", framework, name, "--seconds", str(args.seconds),
               "--threads", str(threads)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        if "No module named 'torch'" in done.stderr:
            return None
        sys.exit(done.stderr)
    return json.loads(done.stdout)


def compare(name, args):  # -> (numpy figures, torch figures or None)
    """Medians over rounds, numpy and torch runs alternating."""
    runs = {"numpy": [], "torch": []}
    for _ in range(args.rounds):
        for framework, results in runs.items():
            results.append(run(framework, name, args))
    if None in runs["torch"]:
        runs["torch"] = None
    return tuple(
        None if rs is None else {key: statistics.median(r[key] for r in rs) for key in ("ms", "peak_mb")}
        | {"threads": rs[0]["threads"]} for rs in runs.values()
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both frameworks (default: lmtoy's rule for each config)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"which configs, comma-separated ({', '.join(CONFIGS)})")
    parser.add_argument("--task-rounds", type=int, default=3,
                        help="also train the bundled translation task this many times (0: not)")
    parser.add_argument("--one", nargs=2, metavar=("FRAMEWORK", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one, args.seconds, args.threads)))
        return
    threads = args.threads or "lmtoy's rule for each config"
    print(f"batch {BATCH}, threads: {threads}, {args.rounds} rounds")
    print(f"{'config':<7}{'threads':>8}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'numpy MB':>10}{'torch MB':>10}")
    for name in args.configs.split(","):
        if name not in CONFIGS:
            sys.exit(f"unknown config {name!r}: choose from {', '.join(CONFIGS)}")
        ours, theirs = compare(name, args)
        used = f"{ours['threads'] or '?'}" + ("" if theirs is None else f"/{theirs['threads']}")  # numpy/torch
        if theirs is None:
            print(f"{name:<7}{used:>8}{ours['ms']:>10.2f}{'-':>10}{'-':>8}{ours['peak_mb']:>10.1f}{'-':>10}")
            continue
        print(f"{name:<7}{used:>8}{ours['ms']:>10.2f}{theirs['ms']:>10.2f}{ours['ms'] / theirs['ms']:>8.2f}"
              f"{ours['peak_mb']:>10.1f}{theirs['peak_mb']:>10.1f}")  # fmt: skip
    if theirs is None:
        print("PyTorch is not installed: NumPy figures only (pip install torch for the comparison).")
    if args.task_rounds:
        print(bundled_translation(args.task_rounds))


TASK_STEPS, TASK_BATCH = 1000, 32  # tests/test_transformer_seq2seq.py trains with these


def bundled_translation(rounds: int) -> str:
    """Train the bundled commands_pairs task as the test does (the tour's sizes, seed 0, 1
    BLAS thread as ``train``'s rule gives), ``rounds`` times in this process; the median
    training time and how many of the 300 pairs greedy decoding then reproduces."""
    import numpy as np

    from lmtoy.corpus import BUNDLED
    from lmtoy.pairs import parse_pairs
    from lmtoy.threads import set_blas_threads
    from lmtoy.transformer.model import init_params
    from lmtoy.transformer.seq2seq import setup
    from lmtoy.transformer.train import TrainSettings, train
    from lmtoy.transformer.translate import greedy

    set_blas_threads(1)
    pairs = parse_pairs((BUNDLED / "commands_pairs.txt").read_bytes(), name="commands_pairs")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        plan = setup(pairs, d_model=16, n_heads=2, n_layers=1, context=16)
        rng = np.random.default_rng(0)
        params = init_params(plan.config, rng)
        for _ in train(params, plan.config, plan.batches, TrainSettings(steps=TASK_STEPS, batch=TASK_BATCH), rng):
            pass
        times.append(time.perf_counter() - start)
    index = {w: i for i, w in enumerate(plan.source_vocabulary)}
    right = 0
    for i in range(len(pairs)):
        source, target = pairs.pair(i)
        ids = np.array([index[w] for w in source] + [index["<end>"]])
        out = greedy(params, plan.config, ids, plan.vocabulary.index("<end>"))
        right += [plan.vocabulary[j] for j in out.ids] == target
    return (f"commands_pairs (translate, {TASK_STEPS:,} steps of batch {TASK_BATCH}, seed 0): trained in "
            f"{statistics.median(times):.2f} s (median of {rounds}); greedy reproduces {right}/{len(pairs)} pairs")


if __name__ == "__main__":
    main()
