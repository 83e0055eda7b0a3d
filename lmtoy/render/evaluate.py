"""Views of held-out scores: the perplexity ladder, per-sentence scores, one sentence's events.

Rows are ranked by perplexity, lowest (best) first. An infinite perplexity (a zero
probability under --smoothing none) is shown as inf and written to JSON as null.
"""

from __future__ import annotations

import math

from rich import box
from rich.table import Table
from rich.text import Text

from lmtoy.render.text import TextTable, number
from lmtoy.render.views import View

CONVENTION = ("each sentence is n + 1 events (its words, then </s>); unseen words are <unk>; "
              "perplexity = 10^(-log10 P / events)")


def _finite(v: float):
    return v if math.isfinite(v) else None


def _num(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}f}" if math.isfinite(v) else "inf" if v > 0 else "-inf"


def _entry(score) -> dict:
    return {"perplexity": _finite(score.perplexity), "bits_per_word": _finite(score.bits_per_word),
            "log10_prob": _finite(score.log10_prob), "words": score.words, "oov": score.oov,
            "sentences": score.sentences, "smoothing": score.smoothing}


def perplexity_view(train: str, held_out: str, scores: list, sentences: list[str] | None = None) -> View:
    """The models ranked by held-out perplexity; ``sentences`` (the held-out texts) adds
    each sentence's log10 probability under every model (--per-sentence)."""
    ranked = sorted(scores, key=lambda s: (s.perplexity, s.name))
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, header_style="bold")
    header = ["rank", "model", "perplexity", "bits/word", "log10 P", "words", "oov", "sentences", "smoothing"]
    for name in header[1:-1]:  # rank is the row order; the smoothing: one line per model below
        table.add_column(name, justify="left" if name == "model" else "right", no_wrap=True)
    rows = []
    for i, s in enumerate(ranked, 1):
        table.add_row(s.name, _num(s.perplexity, 2), _num(s.bits_per_word, 3), _num(s.log10_prob, 2),
                      str(s.words), str(s.oov), str(s.sentences))
        rows.append([str(i), s.name, number(s.perplexity), number(s.bits_per_word), number(s.log10_prob),
                     str(s.words), str(s.oov), str(s.sentences), s.smoothing])
    parts = [Text.assemble(("Held-out perplexity", "bold"), f" (ranked, lowest first): trained on {train}, "
                           f"scored on {held_out}"), table,
             Text(CONVENTION, style="dim")]
    parts += [Text(f"{s.name}: {s.smoothing}", style="dim") for s in ranked]
    payload = {"train": train, "held_out": held_out, "models": {s.name: _entry(s) for s in ranked}}
    tables = [("models", TextTable(header, rows))]
    if sentences is not None:
        per = {s.name: s.per_sentence() for s in ranked}
        sent_table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, header_style="bold",
                           title="log10 P of each held-out sentence", title_justify="left")
        sent_table.add_column("sentence", overflow="fold")
        for s in ranked:
            sent_table.add_column(s.name, justify="right")
        sent_rows = []
        for j, text in enumerate(sentences):
            values = [float(per[s.name][j]) for s in ranked]
            sent_table.add_row(text, *(_num(v, 3) for v in values))
            sent_rows.append([text, *(number(v) for v in values)])
        parts.append(sent_table)
        payload["sentences"] = [{"text": t, "log10_prob": {s.name: _finite(float(per[s.name][j])) for s in ranked}}
                                for j, t in enumerate(sentences)]
        tables.append(("sentences", TextTable(["sentence", *(s.name for s in ranked)], sent_rows)))
    return View(parts, lambda: payload, tables=tables)


def score_view(model_name: str, smoothing: str, words: list[str], shown: list[str], log10: list[float],
               orders: list[int]) -> View:
    """One text's events, like KenLM's full_scores: each word (and </s>), the word the model
    saw (<unk> for an unseen one), the n-gram order used and log10 P; then their sum."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, header_style="bold")
    for name in ("word", "as", "order", "log10 P"):
        table.add_column(name, justify="right" if name in ("order", "log10 P") else "left")
    rows = []
    for w, s, o, v in zip(words, shown, orders, log10):
        table.add_row(w, s, str(o), _num(v, 6))
        rows.append([w, s, str(o), number(v)])
    total = float(sum(log10))
    parts = [Text.assemble((f"{model_name}", "bold"), f", {smoothing}"), table,
             Text.assemble(("total log10 P: ", "bold"), _num(total, 6),
                           f" over {len(log10)} events ({len(log10) - 1} words + </s>)")]
    payload = {"model": model_name, "smoothing": smoothing, "words": words, "as": shown, "order": orders,
               "log10": [_finite(v) for v in log10], "total": _finite(total)}
    return View(parts, lambda: payload, main=TextTable(["word", "as", "order", "log10"], rows))
