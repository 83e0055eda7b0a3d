"""Views of the encoder-decoder: a translation, the attention of both stacks and the
cross-attention, and the step-by-step trace. Shapes: n_s source positions (the words, then
<end>), n_t decoder positions (<end>, then the target words), E encoder and L decoder layers,
h heads."""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text

from lmtoy.render.matrix import Grid, token_labels
from lmtoy.render.text import TextTable
from lmtoy.render.transformer import PROBABILITY, _shape_table, _side_by_side
from lmtoy.render.views import View

END = "<end>"
STOPPED = {"end": f"the model ended the sentence ({END})", "steps": None}  # as ``generate`` says it


def stopped_text(reason: str, context: int) -> str | None:
    """Why a translation stopped, for JSON "stopped" and stderr; None when it ran every step."""
    return STOPPED.get(reason, f"the decoder read its whole context of {context} positions")


def translation_view(source: list[str], translation: list[str], score: float, stopped: str | None,
                     decode=" ".join) -> View:
    """A translation: the source and the words the model produced (``<end>`` left out), with
    its length-normalised log probability; ``decode`` (the model's tokenizer) makes the shown
    text. JSON {"source", "translation", "text", "score", "stopped"}."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("source", Text(decode(source)))
    table.add_row("translation", Text(decode(translation), style="bold green"))
    table.add_row("score", Text(f"{score:.4g}  (mean log probability per word, {END} counted)", style="dim"))
    parts = [table]
    payload = {"source": source, "translation": translation, "text": decode(translation), "score": score,
               "stopped": stopped}
    row = TextTable(["source", "translation", "score", "stopped"],
                    [[" ".join(source), " ".join(translation), repr(score), stopped or ""]])
    messages = [f"stopped: {stopped}"] if stopped else []
    return View(parts, lambda: payload, messages=messages, tables=[("translation", row)])


def _grid(weights: np.ndarray, rows: list[str], columns: list[str], title: str) -> Grid:
    return Grid.of(weights, token_labels(rows), token_labels(columns), title=title, row_header="query \\ key",
                   scale=PROBABILITY, hide_zeros=False, keep_order=True)


def attention_view(seen_source: list[str], seen_target: list[str], weights, encoder_layers: list[int],
                   decoder_layers: list[int], heads: list[int], width: int = 80) -> View:
    """The encoder's self-attention (source x source), the decoder's masked self-attention
    (target x target) and the cross-attention (the decoder's positions as rows, the source
    words as columns), per layer and head, labelled with the words each side read.

    ``weights``: ``translate.Attention`` of every layer. csv/tsv/markdown write one table each,
    named 'encoder layer 1 head 1', 'decoder layer 1 head 1', 'cross layer 1 head 1'. An empty
    ``encoder_layers`` (or ``decoder_layers``) leaves out the encoder (or decoder and cross) tables.
    """
    sections = [
        ("encoder", encoder_layers, weights.encoder, seen_source, seen_source,
         "Encoder self-attention (no mask): source words attend to source words"),
        ("decoder", decoder_layers, weights.decoder, seen_target, seen_target,
         "Decoder masked self-attention: a target position sees itself and earlier ones"),
        ("cross", decoder_layers, weights.cross, seen_target, seen_source,
         "Cross-attention: decoder positions (each predicts the next word) x source words"),
    ]  # fmt: skip
    parts, tables = [], []
    for name, stack, array, rows, columns, caption in sections:
        if not stack:  # --layer beyond this stack's layers: the other stack's only
            continue
        grids = [(f"{name} layer {l + 1} head {h + 1}",
                  _grid(array[l, h], rows, columns, f"{name} layer {l + 1}, head {h + 1}"))
                 for l in stack for h in heads]  # fmt: skip
        parts += [Text(caption, style="bold"), _side_by_side([g for _, g in grids], width)]
        tables += grids
    pick = lambda array, stack: array[np.ix_(stack, heads)]
    payload = _sides(seen_source, seen_target) | {
        "layers": {"encoder": [l + 1 for l in encoder_layers], "decoder": [l + 1 for l in decoder_layers]},
        "heads": [h + 1 for h in heads], "encoder": pick(weights.encoder, encoder_layers),
        "decoder": pick(weights.decoder, decoder_layers), "cross": pick(weights.cross, decoder_layers),
    }
    return View(parts, lambda: payload, tables=tables)


def trace_view(seen_source: list[str], seen_target: list[str], vocabularies: dict[str, tuple[str, ...]], steps: list,
               shapes: list, config: dict) -> View:
    """The forward pass step by step (``translate.TraceStep``s): rows labelled with the words
    of the side they follow, attention columns with the keys' words, vocabulary columns with
    the words. csv/tsv/markdown write the shape table ('shapes') and then one table per step."""
    labels = {"source": token_labels(seen_source), "target": token_labels(seen_target)}
    shape_table = TextTable(["what", "this model", "paper"], [list(s) for s in shapes], title=SHAPES_TITLE)
    parts, tables = [_shape_table(shapes)], [("shapes", shape_table)]
    for step in steps:
        a = np.atleast_2d(step.values)
        over_words = step.columns in ("source words", "target words")
        if over_words:
            cols = list(vocabularies[step.columns.split()[0]])
        else:
            cols = labels[step.columns] if step.columns else [str(j + 1) for j in range(a.shape[1])]
        note = "  (Q K^T already divided by sqrt(d_k))" if step.name.endswith("scores") else ""
        grid = Grid.of(a, labels[step.rows], cols, title=f"{step.name}  [{' x '.join(map(str, a.shape))}]{note}",
                       hide_zeros=over_words, row_header=f"{step.rows} word", keep_order=not over_words)
        parts.append(grid)
        tables.append((step.name, grid))
    payload = _sides(seen_source, seen_target) | {
        "config": config, "shapes": [dict(zip(("what", "shape", "paper"), s)) for s in shapes],
        "steps": [{"name": s.name, "shape": list(np.shape(s.values)), "values": s.values} for s in steps],
    }
    return View(parts, lambda: payload, tables=tables)


def _sides(seen_source: list[str], seen_target: list[str]) -> dict:
    """JSON "source" and "target" (the words, no <end>) and "seen": what each side read."""
    return {"source": seen_source[:-1], "target": seen_target[1:], "seen": {"source": seen_source, "target": seen_target}}


SHAPES_TITLE = "Shapes (section 10), this encoder-decoder beside the paper's"


def shapes(config, n_s: int, n_t: int) -> list[tuple[str, str, str]]:
    """The shape table for an encoder-decoder reading n_s source and n_t decoder positions:
    (what, this model's shape, the paper's)."""
    c = config
    rows = [
        ("source input (one-hot)", (n_s, c.source_vocab_size), ("n_s", "N_s")),
        ("source embedding", (c.source_vocab_size, c.d_model), ("N_s", 512)),
        ("target input (one-hot)", (n_t, c.vocab_size), ("n_t", "N_t")),
        ("target embedding", (c.vocab_size, c.d_model), ("N_t", 512)),
        ("W_q, W_k (per head)", (c.d_model, c.d_k), (512, 64)), ("W_v (per head)", (c.d_model, c.d_v), (512, 64)),
        ("encoder self-attention", (n_s, n_s), ("n_s", "n_s")),
        ("encoder output H", (n_s, c.d_model), ("n_s", 512)),
        ("decoder self-attention (masked)", (n_t, n_t), ("n_t", "n_t")),
        ("cross Q (per head, from decoder)", (n_t, c.d_k), ("n_t", 64)),
        ("cross K (per head, from H)", (n_s, c.d_k), ("n_s", 64)), ("cross V (per head)", (n_s, c.d_v), ("n_s", 64)),
        ("cross-attention", (n_t, n_s), ("n_t", "n_s")),
        ("concat of h heads", (n_t, c.n_heads * c.d_v), ("n_t", 512)),
        ("W_o", (c.n_heads * c.d_v, c.d_model), (512, 512)), ("feed-forward hidden", (n_t, c.d_ff), ("n_t", 2048)),
        ("de-embedding", (c.d_model, c.vocab_size), (512, "N_t")),
        ("logits, probabilities", (n_t, c.vocab_size), ("n_t", "N_t")),
    ]  # fmt: skip
    out = [(what, f"[{a} x {b}]", f"[{pa} x {pb}]") for what, (a, b), (pa, pb) in rows]
    return out + [("encoder layers", str(c.encoder_layers), "6"), ("decoder layers", str(c.n_layers), "6"),
                  ("heads h", str(c.n_heads), "8")]  # fmt: skip
