"""``lmtoy transformer compile``: build, not train, a transformer from a corpus's counts (sections 4-7).

The weights are set by hand (``lmtoy.transformer.compile``), so the model file's logits are the
feature votes of ``lmtoy vote`` (``--masked``: the totals of ``complete --model masked-skips``).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lmtoy.cli.attention import MIN_GAIN, MinGain, Window
from lmtoy.cli.common import (
    CorpusArg, Format, FormatOpt, JoinLines, KeepCase, TokenizerOpt, emit, handle_errors, load_corpus, tokenizer_from,
)

Show = Annotated[bool, typer.Option("--show", help="Also show every hand-set matrix, its rows and columns labelled by words and features.")]

WHAT = {  # weight -> what the construction puts in it
    "embedding": "one-hot: word t -> dimension t (the word block)",
    "positions": "0: order plays no part",
    "layer0.W_q": "Q = one-hot of the query word",
    "layer0.W_k": "K rows = the mask matrix: (Q K^T)[i, t] = 1 when word t is in word i's mask",
    "layer0.W_v": "V = one-hot of the key word (<end>: 0)",
    "layer0.W_o": "each head's counts into its own block",
    "layer0.W_1": "feature creation: count - recent + M recent(b) (- M gate)",
    "layer0.b_1": "-M, -M - 1: the threshold pair that turns a count into a presence",
    "layer0.W_2": "+row, -row: each feature's transition row, into the logits block",
    "layer0.b_2": "0",
    "de_embedding": "the identity on the logits block",
}


@handle_errors
def compile_command(
    corpus: CorpusArg = None,
    out: Annotated[str, typer.Option("--out", "-o", metavar="FILE", help="Where to write the model (.npz); written atomically, replacing only an earlier lmtoy model.")] = "model.npz",
    masked: Annotated[bool, typer.Option("--masked", help="Attention keeps only the informative features (as vote --auto-mask), with the unmasked vote when none is active (complete --model masked-skips).")] = False,
    min_gain: MinGain = MIN_GAIN,
    window: Window = None,
    show: Show = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    tokenizer: TokenizerOpt = "words",
    fmt: FormatOpt = Format.table,
):
    """Build, not train, a transformer whose logits are the skip model's feature votes (sections 4-7)."""
    from lmtoy.cli.train import _check_out
    from lmtoy.transformer import save_model
    from lmtoy.transformer.compile import compile_model, dimension_labels, feature_labels

    path = _check_out(out)
    tok = tokenizer_from(tokenizer)
    compiled = compile_model(load_corpus(corpus, join_lines, keep_case, tok), window, masked, min_gain)
    written = save_model(path, compiled.params, compiled.config, compiled.vocabulary, keep_case, only_over_models=True,
                         tokenizer=tok, dimensions=dimension_labels(compiled), hidden=feature_labels(compiled))
    emit(_view(compiled, str(written), show), fmt, max_rows=0 if show else 40)


def _view(compiled, path: str, show: bool):
    """The weights' shapes and what each holds; with ``show``, each matrix as a labelled grid."""
    import json

    from lmtoy.render.matrix import Grid
    from lmtoy.render.text import TextTable
    from lmtoy.render.views import View

    c = compiled.config
    rows = [[name, " x ".join(map(str, a.shape)), WHAT.get(name, "")] for name, a in compiled.params.items()]
    table = TextTable(["weight", "shape", "holds"], rows, title="The hand-set weights")
    kind = "masked (informative features, unmasked fallback)" if compiled.masked else "unmasked"
    line = (f"compiled {path}: {kind}, {len(compiled.features):,} skip features, d_model {c.d_model}, "
            f"d_ff {c.d_ff}, {c.n_heads} head{'s' * (c.n_heads > 1)}, context {c.context}; no training")
    parts, tables = [line, _rich(table)], [("weights", table)]
    if show:
        for name, grid in _grids(compiled):
            parts.append(grid)
            tables.append((name, grid))
    payload = {"model": path, "masked": compiled.masked, "config": json.loads(c.to_json()),
               "features": [[compiled.vocabulary[a], compiled.vocabulary[b]] for a, b in compiled.features],
               "informative": compiled.informative.tolist(),
               "weights": [{"name": r[0], "shape": list(compiled.params[r[0]].shape), "holds": r[2]} for r in rows]}
    return View(parts, lambda: payload, tables=tables)


def _rich(table):
    from rich.table import Table
    from rich.text import Text

    shown = Table(title=table.title, title_justify="left", title_style="bold")
    for name in table.header:
        shown.add_column(name)
    for row in table.rows:
        shown.add_row(*(Text(cell) for cell in row))
    return shown


def _grids(compiled):  # -> [(name, Grid)]
    """Each hand-set matrix with its shape, rows and columns labelled by words, count and logit
    dimensions ('#ran', '>ran') and features ('battery,ran')."""
    from lmtoy.render.matrix import Grid
    from lmtoy.transformer.compile import dimension_labels, feature_labels

    p, c = compiled.params, compiled.config
    words, dims, units = list(compiled.vocabulary), dimension_labels(compiled), feature_labels(compiled)
    corpus_words = words[:-1]
    matrices = [("embedding E", p["embedding"], words, dims)]
    for j in range(c.n_heads):
        head = f" head {j + 1}"
        matrices += [(f"W_q{head}", p["layer0.W_q"][j], dims, corpus_words),
                     (f"W_k{head}", p["layer0.W_k"][j], dims, corpus_words),
                     (f"W_v{head}", p["layer0.W_v"][j], dims, corpus_words)]
    heads = [f"{j + 1}:{w}" for j in range(c.n_heads) for w in corpus_words]
    matrices += [("W_o", p["layer0.W_o"], heads, dims), ("W_1", p["layer0.W_1"].T, units, dims),
                 ("b_1", p["layer0.b_1"][:, None], units, ["b_1"]), ("W_2", p["layer0.W_2"], units, dims),
                 ("de-embedding U", p["de_embedding"], dims, words)]
    out = []
    for name, a, rows, cols in matrices:
        shape = " x ".join(map(str, a.shape))
        if name == "W_1":
            shape = f"{a.shape[1]} x {a.shape[0]}, shown transposed: a row per hidden unit"
        out.append((name, Grid.of(a, rows, cols, title=f"{name}  [{shape}]", hide_zeros=True, keep_order=True)))
    return out
