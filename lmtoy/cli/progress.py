"""Training progress on stderr (a rich bar on a terminal, plain lines in a log) and Ctrl-C
presses counted reliably, for ``lmtoy transformer train``."""

from __future__ import annotations

import contextlib
import math
import signal
import socket
import threading
import time

PLAIN_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


def nats(loss: float) -> str:  # 0.086, 14,812,345, 1.72e+13
    return f"{loss:.3f}" if abs(loss) < 1000 else f"{loss:,.0f}" if abs(loss) < 1e9 else f"{loss:.3g}"


def clock(seconds: float) -> str:
    """H:MM:SS, as rich's time columns write it."""
    s = int(seconds + 0.5) if math.isfinite(seconds) else 0
    return f"{s // 3600}:{s // 60 % 60:02}:{s % 60:02}"


def stderr_is_terminal() -> bool:
    from lmtoy.cli.common import stderr

    return stderr().is_terminal


class Lines:
    """Progress as plain lines on stderr (a log file, a pipe): one every PLAIN_EVERY seconds and,
    when any was printed, one for the last step (a run shorter than that ends with its summary
    alone)."""

    def __init__(self, steps: int):
        self.last_time, self.last_step = time.monotonic(), 0
        self.record = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, record) -> None:
        self.record = record
        if time.monotonic() - self.last_time >= PLAIN_EVERY:
            self._line()

    def end(self) -> None:
        if self.record is not None and self.last_step and self.record.step != self.last_step:
            self._line()

    def _line(self) -> None:
        from lmtoy.cli.output import note
        from lmtoy.transformer.train import AVERAGE_OVER

        r = self.record
        note(f"step {r.step:,}/{r.steps:,}: loss {nats(r.average_loss)} (mean of the last {min(r.step, AVERAGE_OVER)}), "
             f"{r.tokens_per_second:,.0f} tokens/s, ETA {clock(r.eta)}", style="")  # fmt: skip
        self.last_time, self.last_step = time.monotonic(), r.step


class Bar:
    """Progress as a rich bar on a terminal: step, mean loss, tokens/s and ETA."""

    def __init__(self, steps: int, console=None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from lmtoy.cli.common import stderr

        columns = (TextColumn("training", markup=False), BarColumn(bar_width=None), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]}", markup=False),
                   TextColumn("{task.fields[speed]} tokens/s", markup=False),
                   TextColumn("ETA {task.fields[eta]}", markup=False))  # fmt: skip
        self.bar = Progress(*columns, console=console or stderr(), transient=False)
        self.task = self.bar.add_task("train", total=steps, loss="-", speed="-", eta="-")

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def update(self, record) -> None:
        self.bar.update(self.task, completed=record.step, loss=nats(record.average_loss),
                        speed=f"{record.tokens_per_second:,.0f}", eta=clock(record.eta))  # fmt: skip

    def end(self) -> None:
        self.bar.refresh()


class StopNow(KeyboardInterrupt):
    """The second Ctrl-C: stop at once."""


class Presses:
    """Counts Ctrl-C presses while active. The handler reads the bytes ``signal.set_wakeup_fd``
    wrote, one per SIGINT received, so two presses that Python reports once still count two.
    The first sets ``asked`` (stop after this step); the second raises StopNow. Once ``quiet``
    is set, presses change nothing."""

    def __init__(self):
        self.count, self.asked, self.quiet, self._on = 0, False, False, False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread takes signals: Ctrl-C keeps its usual meaning
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        try:
            self._previous = signal.signal(signal.SIGINT, self._press)
        except BaseException:
            signal.set_wakeup_fd(self._previous_fd)
            self._read.close()
            self._write.close()
            raise
        self._on = True
        return self

    def __exit__(self, *exc):
        self.quiet = True
        if self._on:
            signal.set_wakeup_fd(self._previous_fd)
            signal.signal(signal.SIGINT, self._previous)
            self._read.close()
            self._write.close()
        return False

    def _press(self, signum, frame):
        presses = max(1, self._drain())
        if self.quiet:
            return
        self.count += presses
        if self.count >= 2:
            self.quiet = True  # stopping: later presses change nothing
            raise StopNow
        self.asked = True
        from lmtoy.cli.output import note

        note("stopping after this step (Ctrl-C again to stop at once)", style="")

    def _drain(self) -> int:  # -> SIGINTs received since the last look
        presses = 0
        with contextlib.suppress(OSError):  # BlockingIOError: nothing more to read
            while data := self._read.recv(512):
                presses += data.count(int(signal.SIGINT))
        return presses
