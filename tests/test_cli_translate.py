"""The encoder-decoder through the CLI: train --task translate, translate (greedy, beam),
attention and trace with --source, gradcheck --task translate, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import plain

REQUEST = "show me my old files in the archive please"
TRANSLATION = "arkivo la en dosi velo mia mi vido pu".split()  # place first, noun before adjective, verb last


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The bundled commands_pairs task, the tour's sizes, 1,000 steps of batch 32 (about 1 s)."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("translate") / "pairs.npz"
    args = ["transformer", "train", "commands_pairs", "--task", "translate", "--out", str(path), "--steps", "1000",
            "--batch", "32", "--seed", "0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "saved" in result.stderr and "hint" not in result.stderr
    return path


@pytest.fixture(scope="module")
def next_word_model(tmp_path_factory):
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("next") / "show_me.npz"
    assert CliRunner().invoke(app, ["transformer", "train", "show_me", "--out", str(path), "--steps", "5"]).exit_code == 0
    return path


def test_translate_greedy(run, model):
    """REQUEST is not one of the 300 training pairs: the model learned the word order."""
    from lmtoy.corpus import BUNDLED

    assert f"\n{REQUEST}\t" not in (BUNDLED / "commands_pairs.txt").read_text()
    result = run("transformer", "translate", "--model", model, REQUEST, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["source", "translation", "text", "score", "stopped"]
    assert data["source"] == REQUEST.split() and data["translation"] == TRANSLATION
    assert data["stopped"] == "the model ended the sentence (<end>)" and -0.1 < data["score"] <= 0
    assert result.stderr.strip() == "stopped: the model ended the sentence (<end>)"


def test_translate_beam_and_steps(run_json, model):
    beam = run_json("transformer", "translate", "--model", model, REQUEST, "--beam", "4")
    assert beam["translation"] == TRANSLATION and beam["score"] <= 0
    short = run_json("transformer", "translate", "--model", model, REQUEST, "--steps", "2")
    assert short["translation"] == TRANSLATION[:2] and short["stopped"] is None


def test_translate_table_and_csv(run, model):
    table = run("transformer", "translate", "--model", model, REQUEST)
    assert table.exit_code == 0 and " ".join(TRANSLATION) in table.stdout and "score" in table.stdout
    csv = run("transformer", "translate", "--model", model, REQUEST, "--format", "csv")
    assert csv.stdout.splitlines()[0] == "table,source,translation,score,stopped"
    assert csv.stdout.splitlines()[1].startswith(f"translation,{REQUEST},{' '.join(TRANSLATION)},")


def test_attention_of_the_models_own_translation(run_json, model):
    data = run_json("transformer", "attention", "--model", model, "--source", REQUEST)
    assert set(data) == {"source", "target", "seen", "layers", "heads", "encoder", "decoder", "cross"}
    assert data["source"] == REQUEST.split() and data["target"] == TRANSLATION
    assert data["seen"] == {"source": REQUEST.split() + ["<end>"], "target": ["<end>"] + TRANSLATION}
    n_s, n_t = len(REQUEST.split()) + 1, len(TRANSLATION) + 1
    encoder, decoder, cross = (np.array(data[k]) for k in ("encoder", "decoder", "cross"))
    assert encoder.shape == (1, 2, n_s, n_s) and decoder.shape == (1, 2, n_t, n_t) and cross.shape == (1, 2, n_t, n_s)
    for weights in (encoder, decoder, cross):
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(decoder[..., np.triu_indices(n_t, 1)[0], np.triu_indices(n_t, 1)[1]] == 0.0)
    assert encoder[0, 0][np.triu_indices(n_s, 1)].min() > 0  # the encoder has no mask
    # reordering: <end> (predicting 'arkivo') looks at 'archive', the last word; 'mia' (predicting 'mi') at 'me'
    looked_at = lambda row: data["seen"]["source"][cross[0, :, row].max(axis=0).argmax()]  # by the surest head
    assert looked_at(0) == "archive" and looked_at(TRANSLATION.index("mia") + 1) == "me"


def test_attention_with_a_given_target_and_one_head(run, run_json, model):
    data = run_json("transformer", "attention", "--model", model, "--source", "show my files", "--target", "dosi mia",
                    "--layer", "1", "--head", "2")
    assert data["target"] == ["dosi", "mia"] and data["heads"] == [2]
    assert np.array(data["cross"]).shape == (1, 1, 3, 4)
    csv = run("transformer", "attention", "--model", model, "--source", "show my files", "--format", "csv")
    names = {line.split(",")[0] for line in csv.stdout.splitlines()} - {"table"}
    assert names == {f"{part} layer 1 head {h}" for part in ("encoder", "decoder", "cross") for h in (1, 2)}
    table = run("transformer", "attention", "--model", model, "--source", "show my files")
    assert "Cross-attention" in table.stdout and max(map(len, table.stdout.splitlines())) <= 80
    markdown = run("transformer", "attention", "--model", model, "--source", "show my files", "--head", "1",
                   "--format", "markdown")
    assert [line for line in markdown.stdout.splitlines() if line.startswith("###")] == [
        "### encoder layer 1, head 1", "### decoder layer 1, head 1", "### cross layer 1, head 1"]


def test_trace_walks_the_encoder_then_the_decoder(run_json, model):
    data = run_json("transformer", "trace", "--model", model, "--source", "show my files")
    names = [step["name"] for step in data["steps"]]
    assert names[0] == "source one-hot" and names[-1] == "probabilities"
    assert names.index("encoder layer 1 add & norm 2") < names.index("target one-hot")
    shape = {step["name"]: step["shape"] for step in data["steps"]}
    assert shape["decoder layer 1 cross head 1 attention weights"] == [4, 4]  # <end> dosi mia vido x show my files <end>
    assert shape["decoder layer 1 cross head 1 K"] == [4, 8] and shape["logits"][1] == 36
    assert data["target"] == ["dosi", "mia", "vido"]
    only = run_json("transformer", "trace", "--model", model, "--source", "show my files", "--shapes")
    assert only["steps"] == [] and any(row["what"] == "cross-attention" for row in only["shapes"])


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_gradcheck_translate(run_json, norm):
    data = run_json("transformer", "gradcheck", "--task", "translate", "--norm", norm)
    assert data["config"]["task"] == "translate" and "encoder output" in data["errors"]
    assert "decoder.layer1.cross.W_k" in data["errors"] and "decoder.layer1.norm3.gain" in data["errors"]
    assert max(data["errors"].values()) < 1e-6


def test_embed_reads_the_target_embedding(run_json, model):
    data = run_json("embed", "--model", model)
    assert "arkivo" in data["words"] and "archive" not in data["words"]


@pytest.mark.parametrize("text, message", [
    ("show me\tvido mi\nno tab here\n", "line 2: no TAB between source and target (expected source<TAB>target)"),
    ("show me\t  !\n", "line 1: the target side has no words"),
    ("\tvido\n", "line 1: the source side has no words"),
    ("a\tb\n" + "a " * 20 + "\tb\n", "line 2: the source has 20 words, 21 positions with <end>, more than the context "
                                     "of 16: give --context 21 (the longest pair's need) or more"),
])  # fmt: skip
def test_bad_pairs_files(run, tmp_path, text, message):
    corpus = tmp_path / "pairs.txt"
    corpus.write_text(text)
    result = run("transformer", "train", corpus, "--task", "translate", "--out", tmp_path / "m.npz")
    assert result.exit_code == 1 and not (tmp_path / "m.npz").exists()
    assert result.stderr == f"error: {corpus}: {message}\n"


def test_a_pairs_corpus_without_task_translate_gets_a_hint(run, tmp_path):
    result = run("transformer", "train", "commands_pairs", "--out", tmp_path / "m.npz", "--steps", "1")
    assert result.exit_code == 0
    hints = [line for line in result.stderr.splitlines() if line.startswith("hint:")]
    assert hints == ["hint: most lines hold a TAB, as in a pairs corpus (source<TAB>target): to train a translation "
                     "model, add --task translate"]
    assert "hint: most lines hold a TAB" not in run("transformer", "train", "show_me", "--out", tmp_path / "n.npz",
                                                    "--steps", "1").stderr


def test_no_file_is_replaced_that_is_not_a_model(run, tmp_path):
    notes = tmp_path / "notes.npz"
    notes.write_bytes(b"my notes")
    result = run("transformer", "train", "commands_pairs", "--task", "translate", "--out", notes, "--steps", "1")
    assert result.exit_code == 2 and notes.read_bytes() == b"my notes"


def test_models_of_the_other_task_are_refused(run, model, next_word_model):
    predict = run("transformer", "predict", "--model", model, "--prompt", "show me")
    assert predict.exit_code == 2 and "is a translate model, for 'lmtoy transformer translate" in plain(predict.stderr)
    for command in (["generate", "--prompt", "show"], ["backward", "--prompt", "show me"]):
        assert run("transformer", *command, "--model", model).exit_code == 2
    translate = run("transformer", "translate", "--model", next_word_model, "show me")
    assert translate.exit_code == 2 and "is a next-word model" in plain(translate.stderr)
    assert "this command needs a translate model" in plain(translate.stderr)


@pytest.mark.parametrize("args, code, message", [
    (["translate", "show me my old flies"], 1, "error: not in the vocabulary: 'flies'; did you mean files"),
    (["translate", "show " * 16], 2, "the source has 16 words; the model reads at most 15"),
    (["translate", "!!"], 2, "'!!' has no words"),
    (["translate", "show", "--beam", "0"], 2, "Invalid value for '--beam' / '-k'"),
    (["attention", "--prompt", "show me"], 2, "--prompt: is for next-word models; a translate model reads --source"),
    (["attention"], 2, "--source: is needed"),
    (["attention", "--source", "show me", "--last"], 2, "--last: is for next-word models"),
    (["attention", "--source", "show me", "--layer", "2"], 2, "2 is more than the layers in its encoder (1)"),
    (["attention", "--source", "show me", "--target", "vido xyz"], 1, "not in the vocabulary: 'xyz'"),
    (["trace", "--source", "show me", "--target", "vido " * 16], 2, "the target has 16 words; the model reads at most 15"),
    (["trace", "--source", "show me", "--mid-sentence"], 2, "--mid-sentence: is for next-word models"),
])  # fmt: skip
def test_bad_translate_input_is_one_line(run, model, args, code, message):
    result = run("transformer", *args, "--model", model)
    assert result.exit_code == code and message in plain(result.stderr), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_next_word_model_refuses_source_and_target(run, next_word_model):
    result = run("transformer", "attention", "--model", next_word_model, "--source", "show me")
    assert result.exit_code == 2 and "--source: is for translate models" in plain(result.stderr)
    result = run("transformer", "trace", "--model", next_word_model)
    assert result.exit_code == 2 and "--prompt: is needed" in plain(result.stderr)


@pytest.fixture(scope="module")
def uneven_model(tmp_path_factory):
    """3 encoder layers, 1 decoder layer: --layer 2 and 3 exist in the encoder only."""
    from typer.testing import CliRunner

    from lmtoy.cli import app

    path = tmp_path_factory.mktemp("uneven") / "uneven.npz"
    args = ["transformer", "train", "commands_pairs", "--task", "translate", "--encoder-layers", "3", "--layers", "1",
            "--out", str(path), "--steps", "2"]
    assert CliRunner().invoke(app, args).exit_code == 0
    return path


def test_attention_layer_checks_each_stack(run, uneven_model):
    """--layer L picks layer L of each stack that has one: on 3 encoder and 1 decoder layers,
    --layer 2 is the encoder's second layer alone (a note says so); --layer 4 is in neither."""
    result = run("transformer", "attention", "--model", uneven_model, "--source", "show me", "--layer", "2",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["layers"] == {"encoder": [2], "decoder": []}
    assert np.shape(data["encoder"])[:2] == (1, 2) and data["decoder"] == data["cross"] == []
    assert plain(result.stderr).strip() == "the decoder has 1 layer: --layer 2 shows encoder layer 2 only"
    table = run("transformer", "attention", "--model", uneven_model, "--source", "show me", "--layer", "3")
    assert table.exit_code == 0 and "encoder layer 3, head 1" in table.stdout
    assert "Decoder" not in table.stdout and "Cross" not in table.stdout
    first = run("transformer", "attention", "--model", uneven_model, "--source", "show me", "--layer", "1",
                "--format", "json")
    assert json.loads(first.stdout)["layers"] == {"encoder": [1], "decoder": [1]} and first.stderr == ""
    refused = run("transformer", "attention", "--model", uneven_model, "--source", "show me", "--layer", "4")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "4 is more than the layers in its encoder (3) and decoder (1)" in plain(refused.stderr)
