"""Atomic writes replace a regular file or nothing: never a device, pipe or folder."""

from __future__ import annotations

import os

import pytest

from lmtoy.errors import OutputFileError
from lmtoy.files import write_atomic


def test_a_file_is_written_and_replaced(tmp_path):
    path = tmp_path / "out.svg"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two" and [p.name for p in tmp_path.iterdir()] == ["out.svg"]


def test_a_pipe_is_not_replaced_by_a_file(tmp_path):
    """A rename over a FIFO (or /dev/null, as root) would put a regular file in its place."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(OutputFileError, match="not a regular file"):
        write_atomic(pipe, b"data")
    assert pipe.is_fifo() and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_the_handout_refuses_a_pipe_before_running(run, tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "pipe")
    monkeypatch.chdir(tmp_path)
    result = run("tour", "--html", "pipe")
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    assert (tmp_path / "pipe").is_fifo()
