"""Section 9's pictures of vectors: a trained model's embedding in 2-D, and the
sinusoidal positional encoding's circles.

``embedded_words`` draws ``--model``'s embedding; without one it trains the tour's model
in-process (program_log.txt, the tour's Config and TrainSettings: 300 steps, seed 0, under
a second), or one on ``--corpus``. Shapes: N words, d = d_model, n positions.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from rich.text import Text

from lmtoy.errors import UsageError
from lmtoy.render.figures import FigureResult, Options, article_corpus, register
from lmtoy.render.figures.blocks import Table
from lmtoy.render.figures.graph import MARGIN
from lmtoy.render.figures.svg import GRID, INK, MUTED, RAMP, Canvas, Svg, text_width
from lmtoy.render.matrix import Grid

SEED = 0  # the in-process model's seed: the same figure every time
POSITIONS, D_MODEL = 32, 8  # the tour's d_model 8 (`lmtoy posenc -d 8`); 32 positions, so slow pairs move
PAIRS = 4  # circles drawn


def embedding_of(options: Options) -> tuple[tuple[str, ...], np.ndarray, str]:
    """(words (N,), embedding table (N, d), where it came from) of --model, or of the tour's
    model trained here on --corpus (default program_log)."""
    from lmtoy.transformer import load_model, train_corpus

    if options.model is not None:
        if options.corpus is not None:
            raise UsageError("give --model or --corpus (a model is trained on it), not both")
        saved = load_model(options.model)
        return saved.vocabulary, saved.params["embedding"], f"model {options.model.name}"
    corpus = options.corpus if options.corpus is not None else article_corpus("program_log")
    params, config, vocabulary, _ = train_corpus(corpus, seed=SEED)
    name = Path(corpus.name).name
    return vocabulary, params["embedding"], f"the tour's model trained here on {name} (300 steps, seed {SEED})"


@register("embedded_words", "A trained model's word embedding projected to 2-D (PCA)", "9", ("model", "corpus"))
def embedded_words(options: Options) -> FigureResult:
    from lmtoy.render.transformer import embed_view
    from lmtoy.render.figures.parts import Drawn
    from lmtoy.transformer import embeddings_2d

    words, table, source = embedding_of(options)
    coords = embeddings_2d(table)  # (N, 2)
    view = embed_view(words, coords, width=78)
    return FigureResult(Drawn(view.parts + [Text(source, style="dim")]), _scatter_svg(words, coords, source))


def _scatter_svg(words, coords: np.ndarray, source: str) -> str:  # (N, 2)
    size, plot = 640, 16  # px: the square plot; the label size
    rows = [[w, f"{x:.2f}", f"{y:.2f}"] for w, (x, y) in zip(words, coords)]
    table = Table(["word", "pc1", "pc2"], rows)
    svg = Svg(MARGIN * 3 + size + 60 + table.width, MARGIN * 2 + 60 + max(size + 40, table.height), "Embedded words")
    svg.text(MARGIN, MARGIN + 18, "Word embeddings on their two principal axes (PCA)", size=20, weight="bold")
    svg.text(MARGIN, MARGIN + 42, source, size=14, fill=MUTED)
    x0, y0 = MARGIN + 50, MARGIN + 60
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = max(float((hi - lo).max()), 1e-9) * 1.1
    mid = (lo + hi) / 2
    px = lambda p: (x0 + size / 2 + (p[0] - mid[0]) / span * size, y0 + size / 2 - (p[1] - mid[1]) / span * size)
    svg.rect(x0, y0, size, size, stroke=GRID)
    svg.text(x0 + size / 2, y0 + size + 28, "principal axis 1", size=14, anchor="middle", fill=MUTED)
    svg.text(x0 - 14, y0 + size / 2, "axis 2", size=14, anchor="end", fill=MUTED)
    taken: list[tuple[float, float, float, float]] = []
    for word, p in zip(words, coords):
        cx, cy = px(p)
        svg.circle(cx, cy, 5, fill=RAMP.colour(0.6), stroke=INK, stroke_width=1)
        _place_label(svg, cx, cy, word, plot, taken)
    table.draw(svg, x0 + size + 40, y0)
    return svg.to_string()


def _place_label(canvas: Canvas, cx: float, cy: float, text: str, size: float, taken: list) -> None:
    """Write ``text`` beside the point at (cx, cy) where it overlaps no label written yet."""
    w, h = text_width(text, size), size
    tries = [(cx + 9, cy + 5, "start"), (cx - 9, cy + 5, "end"), (cx, cy - 10, "middle"), (cx, cy + 22, "middle")]
    for x, y, anchor in tries + [tries[0]]:
        left = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        rect = (left, y - h, left + w, y + 2)
        if all(rect[2] < a or rect[0] > c or rect[3] < b or rect[1] > d for a, b, c, d in taken) or (x, y, anchor) == tries[0]:
            break
    taken.append(rect)
    canvas.text(x, y, text, size=size, anchor=anchor)


@register("positional_encoding", "Sinusoidal positional encoding: each pair of dimensions traces a circle", "9", ("model",))
def positional_encoding(options: Options) -> FigureResult:
    from lmtoy.render.figures.parts import Drawn
    from lmtoy.transformer import sinusoidal_positions

    n, d = POSITIONS, D_MODEL
    if options.model is not None:
        from lmtoy.transformer import load_model

        config = load_model(options.model).config
        if config.positions != "sinusoidal":
            raise UsageError(f"{options.model.name} learns its positions ({config.positions}); "
                             "only sinusoidal positions trace circles")
        n, d = min(config.context, 24), config.d_model
    table = sinusoidal_positions(n, d)  # (n, d)
    cols = [f"{'sin' if j % 2 == 0 else 'cos'}{j // 2}" for j in range(d)]
    grid = Grid.of(table, [str(p) for p in range(n)], cols, row_header="pos", hide_zeros=False, keep_order=True,
                   title=f"PE(pos, 2i) = sin(pos / 10000^(2i/{d})), PE(pos, 2i+1) = cos(...)")
    return FigureResult(Drawn([grid]), _circles_svg(table, d))


def _circles_svg(table: np.ndarray, d: int) -> str:  # (n, d)
    pairs = max(1, min(PAIRS, d // 2))
    r, cell = 110, 290
    svg = Svg(MARGIN * 2 + cell * pairs, MARGIN * 2 + 90 + cell + 40, "Positional encoding")
    svg.text(MARGIN, MARGIN + 18, f"Positional encoding: each pair of dimensions traces a circle ({len(table)} positions, "
             f"d_model {d})", size=20, weight="bold")
    svg.text(MARGIN, MARGIN + 44, f"PE(pos, 2i) = sin(pos / 10000^(2i/{d})),  PE(pos, 2i+1) = cos(pos / 10000^(2i/{d}));  "
             "x = cos, y = sin, labels are positions (crowded ones left out)", size=15, fill=MUTED)
    for i in range(pairs):
        cx, cy = MARGIN + cell * i + cell / 2, MARGIN + 90 + cell / 2
        svg.circle(cx, cy, r, stroke=GRID, stroke_width=1)
        svg.line(cx - r - 8, cy, cx + r + 8, cy, stroke=GRID)
        svg.line(cx, cy - r - 8, cx, cy + r + 8, stroke=GRID)
        if 2 * i + 1 < d:
            s, c = table[:, 2 * i], table[:, 2 * i + 1]  # (n,), (n,)
            points = [(cx + r * cc, cy - r * ss) for ss, cc in zip(s, c)]
            labelled: list[tuple[float, float]] = []
            for p, (x, y) in enumerate(points):
                svg.circle(x, y, 5, fill=RAMP.colour(p / max(len(points) - 1, 1)), stroke=INK, stroke_width=1)
            for p in sorted(range(len(points)), key=lambda p: (p not in (0, len(points) - 1), p)):
                angle = math.atan2(cy - points[p][1], points[p][0] - cx)
                lx, ly = cx + (r + 20) * math.cos(angle), cy - (r + 20) * math.sin(angle)
                if all(math.hypot(lx - a, ly - b) > 18 for a, b in labelled):  # crowded labels are left out
                    labelled.append((lx, ly))
                    svg.text(lx, ly + 5, str(p), size=14, anchor="middle")
        freq = 1 / 10000 ** (2 * i / d)
        svg.text(cx, cy + r + 48, f"dims {2 * i}, {2 * i + 1}: {freq:.3g} rad per position", size=16, anchor="middle")
    return svg.to_string()
