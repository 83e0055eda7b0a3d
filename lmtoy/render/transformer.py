"""Views of the NumPy transformer (sections 9-11): predictions, attention, the trace,
positional encoding and embeddings. Shapes: n prompt words, N vocabulary, L layers, h heads."""

from __future__ import annotations

import numpy as np
from rich.columns import Columns
from rich.table import Table
from rich.text import Text

from lmtoy.render.matrix import Grid, heatmap, token_labels
from lmtoy.render.text import TextTable
from lmtoy.render.scatter import scatter
from lmtoy.render.views import View

PROBABILITY = (0.0, 1.0)


def predict_view(prompt: list[str], words: tuple[str, ...], p: np.ndarray, top: int = 10) -> View:
    """The next-word distribution (N,) after the prompt, most probable first."""
    order = np.argsort(-p, kind="stable")[:top]
    grid = Grid.of(p[order][:, None], [words[i] for i in order], ["P(next)"], row_header="next word",
                   title=f"P(next word | '{' '.join(prompt)}'): the {len(order)} most probable of {len(words)}",
                   scale=PROBABILITY, hide_zeros=False)
    payload = {"prompt": prompt, "next": dict(zip(words, p.tolist()))}
    return View([grid], lambda: payload, main=Grid.of(p[None, :], ["P(next)"], list(words)))


def generation_view(prompt: list[str], generated: list[str], end: str, decode=" ".join) -> View:
    """The prompt and the words the model added. The end token ends the sentence: it is not
    shown, and "stopped" (JSON; a message on stderr) says so; null when every step ran.
    ``decode`` turns tokens into text (the model's tokenizer): the table shows the text, the
    added part in bold green, and JSON "text" holds it; "generated" stays the token list."""
    ended = bool(generated) and generated[-1] == end
    shown = generated[:-1] if ended else generated
    stopped = f"the model ended the sentence ({end})" if ended else None
    start, text = decode(prompt), decode(prompt + shown)
    added = text[len(start):] if text.startswith(start) else " " + decode(shown)
    parts = [Text.assemble(start, (added, "bold green"))]
    payload = {"prompt": prompt, "generated": shown, "text": text, "stopped": stopped}
    row = TextTable(["prompt", "generated", "stopped"], [[" ".join(prompt), " ".join(shown), stopped or ""]])
    return View(parts, lambda: payload, messages=[f"stopped: {stopped}"] if stopped else [],
                tables=[("generation", row)])


def attention_view(prompt: list[str], weights: np.ndarray, layers: list[int], heads: list[int],
                   width: int = 80) -> View:
    """Attention weights (L, h, n, n) as heatmaps labelled with the prompt's words:
    row i is what word i attends to (causal: nothing right of the diagonal).
    csv/tsv/markdown write one table per layer and head (named 'layer 1 head 1')."""
    labels = [f"{i + 1} {w}" for i, w in enumerate(prompt)]
    grids = [
        (f"layer {l + 1} head {h + 1}",
         Grid.of(weights[l, h], labels, token_labels(prompt), title=f"layer {l + 1}, head {h + 1}",
                 row_header="query \\ key", scale=PROBABILITY, hide_zeros=False, keep_order=True))
        for l in layers for h in heads
    ]  # fmt: skip
    payload = {"prompt": prompt, "layers": [l + 1 for l in layers], "heads": [h + 1 for h in heads],
               "weights": weights[np.ix_(layers, heads)]}
    return View([_side_by_side([g for _, g in grids], width)], lambda: payload, tables=grids)


def attention_row_view(prompt: list[str], weights: np.ndarray, layers: list[int], heads: list[int]) -> View:
    """What the last word attends to: weights (L', h', n, n) -> one row per layer and head."""
    rows = weights[:, :, -1, :].reshape(-1, len(prompt))  # (L'*h', n)
    labels = [f"layer {l + 1} head {h + 1}" for l in layers for h in heads]
    grid = Grid.of(rows, labels, token_labels(prompt), title=f"What '{prompt[-1]}' (the last word) attends to",
                   scale=PROBABILITY, hide_zeros=False)  # when columns must go, the least attended go first
    payload = {"prompt": prompt, "layers": [l + 1 for l in layers], "heads": [h + 1 for h in heads], "weights": rows}
    return View([grid], lambda: payload, main=grid)


