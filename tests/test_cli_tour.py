"""The tour runs every step's command as shown, section by section."""

from __future__ import annotations

import pytest

from conftest import plain
from lmtoy.cli.tour import STEPS, shell_lines


def test_tour_runs_every_step(run):
    result = run("tour")
    assert result.exit_code == 0, result.stderr
    out = plain(result.stdout)
    for step in STEPS:
        assert step.section in out
    for figure in ("-> [2, 3, 1]", "down 0.995", "'ran' attends to: battery, program, ran", "photos please"):
        assert figure in out, figure
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_section_filter_is_exact(run):
    out = run("tour", "--section", "1").stdout
    assert "1. One-hot encoding" in out and "10. " not in out and "11. " not in out


def test_model_steps_train_first(run):
    """Section 11 uses model.npz, so the tour trains it first."""
    result = run("tour", "--section", "11")
    assert result.exit_code == 0 and "10. A transformer, trained by hand" in result.stdout
    assert "down 0.995" in plain(result.stdout)


def test_unknown_section(run):
    result = run("tour", "--section", "12")
    assert result.exit_code == 2 and "sections are 1 to 11" in result.stderr


@pytest.mark.parametrize("width", [40, 80])
def test_shell_lines_fit_and_paste(width):
    for step in STEPS:
        text = shell_lines(step.command, width)
        lines = text.splitlines()
        assert all(line.endswith(" \\") for line in lines[:-1])
        assert " ".join(line.rstrip("\\").strip() for line in lines) == "$ " + step.command
