"""Views of byte pair encoding (section 12): training's merges, the merges replayed step by
step with their pair counts, and a text encoded (or ids decoded) as coloured token boxes.

A token is shown as its bytes as text (``lmtoy.bpe_tokenizer.token_label``: '␣the',
'<0xE2>'); boxes are separated by a plain space, so they stay apart without colour.
Counts are exact integers times a scale (weighted corpora): shown divided back.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from lmtoy.bpe import Merge, Step
from lmtoy.bpe_tokenizer import BYTES, Tokenizer
from lmtoy.files import shorten
from lmtoy.render.text import TextTable, number
from lmtoy.render.views import View

BOXES = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7")  # Okabe-Ito: colour-blind safe, black text
TOP_SHOWN = 5
LABEL_WIDTH = 24  # a token label in a table cell is cut to this many characters
MAX_BOXES = 500  # tokens drawn as boxes by encode and decode (json and csv hold all)


def weighted(count: int, scale: int) -> int | float:
    """An exact count x scale as the weighted count: 10, 5 -> 2; 3, 10 -> 0.3."""
    return count // scale if count % scale == 0 else count / scale


def show_count(count: int, scale: int) -> str:
    value = weighted(count, scale)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"


def boxes(labels: list[str]) -> Text:
    """Tokens as coloured boxes, one colour after another, a space between them."""
    text = Text()
    for i, label in enumerate(labels):
        if i:
            text.append(" ")
        text.append(label, style=f"black on {BOXES[i % len(BOXES)]}")
    return text


def _pair_text(labels, pair) -> str:
    return f"{shorten(labels[pair[0]], LABEL_WIDTH // 2)} + {shorten(labels[pair[1]], LABEL_WIDTH // 2)}"


def _pair_json(labels, pair, count: int, scale: int) -> dict:
    return {"pair": list(pair), "token": labels[pair[0]] + labels[pair[1]], "count": weighted(count, scale)}


# -- training ---------------------------------------------------------------------


def train_view(tokenizer: Tokenizer, steps: list[Merge], scale: int, facts: dict, shown: int = 10) -> View:
    """What training did: the vocabulary reached (and whether it stopped early), the text
    read, the first ``shown`` merges; csv/tsv/markdown list every merge. ``facts``: out,
    requested (vocab size), sentences, chunks."""
    labels, requested = tokenizer.labels, facts["requested"]
    stopped = _stopped(tokenizer.vocab_size, requested)
    split = "lmtoy's split regex" if tokenizer.split else "none (--no-split: a sentence is one chunk)"
    lines = [Text.assemble(("Trained ", "bold"), (f"{len(steps):,} merges", "bold"),
                           f": vocabulary {tokenizer.vocab_size:,} (256 bytes + {len(steps):,} merges)"),
             Text(f"{facts['sentences']:,} sentences, {facts['chunks']:,} distinct chunks; split: {split}")]
    if stopped:
        lines.append(Text(stopped, style="bold"))
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in (("merge", "right"), ("id", "right"), ("pair", "right"), ("left + right", "left"),
                          ("token", "left"), ("count", "right")):
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis")
    for m in steps[:shown]:
        table.add_row(str(m.k), str(BYTES + m.k), f"{m.pair[0]} {m.pair[1]}", _pair_text(labels, m.pair),
                      Text(shorten(labels[BYTES + m.k], LABEL_WIDTH)), show_count(m.count, scale))
    parts = lines + ([table] if steps else [])
    if len(steps) > shown:
        parts.append(Text(f"the first {shown} of {len(steps):,} merges; --format csv lists all, "
                          "'lmtoy bpe show' replays them", style="dim"))
    out = facts.get("out")
    parts.append(Text(f"wrote {out}" if out else "not saved: give --out FILE to write the tokenizer", style="dim"))
    rows = [[str(m.k), str(BYTES + m.k), str(m.pair[0]), str(m.pair[1]), labels[BYTES + m.k],
             number(weighted(m.count, scale))] for m in steps]
    payload = {"out": out, "vocab_size": tokenizer.vocab_size, "requested_vocab_size": requested,
               "stopped": stopped, "sentences": facts["sentences"], "chunks": facts["chunks"],
               "split": tokenizer.split,
               "merges": [{"merge": m.k, "id": BYTES + m.k, "pair": list(m.pair), "token": labels[BYTES + m.k],
                           "count": weighted(m.count, scale)} for m in steps]}
    return View(parts, lambda: payload, main=TextTable(["merge", "id", "left", "right", "token", "count"], rows),
                messages=[stopped] if stopped else [])


def _stopped(size: int, requested: int) -> str | None:
    if size >= requested:
        return None
    return (f"training stopped early at vocabulary {size:,} of the {requested:,} asked for: no pair is left "
            "(every chunk is a single token)")


# -- the replay -------------------------------------------------------------------


def show_view(tokenizer: Tokenizer, steps: list[Step], scale: int, facts: dict) -> View:
    """Each merge replayed: its pair and new token, the leading pair counts (the winner
    marked, a tie named), and the sample text after it as boxes. ``facts``: source
    ('corpus' or 'tokenizer'), text (the sample), before (its ids before the first step
    shown), requested (vocab size or None), skipped (merges not shown because their pair
    is not in the text), ranged (--steps was given)."""
    labels, corpus = tokenizer.labels, facts["source"] == "corpus"
    first = f"merge {steps[0].merge.k}" if steps else "the merges"
    title = (("Byte pair encoding, step by step", "bold"), ": pair counts in the corpus") if corpus else \
        (("The tokenizer's merges replayed", "bold"), " on the text, with the text's own pair counts")
    parts: list = [Text.assemble(*title),
                   Text.assemble(f"before {first}:  ", boxes([labels[i] for i in facts["before"]]))]
    for step in steps:
        parts += _step_parts(labels, step, scale, corpus)
    stopped = _stopped(tokenizer.vocab_size, facts["requested"]) if facts.get("requested") else None
    notes = [stopped] if stopped else []
    if facts.get("skipped"):
        notes.append(f"{facts['skipped']:,} merges of the tokenizer are not shown: their pair is not in the text")
    if not steps:
        notes.append("no merge to show" + (" in this range (--steps)" if facts.get("ranged") else ""))
    parts += [Text(n, style="dim") for n in notes]
    payload = {"source": facts["source"], "text": facts["text"], "vocab_size": tokenizer.vocab_size,
               "stopped": stopped, "steps": [_step_json(labels, s, scale, corpus) for s in steps]}
    header = ["merge", "id", "left", "right", "token", "count", "runner_up_left", "runner_up_right",
              "runner_up_count", "tie", "tokens"]
    rows = [_step_row(labels, s, scale) for s in steps]
    return View(parts, lambda: payload, main=TextTable(header, rows), messages=[stopped] if stopped else [])


def _step_parts(labels, step: Step, scale: int, corpus: bool) -> list:
    m = step.merge
    new = BYTES + m.k
    head = Text.assemble("\n", (f"merge {m.k}", "bold"), f": {_pair_text(labels, m.pair)} -> ",
                         (labels[new], "bold"), f" (id {new}), count {show_count(m.count, scale)}")
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in (("", "left"), ("pair", "left"), ("ids", "right"), ("count", "right"), ("", "left")):
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis")
    rows = list(m.top) if m.top else [(m.pair, m.count)] + ([m.runner_up] if m.runner_up else [])
    if m.pair not in [p for p, _ in rows]:
        rows.append((m.pair, m.count))
    for pair, count in rows:
        won = pair == m.pair
        tie = count == m.count and corpus
        mark = "merged" if won and not corpus else "winner" if won else "tie" if tie else ""
        table.add_row("▶" if won else "", _pair_text(labels, pair), f"{pair[0]} {pair[1]}", show_count(count, scale),
                      mark, style="bold" if won else None)
    parts = [head, table]
    if corpus and m.tie:
        (l1, r1), (l2, r2) = m.pair, m.runner_up[0]
        rule = f"the smaller left id ({l1} < {l2})" if l1 != l2 else f"the same left id, the smaller right id ({r1} < {r2})"
        parts.append(Text(f"a tie at {show_count(m.count, scale)}: ({l1}, {r1}) wins over ({l2}, {r2}), {rule}"))
    elif not corpus and m.runner_up and m.runner_up[1] > m.count:
        parts.append(Text("the tokenizer learned this merge from its training text: other pairs are more frequent "
                          "here", style="dim"))
    parts.append(Text.assemble("after:   ", boxes([labels[i] for i in step.ids])))
    return parts


def _step_json(labels, step: Step, scale: int, corpus: bool) -> dict:
    """One step as JSON; ``tie`` (the winner's count equals the runner-up's) is null when
    the counts are a text's, not those training chose by."""
    m = step.merge
    return {"merge": m.k, "id": BYTES + m.k, "pair": list(m.pair), "token": labels[BYTES + m.k],
            "count": weighted(m.count, scale), "tie": m.tie if corpus else None,
            "runner_up": _pair_json(labels, *m.runner_up, scale) if m.runner_up else None,
            "top": [_pair_json(labels, p, c, scale) for p, c in m.top],
            "tokens": [labels[i] for i in step.ids], "ids": step.ids}


