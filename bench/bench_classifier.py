"""How long the classifier takes to learn the bundled intents, and what it gets right.

For each pooling (mean, max): the README's run, ``lmtoy transformer train intents --task
classify --steps 600`` (seed 0, the other options at their defaults), in a fresh process,
whole (start-up, reading, training, saving), then ``classify --eval intents`` on the model
it wrote: the median wall time of ``--rounds`` runs and the training accuracy. Also the
training steps alone, in this process (``lmtoy.transformer.train.train``).

Usage: python bench/bench_classifier.py [--rounds 5] [--steps 600] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LMTOY = [sys.executable, "-m", "lmtoy"]


def cli_run(out: Path, pool: str, steps: int, threads: int | None) -> float:
    """Seconds of one whole training run in a fresh process."""
    args = LMTOY + ["transformer", "train", "intents", "--task", "classify", "--steps", str(steps), "--pool", pool,
                    "--out", str(out)] + (["--threads", str(threads)] if threads else [])
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def accuracy(model: Path) -> float:
    result = subprocess.run(LMTOY + ["transformer", "classify", "--model", str(model), "--eval", "intents", "--format",
                                     "json"], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["accuracy"]


def steps_alone(pool: str, steps: int) -> float:
    """Seconds of the training steps alone (no start-up, no saving), in this process."""
    import numpy as np

    from lmtoy.corpus import bundled
    from lmtoy.labelled import parse_labelled
    from lmtoy.transformer.model import init_params
    from lmtoy.transformer.train import TrainSettings, setup, train

    labelled = parse_labelled(bundled("intents").read_bytes(), name="intents.txt")
    plan = setup("classify", labelled, pool=pool)
    rng = np.random.default_rng(0)
    params = init_params(plan.config, rng)
    start = time.perf_counter()
    for _ in train(params, plan.config, plan.batches, TrainSettings(steps=steps), rng):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=None, help="train's --threads (default: train's own rule)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for pool in ("mean", "max"):
            model = Path(folder) / f"{pool}.npz"
            times = [cli_run(model, pool, options.steps, options.threads) for _ in range(options.rounds)]
            alone = statistics.median(steps_alone(pool, options.steps) for _ in range(options.rounds))
            print(f"pool {pool}: train intents --task classify --steps {options.steps}: "
                  f"{statistics.median(times):.2f} s whole (median of {options.rounds}; "
                  f"{min(times):.2f}-{max(times):.2f}), {alone:.2f} s of training steps; "
                  f"training accuracy {accuracy(model):.1%}")


if __name__ == "__main__":
    main()
