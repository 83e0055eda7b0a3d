"""The heatmap renderer, drawn on an 80-column recording console."""

from __future__ import annotations

import numpy as np
from rich.console import Console

from lmtoy.render.matrix import Grid, fmt, heatmap
from lmtoy.render.text import delimited, to_json


def draw(renderable, width: int = 80) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_numbers_are_printed_and_zeros_are_dots():
    out = draw(heatmap(Grid.of(np.array([[0.2, 0.0], [1.0, 0.5]]), ["a", "b"], ["x", "y"])))
    assert "0.2" in out and "0.5" in out and "." in out.splitlines()[2]


def test_wide_matrix_fits_and_says_what_is_hidden():
    values = np.random.default_rng(0).random((60, 50))
    out = draw(heatmap(Grid.of(values, [f"row{i}" for i in range(60)], [f"column{j}" for j in range(50)])))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "20 rows and 40 columns not shown: rows the table view shows 40; columns hidden to fit the width" \
        in " ".join(out.split())


def test_values_outside_a_fixed_scale_and_infinities_draw():
    grid = Grid.of(np.array([[2.0, -np.inf, -1.0]]), ["r"], ["a", "b", "c"], scale=(0.0, 1.0))
    out = draw(heatmap(grid))
    assert "2" in out and "-inf" in out and "-1" in out


def test_fmt():
    assert [fmt(v) for v in (0, 1.0, 0.5, 1 / 3, -1, 12.25, 0.001)] == [".", "1", "0.5", "0.33", "-1", "12.25", "1e-03"]
    assert [fmt(v) for v in (0.995, 0.9999, -0.996, -0.99999)] == ["0.995", ">0.999", "-0.996", "<-0.999"]


def test_delimited_pads_labels():
    grid = Grid.of(np.array([[1.0, 0.0], [0.5, 0.5]]), [["a", "b"], "totals"], ["x", "y"], row_header="earlier, recent")
    assert delimited(grid, ",").splitlines() == ["earlier,recent,x,y", "a,b,1,0", "totals,,0.5,0.5"]


def test_json_is_strict():
    assert to_json({"v": np.array([0.0, -np.inf])}) == '{"v": [0.0, null]}\n'


# Views must not mislead, and must stay sparse -----------------------------------------------

from lmtoy.corpus import Vocabulary, parse_corpus  # noqa: E402
from lmtoy.ngrams import TransitionModel, first_order  # noqa: E402


def _synthetic_pairs(n_words: int, n_rows: int, per_row: int = 5, seed: int = 0) -> TransitionModel:
    """A pair-keyed model over a huge vocabulary with only a few hundred rows."""
    rng = np.random.default_rng(seed)
    vocabulary = Vocabulary(tuple(f"w{i:06d}" for i in range(n_words)))
    keys = np.stack([np.sort(rng.choice(n_words, n_rows, replace=False)), np.zeros(n_rows, np.int64)], axis=1)
    cols = np.concatenate([np.sort(rng.choice(n_words, per_row, replace=False)) for _ in range(n_rows)])
    counts = rng.integers(1, 9, len(cols)).astype(float)
    indptr = np.arange(0, per_row * n_rows + 1, per_row, dtype=np.int64)
    return TransitionModel("second-order", vocabulary, keys, indptr, cols, counts)


