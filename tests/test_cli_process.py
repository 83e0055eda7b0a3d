"""The installed command as a real process: start-up imports, pipes, python -m lmtoy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}


def lmtoy(*args, input=None, **kw):
    return subprocess.run([sys.executable, "-m", "lmtoy", *args], input=input, capture_output=True, env=ENV, **kw)


def test_help_does_not_import_numpy():
    code = "import sys; sys.argv = ['lmtoy', '--help']\nfrom lmtoy.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\nprint('numpy' in sys.modules, file=sys.stderr)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert "Usage" in result.stdout and result.stderr.strip() == "False"


def test_python_m_lmtoy_reads_piped_stdin():
    result = lmtoy("first-order", "--format", "json", input=b"show me my files. show me my photos.")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["values"][data["rows"].index("my")][data["columns"].index("photos")] == 0.5


def test_pipe_into_head_is_quiet():
    for args in (["tour"], ["skips", "commands", "--format", "csv"], ["skips", "commands", "--max-rows", "0"]):
        proc = subprocess.Popen([sys.executable, "-m", "lmtoy", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=ENV)
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read().decode()
        proc.wait()
        assert "Traceback" not in err and "BrokenPipe" not in err and err == "", err


def test_no_color_means_no_escape_codes():
    result = lmtoy("first-order", "show_me")
    assert b"\x1b[" not in result.stdout and b"0.5" in result.stdout


def test_messages_go_to_stderr():
    result = lmtoy("first-order", "show_me", "--word", "nope")
    assert result.returncode == 1 and result.stdout == b"" and b"not in the vocabulary" in result.stderr


def test_seeded_sampling_is_reproducible_across_runs():
    args = ("complete", "commands", "--prompt", "show me", "--seed", "11", "--steps", "8", "--format", "json")
    first, second = lmtoy(*args), lmtoy(*args)
    assert first.returncode == 0 and first.stdout == second.stdout
    assert json.loads(first.stdout)["generated"]


def test_same_seed_same_model_across_runs(tmp_path):
    paths = [tmp_path / "a.npz", tmp_path / "b.npz"]
    for path in paths:
        assert lmtoy("transformer", "train", "battery", "--out", str(path), "--steps", "30", "--seed", "9").returncode == 0
    import numpy as np

    a, b = (np.load(p, allow_pickle=False) for p in paths)
    assert sorted(a.files) == sorted(b.files) and all(np.array_equal(a[k], b[k]) for k in a.files)
