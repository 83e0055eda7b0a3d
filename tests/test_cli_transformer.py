"""The transformer commands through the CLI: train, predict, generate, attention, trace,
gradcheck, posenc, embed, and bad model files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import plain

BATTERY = "check the battery log and find out whether it ran"
PROGRAM = "check the program log and find out whether it ran"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model trained with the tour's defaults on program_log (seeded)."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("model") / "program_log.npz"
    result = CliRunner().invoke(app, ["transformer", "train", "program_log", "--out", str(path), "--seed", "0"])
    assert result.exit_code == 0, result.stderr
    assert "saved" in result.stderr and path.exists()
    return path


def test_predict_learns_the_worked_example(run_json, model):
    """P(down | battery prompt) > 0.9 and P(please | program prompt) > 0.9 (section 11)."""
    battery = run_json("transformer", "predict", "--model", model, "--prompt", BATTERY)
    program = run_json("transformer", "predict", "--model", model, "--prompt", PROGRAM)
    assert battery["next"]["down"] > 0.9 and program["next"]["please"] > 0.9
    assert battery["prompt"] == BATTERY.split()
    assert sum(battery["next"].values()) == pytest.approx(1.0, abs=1e-9) and "<end>" in battery["next"]


def test_attention_rows_are_causal_softmax(run_json, model):
    data = run_json("transformer", "attention", "--model", model, "--prompt", BATTERY)
    weights = np.array(data["weights"])  # (L, h, n, n)
    n = len(BATTERY.split()) + 1  # the model reads <end> first: the prompt starts a sentence
    assert weights.shape == (1, 2, n, n) and data["seen"] == ["<end>"] + BATTERY.split()
    assert data["prompt"] == BATTERY.split()  # the user's words, as predict writes them
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(weights[..., np.triu_indices(n, 1)[0], np.triu_indices(n, 1)[1]] == 0.0)
    one = run_json("transformer", "attention", "--model", model, "--prompt", BATTERY, "--layer", "1", "--head", "2")
    assert np.array(one["weights"]).shape == (1, 1, n, n) and one["heads"] == [2]
    mid = run_json("transformer", "attention", "--model", model, "--prompt", BATTERY, "--mid-sentence")
    assert np.array(mid["weights"]).shape == (1, 2, n - 1, n - 1) and mid["seen"] == mid["prompt"] == BATTERY.split()
    last = run_json("transformer", "attention", "--model", model, "--prompt", BATTERY, "--last")
    assert last["prompt"] == BATTERY.split() and last["seen"] == ["<end>"] + BATTERY.split()


def test_generate_greedy_and_sampled(run_json, model):
    greedy = run_json("transformer", "generate", "--model", model, "--prompt", "check the battery", "--steps", "12")
    assert greedy["generated"][:6] == ["log", "and", "find", "out", "whether", "it"]
    assert greedy["generated"][-2:] == ["down", "please"] and "<end>" not in greedy["generated"]
    assert greedy["stopped"] == "the model ended the sentence (<end>)"
    short = run_json("transformer", "generate", "--model", model, "--prompt", "check the battery", "--steps", "2")
    assert short == {"prompt": ["check", "the", "battery"], "generated": ["log", "and"], "text": "check the battery log and",
                     "stopped": None}
    args = ("transformer", "generate", "--model", model, "--prompt", "check", "--seed", "5", "--temperature", "1.5")
    assert run_json(*args) == run_json(*args)


def test_a_prompt_starts_a_sentence(run_json, tmp_path):
    """Sentences are read after <end>: 'a' at a sentence start is followed by 'b' (a b. / c a d.)."""
    path, corpus = tmp_path / "ab.npz", tmp_path / "ab.txt"
    corpus.write_text("a b.\nc a d.\n")
    from typer.testing import CliRunner

    from lmtoy.cli import app

    assert CliRunner().invoke(app, ["transformer", "train", str(corpus), "--out", str(path), "--steps", "600"]).exit_code == 0
    assert run_json("transformer", "predict", "--model", path, "--prompt", "a")["next"]["b"] > 0.9
    assert run_json("transformer", "predict", "--model", path, "--prompt", "c a")["next"]["d"] > 0.9


def test_trace_shapes(run_json, model):
    data = run_json("transformer", "trace", "--model", model, "--prompt", "battery ran")
    shapes = {step["name"]: step["shape"] for step in data["steps"]}
    # <end> battery ran: three rows
    assert shapes["one-hot input"] == [3, 14] and shapes["embedded"] == [3, 16]
    assert shapes["layer 1 head 1 Q"] == [3, 8] and shapes["layer 1 head 1 attention weights"] == [3, 3]
    assert shapes["layer 1 concat"] == [3, 16] and shapes["layer 1 feed-forward hidden"] == [3, 64]
    assert shapes["probabilities"] == [3, 14] and data["seen"] == ["<end>", "battery", "ran"]
    assert data["prompt"] == ["battery", "ran"]
    table = {row["what"]: row["shape"] for row in data["shapes"]}
    assert table["W_o"] == "[16 x 16]" and table["de-embedding"] == "[16 x 14]"
    masked = next(s["values"] for s in data["steps"] if s["name"] == "layer 1 head 1 masked scores")
    assert masked[0][1] is None and isinstance(masked[1][0], float)  # minus infinity above the diagonal: null


def test_trace_table_shows_paper_shapes(run, model):
    out = plain(run("transformer", "trace", "--model", model, "--prompt", "battery ran").stdout)
    assert "[n x N]" in out and "[512 x 64]" in out and "[3 x 14]" in out


def test_embed(run_json, model):
    data = run_json("embed", "--model", model)
    assert len(data["words"]) == 14 and np.array(data["coords"]).shape == (14, 2)


def test_same_seed_same_weights(run, tmp_path):
    paths = [tmp_path / f"{i}.npz" for i in range(3)]
    for path, seed in zip(paths, (3, 3, 4)):
        assert run("transformer", "train", "battery", "--out", path, "--steps", "20", "--seed", seed).exit_code == 0
    a, b, c = (np.load(p, allow_pickle=False) for p in paths)
    assert all(np.array_equal(a[k], b[k]) for k in a.files)
    assert not np.array_equal(a["embedding"], c["embedding"])


@pytest.mark.parametrize("norm, positions", [("post", "sinusoidal"), ("pre", "learned")])
def test_gradcheck_command(run_json, norm, positions):
    data = run_json("transformer", "gradcheck", "--norm", norm, "--positions", positions)
    assert data["errors"] and max(data["errors"].values()) < 1e-6


@pytest.mark.parametrize("args", [["--norm", "none"], ["--attention", "linear"],
                                  ["--norm", "none", "--attention", "linear", "--attention-scale", "0.3"]])
def test_gradcheck_covers_the_options_compile_uses(run_json, args):
    """compile's models leave out layer norm and may use linear attention with their own scale:
    train offers the same options, so gradcheck checks their gradients too."""
    data = run_json("transformer", "gradcheck", *args)
    config = data["config"]
    assert config["norm"] == dict(zip(args[::2], args[1::2])).get("--norm", "post")
    assert config["attention"] == dict(zip(args[::2], args[1::2])).get("--attention", "softmax")
    assert max(data["errors"].values()) < 1e-6


def test_posenc_matches_the_formula(run_json):
    data = run_json("posenc", "--positions", "12", "--d-model", "8")
    pe = np.array(data["values"])
    pos, i = np.arange(12)[:, None], np.arange(4)[None, :]
    np.testing.assert_allclose(pe[:, 0::2], np.sin(pos / 10000 ** (2 * i / 8)), atol=1e-12)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(pos / 10000 ** (2 * i / 8)), atol=1e-12)
    pair = run_json("posenc", "--positions", "12", "--d-model", "8", "--pair", "1")
    np.testing.assert_allclose(np.array(pair["values"]), pe[:, 2:4])


def test_prompt_longer_than_context(run, run_json, model):
    long = " ".join(["check the battery log"] * 5)
    result = run("transformer", "predict", "--model", model, "--prompt", long, "--format", "json")
    assert result.exit_code == 0 and "it reads the last 16" in result.stderr
    assert len(json.loads(result.stdout)["prompt"]) == 16
    strict = run("transformer", "predict", "--model", model, "--prompt", long, "--strict")
    assert strict.exit_code == 2 and "context is 16" in strict.stderr


def _bad_files(tmp_path, model):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(model.read_bytes()[:200])
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    text = tmp_path / "text.npz"
    text.write_text("hello")
    future = tmp_path / "future.npz"
    with np.load(model, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files} | {"format_version": np.array(99)}
    np.savez(future, **arrays)
    return {"missing": (tmp_path / "nope.npz", "does not exist"), "truncated": (truncated, "truncated"),
            "foreign": (foreign, "not an lmtoy transformer model"), "text": (text, "not an .npz"),
            "future": (future, "version 99")}


@pytest.mark.parametrize("case", ["missing", "truncated", "foreign", "text", "future"])
def test_bad_model_files(run, tmp_path, model, case):
    path, message = _bad_files(tmp_path, model)[case]
    result = run("transformer", "predict", "--model", path, "--prompt", "battery ran")
    assert result.exit_code == (2 if case == "missing" else 1)
    assert message in plain(result.stderr) and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, code, message", [
    (["transformer", "predict", "--prompt", "rocket ran"], 1, "'rocket'"),
    (["transformer", "generate", "--prompt", "battery", "--steps", "-2"], 2, "--steps"),
    (["transformer", "generate", "--prompt", "battery", "--temperature", "0"], 2, "above 0"),
    (["transformer", "attention", "--prompt", "battery ran", "--head", "3"], 2, "model's 2"),
])
def test_bad_input(run, model, args, code, message):
    result = run(*args[:2], "--model", model, *args[2:])
    assert result.exit_code == code and message in plain(result.stderr)


@pytest.mark.parametrize("args, message", [
    (["--d-model", "10", "--heads", "3"], "not divisible by 3 heads"),
    (["--positions", "spiral"], "'spiral' is not one of"),
    (["--norm", "middle"], "'middle' is not one of"),
])
def test_bad_config(run, tmp_path, args, message):
    result = run("transformer", "train", "battery", "--out", tmp_path / "m.npz", *args)
    assert result.exit_code == 2 and message in plain(result.stderr)
    assert not (tmp_path / "m.npz").exists()


def test_second_ctrl_c_stops_at_once_and_names_the_checkpoint(tmp_path):
    """Made for a loaded machine: the first press comes just after a checkpoint, at the start of
    a step of about half a second (one BLAS thread), and the second as soon as the first is
    acknowledged, so the kernel never merges them and the step cannot end between them. The
    name has brackets: the message must not read it as rich markup."""
    import threading

    from lmtoy.transformer import load_model

    out = tmp_path / "m[b].npz"
    proc = subprocess.Popen([sys.executable, "-m", "lmtoy", "transformer", "train", "commands", "--out", str(out),
                             "--steps", "100000", "--checkpoint-every", "1", "--d-model", "512", "--heads", "4",
                             "--layers", "2", "--context", "64", "--batch", "32", "--threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    lines, heard = [], threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line.decode())
            if "stopping after this step" in lines[-1]:
                heard.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        first = _next_checkpoint(out, proc, None)
        _next_checkpoint(out, proc, first)  # a save just ended: a whole step lies ahead
        proc.send_signal(signal.SIGINT)
        assert heard.wait(120), "".join(lines)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        proc.kill()
    reader.join(10)
    err = "".join(lines)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert f"stopped at once: {out} holds step " in err, err
    load_model(out)


def _next_checkpoint(path, proc, previous, timeout=300):  # -> the inode of a checkpoint newer than previous
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            inode = path.stat().st_ino  # each save is a new file renamed into place
        except FileNotFoundError:
            inode = None
        if inode is not None and inode != previous:
            return inode
        time.sleep(0.002)
    raise AssertionError(f"no new checkpoint at {path} (exit code {proc.poll()})")


def test_a_diverging_step_is_not_saved(run, tmp_path):
    out = tmp_path / "m.npz"
    result = run("transformer", "train", "program_log", "--out", out, "--steps", "1", "--lr", "1e308")
    assert result.exit_code == 1 and "diverged" in result.stderr and not out.exists()


def test_ctrl_c_keeps_the_last_checkpoint(tmp_path):
    """SIGINT during training stops after the current step and leaves a loadable model."""
    out = tmp_path / "m.npz"
    proc = subprocess.Popen([sys.executable, "-m", "lmtoy", "transformer", "train", "commands", "--out", str(out),
                             "--steps", "100000", "--checkpoint-every", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    deadline = time.time() + 60
    while not out.exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()  # stopped early, but cleanly: the model is saved
    assert b"stopped early" in err and b"Traceback" not in err
    from lmtoy.transformer import load_model

    assert load_model(out).config.vocab_size > 100
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_stop_reasons_are_messages_on_stderr(run, run_json, model):
    """Data on stdout, notes on stderr: '> generated.txt' holds only the text. 'stopped' is a
    string saying why generation ended early, or null when it ran every step (generate and
    complete alike)."""
    result = run("transformer", "generate", "--model", model, "--prompt", "check the battery", "--steps", "12")
    assert result.exit_code == 0
    assert plain(result.stdout) == "check the battery log and find out whether it ran down please"
    assert "stopped: the model ended the sentence (<end>)" in result.stderr
    grown = run("complete", "show_me", "--prompt", "show me my")
    assert grown.exit_code == 0 and "stopped" not in grown.stdout and "photos please" in grown.stdout
    assert "stopped after 2 words: nothing follows 'please'" in plain(grown.stderr)
    assert run_json("complete", "show_me", "--prompt", "show me", "--steps", "1")["stopped"] is None


def test_gradcheck_help_lists_the_choices(run):
    out = plain(run("transformer", "gradcheck", "--help").stdout)
    assert "post|pre" in out and "sinusoidal|learned" in out  # the choices, not a bare TEXT
    wrong = run("transformer", "gradcheck", "--norm", "middle")
    assert wrong.exit_code == 2 and "middle" in wrong.stderr


def test_a_model_name_too_long_is_a_usage_error(run):
    result = run("transformer", "predict", "--model", "x" * 300 + ".npz", "--prompt", "battery ran")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "File name too long" in plain(result.stderr) and "x" * 100 not in result.stderr  # the name is shortened


def _damaged(tmp_path, model, change):  # -> the model file with the arrays change(arrays) replaced
    with np.load(model, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    path = tmp_path / "damaged.npz"
    np.savez(path, **(arrays | change(arrays)))
    return path


def _huge(arrays):  # every weight's magnitude 1e38: finite float32, but the forward pass overflows
    meta = ("format", "format_version", "config", "vocabulary", "keep_case", "tokenizer")
    return {k: (np.sign(v) * 1e38).astype(np.float32) for k, v in arrays.items() if k not in meta}


def _config(arrays, **fields):
    return {"config": np.array(json.dumps(json.loads(str(arrays["config"])) | fields))}


DAMAGE = {
    "keep_case": lambda arrays: {"keep_case": np.array([True, False])},
    "no end": lambda arrays: {"vocabulary": np.array([*arrays["vocabulary"][:-1], "zebra"])},
    "layers": lambda arrays: _config(arrays, n_layers=10**9),
    "huge": _huge,
}


@pytest.mark.parametrize("case, args, message", [
    ("keep_case", ["transformer", "predict"], "keep_case is bool (2,), expected a bool ()"),
    ("no end", ["transformer", "generate", "--mid-sentence"], "the vocabulary has no <end>"),
    ("layers", ["transformer", "predict"], "needs 12,000,000,002 weight arrays"),
    ("huge", ["transformer", "predict"], "its weights have diverged"),
    ("huge", ["transformer", "generate"], "its weights have diverged"),
    ("huge", ["transformer", "attention"], "its weights have diverged"),
    ("huge", ["transformer", "attention", "--last"], "its weights have diverged"),
    ("huge", ["transformer", "trace"], "its weights have diverged"),
])
@pytest.mark.filterwarnings("error")  # a numpy RuntimeWarning fails the test
def test_damaged_models_are_refused_in_one_line(run, tmp_path, model, case, args, message):
    """No traceback, no warning, no hang (a config claiming 10^9 layers), no all-null output."""
    path = _damaged(tmp_path, model, DAMAGE[case])
    result = run(*args, "--model", path, "--prompt", "battery ran", "--format", "json")
    assert result.exit_code == 1 and result.stdout == ""
    assert message in plain(result.stderr) and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.filterwarnings("error")
def test_embed_of_huge_weights(run_json, tmp_path, model):
    """Float32 sums of 1e38 overflowed into an SVD that did not converge; float64 projects them."""
    coords = np.array(run_json("embed", "--model", _damaged(tmp_path, model, _huge))["coords"], dtype=float)
    assert coords.shape == (14, 2) and np.isfinite(coords).all()


@pytest.mark.filterwarnings("error")
def test_trace_of_a_model_trained_with_a_huge_rate_warns_of_nothing(run, run_json, tmp_path):
    """--lr 1e6 leaves finite weights whose layer-norm variance overflows float32: numpy warned."""
    out = tmp_path / "m.npz"
    trained = run("transformer", "train", "program_log", "--out", out, "--steps", "20", "--lr", "1e6")
    assert trained.exit_code == 1 and "diverged" in trained.stderr and out.exists()  # diverged, and saved
    for command in ("trace", "attention", "predict"):
        result = run("transformer", command, "--model", out, "--prompt", "battery ran", "--format", "json")
        assert result.exit_code in (0, 1) and "Warning" not in result.stderr


def test_trace_shows_the_words_that_matter(run, model):
    """Columns over the vocabulary keep the prompt's own words (one-hot) and the likely next
    words (probabilities), not the alphabetically first ones."""
    import os

    out = run("transformer", "trace", "--model", model, "--prompt", "check the battery log and find out whether it ran").stdout
    start = out.index("one-hot input  [")
    onehot = out[start:out.index("embedded  [", start)]
    for word in ("battery", "whether", "ran", "<end>"):
        assert word in onehot, word
    probabilities = out[out.rindex("probabilities"):]
    assert "down" in probabilities
    assert max(map(len, out.splitlines())) <= 80
