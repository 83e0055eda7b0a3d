"""Section 10's pictures of the whole model: the matrix shapes a model's forward pass goes
through, and the paper's Figure 1 (the encoder-decoder transformer) as boxes, with
``--highlight BLOCK`` standing one block out so each tour section can show where it is.

Shapes: n positions (the context), N vocabulary, d = d_model, d_k, d_v, h heads, d_ff.
"""

from __future__ import annotations

from rich.table import Table as RichTable
from rich.text import Text

from lmtoy.errors import UsageError
from lmtoy.render.figures import FigureResult, Options, article_corpus, register
from lmtoy.render.figures.graph import FILL, MARGIN, Box, node
from lmtoy.render.figures.svg import INK, MUTED, RAMP, Svg, text_width

WEIGHT = RAMP.colour(0.25)  # learned weights; activations are FILL


def default_config():
    """The tour's Config on its corpus (program_log.txt): N = its 13 words + <end>."""
    from lmtoy.transformer import Config, model_vocabulary

    return Config(vocab_size=len(model_vocabulary(article_corpus("program_log").vocabulary.words)))


def shape_stages(config) -> list[tuple[str, list]]:
    """The forward pass as stages of (title, items); an item is an operator string or
    (name, symbolic shape, rows, cols, is_weight). Tour config: X [16 x 14] x E [14 x 16] ..."""
    c = config
    n, d, N, hv = c.context, c.d_model, c.vocab_size, c.n_heads * c.d_v
    n_in = c.source_vocab_size if c.task == "translate" else N
    m = lambda name, sym, r, k, w=False: (name, f"[{sym}]", r, k, w)
    stages = [
        ("Embedding and positions (section 9)", [m("X: one-hot words", "n x N", n, n_in), "×",
                                                 m("E: embedding", "N x d_model", n_in, d, True), "+",
                                                 m("P: positions", "n x d_model", n, d), "=", m("X", "n x d_model", n, d)]),
        (f"Each of the h = {c.n_heads} heads (section 10)", [m("Q = X W_q", "n x d_k", n, c.d_k), m("K = X W_k", "n x d_k", n, c.d_k),
                                                 "→", m("softmax(Q K^T / √d_k)", "n x n", n, n), "×",
                                                 m("V = X W_v", "n x d_v", n, c.d_v), "=", m("head", "n x d_v", n, c.d_v)]),
        ("Concatenate the heads, project back", [m("heads side by side", "n x h·d_v", n, hv), "×",
                                                 m("W_o", "h·d_v x d_model", hv, d, True), "=", m("attention out", "n x d_model", n, d)]),
        ("Feed-forward (section 7)", [m("X", "n x d_model", n, d), "×", m("W_1", "d_model x d_ff", d, c.d_ff, True), "=",
                                      m("ReLU(X W_1 + b_1)", "n x d_ff", n, c.d_ff), "×", m("W_2", "d_ff x d_model", c.d_ff, d, True),
                                      "=", m("X'", "n x d_model", n, d)]),
    ]
    if c.task == "classify":
        stages.append(("Pool and classify", [m(f"{c.pool}-pooled", "1 x d_model", 1, d), "×",
                                             m("class head", "d_model x C", d, c.n_classes, True), "=",
                                             m("class scores", "1 x C", 1, c.n_classes)]))
    else:
        stages.append(("De-embedding and softmax (section 9)", [m("X'", "n x d_model", n, d), "×",
                       m("U: de-embedding", "d_model x N", d, N, True), "=", m("scores", "n x N", n, N), "→",
                       m("softmax: probabilities", "n x N", n, N)]))
    return stages


def _px(k: int) -> float:
    return min(max(10.0, 13 * k**0.5), 140.0)


@register("matrix_shapes", "The matrix shapes of the forward pass: [n x N] -> [n x d_model] -> ... -> [n x N]", "10", ("model",))
def matrix_shapes(options: Options) -> FigureResult:
    if options.model is not None:
        from lmtoy.transformer import load_model

        config, source = load_model(options.model).config, f"model {options.model.name}"
    else:
        config, source = default_config(), "the tour's Config (lmtoy train's defaults on program_log)"
    c = config
    sizes = (f"{source}:\nn = {c.context} positions, N = {c.vocab_size} words, d_model = {c.d_model}, "
             f"h = {c.n_heads}, d_k = {c.d_k}, d_v = {c.d_v}, d_ff = {c.d_ff}, {c.n_layers} layer{'s' * (c.n_layers != 1)}")
    stages = shape_stages(config)
    return FigureResult(_shapes_table(stages, sizes), _shapes_svg(stages, sizes, c.n_layers))


