"""``lmtoy transformer train``: divergence, progress, --out checks before and during training,
Ctrl-C counting, and BLAS threads."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import threading
import time

import numpy as np
import pytest
from rich.console import Console

import lmtoy.transformer.train as core
from conftest import plain
from lmtoy import threads
from lmtoy.cli import progress
from lmtoy.transformer import load_model
from lmtoy.transformer.io import is_model_file, save_model
from lmtoy.transformer.model import Config, init_params


def train(run, out, *args):
    return run("transformer", "train", "program_log", "--out", out, *args)


def spying(monkeypatch, at_step):
    """Wrap the training generator: ``at_step(record)`` runs when the CLI asks for the step after it."""
    real = core.train

    def wrapped(*args, **kwargs):
        for record in real(*args, **kwargs):
            yield record
            at_step(record)

    monkeypatch.setattr(core, "train", wrapped)


# divergence


def test_a_diverging_run_says_so_exits_1_and_keeps_the_model(run, tmp_path):
    out = tmp_path / "m.npz"
    result = train(run, out, "--lr", "1000", "--steps", "50")
    err = plain(result.stderr)
    assert result.exit_code == 1 and err.startswith("diverged: 50 steps, loss ")
    assert "error: training diverged (loss " in err and "ln 14 = 2.64 nats of guessing uniformly" in err
    assert "try a lower --lr (this run: 1000)" in err
    assert load_model(out).config.vocab_size == 14


def test_the_divergence_rule():
    """Twice ln N, and above where the run started (a fresh model on a tiny vocabulary can start
    above 2 ln N: ln 4 = 1.39, 2 ln 4 = 2.77, and he init starts find_my_files at 3.9)."""
    assert core.diverged(14.8e6, 3.2, 14) and core.diverged(5.3, 3.2, 14)  # 2 ln 14 = 5.28
    assert not core.diverged(5.2, 3.2, 14) and not core.diverged(0.05, 3.2, 14)
    assert not core.diverged(3.9, 3.93, 4) and core.diverged(4.0, 3.93, 4)


def test_a_normal_run_ends_done_with_the_mean_loss(run, tmp_path):
    result = train(run, tmp_path / "m.npz", "--steps", "30")
    assert result.exit_code == 0
    assert plain(result.stderr).startswith("done: 30 steps, loss ") and "(mean of the last 20 steps)" in result.stderr


# progress


def test_progress_records_carry_the_running_mean_and_time():
    corpus_config = Config(vocab_size=5, d_model=4, n_heads=1, context=3)
    rng = np.random.default_rng(0)
    params = init_params(corpus_config, rng)

    class Fixed:
        def sample(self, rng, batch):
            ids = rng.integers(0, 5, size=(batch, 4))
            return ids[:, :-1], ids[:, 1:]

    records = list(core.train(params, corpus_config, Fixed(), core.TrainSettings(steps=25), rng))
    losses = [r.loss for r in records]
    assert records[0].average_loss == losses[0]
    assert records[-1].average_loss == pytest.approx(np.mean(losses[-20:]))
    assert all(r.seconds > 0 for r in records) and records[-1].eta == 0
    assert records[4].eta == pytest.approx(records[4].seconds / 5 * 20)


def test_without_a_terminal_progress_is_plain_lines(run, tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)  # a line every step (5 s by default)
    result = train(run, tmp_path / "m.npz", "--steps", "3")
    lines = result.stderr.splitlines()
    assert result.exit_code == 0 and len(lines) == 4 and lines[-1].startswith("done: 3 steps")
    for step, line in enumerate(lines[:3], 1):
        assert line.startswith(f"step {step}/3: loss ") and f"(mean of the last {step})" in line
        assert " tokens/s, ETA 0:00:0" in line


def test_on_a_terminal_the_bar_shows_the_mean_loss_and_an_eta():
    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    with progress.Bar(10, console=console) as bar:
        bar.update(core.Progress(1, 10, 3.0, 1234.0, 2.5, 1.0))
    text = console.file.getvalue()
    assert "1/10" in text and "loss 2.500" in text and "1,234 tokens/s" in text and "ETA 0:00:09" in text


# --out


@pytest.mark.parametrize("name, message", [
    ("adir/", "'adir/' ends with a slash, so it names a folder"),
    ("afile/x.npz", "the folder 'afile' of 'afile/x.npz' is a file, not a folder"),
    ("nope/x.npz", "the folder 'nope' of 'nope/x.npz' does not exist"),
    ("a" * 300 + "/x.npz", "File name too long"),
    ("b" * 300 + ".npz", "File name too long"),
    ("folder", "'folder' is a folder"),
    ("[red]d/", "'[red]d/' ends with a slash"),
])
def test_bad_out_is_refused_before_training(run, tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("a file")
    (tmp_path / "folder").mkdir()
    before = sorted(os.listdir(tmp_path))
    result = train(run, name, "--steps", "100000")  # refused at once: no training
    assert result.exit_code == 2 and message in plain(result.stderr) and "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == before


def test_out_in_a_folder_no_one_can_write_is_refused_before_training(run):
    if not os.path.isdir("/proc"):
        pytest.skip("needs /proc")
    result = train(run, "/proc/x.npz", "--steps", "100000")
    assert result.exit_code == 2 and "cannot write '/proc/x.npz'" in plain(result.stderr)


def test_out_names_are_never_read_as_markup(run, tmp_path):
    (tmp_path / "x[").mkdir()
    for name in ("x[/b].npz", "[bold]x.npz"):
        result = train(run, tmp_path / name, "--steps", "2")
        assert result.exit_code == 0 and f"saved 3,664 weights to {tmp_path / name}" in plain(result.stderr)
        assert load_model(tmp_path / name).config.vocab_size == 14


def test_a_name_near_the_file_system_limit_still_saves(run, tmp_path):
    """The temporary file beside it (.NAME.PID.tmp) must fit in 255 bytes too."""
    out = tmp_path / ("é" * 123 + ".npz")  # 250 bytes
    assert train(run, out, "--steps", "2").exit_code == 0 and is_model_file(out)


def test_a_file_written_over_the_model_during_training_is_kept(run, tmp_path, monkeypatch):
    """Checkpoint 5 is saved; then someone writes notes.npz; checkpoint 10 must not replace it."""
    out = tmp_path / "notes.npz"
    spying(monkeypatch, lambda record: record.step == 5 and out.write_text("my notes"))
    result = train(run, out, "--steps", "100", "--checkpoint-every", "5")
    assert result.exit_code == 1 and out.read_text() == "my notes"
    kept = tmp_path / "notes.1.npz"
    assert f"the model at step 10 is saved as '{kept}' instead" in plain(result.stderr)
    assert load_model(kept).config.vocab_size == 14
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.1.npz", "notes.npz"]


def test_save_model_keeps_a_foreign_file_and_takes_the_first_free_name(tmp_path):
    config = Config(vocab_size=3, d_model=4, n_heads=1, context=3)
    params, words = init_params(config, np.random.default_rng(0)), ("a", "b", "<end>")
    out = tmp_path / "m.npz"
    assert save_model(out, params, config, words, only_over_models=True) == out
    assert save_model(out, params, config, words, only_over_models=True) == out  # an lmtoy model: replaced
    out.write_text("mine")
    (tmp_path / "m.1.npz").write_text("also mine")
    assert save_model(out, params, config, words, only_over_models=True) == tmp_path / "m.2.npz"
    assert out.read_text() == "mine" and is_model_file(tmp_path / "m.2.npz")
    assert save_model(out, params, config, words) == out and is_model_file(out)  # the default replaces


def test_save_model_under_a_file_is_one_error(tmp_path):
    from lmtoy.errors import ModelFileError

    config = Config(vocab_size=3, d_model=4, n_heads=1, context=3)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ModelFileError, match="Not a directory"):  # not NotADirectoryError, twice
        save_model(tmp_path / "afile" / "m.npz", init_params(config, np.random.default_rng(0)), config, ("a", "b", "<end>"))


# Ctrl-C


def _c_call(seconds: float) -> None:
    """A C call of about ``seconds`` that never looks at signals (it releases the GIL)."""
    start = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", 20_000)
    rounds = int(20_000 * seconds / max(time.perf_counter() - start, 1e-6))
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", rounds)


def test_two_presses_during_one_long_call_count_as_two():
    """Python runs the handler once for both presses; the wakeup-fd bytes count two."""

    def press_twice():
        for _ in range(2):
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)

    presser, handler = threading.Thread(target=press_twice), signal.getsignal(signal.SIGINT)
    with progress.Presses() as presses, pytest.raises(progress.StopNow):
        presser.start()
        _c_call(2.0)  # both presses land during this (or, on a loaded machine, after: also fine)
        while presser.is_alive() or presses.count < 2:
            time.sleep(0.01)
    presser.join()
    assert presses.count == 2 and signal.getsignal(signal.SIGINT) is handler  # given back


def test_a_press_after_the_model_is_saved_changes_nothing():
    with progress.Presses() as presses:
        presses.quiet = True
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert not presses.asked


# threads

def _blas_counts():  # the BLAS thread counts as threadpoolctl, an independent reader, sees them
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl reads the BLAS thread count")
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


def test_set_blas_threads_changes_the_count_numpy_uses():
    before = threads.blas_threads()
    if before is None or not _blas_counts():
        pytest.skip("no BLAS whose threads can be set")
    try:
        assert threads.set_blas_threads(1) == 1 and _blas_counts() == {1}
        assert threads.set_blas_threads(None) == before and _blas_counts() == {before}
    finally:
        threads.set_blas_threads(before)


@pytest.mark.parametrize("args, expected", [([], 1), (["--threads", "2"], 2)])
def test_training_runs_with_the_threads_chosen(run, tmp_path, monkeypatch, args, expected):
    before = threads.blas_threads()
    if before is None or before < expected or not _blas_counts():
        pytest.skip(f"the BLAS has {before} threads")
    for name in threads.ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    seen = []
    spying(monkeypatch, lambda record: seen.append(_blas_counts()))
    assert train(run, tmp_path / "m.npz", "--steps", "2", *args).exit_code == 0
    assert seen == [{expected}, {expected}] and threads.blas_threads() == before  # given back after


def test_the_default_thread_rule():
    """1 thread below 10^9 FLOPs a step: the tour's model (5.8 million), the benchmark's small one."""
    tour = Config(vocab_size=14, d_model=16, n_heads=2, context=16)
    assert core.step_flops(tour, 16) == 5_849_088 and core.default_threads(tour, 16) == 1
    large = Config(vocab_size=2000, d_model=128, n_heads=4, n_layers=4, context=64)
    assert core.step_flops(large, 32) > 10**10 and core.default_threads(large, 32) is None
    # per token, one layer: QKV + output 2*d*h*(2 d_k + 2 d_v), feed-forward 4*d*d_ff, attention 2*n*h*(d_k + d_v)
    one = Config(vocab_size=3, d_model=2, n_heads=1, context=1, d_ff=1)
    assert core.step_flops(one, 1) == 3 * (2 * 2 * 1 * (4 + 4) + 4 * 2 * 1 + 2 * 1 * 1 * 4 + 2 * 2 * 3)


def test_a_loss_that_stops_being_a_number_keeps_the_last_finite_step(run, tmp_path):
    out = tmp_path / "m.npz"
    result = run("transformer", "train", "battery", "--out", out, "--lr", "1e30", "--steps", "30")
    assert result.exit_code == 1 and "diverged" in result.stderr and "holds step" in result.stderr
    from lmtoy.transformer import load_model

    assert load_model(out).config.vocab_size == 9  # saved, and a readable model (8 words and <end>)


def test_a_run_that_learns_little_says_so(run, tmp_path):
    """No steps' worth of learning: the loss stays near ln N, and a hint says so (exit 0)."""
    result = run("transformer", "train", "commands", "--out", tmp_path / "m.npz", "--steps", "100", "--lr", "0")
    assert result.exit_code == 0 and "has learned little" in result.stderr
    result = run("transformer", "train", "program_log", "--out", tmp_path / "m.npz")
    assert result.exit_code == 0 and "learned little" not in result.stderr


def test_learned_little_rule():
    assert core.learned_little(3.04, 4000, 29) and not core.learned_little(0.29, 4000, 29)
    assert not core.learned_little(3.3, 99, 29)  # too early to tell


def test_a_classifier_is_judged_against_guessing_among_its_labels(run, tmp_path):
    """ln C, not ln N: an untrained classifier (lr 0) on six intents costs about ln 6 = 1.79."""
    result = run("transformer", "train", "intents", "--task", "classify", "--out", tmp_path / "c.npz",
                 "--steps", "100", "--lr", "0")
    assert result.exit_code == 0 and "ln 6 = 1.79" in result.stderr and "learned little" in result.stderr
