"""Shell completion: typer's script, and what TAB offers for corpora and model files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lmtoy.cli.completion import bundled_names, complete_corpus, complete_model
from lmtoy.corpus import BUNDLED

ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
LMTOY = [sys.executable, "-c", "from lmtoy.cli import main; main()"]  # prog name: lmtoy, as the script says


def test_bundled_names_are_the_corpora():
    assert bundled_names() == sorted(p.stem for p in BUNDLED.glob("*.txt"))
    assert {"show_me", "battery", "program_log", "commands", "commands_heldout"} <= set(bundled_names())


def test_corpus_prefix_gives_bundled_names_then_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "show_notes.txt").write_text("a b.")
    (tmp_path / "shots").mkdir()
    assert complete_corpus("sh") == ["show_me", "shots/", "show_notes.txt"]
    assert complete_corpus("commands") == ["commands", "commands_heldout", "commands_pairs"]
    assert complete_corpus("shots/") == []
    (tmp_path / "shots" / "one.txt").write_text("a b.")
    assert complete_corpus("shots/o") == ["shots/one.txt"]
    assert complete_corpus("nothing") == []


def test_model_files_are_npz_and_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("model.npz", "model.txt", "other.npz"):
        (tmp_path / name).write_text("")
    (tmp_path / "models").mkdir()
    assert complete_model("mo") == ["model.npz", "models/"]
    assert complete_model("") == ["model.npz", "models/", "other.npz"]


def test_show_completion_prints_a_bash_script():
    """typer detects the shell from the parent processes unless told not to (then the shell
    is the option's value): the test names it, so it passes however pytest was started."""
    env = {**ENV, "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = subprocess.run([*LMTOY, "--show-completion", "bash"], capture_output=True, text=True, env=env)
    assert result.returncode == 0
    assert "_LMTOY_COMPLETE=complete_bash" in result.stdout and "complete -o default -F _lmtoy_completion lmtoy" in result.stdout


def _complete(words: str, cword: int) -> list[str]:
    env = {**ENV, "_LMTOY_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run(LMTOY, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_shell_asks_lmtoy_for_corpora_and_commands(tmp_path):
    assert "show_me" in _complete("lmtoy first-order sh", 2)
    assert _complete("lmtoy explain first-order commands_", 3) == ["commands_heldout", "commands_pairs"]
    assert _complete("lmtoy expl", 1) == ["explain"]
    assert "masked-skips" in _complete("lmtoy explain ", 2)


def test_help_lists_the_completion_options_without_loading_a_command():
    result = subprocess.run([*LMTOY, "--help"], capture_output=True, text=True, env=ENV)
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_the_shell_gets_model_files_for_model(tmp_path):
    (tmp_path / "tiny.npz").write_text("")
    (tmp_path / "tiny.txt").write_text("")
    env = {**ENV, "_LMTOY_COMPLETE": "complete_bash", "COMP_WORDS": "lmtoy transformer predict --model ti",
           "COMP_CWORD": "4"}
    result = subprocess.run(LMTOY, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.stdout.split() == ["tiny.npz"], result.stderr


@pytest.mark.parametrize("words, cword", [("lmtoy perplexity commands --held-out commands_h", 4),
                                          ("lmtoy score show_", 2), ("lmtoy figure transition_matrix --corpus show_", 4)])
def test_every_corpus_argument_completes(words, cword):
    assert "commands_heldout" in _complete(words, cword) or "show_me" in _complete(words, cword)