def _size(item) -> str:
    return f"[{item[2]} x {item[3]}]"


def _shapes_table(stages, sizes: str):
    from rich.console import Group

    table = RichTable(show_edge=False, header_style="bold", pad_edge=False, box=None)
    for name in ("matrix", "shape", "size"):
        table.add_column(name, overflow="fold", justify="right" if name == "size" else "left")
    for title, items in stages:
        table.add_row(Text(title, style="bold underline"))
        for item in (i for i in items if not isinstance(i, str)):
            table.add_row(Text("  " + item[0] + (" (weights)" if item[4] else "")), Text(item[1]), Text(_size(item)))
    return Group(Text("Matrix shapes", style="bold"), Text(sizes.replace("\n", " "), style="dim"), table)


def _shapes_svg(stages, sizes: str, layers: int) -> str:
    row_h = [max(_px(i[2]) for i in items if not isinstance(i, str)) + 90 for _, items in stages]
    widths = [sum((max(_px(i[3]), text_width(i[0], 15), text_width(i[1], 15)) + 16) if not isinstance(i, str) else 34
                  for i in items) for _, items in stages]
    notes = sizes.split("\n") + [f"light blue: one row per position; green: learned weights; the heads, W_o and the "
                                  f"feed-forward repeat in every layer (this model: {layers})",
                                  "(the paper: 6 layers, d_model 512, d_k = d_v = 64, h = 8)"]
    svg = Svg(max(widths + [text_width(t, 15) for t in notes]) + 2 * MARGIN, sum(row_h) + 28 * len(stages) + 150,
              "Matrix shapes")
    svg.text(MARGIN, MARGIN + 18, "Matrix shapes through the transformer", size=20, weight="bold")
    for k, line in enumerate(notes[:2]):
        svg.text(MARGIN, MARGIN + 42 + 20 * k, line, size=15, fill=MUTED)
    y = MARGIN + 82
    for (title, items), h in zip(stages, row_h):
        svg.text(MARGIN, y + 18, title, size=16, weight="bold")
        y, x, mid = y + 28, MARGIN, y + 28 + h / 2 - 10
        for item in items:
            if isinstance(item, str):
                svg.text(x + 17, mid + 8, item, size=22, anchor="middle")
                x += 34
                continue
            name, sym, r, k, weight = item
            w = max(_px(k), text_width(name, 15), text_width(sym, 15)) + 16
            cx = x + w / 2
            svg.text(cx, mid - _px(r) / 2 - 8, name, size=15, anchor="middle")
            svg.rect(cx - _px(k) / 2, mid - _px(r) / 2, _px(k), _px(r), fill=WEIGHT if weight else FILL, stroke=INK)
            svg.text(cx, mid + _px(r) / 2 + 20, _size(item), size=16, anchor="middle", weight="bold")
            svg.text(cx, mid + _px(r) / 2 + 38, sym, size=14, anchor="middle", fill=MUTED)
            x += w
        y += h
    for k, line in enumerate(notes[2:]):
        svg.text(MARGIN, y + 10 + 20 * k, line, size=15, fill=MUTED)
    return svg.to_string()


BLOCKS = ("embedding", "positional", "multihead", "add-norm", "feedforward", "cross-attention", "de-embedding", "softmax")
COLOURS = {"embedding": "#fbd5d5", "positional": "#ffffff", "multihead": "#fde2c8", "add-norm": "#fbf3c4",
           "feedforward": "#d4ecf7", "cross-attention": "#fde2c8", "de-embedding": "#e3dcf2", "softmax": "#d9f0d3"}
# rows from the bottom: (row, block or None for plain text, label)
ENCODER = [(0, None, "Inputs"), (1, "embedding", "Input embedding"), (2, "positional", "+ positional encoding"),
           (3, "multihead", "Multi-head attention"), (4, "add-norm", "Add & norm"), (5, "feedforward", "Feed forward"),
           (6, "add-norm", "Add & norm")]
DECODER = [(0, None, "Outputs (shifted right)"), (1, "embedding", "Output embedding"),
           (2, "positional", "+ positional encoding"), (3, "multihead", "Masked multi-head attention"),
           (4, "add-norm", "Add & norm"), (5, "cross-attention", "Multi-head cross-attention"),
           (6, "add-norm", "Add & norm"), (7, "feedforward", "Feed forward"), (8, "add-norm", "Add & norm"),
           (9, "de-embedding", "Linear (de-embedding)"), (10, "softmax", "Softmax"), (11, None, "Output probabilities")]


