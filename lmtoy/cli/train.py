"""``lmtoy transformer train``: train by hand-written backprop and Adam, with progress,
checkpoints and a clean Ctrl-C.

Ctrl-C presses are counted through ``signal.set_wakeup_fd`` (one byte per signal): Python
runs its handler once for two signals that arrive during one long NumPy call, so counting
the handler's calls would take a double press for one. The first press asks to stop after
the current step; the second stops at once (when the NumPy call under way returns).
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from lmtoy.cli.common import (
    CorpusArg, Init, JoinLines, KeepCase, Pool, Positions, Task, TokenizerOpt, bad_option, corpus_bytes,
    corpus_from, handle_errors, quoted, tokenizer_from,
)
from lmtoy.cli.progress import Bar, Lines, Presses, StopNow, nats, stderr_is_terminal
from lmtoy.errors import OutputFileError, TooLargeError, TrainingError


class TrainNorm(str, Enum):  # lmtoy.transformer.model.NORMS
    post = "post"
    pre = "pre"
    none = "none"


class Attention(str, Enum):  # lmtoy.transformer.model.ATTENTIONS
    softmax = "softmax"
    linear = "linear"



@handle_errors
def train(
    corpus: CorpusArg = None,
    task: Annotated[Task, typer.Option("--task", help="next-word: a decoder-only language model; translate: an encoder-decoder on a pairs corpus (source<TAB>target lines); classify: an encoder and a class head on __label__ lines.")] = Task.next_word,
    out: Annotated[str, typer.Option("--out", "-o", metavar="FILE", help="Where to write the model (.npz); written atomically, replacing only an earlier lmtoy model.")] = "model.npz",
    steps: Annotated[int, typer.Option("--steps", min=0, max=1_000_000_000, help="Training steps (mini-batches).")] = 300,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate.")] = 0.01,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1_000_000, help="Windows per mini-batch.")] = 16,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seeds the initial weights and the windows (below 2^63): same seed, same weights.")] = 0,
    clip: Annotated[Optional[float], typer.Option("--clip", min=0.0, help="Clip the global gradient norm to this (0: no clipping).")] = 1.0,
    d_model: Annotated[int, typer.Option("--d-model", min=1, max=1_000_000, help="Embedding width d_model.")] = 16,
    heads: Annotated[int, typer.Option("--heads", min=1, max=1_000_000, help="Attention heads h.")] = 2,
    layers: Annotated[int, typer.Option("--layers", min=1, max=1_000_000, help="Transformer blocks.")] = 1,
    context: Annotated[int, typer.Option("--context", min=1, max=1_000_000, help="Longest sequence the model sees.")] = 16,
    d_k: Annotated[Optional[int], typer.Option("--d-k", min=1, max=1_000_000, help="Query/key width per head (default d_model / heads).")] = None,
    d_v: Annotated[Optional[int], typer.Option("--d-v", min=1, max=1_000_000, help="Value width per head (default d_model / heads).")] = None,
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", min=1, max=1_000_000, help="Feed-forward hidden width (default 4 x d_model).")] = None,
    positions: Annotated[Positions, typer.Option("--positions", help="Position encoding: sinusoidal (the paper's) or learned.")] = Positions.sinusoidal,
    norm: Annotated[TrainNorm, typer.Option("--norm", help="Layer norm after each sublayer (post, the paper's), before it (pre), or none at all (next-word only).")] = TrainNorm.post,
    attention: Annotated[Attention, typer.Option("--attention", help="Attention weights: softmax(scale Q K^T + mask) (the paper's), or linear: scale Q K^T with the later words' entries 0, no softmax (next-word only).")] = Attention.softmax,
    attention_scale: Annotated[Optional[float], typer.Option("--attention-scale", help="The factor on Q K^T (default 1 / sqrt(d_k)).")] = None,
    tied: Annotated[bool, typer.Option("--tied", help="De-embed with the transposed embedding.")] = False,
    init: Annotated[Init, typer.Option("--init", help="Weight initialisation (Glorot uniform, He normal, or normal with std 0.02).")] = Init.xavier,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", min=0, help="Also save every N steps (0: only at the end).")] = 100,
    encoder_layers: Annotated[Optional[int], typer.Option("--encoder-layers", min=1, max=1_000_000, help="Encoder blocks (translate, classify; default --layers).")] = None,
    pool: Annotated[Pool, typer.Option("--pool", help="classify: how the encoder's outputs become one vector, their mean or maximum over positions.")] = Pool.mean,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, max=1024, help="BLAS threads for the matrix multiplications (default: 1 below 10^9 FLOPs a step, else one per core).")] = None,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
):
    """Train a transformer on a corpus by hand-written backprop and Adam; Ctrl-C stops cleanly and keeps a checkpoint."""
    if threads is not None:
        from lmtoy.threads import before_numpy

        before_numpy(threads)  # before numpy loads: whatever its BLAS, it reads this
    import numpy as np

    from lmtoy.transformer import TrainSettings, init_params, save_model
    from lmtoy.transformer.train import setup
    from lmtoy.transformer.train import train as train_steps

    path = _check_out(out)
    if seed >= 2**63:
        bad_option(f"{seed} is not below 2^63", "--seed")
    if not math.isfinite(lr):
        bad_option(f"{lr} is not a finite number", "--lr")
    sizes = dict(d_model=d_model, n_heads=heads, n_layers=layers, context=context, d_k=d_k, d_v=d_v, d_ff=d_ff,
                 positions=positions.value, norm=norm.value, tied=tied, init=init.value, attention=attention.value,
                 attention_scale=attention_scale)
    if attention_scale is not None and not 0 < attention_scale < math.inf:
        bad_option(f"{attention_scale} is not a number above 0", "--attention-scale")
    if task is not Task.next_word:
        sizes |= {"encoder_layers": encoder_layers} | ({"pool": pool.value} if task is Task.classify else {})
    elif encoder_layers is not None:
        bad_option("is for --task translate or classify", "--encoder-layers")
    tok = tokenizer_from(tokenizer)
    plan = setup(task.value, _task_data(task, corpus, join_lines, keep_case, tok), **sizes)
    config = plan.config
    _check_size(config, batch)
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    progress = train_steps(params, config, plan.batches, TrainSettings(steps=steps, lr=lr, batch=batch, clip=clip or None),
                           rng)
    saved = Checkpoints(path, lambda to: save_model(to, params, config, plan.vocabulary, keep_case, only_over_models=True,
                                                    source_vocabulary=plan.source_vocabulary, labels=plan.labels,
                                                    tokenizer=tok))
    with Presses() as presses, _blas_threads(_threads_wanted(threads, config, batch)):
        run = _run(progress, steps, saved, checkpoint_every, presses)
        _finish(run, saved, config, lr, sum(p.size for p in params.values()))


def _task_data(task: "Task", corpus: str | None, join_lines: bool, keep_case: bool, tok=None):
    """What a task trains on: a corpus (next-word), sentence pairs (translate) or labelled
    lines (classify), each read from the CORPUS argument and split by ``tok`` (None: words;
    pairs: each side, labelled lines: the text)."""
    raw, name = corpus_bytes(corpus)
    if task is Task.next_word:
        from lmtoy.pairs import looks_like_pairs

        if looks_like_pairs(raw):
            from lmtoy.cli.output import note

            note("hint: most lines hold a TAB, as in a pairs corpus (source<TAB>target): to train a translation "
                 "model, add --task translate", style="")
        return corpus_from(raw, name, join_lines, keep_case, tok)
    if task is Task.translate:
        from lmtoy.pairs import parse_pairs, tokenize

        return parse_pairs(raw, name=name, keep_case=keep_case, tokenize=tok.tokens if tok else tokenize)
    from lmtoy.labelled import parse_labelled

    return parse_labelled(raw, name=name, keep_case=keep_case, tokenizer=tok)


def _check_out(text: str) -> Path:
    """The --out path, checked before any training: a file name in a folder that exists and
    can be written, and no file there unless an earlier lmtoy model; otherwise exit 2."""
    if not text:
        bad_option("is empty: give a file name such as model.npz", "--out")
    if text.endswith("/") or text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)):
        bad_option(f"{quoted(text)} ends with a slash, so it names a folder: give a file name, "
                   f"such as {quoted(text + 'model.npz')}", "--out")  # fmt: skip
    path = Path(text)
    try:
        _check_out_path(path)
    except OSError as error:  # a name too long, a folder one may not write in, ...
        bad_option(f"cannot write {quoted(text)}: {error.strerror or error}", "--out")
    return path


def _check_out_path(path: Path) -> None:
    from lmtoy.files import check_writable
    from lmtoy.transformer.io import is_model_file

    if path.is_dir():
        bad_option(f"{quoted(path)} is a folder: give a file name in it, such as {quoted(path / 'model.npz')}", "--out")
    folder = path.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        bad_option(f"the folder {quoted(folder)} of {quoted(path)} {what}", "--out")
    if os.path.lexists(path) and not is_model_file(path):
        bad_option(f"{quoted(path)} exists and is not an lmtoy model: choose another --out, or remove it", "--out")
    check_writable(path)


TRAIN_MEMORY_LIMIT = 8 << 30  # bytes a training run may plan to use


def _check_size(config, batch: int) -> None:
    from lmtoy.transformer.train import memory_estimate

    need = memory_estimate(config, batch)
    if need > TRAIN_MEMORY_LIMIT:
        raise TooLargeError(f"this model would need about {need / 2**30:,.1f} GiB to train (the limit is "
                            f"{TRAIN_MEMORY_LIMIT >> 30} GiB): use smaller --d-model, --d-ff, --context, --layers or --batch")


def _threads_wanted(threads: int | None, config, batch: int) -> int | None:
    """--threads, else the default rule (1 thread for small steps), else None: leave the BLAS
    as it is (its own default, or the OPENBLAS_NUM_THREADS / OMP_NUM_THREADS the user set)."""
    from lmtoy.threads import threads_from_environment
    from lmtoy.transformer.train import default_threads

    if threads is not None or threads_from_environment():
        return threads
    return default_threads(config, batch)


@contextlib.contextmanager
def _blas_threads(wanted: int | None):
    """NumPy's BLAS runs ``wanted`` threads inside (None: as it is); the count comes back after."""
    from lmtoy.threads import blas_threads, set_blas_threads

    before = blas_threads() if wanted is not None else None
    if before is not None:
        set_blas_threads(wanted)
    try:
        yield
    finally:
        if before is not None:
            set_blas_threads(before)


