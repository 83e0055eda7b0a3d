"""The root app: commands loaded by name, help that reads at 80 columns, output that is never lost."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from lmtoy.cli.root import COMMANDS, app, load_command

ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}


def lmtoy(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "lmtoy", *args], capture_output=True, env=env or ENV, **kw)


def every_command():
    """(path, click command) for every command and sub-command."""
    out = []

    def walk(command, path):
        out.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, path + [name])

    for name in COMMANDS:
        walk(load_command(name), [name])
    return out


def test_listing_matches_each_commands_own_help():
    for name, (_, short) in COMMANDS.items():
        command = load_command(name)
        assert command.help and " ".join(command.help.split()).startswith(short.rstrip(".")), name


def test_every_command_has_help(run):
    for path, command in every_command():
        assert command.help, path
        result = run(*path, "--help")
        assert result.exit_code == 0 and "Usage: " in result.stdout, path


@pytest.mark.parametrize("path", [p for p, _ in every_command()], ids=" ".join)
def test_help_reads_cleanly_at_80_columns(run, path):
    """No line over 80 columns, every word of every option's help whole on one line, no
    typer type tags (<str>, <int range>, <bool>), and choices listed."""
    text = run(*path, "--help").stdout
    assert max(map(len, text.splitlines())) <= 80
    assert not re.search(r"<(str|int|float|bool|list|file|path)[^>]*>", text), text
    words = set(text.split())
    command = dict(every_command())[tuple(path)] if False else dict((tuple(p), c) for p, c in every_command())[tuple(path)]
    for param in command.params:
        for word in (param.help or "").split():
            if "-" in word:  # click may break a line after a hyphen inside a word
                continue
            assert word in words, (path, param.name, word)
        if param.type_descriptor.is_choice:
            assert "|".join(str(c.value if hasattr(c, "value") else c) for c in param.type_descriptor.choices) in text


def test_top_help_lists_every_command_without_importing_them():
    code = ("import sys; sys.argv = ['lmtoy', '--help']\nfrom lmtoy.cli import main\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith('lmtoy.cli.') or m in "
            "('numpy', 'rich')), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert all(name in result.stdout for name in COMMANDS)
    assert result.stderr.strip() == "['lmtoy.cli.output', 'lmtoy.cli.root']"  # no command module, no rich, no numpy


def test_a_command_imports_only_its_own_module():
    code = ("import sys; sys.argv = ['lmtoy', 'onehot', 'find my files']\nfrom lmtoy.cli import main\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith('lmtoy.cli.')), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert "lmtoy.cli.transformer" not in result.stderr and "lmtoy.cli.attention" not in result.stderr
    assert "lmtoy.cli.counted" in result.stderr


@pytest.mark.parametrize("args", [
    ["first-order", "show_me"], ["first-order", "show_me", "--format", "json"],
    ["skips", "commands", "--format", "csv", "--sparse"], ["tour", "--section", "2"],
])
def test_a_full_disk_is_an_error(args):
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "lmtoy", *args], stdout=full, stderr=subprocess.PIPE, env=ENV)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert err.strip() == "error: cannot write output: No space left on device", err


def test_closed_stdout_is_an_error():
    result = subprocess.run([sys.executable, "-m", "lmtoy", "first-order", "show_me"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=ENV, close_fds=True,
                            preexec_fn=lambda: os.close(1))
    assert result.returncode == 1 and "Traceback" not in result.stderr.decode()
    assert "cannot write output" in result.stderr.decode()


def test_an_encoding_that_cannot_hold_the_text():
    env = {**ENV, "PYTHONIOENCODING": "ascii"}
    corpus = "tôi yêu hà nội. tôi yêu em."
    json_out = lmtoy("first-order", "-", "--format", "json", input=corpus.encode(), env=env)
    assert json_out.returncode == 0 and b"\\u00f4" in json_out.stdout  # JSON falls back to \u escapes
    import json

    assert "tôi" in json.loads(json_out.stdout)["rows"]
    table = lmtoy("first-order", "-", input=corpus.encode(), env=env)
    assert table.returncode == 1 and b"Traceback" not in table.stderr
    assert b"cannot write output" in table.stderr and b"PYTHONIOENCODING" in table.stderr


def test_a_nonsensical_width_is_treated_as_80():
    result = lmtoy("first-order", "show_me", env={**ENV, "COLUMNS": "0"})
    assert result.returncode == 0 and b"photos" in result.stdout
    assert max(map(len, result.stdout.decode().splitlines())) <= 80


def test_help_is_plain_and_fast_to_load():
    result = lmtoy("--help")
    assert result.returncode == 0 and b"Commands:" in result.stdout and b"\xe2\x94\x80" not in result.stdout  # no box


def test_app_is_the_root_typer_app():
    import typer

    assert isinstance(app, typer.Typer)


def test_ctrl_c_while_starting_up_is_one_line():
    """A Ctrl-C while typer and rich load (before any command runs) ends with exit 130."""
    code = ("import builtins, sys\nreal = builtins.__import__\n"
            "def slow(name, *a, **k):\n    if name == 'typer':\n        raise KeyboardInterrupt\n    return real(name, *a, **k)\n"
            "builtins.__import__ = slow\nsys.argv = ['lmtoy', '--help']\nfrom lmtoy.cli import main\nmain()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert result.returncode == 130 and result.stderr == "interrupted\n"


def test_a_close_bundled_name_is_suggested(run):
    result = run("first-order", "show-me")
    assert result.exit_code == 0 and "photos" in result.stdout  # show-me means the bundled show_me
    result = run("first-order", "show_mee")
    assert result.exit_code == 2 and "did you mean the bundled show_me?" in " ".join(result.stderr.split())


def test_a_file_name_too_long_is_one_line(run):
    result = run("first-order", "x" * 300)
    assert result.exit_code == 2 and "File name too long" in result.stderr and "x" * 100 not in result.stderr


def test_user_text_is_never_markup(run, tmp_path):
    result = run("first-order", str(tmp_path / "x[/b].txt"))
    assert result.exit_code == 2 and "x[/b].txt" in result.stderr


def test_stdin_at_a_terminal_says_it_is_waiting():
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.environ.update(ENV)
        os.execv(sys.executable, [sys.executable, "-m", "lmtoy", "first-order", "-"])
    seen = b""
    while b"Ctrl-D" not in seen:
        seen += os.read(fd, 1024)
    os.write(fd, b"show me my files.\n\x04")
    try:
        while True:
            chunk = os.read(fd, 1024)
            if not chunk:
                break
            seen += chunk
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"reading standard input (Ctrl-D to end)" in seen and b"files" in seen


def test_unspaced_text_gets_a_hint(run):
    result = run("first-order", "-", input="我喜欢学习语言模型。今天天气很好。")
    assert result.exit_code == 0 and "hint: the text looks unspaced" in result.stderr
    assert "hint" not in result.stdout


def test_completion_steps_are_bounded(run):
    result = run("complete", "show_me", "--prompt", "show me", "--steps", str(10**30))
    assert result.exit_code == 2 and "not from 0 to 100,000" in result.stderr


@pytest.mark.parametrize("args", [["--version"], ["first-order", "--help"], ["--help"]])
def test_version_and_help_to_a_full_disk(args):
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "lmtoy", *args], stdout=full, stderr=subprocess.PIPE, env=ENV)
    assert result.returncode == 1
    assert result.stderr.decode().strip() == "error: cannot write output: No space left on device"


def test_a_long_bad_value_is_not_echoed_whole(run):
    words = " ".join(f"word{i}" for i in range(100))
    result = run("second-order", "battery", "--words", words)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) <= 6
    assert "word99" in result.stderr and "word50" not in result.stderr  # the middle is cut
