"""``lmtoy transformer train``: train by hand-written backprop and Adam, with progress,
checkpoints and a clean Ctrl-C."""

from __future__ import annotations

import contextlib
import math
import signal
from pathlib import Path
from typing import Annotated, Optional

import typer

from lmtoy.cli.common import CorpusArg, JoinLines, KeepCase, bad_option, handle_errors, load_corpus, stderr


@handle_errors
def train(
    corpus: CorpusArg = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the model (.npz); written atomically.", dir_okay=False)] = Path("model.npz"),
    steps: Annotated[int, typer.Option("--steps", min=0, max=1_000_000_000, help="Training steps (mini-batches).")] = 300,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate.")] = 0.01,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1_000_000, help="Windows per mini-batch.")] = 16,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1, help="Seeds the initial weights and the windows: same seed, same weights.")] = 0,
    clip: Annotated[Optional[float], typer.Option("--clip", min=0.0, help="Clip the global gradient norm to this (0: no clipping).")] = 1.0,
    d_model: Annotated[int, typer.Option("--d-model", min=1, max=1_000_000, help="Embedding width d_model.")] = 16,
    heads: Annotated[int, typer.Option("--heads", min=1, max=1_000_000, help="Attention heads h.")] = 2,
    layers: Annotated[int, typer.Option("--layers", min=1, max=1_000_000, help="Transformer blocks.")] = 1,
    context: Annotated[int, typer.Option("--context", min=1, max=1_000_000, help="Longest sequence the model sees.")] = 16,
    d_k: Annotated[Optional[int], typer.Option("--d-k", min=1, max=1_000_000, help="Query/key width per head (default d_model / heads).")] = None,
    d_v: Annotated[Optional[int], typer.Option("--d-v", min=1, max=1_000_000, help="Value width per head (default d_model / heads).")] = None,
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", min=1, max=1_000_000, help="Feed-forward hidden width (default 4 x d_model).")] = None,
    positions: Annotated[str, typer.Option("--positions", help="Position encoding: sinusoidal (the paper's) or learned.")] = "sinusoidal",
    norm: Annotated[str, typer.Option("--norm", help="Layer norm after each sublayer (post, the paper's) or before it (pre).")] = "post",
    tied: Annotated[bool, typer.Option("--tied", help="De-embed with the transposed embedding.")] = False,
    init: Annotated[str, typer.Option("--init", help="Weight initialisation: xavier, he or normal.")] = "xavier",
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", min=0, help="Also save every K steps (0: only at the end).")] = 100,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
):
    """Train a transformer on a corpus by hand-written backprop and Adam; Ctrl-C stops cleanly and keeps a checkpoint."""
    import numpy as np

    from lmtoy.render.transformer import training_summary
    from lmtoy.transformer import Config, TrainSettings, Windows, init_params, model_vocabulary, save_model
    from lmtoy.transformer.train import train as train_steps

    _check_out(out)
    if not math.isfinite(lr):
        bad_option(f"{lr} is not a finite number", "--lr")
    c = load_corpus(corpus, join_lines, keep_case)
    vocabulary = model_vocabulary(c.vocabulary.words)
    config = Config(vocab_size=len(vocabulary), d_model=d_model, n_heads=heads, n_layers=layers, context=context,
                    d_k=d_k, d_v=d_v, d_ff=d_ff, positions=positions, norm=norm, tied=tied, init=init)
    _check_size(config, batch)
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    progress = train_steps(params, config, Windows.from_corpus(c, config.context),
                           TrainSettings(steps=steps, lr=lr, batch=batch, clip=clip or None), rng)
    saved = Checkpoints(lambda: save_model(out, params, config, vocabulary, keep_case), out)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is caught by its loss instead
        done, loss, stopped = _run(progress, steps, saved, checkpoint_every)
    saved.save(done)
    stderr().print(training_summary(str(out), done, loss, sum(p.size for p in params.values()), stopped))
    if stopped:
        raise typer.Exit(130)


def _check_out(out: Path) -> None:
    """--out must be writable, and may replace only an earlier lmtoy model."""
    from lmtoy.errors import ModelFileError
    from lmtoy.transformer import load_model

    if out.is_dir():
        bad_option(f"'{out}' is a directory", "--out")
    if not out.parent.exists():
        bad_option(f"the folder of '{out}' does not exist", "--out")
    if out.exists():
        try:
            load_model(out)
        except ModelFileError:
            bad_option(f"'{out}' exists and is not an lmtoy model: choose another --out, or remove it", "--out")


TRAIN_MEMORY_LIMIT = 8 << 30  # bytes a training run may plan to use


def _check_size(config, batch: int) -> None:
    from lmtoy.errors import TooLargeError
    from lmtoy.transformer.train import memory_estimate

    need = memory_estimate(config, batch)
    if need > TRAIN_MEMORY_LIMIT:
        raise TooLargeError(f"this model would need about {need / 2**30:,.1f} GiB to train (the limit is "
                            f"{TRAIN_MEMORY_LIMIT >> 30} GiB): use smaller --d-model, --d-ff, --context, --layers or --batch")


class Checkpoints:
    """Saves the model and remembers the last step saved, for the message after a hard stop."""

    def __init__(self, save, path: Path):
        self._save, self.path, self.step = save, path, None

    def save(self, step: int) -> None:
        self._save()
        self.step = step


def _run(progress, steps: int, saved: Checkpoints, every: int):
    """Drive the training generator under a progress bar on stderr. The first Ctrl-C
    stops after the current step; a second one stops at once (the last checkpoint stays)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TextColumn("{task.fields[speed]} tokens/s"), TimeElapsedColumn())
    done, loss = 0, math.nan
    with Progress(*columns, console=stderr(), transient=False) as bar, _first_ctrl_c(bar.console, saved) as stop:
        task = bar.add_task("train", total=steps, loss="-", speed="-")
        for record in progress:
            done, loss = record.step, record.loss
            bar.update(task, completed=done, loss=f"{loss:.3f}", speed=f"{record.tokens_per_second:,.0f}")
            if every and done % every == 0 and done < steps:
                saved.save(done)
            if stop["asked"]:
                break
    return done, loss, stop["asked"]


@contextlib.contextmanager
def _first_ctrl_c(console, saved: Checkpoints):
    """While active, the first Ctrl-C only asks to stop; the second stops at once."""
    stop = {"asked": False}
    previous = signal.getsignal(signal.SIGINT)

    def ask(signum, frame):
        if stop["asked"]:
            signal.signal(signal.SIGINT, previous)
            kept = f"{saved.path} holds step {saved.step}" if saved.step else f"{saved.path} was not written"
            console.print(f"stopped at once: {kept}")
            raise KeyboardInterrupt
        stop["asked"] = True
        console.print("stopping after this step (Ctrl-C again to stop at once)")

    signal.signal(signal.SIGINT, ask)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
