"""Training-step benchmark: lmtoy's NumPy transformer against the same model in PyTorch (CPU).

One step = forward + backward + Adam on a batch of 32 windows, post-norm,
sinusoidal positions, untied de-embedding, float32; on the NumPy side it is
one step of ``lmtoy.transformer.train.train``, the loop the CLI runs. Each (framework, config)
runs in its own process, ``--rounds`` times, alternating frameworks (this
machine's speed drifts); a run's figure is the median ms/step over at least
``--seconds`` of steps after warm-up, and the benchmark reports the median over
rounds. Memory is the peak resident memory added by building the model and
training (ru_maxrss minus the RSS before the model was built).

Both frameworks get the same thread count: ``--threads N``, or by default lmtoy's own rule
for the config (``lmtoy.transformer.train.default_threads``: 1 thread below 10^9 FLOPs a
step, else one per core), set for NumPy's BLAS with ``lmtoy.threads.set_blas_threads`` as
``lmtoy transformer train`` does. Each line says the count the run used.

    python bench/bench_transformer.py [--rounds 3] [--seconds 2] [--threads 2]

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

    class FixedBatch:  # stands in for train.Windows, as the torch side has no sampling either
        def sample(self, rng, batch):
            return windows[:, :-1], windows[:, 1:]

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

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.o = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
            self.ff1, self.ff2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
            self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

        def forward(self, x):  # (B, n, d) -> (B, n, d)
            B = x.shape[0]
            q, k, v = self.qkv(x).view(B, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, n, d)
            x = self.norm1(x + self.o(a))
            return self.norm2(x + self.ff2(F.relu(self.ff1(x))))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.unembed = nn.Embedding(V, d), nn.Linear(d, V, bias=False)
            self.blocks = nn.Sequential(*[Block() for _ in range(L)])
            pos = torch.arange(n)[:, None] / 10000 ** (torch.arange(0, d, 2) / d)
            self.register_buffer("pe", torch.stack([pos.sin(), pos.cos()], -1).reshape(n, d))

        def forward(self, ids):  # (B, n) -> (B, n, V)
            return self.unembed(self.blocks(self.embed(ids) + self.pe))

    net = Net()
    for p in net.parameters():
        if p.dim() == 2:
            nn.init.xavier_uniform_(p)
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    windows = torch.randint(0, V, (BATCH, n + 1))

    def step():
        adam.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(windows[:, :-1]).reshape(-1, V), windows[:, 1:].reshape(-1))
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
    parser.add_argument("--one", nargs=2, metavar=("FRAMEWORK", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one, args.seconds, args.threads)))
        return
    threads = args.threads or "lmtoy's rule for each config"
    print(f"batch {BATCH}, threads: {threads}, {args.rounds} rounds")
    print(f"{'config':<7}{'threads':>8}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'numpy MB':>10}{'torch MB':>10}")
    for name in CONFIGS:
        ours, theirs = compare(name, args)
        used = f"{ours['threads'] or '?'}" + ("" if theirs is None else f"/{theirs['threads']}")  # numpy/torch
        if theirs is None:
            print(f"{name:<7}{used:>8}{ours['ms']:>10.2f}{'-':>10}{'-':>8}{ours['peak_mb']:>10.1f}{'-':>10}")
            continue
        print(f"{name:<7}{used:>8}{ours['ms']:>10.2f}{theirs['ms']:>10.2f}{ours['ms'] / theirs['ms']:>8.2f}"
              f"{ours['peak_mb']:>10.1f}{theirs['peak_mb']:>10.1f}")  # fmt: skip
    if theirs is None:
        print("PyTorch is not installed: NumPy figures only (pip install torch for the comparison).")


if __name__ == "__main__":
    main()