class _SideBySide:
    """Heatmaps side by side when they fit the width, else one under the other."""

    def __init__(self, grids: list[Grid], width: int):
        self.grids, self.width = grids, width

    def __rich_console__(self, console, options):
        width = min(options.max_width, self.width)
        tables = [heatmap(g, width) for g in self.grids]
        each = max(console.measure(t).maximum for t in tables) if tables else 0
        if len(tables) > 1 and 2 * each + 2 <= width:
            yield Columns(tables, padding=(0, 2))
        else:
            yield from tables


def _side_by_side(grids: list[Grid], width: int) -> _SideBySide:
    return _SideBySide(grids, width)


VOCABULARY_STEPS = ("one-hot input", "logits", "probabilities")  # trace steps with one column per word


def trace_view(prompt: list[str], words: tuple[str, ...], steps: list[tuple[str, np.ndarray]], shapes: list,
               config, dimensions: tuple[str, ...] | None = None, hidden: tuple[str, ...] | None = None) -> View:
    """One forward pass, step by step: each intermediate with its shape, and the shape table.
    csv/tsv/markdown write the shape table ('shapes') and then one table per step.

    ``dimensions`` and ``hidden`` name the columns of the d_model-wide steps and of the
    feed-forward hidden layer (a compiled model's file holds them): such steps show their
    non-zero named columns, heaviest first, as the word-column steps do."""
    n = len(prompt)
    scale = config.get("attention_scale") if isinstance(config, dict) else None
    scaled = "divided by sqrt(d_k)" if scale is None else f"multiplied by {scale:g}"
    tokens = token_labels(prompt)
    shape_table = TextTable(["what", "this model", "paper"], [list(s) for s in shapes], title=SHAPES_TITLE)
    parts, tables = [_shape_table(shapes)], [("shapes", shape_table)]
    for name, array in steps:
        a = np.atleast_2d(array)
        rows = tokens if a.shape[0] == n else [str(i + 1) for i in range(a.shape[0])]
        over_words = name in VOCABULARY_STEPS  # columns are words: keep the heaviest, as matrix views do
        cols = list(words) if over_words else [str(j + 1) for j in range(a.shape[1])]
        named = _named_columns(name, a.shape[1], dimensions, hidden)
        if not over_words and named is not None:
            cols, over_words = named, True
        if name.endswith(("scores", "weights")):
            cols = tokens  # the keys: the prompt's words, as in 'attention'
        note = f"  (Q K^T already {scaled})" if name.endswith("scores") else ""
        grid = Grid.of(a, rows, cols, title=f"{name}  [{' x '.join(map(str, a.shape))}]{note}",
                       hide_zeros=over_words, row_header="word" if rows is tokens else "", keep_order=not over_words)
        parts.append(grid)
        tables.append((name, grid))
    payload = {"prompt": prompt, "config": config, "shapes": [dict(zip(("what", "shape", "paper"), s)) for s in shapes],
               "steps": [{"name": name, "shape": list(np.shape(a)), "values": a}
                         | ({"columns": named} if (named := _named_columns(name, np.atleast_2d(a).shape[1], dimensions,
                                                                           hidden)) else {})
                         for name, a in steps]}
    return View(parts, lambda: payload, tables=tables)


def _named_columns(step: str, width: int, dimensions, hidden) -> list[str] | None:
    """The names of a trace step's columns: the feed-forward units for the hidden layer, the
    residual stream's dimensions for every d_model-wide step (not a head's, not the concat)."""
    if step.endswith("feed-forward hidden"):
        return list(hidden) if hidden is not None and len(hidden) == width else None
    if dimensions is None or len(dimensions) != width or " head " in step or step.endswith("concat"):
        return None
    return list(dimensions)


def shapes(config, n: int) -> list[tuple[str, str, str]]:
    """The article's shape table (section 10): (what, this model's shape, the paper's)."""
    c = config
    rows = [
        ("input (one-hot)", (n, c.vocab_size), ("n", "N")), ("embedding E", (c.vocab_size, c.d_model), ("N", 512)),
        ("embedded + positions", (n, c.d_model), ("n", 512)), ("W_q, W_k (per head)", (c.d_model, c.d_k), (512, 64)),
        ("W_v (per head)", (c.d_model, c.d_v), (512, 64)), ("Q, K (per head)", (n, c.d_k), ("n", 64)),
        ("V (per head)", (n, c.d_v), ("n", 64)), ("softmax(Q K^T / sqrt(d_k) + mask)", (n, n), ("n", "n")),
        ("head output", (n, c.d_v), ("n", 64)), ("concat of h heads", (n, c.n_heads * c.d_v), ("n", 512)),
        ("W_o", (c.n_heads * c.d_v, c.d_model), (512, 512)), ("feed-forward hidden", (n, c.d_ff), ("n", 2048)),
        ("layer output", (n, c.d_model), ("n", 512)), ("de-embedding", (c.d_model, c.vocab_size), (512, "N")),
        ("logits, probabilities", (n, c.vocab_size), ("n", "N")),
    ]  # fmt: skip
    out = [(what, f"[{a} x {b}]", f"[{pa} x {pb}]") for what, (a, b), (pa, pb) in rows]
    return out + [("layers", str(c.n_layers), "6"), ("heads h", str(c.n_heads), "8")]