def _step_row(labels, step: Step, scale: int) -> list[str]:
    m, runner = step.merge, step.merge.runner_up
    return [str(m.k), str(BYTES + m.k), str(m.pair[0]), str(m.pair[1]), labels[BYTES + m.k],
            number(weighted(m.count, scale)), *((str(runner[0][0]), str(runner[0][1]), number(weighted(runner[1], scale)))
                                                if runner else ("", "", "")),
            "true" if m.tie else "false", " ".join(labels[i] for i in step.ids)]


# -- encode and decode ---------------------------------------------------------------


def tokens_view(tokenizer: Tokenizer, ids: list[int], text: str | None = None, max_rows: int = 40) -> View:
    """A text's tokens (encode: ``text`` given) or the text of ids (decode): the boxes, the
    text, and a table of each token's id, label and bytes (up to ``max_rows`` in the
    table view; json/csv hold all)."""
    labels, vocab = tokenizer.labels, tokenizer.vocab
    data = b"".join(vocab[i] for i in ids)
    valid = _valid_utf8(data)
    decoded = data.decode("utf-8", errors="replace") if text is None else text
    title = (f"{len(data):,} bytes -> {len(ids):,} tokens" if text is not None
             else f"{len(ids):,} tokens -> {len(data):,} bytes")
    parts: list = [Text(title, style="bold"), boxes([labels[i] for i in ids[:MAX_BOXES]])]
    if len(ids) > MAX_BOXES:
        parts.append(Text(f"… the first {MAX_BOXES} of {len(ids):,} tokens as boxes", style="dim"))
    if text is None:
        parts.append(Text.assemble(("text: ", "bold"), decoded))
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in (("#", "right"), ("id", "right"), ("token", "left"), ("bytes", "left")):
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis")
    for n, i in enumerate(ids[:max_rows]):
        table.add_row(str(n), str(i), Text(shorten(labels[i], 30)), shorten(vocab[i].hex(" "), 36))
    if ids:
        parts.append(table)
    if len(ids) > max_rows > 0:
        parts.append(Text(f"the first {max_rows} of {len(ids):,} tokens; --format json or csv lists all", style="dim"))
    messages = [] if valid else ["the bytes are not valid UTF-8 (an id ends inside a character): shown with U+FFFD"]
    tokens = [{"id": i, "token": labels[i], "bytes": list(vocab[i])} for i in ids]
    payload = {"text": decoded, "ids": ids, "tokens": tokens, "n_bytes": len(data), "n_tokens": len(ids)}
    if text is None:
        payload["valid_utf8"] = valid
    rows = [[str(n), str(i), labels[i], vocab[i].hex(" ")] for n, i in enumerate(ids)]
    return View(parts, lambda: payload, main=TextTable(["position", "id", "token", "bytes"], rows), messages=messages)


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True

