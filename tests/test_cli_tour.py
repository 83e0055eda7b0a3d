"""The tour runs every step's command as shown, section by section."""

from __future__ import annotations

import re

import pytest

from conftest import plain
from lmtoy.cli.tour import STEPS, shell_lines


def test_tour_runs_every_step(run):
    result = run("tour")
    assert result.exit_code == 0, result.stderr
    out = plain(result.stdout)
    for step in STEPS:
        assert step.section in out
    for figure in ("-> [2, 3, 1]", "down 0.995", "'ran' attends to: battery, program, ran", "photos please",
                   "arkivo la en dosi velo mia mi vido pu", "label: battery", "e/(e + 8) = 0.2536"):
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
    result = run("tour", "--section", "13")
    assert result.exit_code == 2 and "sections are 1 to 12" in result.stderr


@pytest.mark.parametrize("width", [40, 80])
def test_shell_lines_fit_and_paste(width):
    for step in STEPS:
        text = shell_lines(step.command, width)
        lines = text.splitlines()
        assert all(line.endswith(" \\") for line in lines[:-1])
        assert " ".join(line.rstrip("\\").strip() for line in lines) == "$ " + step.command


def test_list_names_every_section(run):
    result = run("tour", "--list")
    assert result.exit_code == 0
    for step in STEPS:
        number, _, title = step.section.partition(". ")
        assert title in " ".join(result.stdout.split()), title


def test_keep_folder_holds_the_model_and_the_commands_name_it(run, tmp_path):
    folder = tmp_path / "demo"
    result = run("tour", "--section", "11", "--keep", folder)
    assert result.exit_code == 0 and (folder / "model.npz").is_file()
    shown = " ".join(result.stdout.split())
    assert f"--model {folder}/model.npz" in shown and "--model model.npz" not in shown
    # the command the tour showed works as it is, from anywhere
    assert run("transformer", "predict", "--model", folder / "model.npz", "--prompt", "battery ran").exit_code == 0


def _tour_leftovers(tmp: "Path") -> list:
    return [p for p in tmp.iterdir() if p.name.startswith("lmtoy-tour-")]


def test_tour_cleans_up_on_a_closed_pipe_and_a_full_disk(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "lmtoy", "tour"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    proc.wait()
    assert err == b"" and _tour_leftovers(tmp_path) == []
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "lmtoy", "tour", "--section", "10"], stdout=full,
                                stderr=subprocess.PIPE, env=env)
    assert result.returncode == 1 and b"No space left on device" in result.stderr
    assert _tour_leftovers(tmp_path) == []


def test_pause_waits_before_the_output_of_a_step_taller_than_the_terminal(monkeypatch, capsys):
    """On a projector the caption and command must not scroll away: a tall step pauses first."""
    from lmtoy.cli import tour

    monkeypatch.setenv("LINES", "12")
    monkeypatch.setenv("COLUMNS", "80")
    prompts = []
    monkeypatch.setattr(tour, "_wait", lambda prompt="next": prompts.append(prompt) or True)
    tall, short = STEPS[2], STEPS[0]  # first-order show_me: 7 rows and a header; onehot: 3 lines
    tour._steps([tall], interactive=True)
    shown = capsys.readouterr().out
    assert prompts == ["Press Enter for the output... "]
    assert shown.index(tall.command) < shown.index("First-order transition matrix")  # the command, then the table
    prompts.clear()
    monkeypatch.setenv("LINES", "200")
    tour._steps([short], interactive=True)
    assert prompts == []  # fits: no pause before the output (and no 'next step' after the last)


def test_tour_html_is_one_well_formed_page_with_every_section_and_figure(run, tmp_path, monkeypatch):
    from test_render_handout import parse

    from lmtoy.cli.tour_steps import SECTION_FIGURES

    monkeypatch.chdir(tmp_path)
    result = run("tour", "--html", "handout.html")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and "wrote handout.html" in result.stderr
    page = (tmp_path / "handout.html").read_text(encoding="utf-8")
    parsed = parse(page)
    text = "".join(parsed.text)
    for step in STEPS:
        assert step.section in text and step.command in text
    shown = [s.figure for s in STEPS if s.figure]
    assert len(shown) == len({s.section for s in STEPS} & set(SECTION_FIGURES))  # one per section that has one
    assert page.count("<svg") == len(shown)
    for figure in set(shown):
        assert f"lmtoy figure {figure}" in text, figure
    assert re.search(r"down +0\.995", text) and re.search(r"my +0\.2 +0\.3", text)  # the outputs themselves
    assert "style=\"" in page and "<script" not in page and "http://" not in page.replace("http://www.w3.org/", "")
    assert [p.name for p in tmp_path.iterdir()] == ["handout.html"]  # the scratch models stay in the scratch folder


@pytest.mark.parametrize("where, message", [("missing/h.html", "does not exist"), (".", "is a directory")])
def test_tour_html_refuses_a_path_it_cannot_write_before_running(run, tmp_path, monkeypatch, where, message):
    monkeypatch.chdir(tmp_path)
    result = run("tour", "--html", where)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert "handout: section" not in result.stderr  # nothing ran