def test_model_table_allocates_only_the_shown_cells():
    """--max-rows 0 on N = 200,000: take is never asked for a row over the whole vocabulary,
    and the peak memory stays far below one dense row block (N x rows x 8 bytes = 320 MB)."""
    import tracemalloc

    from lmtoy.render.counted import model_view

    model = _synthetic_pairs(200_000, 200)
    model.values, model.row_totals  # cached: the model's own arrays are not the view's cost
    grid = model_view(model).main
    asked = []
    take = grid.take
    grid.take = lambda r, c: (asked.append((len(r), len(c))), take(r, c))[1]
    tracemalloc.start()
    out = draw(heatmap(grid, 80, max_rows=0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert asked and all(c <= 40 for _, c in asked), asked
    assert peak < 40_000_000, f"peak {peak:,} bytes"
    assert out.count("\n") > 200


def _story():
    """'bell' follows 'the' five times (among many other words); each rare word follows a
    one-off word with certainty. Ranking by summed probability shows the rare words
    (probability 1 each) and hides 'bell' (5/35 in the row of 'the')."""
    lines = ["the bell rang until noon.", "the bell was loud.", "the bell and the drum.",
             "the bell rang.", "the bell rang again."]
    lines += [f"the w{i} went away." for i in range(30)]
    lines += [f"only{i} rare{i}." for i in range(30)]
    return first_order(parse_corpus(" ".join(lines).encode(), name="story"))


def test_columns_are_ranked_by_weighted_count_and_hidden_mass_is_shown():
    from lmtoy.render.counted import model_view

    model = _story()
    out = draw(model_view(model).table(80, 40))
    header = out.splitlines()[1].split()
    assert "bell" in header and "went" in header  # followed 5 and 30 times; each rare word once
    assert header[-1] == "…" and "… is each row's probability in the hidden columns" in " ".join(out.split())
    words = model.vocabulary.words
    for line in out.splitlines()[3:43]:
        cells = line.split()
        if cells and cells[0] in words and model.row_totals[words.index(cells[0])] > 0:
            assert any(c != "." for c in cells[1:]), line  # no row looks empty when it is not


def test_hidden_mass_column_only_for_distributions():
    values = np.random.default_rng(0).random((3, 60))
    plain_grid = draw(heatmap(Grid.of(values, ["a", "b", "c"], [f"c{j}" for j in range(60)])))
    dist = draw(heatmap(Grid.of(values / values.sum(1, keepdims=True), ["a", "b", "c"],
                                [f"c{j}" for j in range(60)], distribution=True)))
    assert "…" not in plain_grid.splitlines()[0] and dist.splitlines()[0].split()[-1] == "…"
    assert max(len(line) for line in dist.splitlines()) <= 80


def test_hidden_rows_say_why():
    values = np.ones((60, 3))
    grid = Grid.of(values, [f"r{i}" for i in range(60)], ["x", "y", "z"], rows_flag="--max-rows")
    out = " ".join(draw(heatmap(grid, max_rows=40)).split())
    assert "20 rows not shown: limited by --max-rows 40 (--max-rows 0 shows all)" in out
    assert "to fit" not in out
    out = " ".join(draw(heatmap(Grid.of(values, [f"r{i}" for i in range(60)], ["x", "y", "z"]), max_rows=40)).split())
    assert "20 rows not shown: the table view shows 40" in out


def test_shortened_headers_stay_distinct():
    names = ["spreadsheet", "spreadsheets"] + [f"spreadsheet{i:02d}" for i in range(8)]
    out = draw(heatmap(Grid.of(np.ones((1, len(names))), ["r"], names)), width=60)
    header = out.splitlines()[0].split()
    assert len(header) == len(set(header)) and any("…" in h for h in header)


def test_delimited_header_never_collides_with_a_column():
    grid = Grid.of(np.array([[1.0, 0.0, 0.5]]), ["word"], ["a", "here", "word"], row_header="word")
    assert delimited(grid, ",").splitlines()[0] == "word label,a,here,word"
    from lmtoy.render.text import markdown

    assert markdown(grid).splitlines()[0] == "| word label | a | here | word |"


def test_unique_token_labels():
    from lmtoy.render.matrix import token_labels

    assert token_labels(["find", "out", "what", "out"]) == ["find", "out@2", "what", "out@4"]


def _attention(prompt):
    n = len(prompt)
    w = np.tril(np.ones((n, n)))
    return np.broadcast_to(w / w.sum(1, keepdims=True), (1, 2, n, n)).copy()  # (L, h, n, n)


def test_attention_keys_are_unique_words():
    from lmtoy.render.transformer import attention_row_view, attention_view

    prompt = ["<end>", "find", "out", "what", "out"]
    weights = _attention(prompt)
    last = attention_row_view(prompt, weights, [0], [0, 1])
    assert last.main.columns == ["<end>", "find", "out@3", "what", "out@5"]
    full = attention_view(prompt, weights, [0], [0, 1])
    assert all(g.columns == last.main.columns for _, g in full.tables)


def test_attention_and_trace_write_titled_tables():
    """markdown: '### title' then a table, per table; csv/tsv: a leading 'table' field."""
    from lmtoy.render.transformer import attention_view, trace_view

    prompt = ["<end>", "battery", "ran"]
    view = attention_view(prompt, _attention(prompt), [0], [0, 1])
    md = view.text("markdown")
    assert md.count("### layer 1, head ") == 2 and "| query \\ key | <end> | battery | ran |" in md
    csv_lines = view.text("csv").splitlines()
    assert csv_lines[0] == "table,query \\ key,<end>,battery,ran"
    assert csv_lines[1].startswith("layer 1 head 1,1 <end>,1,0,0")
    assert sum(line.startswith("table,") for line in csv_lines) == 2

    shapes_only = trace_view(prompt, ("battery", "ran", "<end>"), [], [("W_o", "[16 x 16]", "[512 x 512]")], {})
    assert shapes_only.text("csv").splitlines() == ["table,what,this model,paper", "shapes,W_o,[16 x 16],[512 x 512]"]
    assert shapes_only.text("markdown").startswith("### Shapes")
    scores = np.zeros((3, 3))
    traced = trace_view(prompt, ("battery", "ran", "<end>"), [("layer 1 head 1 scores", scores)], [], {})
    out = " ".join(draw(traced.table()).split())
    assert "already divided by sqrt(d_k)" in out and "<end> battery ran" in out
