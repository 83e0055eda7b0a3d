"""Sections 4-8 through the CLI's JSON output: votes, masks, QK^T, feed-forward, completion."""

from __future__ import annotations


import pytest

from conftest import plain

PROGRAM = "check the program log and find out whether it ran"
BATTERY = "check the battery log and find out whether it ran"


def _down_please(data: dict, key: str = "totals") -> tuple[float, float]:
    return data[key]["down"], data[key]["please"]


@pytest.mark.parametrize("prompt, expected", [(PROGRAM, (4, 5)), (BATTERY, (5, 4))])
def test_vote_unmasked(run_json, prompt, expected):
    data = run_json("vote", "program_log", "--prompt", prompt)
    assert _down_please(data) == expected == _down_please(data, "unmasked_totals")
    assert data["mask"] == [1] * 9 and len(data["features"]) == 9
    assert data["prediction"] == ("please" if expected[1] > expected[0] else "down")
    assert set(data["totals"]) == set(data["columns"]) and len(data["columns"]) == 13


@pytest.mark.parametrize("mask", [["--keep", "battery,ran", "--keep", "program,ran"], ["--auto-mask"]])
@pytest.mark.parametrize("prompt, expected", [(PROGRAM, (0, 1)), (BATTERY, (1, 0))])
def test_vote_masked(run_json, prompt, expected, mask):
    data = run_json("vote", "program_log", "--prompt", prompt, *mask)
    assert _down_please(data) == expected
    assert _down_please(data, "unmasked_totals") == ((4, 5) if prompt == PROGRAM else (5, 4))
    kept = [f for f, m in zip(data["features"], data["mask"]) if m]
    assert kept == ([["program", "ran"]] if prompt == PROGRAM else [["battery", "ran"]])


def test_vote_keep_inactive_feature_is_listed(run):
    result = run("vote", "program_log", "--prompt", PROGRAM, "--keep", "battery,ran", "--keep", "program,ran",
                 "--format", "json")
    assert result.exit_code == 0 and "battery, ran" in result.stderr
    result = run("vote", "program_log", "--prompt", PROGRAM, "--keep", "battery,ran")
    assert result.exit_code == 1 and "active: check, ran" in plain(result.stderr)


def test_vote_repeated_word_activates_once(run_json):
    data = run_json("vote", "program_log", "--prompt", "check the log the log and it ran")
    assert [f[0] for f in data["features"]] == ["check", "the", "log", "and", "it"]
    assert _down_please(data) == (2.5, 2.5)


def test_attend_qkt_is_the_mask(run_json):
    data = run_json("attend", "program_log", "--query", "ran")
    vocab = data["vocabulary"]
    j = vocab.index("ran")
    assert data["Q"] == [1.0 if w == "ran" else 0.0 for w in vocab]
    assert data["QKT"] == [row[j] for row in data["K"]]
    assert [w for w, m in zip(vocab, data["QKT"]) if m] == ["battery", "program", "ran"]


@pytest.mark.parametrize("prompt, pre, post, output", [
    (BATTERY, [1, -1], [1, 0], (1, 0)),
    (PROGRAM, [-1, 1], [0, 1], (0, 1)),
])
def test_feedforward(run_json, prompt, pre, post, output):
    data = run_json("feedforward", "program_log", "--prompt", prompt)
    assert data["inputs"] == ["battery", "program", "ran", "bias"]
    assert data["features"] == [["battery", "ran"], ["program", "ran"]]
    assert data["W1"] == [[1, -1, 1, -1], [-1, 1, 1, -1]]
    assert data["pre_relu"] == pre and data["post_relu"] == post
    assert _down_please(data, "output") == output
    assert data["prediction"] == ("down" if output[0] else "please")


def test_feedforward_without_informative_features(run):
    result = run("feedforward", "show_me", "--prompt", "show me my")
    assert result.exit_code == 1 and "no informative pair features" in result.stderr


@pytest.mark.parametrize("model", ["first-order", "second-order", "skips", "masked-skips"])
def test_complete_greedy(run_json, model):
    data = run_json("complete", "show_me", "--prompt", "show me my", "--model", model)
    assert data["prompt"] == ["show", "me", "my"] and data["generated"] == ["photos", "please"]
    assert "please" in data["stopped"]
    assert data["steps"][0]["token"] == "photos" and data["steps"][0]["scores"]["photos"] > 0


def test_complete_sampling_is_reproducible(run_json):
    args = ("complete", "commands", "--prompt", "show me", "--sample", "--seed", "7", "--steps", "8")
    first, again = run_json(*args), run_json(*args)
    assert first == again
    greedy = [run_json("complete", "commands", "--prompt", "show me")["generated"] for _ in range(2)]
    assert greedy[0] == greedy[1]


def test_sampling_options_imply_sampling(run_json):
    seeded = run_json("complete", "commands", "--prompt", "show me", "--seed", "7", "--steps", "8")
    assert seeded == run_json("complete", "commands", "--prompt", "show me", "--sample", "--seed", "7", "--steps", "8")


def test_complete_top_k_1_is_greedy(run_json):
    sampled = run_json("complete", "commands", "--prompt", "show me", "--sample", "--top-k", "1", "--seed", "3")
    assert sampled["generated"] == run_json("complete", "commands", "--prompt", "show me")["generated"]