SHAPES_TITLE = "Shapes (section 10), this model beside the paper's"


def _shape_table(shapes: list) -> Table:
    table = Table(title=SHAPES_TITLE, title_justify="left", title_style="bold")
    for name in ("what", "this model", "paper (d_model 512, h 8)"):
        table.add_column(name)
    for what, shape, paper in shapes:
        table.add_row(Text(what), Text(shape), Text(paper))  # Text: '[n x N]' is not markup
    return table


def posenc_view(table: np.ndarray, pair: int | None) -> View:
    """The sinusoidal table (positions x d_model), or one dimension pair tracing its circle."""
    n, d = table.shape
    rows = [str(p) for p in range(n)]
    cols = [f"{'sin' if j % 2 == 0 else 'cos'}{j // 2}" for j in range(d)]
    if pair is None:
        grid = Grid.of(table, rows, cols, row_header="pos", hide_zeros=False, keep_order=True,
                       full_hint="--format json|csv|tsv|markdown shows all",
                       title=f"Positional encoding: PE(pos, 2i) = sin(pos / 10000^(2i/{d})), PE(pos, 2i+1) = cos(...)")
        return View([grid], lambda: {"positions": n, "d_model": d, "values": table}, main=grid,
                    hint="use fewer --positions or a smaller --d-model")
    xy = table[:, 2 * pair : 2 * pair + 2]  # (n, 2) sin, cos
    freq = 1 / 10000 ** (2 * pair / d)
    parts = [
        Text(f"Dimensions {2 * pair} and {2 * pair + 1} (sin, cos) at frequency 1/10000^({2 * pair}/{d}) = "
             f"{freq:.4g} rad per position: each position is a point on the unit circle", style="bold"),
        scatter(xy[:, ::-1], [str(p) for p in range(n)], 60, 20, square=True),
        Text("x = cos, y = sin; labels are positions", style="dim"),
    ]
    grid = Grid.of(xy, rows, [f"sin{pair}", f"cos{pair}"], row_header="pos", hide_zeros=False)
    payload = {"positions": n, "d_model": d, "pair": pair, "frequency": freq, "values": xy}
    return View(parts, lambda: payload, main=grid, hint="use fewer --positions")


def embed_view(words: tuple[str, ...], coords: np.ndarray, width: int = 78) -> View:
    """Learned embeddings (N, d) projected to 2-D (N, 2), drawn as a labelled scatter."""
    parts = [Text("Learned embeddings projected on their two principal axes (PCA)", style="bold"),
             scatter(coords, list(words), min(width, 78) - 2, 20)]
    grid = Grid.of(coords, list(words), ["pc1", "pc2"], row_header="word", hide_zeros=False)
    return View(parts, lambda: {"words": list(words), "coords": coords}, main=grid)


def training_summary(path: str, steps: int, loss: float, n_params: int, stopped: bool,
                     diverged: bool = False, mean_of: int = 1) -> str:
    """The line that ends a training run (plain text, for stderr); ``loss`` is the mean of the
    last ``mean_of`` steps' losses.

    training_summary("m.npz", 300, 0.0512, 5102, False, mean_of=20) ->
    "done: 300 steps, loss 0.051 nats (mean of the last 20 steps); saved 5,102 weights to m.npz"
    """
    how = "stopped early (Ctrl-C)" if stopped else "diverged" if diverged else "done"
    if steps == 0:
        return f"{how}: no steps; saved the {n_params:,} initial weights to {path}"
    nats = f"{loss:.3f}" if abs(loss) < 1000 else f"{loss:,.0f}" if abs(loss) < 1e9 else f"{loss:.3g}"
    which = f"(mean of the last {mean_of} steps)" if mean_of > 1 else "(the last step's)"
    return f"{how}: {steps:,} step{'s' * (steps != 1)}, loss {nats} nats {which}; saved {n_params:,} weights to {path}"
