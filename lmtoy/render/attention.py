"""Views of sections 4-8: votes and masks, QK^T, the feed-forward layer, completion, the ladder."""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from lmtoy.attention import FeedForward, Vote, margin, winner
from lmtoy.complete import Completion
from lmtoy.render.matrix import Grid, fmt
from lmtoy.render.views import View


def _pairs(words, features) -> list[list[str]]:
    return [[words[a], words[b]] for a, b in features]


def vote_view(words: tuple[str, ...], prompt: list[str], v: Vote, masked: bool, window: int | None = None) -> View:
    """The feature-voting table: features x next words, totals, winner and margin.

    csv/tsv/markdown write the (masked) feature rows, the totals, and with a mask the unmasked totals.
    """
    features = _pairs(words, v.features)
    names = list(words)
    rank = v.unmasked_totals
    parts = [f"[bold]Prompt:[/] {' '.join(prompt)}  ->  {len(features)} active features (earlier word, '{prompt[-1]}')"]
    if window is not None:
        parts.append(f"[dim]window {window}: only earlier words at most {window} back are active[/]")
    parts.append(Grid.of(v.values, features, names, title="Each active feature's row votes for the next word",
                         row_header="feature", col_rank=rank, distribution=True))
    totals = [v.unmasked_totals]
    labels = ["totals"]
    if masked:
        activity = np.stack([np.ones(len(features)), v.mask, v.mask], axis=1)
        parts.append(Grid.of(activity, features, ["activity", "mask", "masked"], hide_zeros=False,
                             title="The mask, applied element-wise to the feature activities", row_header="feature"))
        totals, labels = [v.unmasked_totals, v.totals], ["unmasked totals", "masked totals"]
    parts.append(Grid.of(np.stack(totals), labels, names, title="Totals: the sum of the (kept) rows", col_rank=rank))
    parts.append(_verdict(words, v.totals, "prediction", "the mask kept no feature"))
    if masked:
        parts.append(_verdict(words, v.unmasked_totals, "without the mask"))
    payload = {
        "prompt": prompt, "features": features, "columns": names, "values": v.values, "mask": v.mask,
        "totals": dict(zip(names, v.totals.tolist())), "unmasked_totals": dict(zip(names, v.unmasked_totals.tolist())),
        "prediction": _name(words, v.totals), "margin": margin(v.totals), "share": share(v.totals), "window": window,
    }
    rows = [v.values * v.mask[:, None], v.totals] + ([v.unmasked_totals] if masked else [])
    labels = features + ["totals"] + (["unmasked totals"] if masked else [])
    main = Grid.of(np.vstack(rows), labels, names, row_header="earlier, recent")
    return View(parts, lambda: payload, main=main)


def _verdict(words, scores: np.ndarray, label: str, none: str = "every score is 0") -> Text:
    """'label: word (margin m, s% of the total)', 'label: word (a tie)' or 'label: none (why)'."""
    win = winner(scores)
    if win is None:
        return Text.assemble((f"{label}: ", "bold"), ("none", "bold red"), f" ({none})")
    m = margin(scores)
    of_total = f"{percent(share(scores))} of the total"
    return Text.assemble((f"{label}: ", "bold"), (words[win], "bold green"),
                         f" (margin {fmt(m)}, {of_total})" if m else f" (a tie: the first in vocabulary order, {of_total})")


def share(scores: np.ndarray) -> float | None:  # (N,) -> float
    """The winner's score as a share of all scores: [4, 5, 0] -> 5/9; None without a winner."""
    win = winner(scores)
    return None if win is None else float(scores[win] / scores.sum())


def percent(p: float) -> str:
    """0.5556 -> '56%'; never rounds a share below 1 up to 100% (or above 0 down to 0%)."""
    text = f"{100 * p:.0f}%"
    return ">99%" if text == "100%" and p < 1 else "<1%" if text == "0%" and p > 0 else text


def _name(words, scores: np.ndarray) -> str | None:
    win = winner(scores)
    return None if win is None else words[win]


def attend_view(words: tuple[str, ...], word: str, k: np.ndarray, q: np.ndarray, qkt: np.ndarray) -> View:
    """Attention as matrix multiplication: K (masks as columns), Q, and Q K^T.

    When the vocabulary is too wide, the three tables keep the same words, in one order
    of priority (the query, the words it attends to, then the words with the most mask
    entries): Q's columns are K's columns, and Q K^T's columns are rows of K.
    """
    names = list(words)
    j = names.index(word)
    weight = (k.sum(axis=0) + k.sum(axis=1)) / (2 * len(names) + 1)  # (N,) below 1
    priority = 2.0 * (np.arange(len(names)) == j) + (qkt != 0) + weight
    labels = [f"Q = one-hot({word})", "Q K^T"]
    same = dict(fixed_rank=True, col_rank=priority, hide_zeros=False,
                label_width=max(cell_len(s) for s in names + labels))
    parts = [
        Grid.of(k, names, names, title="K: column j is the mask of most-recent word j", row_header="earlier \\ recent",
                row_rank=priority, **same),
        Grid.of(q[None, :], labels[:1], names, title="Q: the one-hot query", **same),
        Grid.of(qkt[None, :], labels[1:], names, title=f"Q K^T pulls out the mask of '{word}'", **same),
        f"[bold]'{word}' attends to:[/] " + ", ".join(w for w, m in zip(names, qkt) if m),
    ]
    payload = {"query": word, "vocabulary": names, "Q": q, "K": k, "QKT": qkt}
    return View(parts, lambda: payload, main=Grid.of(k, names, names, row_header="earlier"),
                hint="K is N x N: the table view shows a part of it")


