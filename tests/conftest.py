"""Shared fixtures: a CLI runner and helpers to run lmtoy and read its JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lmtoy.cli import app


@pytest.fixture
def run():
    """run(*args, input=None) -> Result; stderr is kept apart from stdout."""
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def run_json(run):
    """run_json(*args) -> the parsed JSON object a successful command printed."""

    def invoke(*args, input=None):
        result = run(*args, "--format", "json", input=input)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return invoke


def cell(data: dict, row, column: str) -> float:
    """values[row][column] of a matrix JSON object, by labels."""
    return data["values"][data["rows"].index(row)][data["columns"].index(column)]


def plain(text: str) -> str:
    """Text with typer's error-box borders removed and whitespace collapsed."""
    import re

    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())