def test_compare_ladder(run_json):
    data = run_json("compare", "program_log", "--prompt", BATTERY)
    models = data["models"]
    assert models["first-order"]["prediction"] == "down" and models["first-order"]["margin"] == 0
    assert models["skips"]["prediction"] == "down" and models["skips"]["margin"] == 1
    assert models["masked-skips"]["prediction"] == "down" and models["masked-skips"]["margin"] == 1
    assert models["second-order"]["prediction"] == "down" and models["second-order"]["margin"] == 0  # (it, ran): a tie


@pytest.mark.parametrize("args, code, message", [
    (["vote", "program_log", "--prompt", "check the rocket ran"], 1, "'rocket'"),
    (["vote", "program_log", "--prompt", "..."], 2, "has no words"),
    (["vote", "program_log", "--prompt", PROGRAM, "--keep", "battery"], 2, "'earlier,recent'"),
    (["complete", "show_me", "--prompt", "show", "--steps", "-1"], 2, "not from 0 to 100,000"),
    (["complete", "show_me", "--prompt", "show", "--sample", "--temperature", "0"], 2, "must be a finite number above 0"),
    (["complete", "show_me", "--prompt", "show", "--sample", "--temperature", "nan"], 2, "must be a finite number above 0"),
    (["attend", "program_log", "--query", "ran down"], 2, "give one"),
    (["vote", "program_log", "--prompt", "ran"], 2, "one-word prompt"),
    (["complete", "show_me", "--prompt", "show yuo my"], 1, "'yuo'"),
    (["complete", "show_me", "--prompt", "show", "--model", "nine"], 2, "nine"),
    (["attend", "program_log", "--query", "rann"], 1, "did you mean ran"),
])
def test_bad_input(run, args, code, message):
    result = run(*args)
    assert result.exit_code == code, result.stderr
    assert message in plain(result.stderr) and "Traceback" not in result.stderr


def test_ignore_unknown(run_json):
    data = run_json("vote", "program_log", "--prompt", "check the rocket battery ran", "--ignore-unknown")
    assert [f[0] for f in data["features"]] == ["check", "the", "battery"]


def test_vote_csv_rows_line_up(run):
    """Every CSV row has the same label fields, so totals sit under their words."""
    import csv
    import io

    out = run("vote", "program_log", "--prompt", PROGRAM, "--auto-mask", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    totals = next(r for r in rows if r["earlier"] == "totals")
    unmasked = next(r for r in rows if r["earlier"] == "unmasked totals")
    assert (totals["down"], totals["please"]) == ("0", "1") and (unmasked["down"], unmasked["please"]) == ("4", "5")
    assert next(r for r in rows if r["earlier"] == "check")["please"] == "0"  # masked out


def test_no_prediction_when_every_score_is_zero(run, run_json):
    data = run_json("feedforward", "program_log", "--prompt", "the battery and the program ran")
    assert data["prediction"] is None and data["post_relu"] == [0, 0]
    assert "no feature fired" in plain(run("feedforward", "program_log", "--prompt", "the battery and the program ran").stdout)
    data = run_json("vote", "program_log", "--prompt", PROGRAM, "--auto-mask", "--min-gain", "1")
    assert data["prediction"] is None and not any(data["totals"].values())


def test_tie_is_named(run, run_json):
    data = run_json("vote", "program_log", "--prompt", PROGRAM, "--window", "2")
    assert data["window"] == 2 and data["margin"] == 0 and data["features"] == [["whether", "ran"], ["it", "ran"]]
    assert "a tie" in plain(run("vote", "program_log", "--prompt", PROGRAM, "--window", "2").stdout)


def test_min_gain_default_matches_the_core():
    from lmtoy import attention
    from lmtoy.cli.attention import MIN_GAIN

    assert MIN_GAIN == attention.DEFAULT_MIN_GAIN


# The point of masking, lined-up products, unique labels -------------------------------------


def test_vote_shows_the_winners_share(run, run_json):
    """4 vs 5 becomes 0 vs 1: the margin stays 1, the share goes from 56% to 100%."""
    unmasked = " ".join(run("vote", "program_log", "--prompt", PROGRAM).stdout.split())
    assert "prediction: please (margin 1, 56% of the total)" in unmasked
    masked = " ".join(run("vote", "program_log", "--prompt", PROGRAM, "--auto-mask").stdout.split())
    assert "prediction: please (margin 1, 100% of the total)" in masked
    assert "without the mask: please (margin 1, 56% of the total)" in masked
    assert run_json("vote", "program_log", "--prompt", PROGRAM)["share"] == pytest.approx(5 / 9)
    assert run_json("vote", "program_log", "--prompt", PROGRAM, "--auto-mask")["share"] == 1


def _table_header(out: str, title: str) -> list[str]:
    lines = out.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith(title)) + 1].split()


def test_attend_q_and_k_show_the_same_columns(run):
    """On a big vocabulary Q's columns are K's columns, and Q K^T's columns are rows of K."""
    out = run("attend", "commands", "--query", "files").stdout
    k_cols = _table_header(out, "K:")[3:]  # after 'earlier \ recent'
    assert k_cols == _table_header(out, "Q:") and "files" in k_cols
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("K:")) + 3
    k_rows = [line.split()[0] for line in lines[start:] if line.strip() and not line.startswith(("Q", " "))][:40]
    qkt = _table_header(out, "Q K^T")
    assert set(qkt) <= set(k_rows) | {"…"}


def test_feedforward_labels_the_recent_word_apart(run):
    corpus = "x a x p.\ny a x q.\nx a x p.\ny a x q.\n"
    result = run("feedforward", "-", "--prompt", "y a x", input=corpus)
    assert result.exit_code == 0, result.stderr
    assert " ".join(_table_header(result.stdout, "W1:")) == "feature a x y x (recent) bias"
