"""KenLM, an independent reader of ARPA files, gives lmtoy's scores.

For each bundled training corpus, order (first-order is ARPA order 2, second-order 3)
and smoothing that has an ARPA form (add-k, witten-bell, kneser-ney; ``none`` has none),
``lmtoy first-order/second-order --format arpa`` is loaded in KenLM, and every sentence
of a held-out file is scored both ways: KenLM's ``full_scores(s, bos=True, eos=True)``
gives each word's log10 probability and then </s>'s, as ``lmtoy score`` lists them
(``log10``, n + 1 values), and their sum is ``perplexity --per-sentence``'s log10_prob.
Agreement to 1e-4 log10 means the ARPA backoff form and lmtoy's interpolated model are
the same model. Skipped when kenlm is not installed (``pip install kenlm`` builds it).
"""

from __future__ import annotations

import json

import pytest

kenlm = pytest.importorskip("kenlm")

TOLERANCE = 1e-4
SMOOTHINGS = [("add-k", []), ("add-k", ["--k", "0.5"]), ("witten-bell", []), ("kneser-ney", [])]
SHOW_ME_HELD_OUT = "show me my photos please.\nshow me my music please.\nmy files please.\nshow me.\nplease show my photos.\n"


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    """Held-out files by training corpus: the bundled commands_heldout for commands, and
    a few sentences with unseen words and unseen pairs for show_me and battery."""
    folder = tmp_path_factory.mktemp("held")
    (folder / "show_me.txt").write_text(SHOW_ME_HELD_OUT)
    (folder / "battery.txt").write_text("check whether the battery ran please.\nthe program ran down.\ncheck the log.\n")
    return {"commands": "commands_heldout", "show_me": str(folder / "show_me.txt"), "battery": str(folder / "battery.txt")}


@pytest.mark.parametrize("smoothing, extra", SMOOTHINGS, ids=lambda v: v if isinstance(v, str) else "-".join(v))
@pytest.mark.parametrize("order", ["first-order", "second-order"])
@pytest.mark.parametrize("train", ["commands", "show_me", "battery"])
def test_kenlm_scores_equal_lmtoy_score(run, held_out, tmp_path, train, order, smoothing, extra):
    arpa = run(order, train, "--format", "arpa", "--smoothing", smoothing, *extra)
    assert arpa.exit_code == 0, arpa.stderr
    path = tmp_path / "model.arpa"
    path.write_text(arpa.stdout)
    model = kenlm.Model(str(path))
    assert model.order == (2 if order == "first-order" else 3)
    result = run("perplexity", train, "--held-out", held_out[train], "-m", order, "--smoothing", smoothing, *extra,
                 "--per-sentence", "--format", "json")
    assert result.exit_code == 0, result.stderr
    sentences = json.loads(result.stdout)["sentences"]
    assert sentences
    for sentence in sentences:
        text = sentence["text"]
        theirs = [p for p, _, _ in model.full_scores(text, bos=True, eos=True)]
        scored = run("score", train, text, "--model", order, "--smoothing", smoothing, *extra, "--format", "json")
        ours = json.loads(scored.stdout)["log10"]
        assert ours == pytest.approx(theirs, abs=TOLERANCE), text
        assert sentence["log10_prob"][order] == pytest.approx(model.score(text, bos=True, eos=True), abs=TOLERANCE), text