class Checkpoints:
    """Saves the model, never over a file that is not an lmtoy model, and remembers the last
    step saved, for the message after a hard stop."""

    def __init__(self, path: Path, save):
        self.path, self._save, self.step = path, save, None

    def save(self, step: int) -> None:
        written = self._save(self.path)  # checks the target again, just before its rename
        if written != self.path:
            raise OutputFileError(
                f"{quoted(self.path, 4096)} is no longer an lmtoy model (another file was written there), so it is "
                f"kept: the model at step {step:,} is saved as {quoted(written, 4096)} instead, and training stops there")
        self.step = step


@dataclass
class Run:
    """What a training run came to: steps done, the last mean loss, the first step's loss."""

    done: int = 0
    average: float = math.nan
    first: float = math.nan
    stopped: bool = False  # by Ctrl-C


def _run(progress, steps: int, saved: Checkpoints, every: int, presses: "Presses") -> Run:
    """Drive the training generator, show its progress, save checkpoints and the final model.
    A first Ctrl-C stops after the current step; a second one stops at once (exit 130)."""
    import numpy as np

    run = Run()
    try:
        # a diverging run is caught by its loss instead of by NumPy's warnings
        with (Bar if stderr_is_terminal() else Lines)(steps) as display, np.errstate(over="ignore", invalid="ignore"):
            for record in progress:
                run.done, run.average = record.step, record.average_loss
                run.first = record.loss if record.step == 1 else run.first
                display.update(record)
                if every and run.done % every == 0 and run.done < steps:
                    saved.save(run.done)
                if presses.asked:
                    break
            display.end()
        saved.save(run.done)
        presses.quiet = True  # saved: a press from here on changes nothing
    except StopNow:
        _stopped_at_once(saved)
    except TrainingError as error:  # the weights are those of the last finite step: keep them
        if run.done:
            saved.save(run.done)
        kept = f"{saved.path} holds step {run.done:,}" if run.done else f"{saved.path} was not written"
        raise TrainingError(f"{error} ({kept})") from None
    run.stopped = presses.asked and run.done < steps  # a press during the last step's save stops nothing
    return run


