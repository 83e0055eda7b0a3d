"""lmtoy explain: the JSON contract, the table view at 80 columns, and its errors."""

from __future__ import annotations

import pytest

from conftest import plain

KEYS = ["model", "context", "next", "count", "row_total", "formula", "terms", "value"]


def test_first_order_show_me_my_photos(run_json):
    """The issue's example: the row of my, c(my, photos) 0.5 of 1.0, value 0.5."""
    data = run_json("explain", "first-order", "show_me", "--words", "my photos")
    assert list(data)[:8] == KEYS
    assert (data["model"], data["context"], data["next"]) == ("first-order", ["my"], "photos")
    assert (data["count"], data["row_total"], data["value"]) == (0.5, 1.0, 0.5)
    assert data["formula"] == "c(h,w) / c(h)" and data["terms"] == {"c(h,w)": 0.5, "c(h)": 1.0}
    assert [(e["sentence"], e["next"], e["weight"]) for e in data["events"]] == [
        (1, "directories", 0.2), (2, "files", 0.3), (3, "photos", 0.5)]


def test_first_order_uses_the_last_word_as_context(run_json):
    data = run_json("explain", "first-order", "show_me", "--words", "show me my photos")
    assert data["context"] == ["my"] and data["value"] == 0.5


def test_second_order_whether_the(run_json):
    data = run_json("explain", "second-order", "battery", "-w", "whether the program")
    assert (data["count"], data["row_total"], data["value"]) == (0.6, 1.0, 0.6)


def test_skips_feature(run_json):
    data = run_json("explain", "skips", "program_log", "-w", "battery ran down")
    assert (data["context"], data["count"], data["row_total"], data["value"]) == (["battery", "ran"], 0.5, 0.5, 1.0)
    assert [(e["sentence"], e["position"]) for e in data["events"]] == [(2, 10)]


@pytest.mark.parametrize("model, args, down, please", [
    ("vote", [], 4.0, 5.0),
    ("vote", ["--auto-mask"], 0.0, 1.0),
    ("masked-skips", [], 0.0, 1.0),
])
def test_vote_totals(run_json, model, args, down, please):
    """Sections 4-5: the program prompt votes down 4, please 5; masked, down 0, please 1."""
    prompt = "check the program log and find out whether it ran"
    got = [run_json("explain", model, "program_log", "-w", f"{prompt} {w}", *args)["value"] for w in ("down", "please")]
    assert got == [down, please]
    data = run_json("explain", model, "program_log", "-w", f"{prompt} please", *args)
    assert len(data["features"]) == 9 and data["next"] == "please"


def test_smoothing_terms(run_json):
    data = run_json("explain", "first-order", "show_me", "-w", "my photos", "--smoothing", "add-k")
    assert data["formula"] == "(c(h,w) + k) / (c(h) + k*P)"
    assert data["terms"] == {"c(h,w)": 0.5, "c(h)": 1.0, "k": 1.0, "P": 9}
    assert data["value"] == pytest.approx(0.15) and data["smoothing"] == "add-k (k=1)"
    assert data["lower"][-1]["value"] == pytest.approx(1 / 9)


def test_smoothing_explains_what_score_shows(run_json):
    """Each of score's log10 values is an explain value, <s> and </s> included."""
    import math

    scored = run_json("score", "commands", "show me the photos", "--model", "second-order", "--smoothing", "witten-bell")
    padded = ["<s>", "show", "me", "the", "photos", "</s>"]
    for i, log10 in enumerate(scored["log10"]):
        words = " ".join(padded[max(0, i - 1) : i + 2])
        data = run_json("explain", "second-order", "commands", "-w", words, "-s", "witten-bell")
        assert math.log10(data["value"]) == pytest.approx(log10, abs=1e-9), words


def test_unknown_word_under_smoothing_is_unk(run):
    result = run("explain", "first-order", "show_me", "-w", "my fotos", "-s", "kneser-ney", "-f", "json")
    assert result.exit_code == 0 and '"next": "<unk>"' in result.stdout
    assert "did you mean photos" in result.stderr


def test_table_view_fits_80_columns(run):
    for args in (["first-order", "show_me", "-w", "my photos"], ["vote", "program_log", "-w", "check the program log and find out whether it ran please"],
                 ["second-order", "commands", "-w", "show me the photos", "-s", "kneser-ney"]):
        result = run("explain", *args)
        assert result.exit_code == 0 and max(map(len, result.stdout.splitlines())) <= 80, args
    out = run("explain", "first-order", "show_me", "-w", "my photos").stdout
    assert "value: 0.5 / 1 = 0.5" in out and "* sentence 3, word 3 -> photos, weight 0.5" in out


@pytest.mark.parametrize("args, code, message", [
    (["first-order", "show_me", "-w", "my fotos"], 1, "not in the vocabulary: 'fotos'; did you mean photos?"),
    (["first-order", "show_me", "-w", "my"], 2, "first-order needs at least 2"),
    (["second-order", "battery", "-w", "the battery"], 2, "second-order needs at least 3"),
    (["skips", "program_log", "-w", "check the ran down"], 2, "skips needs three"),
    (["skips", "program_log", "-w", "battery ran down", "-s", "add-k"], 2, "applies to first-order and second-order"),
    (["first-order", "show_me", "-w", "<s> show"], 2, "add --smoothing"),
    (["first-order", "show_me", "-w", "my photos", "-s", "add-k", "--k", "0"], 2, "above 0"),
    (["first-order", "show_me", "-w", "my photos", "--auto-mask"], 2, "applies to vote"),
    (["trigram", "show_me", "-w", "my photos"], 2, "trigram"),
])
def test_errors(run, args, code, message):
    result = run("explain", *args)
    assert result.exit_code == code and message in plain(result.stderr), result.stderr
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_prompt_with_no_seen_feature_votes_zero(run):
    result = run("explain", "vote", "program_log", "-w", "please check down")
    assert result.exit_code == 0 and "no active feature" in result.stdout and "value: 0" in result.stdout


def test_a_long_event_list_shows_the_matching_events_first(run):
    """commands: 'the' has 385 events, 9 followed by photos: all 9 are listed, then others."""
    out = run("explain", "first-order", "commands", "--words", "the photos").stdout
    listed = [line for line in out.splitlines() if "-> " in line and "sentence" in line]
    assert sum("-> photos" in line for line in listed) == 9 and listed[0].lstrip().startswith("*")
    assert "373 more, none of them followed by photos" in out


@pytest.mark.parametrize("words", ["</s> my", "my <s> show"])
def test_boundaries_out_of_place_are_refused(run, words):
    result = run("explain", "second-order", "show_me", "--words", words, "--smoothing", "witten-bell")
    assert result.exit_code == 2 and "--words" in result.stderr