def feedforward_view(words: tuple[str, ...], prompt: list[str], ff: FeedForward, x, pre, post, out) -> View:
    """Section 7: feature creation (W1 with a bias input), ReLU, transition rows (W2)."""
    names = list(words)
    inputs = [words[i] for i in ff.inputs] + ["bias"]
    shown_inputs = inputs[:-2] + [inputs[-2] + " (recent)" if inputs[-2] in inputs[:-2] else inputs[-2], "bias"]
    features = _pairs(words, ff.features)
    labels = [", ".join(f) for f in features]
    cand = np.flatnonzero(ff.w2.any(axis=0))  # the words the features can vote for
    shown = [names[i] for i in cand]
    parts = [
        Grid.of(ff.w1, labels, shown_inputs, row_header="feature", hide_zeros=False,
                title="W1: feature creation (+1 own earlier word, -1 the others, +1 recent, -1 bias)"),
        Grid.of(x[None, :], ["x"], shown_inputs, title=f"x: which inputs the prompt '{' '.join(prompt)}' holds", hide_zeros=False),
        Grid.of(np.stack([pre, post], axis=1), labels, ["W1 x", "ReLU"], title="Features before and after the ReLU",
                row_header="feature", hide_zeros=False),
        Grid.of(ff.w2[:, cand], labels, shown, title="W2: the features' transition rows (their non-zero columns)",
                row_header="feature", hide_zeros=False),
        Grid.of(out[None, cand], ["ReLU(W1 x) W2"], shown, title="Output", hide_zeros=False),
        _verdict(words, out, "prediction", "no feature fired: this layer fires a feature only when exactly one of "
                 + ", ".join(inputs[:-2]) + " is in the prompt"),
    ]
    payload = {
        "prompt": prompt, "inputs": inputs, "features": features, "W1": ff.w1, "x": x, "pre_relu": pre,
        "post_relu": post, "columns": names, "W2": ff.w2, "output": dict(zip(names, out.tolist())),
        "prediction": _name(words, out),
    }
    return View(parts, lambda: payload, main=Grid.of(out[None, :], ["output"], names))


def completion_view(words: tuple[str, ...], prompt: list[str], kind: str, c: Completion, explain: bool,
                    decode=None) -> View:
    """The prompt, the words it grew, why it stopped, and (explain) the scores of each step.
    ``decode`` (chars, BPE: tokens -> text) shows the decoded text instead of the tokens
    joined by spaces; JSON "text" holds the text either way."""
    generated = [words[i] for i in c.generated]
    text = (decode or " ".join)(prompt + generated)
    if decode is None:
        line = Text.assemble(" ".join(prompt), " ", (" ".join(generated), "bold green"))
    else:
        start = decode(prompt)
        line = Text.assemble(start, (text[len(start):] if text.startswith(start) else " " + decode(generated), "bold green"))
    parts = [Text(f"{kind}:", style="bold"), line]
    words_grown = f"{len(generated)} word{'s' * (len(generated) != 1)}"
    messages = [f"stopped after {words_grown}: {c.stopped}"] if c.stopped else []  # stderr: stdout holds the text
    scores = np.array([s.values for s in c.steps]) if c.steps else np.zeros((0, len(words)))
    labels = [f"{i + 1}: {w}" for i, w in enumerate(generated)]
    if explain and c.steps:
        parts.append(Grid.of(scores, labels, list(words), title="The scores behind each step", row_header="step"))
        parts += [Text(f"step {i + 1}: {s.note}", style="dim") for i, s in enumerate(c.steps) if s.note]
    steps = [{"token": w, "scores": dict(zip(words, s.values.tolist()))} for w, s in zip(generated, c.steps)]
    payload = {"prompt": prompt, "generated": generated, "text": text, "model": kind, "steps": steps,
               "stopped": c.stopped}
    return View(parts, lambda: payload, main=Grid.of(scores, labels, list(words), row_header="step") if c.steps else None,
                messages=messages)


def ladder_view(words: tuple[str, ...], prompt: list[str], results: dict) -> View:
    """The model ladder: each model's next-word prediction and margin, side by side."""
    table = Table()
    for name, justify in (("model", "left"), ("prediction", "left"), ("margin", "right"), ("top scores", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    models = {}
    for kind, scores in results.items():
        if isinstance(scores, str):
            table.add_row(kind, Text(scores, style="dim"), "", "")
            models[kind] = {"prediction": None, "margin": None, "scores": {}, "note": scores}
            continue
        win, m = winner(scores.values), margin(scores.values)
        top = np.argsort(-scores.values, kind="stable")[:3]
        shown = ", ".join(f"{words[i]} {fmt(scores.values[i])}" for i in top if scores.values[i] > 0)
        table.add_row(kind, Text(words[win], style="bold green"), fmt(m) if m else "0 (tie)", shown)
        models[kind] = {"prediction": words[win], "margin": m, "scores": dict(zip(words, scores.values.tolist())),
                        "note": scores.note}
    scored = {k: v.values for k, v in results.items() if not isinstance(v, str)}
    main = Grid.of(np.array(list(scored.values())), list(scored), list(words), row_header="model") if scored else None
    title = Text(f"Next word after '{' '.join(prompt)}', model by model", style="bold")
    return View([title, table], lambda: {"prompt": prompt, "models": models}, main=main)