def _stopped_at_once(saved: Checkpoints):
    from lmtoy.cli.output import note

    kept = f"{saved.path} holds step {saved.step:,}" if saved.step is not None else f"{saved.path} was not written"
    note(f"stopped at once: {kept}", style="")
    raise typer.Exit(130)


def _finish(run: Run, saved: Checkpoints, config, lr: float, n_params: int) -> None:
    """The closing line; a diverged run is an error (exit 1), a stopped one exits 130."""
    from lmtoy.cli.common import fail
    from lmtoy.cli.output import note
    from lmtoy.render.transformer import training_summary
    from lmtoy.transformer.train import AVERAGE_OVER, DIVERGED_FACTOR, choices, diverged, learned_little

    n = choices(config)  # guessing uniformly among n words (or labels) costs ln n
    bad = run.done > 0 and diverged(run.average, run.first, n)
    note(training_summary(str(saved.path), run.done, run.average, n_params, run.stopped, bad,
                          min(run.done, AVERAGE_OVER)), style="")  # fmt: skip
    if bad:
        message = (f"training diverged (loss {nats(run.average)} nats, more than {DIVERGED_FACTOR} x the "
                   f"ln {n} = {math.log(n):.2f} nats of guessing uniformly): try a lower --lr (this run: {lr:g})")
        if not run.stopped:
            fail(message)
        note(message)
    elif learned_little(run.average, run.done, n):
        note(f"hint: the loss is still close to the ln {n} = {math.log(n):.2f} nats of guessing uniformly: the "
             f"model has learned little; try a lower --lr (this run: {lr:g}) or more --steps", style="")
    if run.stopped:
        raise typer.Exit(130)
