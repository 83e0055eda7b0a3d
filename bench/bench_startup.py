"""Start-up time of the CLI against bare typer apps, in fresh processes, paired runs.

Prints, from one run, the median time of each and the median of the paired ratios:

- ``lmtoy --help`` against a bare typer app's ``--help`` (target: at most 1.1x);
- a small command (``lmtoy onehot 'find my files'``) against a bare typer command that
  imports numpy and rich and prints a small rich table (target: at most 1.3x).

Usage: python bench/bench_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_HELP = '''
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world", count: int = 1):
    """Say hello."""
@app.command()
def bye():
    """Say bye."""
app()
'''

BARE_COMMAND = '''
from typing import Annotated
import typer
app = typer.Typer()
@app.command()
def onehot(text: Annotated[str, typer.Argument(help="words")], fmt: str = "table"):
    """One-hot rows of TEXT."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table
    words = text.split()
    vocab = sorted(set(words))
    hot = np.eye(len(vocab))[[vocab.index(w) for w in words]]
    table = Table(*vocab)
    for row in hot:
        table.add_row(*(str(int(v)) for v in row))
    Console().print(table)
@app.command()
def other():
    """Another command, so typer builds a group as lmtoy does."""
app()
'''

LMTOY = [sys.executable, "-c", "from lmtoy.cli import main; main()"]


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env={**os.environ, "COLUMNS": "80"})
    return time.perf_counter() - start


def paired(a: list[str], b: list[str], runs: int) -> tuple[float, float, float]:
    """Median time of a, of b, and the median of the paired ratios a/b (alternating order)."""
    for argv in (a, b):  # warm the file cache
        timed(argv)
    ta, tb, ratios = [], [], []
    for i in range(runs):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        t1, t2 = timed(first), timed(second)
        x, y = (t1, t2) if i % 2 == 0 else (t2, t1)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        help_app, command_app = Path(folder, "bare_help.py"), Path(folder, "bare_command.py")
        help_app.write_text(BARE_HELP)
        command_app.write_text(BARE_COMMAND)
        rows = [
            ("lmtoy --help", "bare typer --help", 1.1,
             paired(LMTOY + ["--help"], [sys.executable, str(help_app), "--help"], args.runs)),
            ("lmtoy onehot 'find my files'", "bare typer + numpy + rich", 1.3,
             paired(LMTOY + ["onehot", "find my files"], [sys.executable, str(command_app), "onehot", "find my files"],
                    args.runs)),
        ]
    print(f"start-up, median of {args.runs} paired runs in fresh processes (python {sys.version.split()[0]})")
    print(f"{'what':29} {'lmtoy':>7}  {'baseline':26} {'':>7} {'ratio':>5} {'target':>7}")
    for what, baseline, target, (t_lmtoy, t_base, ratio) in rows:
        print(f"{what:29} {t_lmtoy * 1000:4.0f} ms  {baseline:26} {t_base * 1000:4.0f} ms {ratio:5.2f} {'<= ' + str(target):>7}")


if __name__ == "__main__":
    main()