def check_block(block: str | None) -> str | None:
    if block is not None and block not in BLOCKS:
        raise UsageError(f"no block '{block}' to highlight; expected one of {', '.join(BLOCKS)}")
    return block


@register("architecture", "The transformer (the paper's Figure 1); --highlight a block", "10", ("highlight",))
def architecture(options: Options) -> FigureResult:
    block = check_block(options.highlight)
    return FigureResult(_architecture_table(block), _architecture_svg(block))


def _architecture_table(block: str | None):
    from rich.console import Group

    table = RichTable("Encoder", "Decoder", show_edge=False, header_style="bold", pad_edge=False, box=None)
    enc, dec = dict((r, (b, s)) for r, b, s in ENCODER), dict((r, (b, s)) for r, b, s in DECODER)
    cell = lambda entry: Text("") if entry is None else (
        Text(f"▶ {entry[1]} ◀", style="bold reverse") if block and entry[0] == block else Text(f"  {entry[1]}"))
    for r in range(11, -1, -1):
        table.add_row(cell(enc.get(r)), cell(dec.get(r)))
    notes = "Rows from the attention to the last add & norm repeat N times (the paper: N = 6); the encoder's output " \
            "is the K and V of every decoder cross-attention."
    return Group(Text("The transformer (Vaswani et al. 2017, Figure 1)", style="bold"), table, Text(notes, style="dim"))


def _architecture_svg(block: str | None) -> str:
    row, w, top, gap = 64, 330, MARGIN + 60, 200  # gap: from the encoder's boxes to the decoder's, room for "here"
    y_of = lambda r: top + (11 - r) * row
    svg = Svg(2 * MARGIN + 60 + 2 * w + gap + 140, top + 12 * row + 60, "Transformer architecture")
    title = "The transformer (Vaswani et al. 2017, Figure 1)" + (f": {block}" if block else "")
    svg.text(MARGIN, MARGIN + 18, title, size=20, weight="bold")
    for side, (column, x) in enumerate(((ENCODER, MARGIN + 60), (DECODER, MARGIN + 60 + w + gap))):
        last = max(r for r, _, _ in column if r >= 3 and r <= 8)
        svg.rect(x - 16, y_of(last) - 12, w + 32, y_of(3) - y_of(last) + 44 + 24, stroke=MUTED, fill="#f7f7f7", rx=12)
        # the decoder's N× sits between its top two rows, clear of a highlighted block's "here" arrow
        svg.text(x - 24 if side == 0 else x + w + 24, y_of(last) + (28 if side == 0 else 61), "N×", size=20,
                 anchor="end" if side == 0 else "start", weight="bold")
        boxes = {r: Box(x, y_of(r), w, 44) for r, _, _ in column}
        for (r, b, label), (r2, _, _) in zip(column, column[1:]):
            svg.arrow(x + w / 2, boxes[r].y, x + w / 2, boxes[r2].y + 44 + 2)
        for r, b, label in column:
            _block(svg, boxes[r], b, label, block)
    enc_top, dec = Box(MARGIN + 60, y_of(6), w, 44), Box(MARGIN + 60 + w + gap, y_of(5), w, 44)
    svg.path(f"M {enc_top.cx} {enc_top.y} L {enc_top.cx} {enc_top.y - 40} L {dec.x - 40} {enc_top.y - 40} "
             f"L {dec.x - 40} {dec.cy} L {dec.x - 2} {dec.cy}", arrow=True)
    svg.text(dec.x - 46, enc_top.y - 48, "encoder output: K, V", size=14, anchor="end", fill=MUTED)
    return svg.to_string()


def _block(svg: Svg, box: Box, kind: str | None, label: str, highlight: str | None) -> None:
    if kind is None:
        svg.text(box.cx, box.cy + 6, label, size=18, anchor="middle", italic=True)
        return
    chosen = highlight is not None and kind == highlight
    faded = highlight is not None and not chosen
    node(svg, box, label, fill=COLOURS[kind], bold=chosen, stroke=INK, stroke_width=4 if chosen else 1.5,
         class_="highlight" if chosen else None, opacity=0.4 if faded else None)
    if chosen:
        svg.arrow(box.x + box.w + 70, box.cy, box.x + box.w + 8, box.cy, stroke_width=3)
        svg.text(box.x + box.w + 76, box.cy + 6, "here", size=16, weight="bold")
