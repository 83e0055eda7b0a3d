"""The article's graph figures of sections 2-7: Markov chains, feature voting and the
feature-creation layer, each computed from a corpus by the core (ngrams, attention).

A chain's states are drawn in layers by where they first occur in a sentence (so the
article's corpora read left to right); every arrow prints its probability, its
thickness grows with it. Shapes: N words, F active features, K informative features.
"""

from __future__ import annotations

import shlex

import numpy as np
from rich.text import Text
from rich.tree import Tree

from lmtoy.corpus import Corpus
from lmtoy.errors import CorpusError, UsageError
from lmtoy.render.figures import FigureResult, Options, article_corpus, register
from lmtoy.render.figures.graph import (MARGIN, NEGATIVE, POSITIVE, Box, edge, extent, layered, node,
                                        note)
from lmtoy.render.figures.svg import INK, MUTED, Svg, text_width
from lmtoy.render.matrix import Grid, fmt

C = ("corpus",)
MAX_STATES = 40  # a chain with more states is drawn as a table (transition_matrix), not a graph
PROGRAM = "check the program log and find out whether it ran"  # the article's prompts (section 4)
BATTERY = "check the battery log and find out whether it ran"


def _corpus(options: Options, default: str) -> Corpus:
    return options.corpus if options.corpus is not None else article_corpus(default)


def chain_edges(model) -> list[tuple[tuple, tuple, float]]:
    """Each observed transition (state, next state, probability), states as word tuples:
    first-order (my,) -> (files,) 0.3; second-order (whether, the) -> (the, battery) 0.4."""
    words = model.vocabulary.words
    out = []
    for r in range(model.n_rows):
        state = tuple(words[i] for i in model.keys[r])
        for e in range(model.indptr[r], model.indptr[r + 1]):
            out.append((state, state[1:] + (words[model.cols[e]],), float(model.values[e])))
    return out


def first_layers(corpus: Corpus, order: int) -> dict[tuple, int]:
    """Each state (``order`` consecutive words) -> the earliest position it starts at in a
    sentence, ordered by that position, then alphabetically."""
    first: dict[tuple, int] = {}
    for s in range(corpus.n_sentences):
        words = corpus.sentence(s)
        for i in range(len(words) - order + 1):
            state = tuple(words[i : i + order])
            first[state] = min(first.get(state, i), i)
    return dict(sorted(first.items(), key=lambda kv: (kv[1], kv[0])))


def _chain(options: Options, order: int, default: str, title: str) -> FigureResult:
    from lmtoy.ngrams import first_order, second_order

    corpus = _corpus(options, default)
    model = (first_order if order == 1 else second_order)(corpus)
    edges = chain_edges(model)
    layers = first_layers(corpus, order)
    if not layers:
        raise CorpusError(f"{corpus.name}: no sentence of {order + 1} words or more: the chain has no transition")
    if len(layers) > MAX_STATES:
        raise UsageError(f"{corpus.name} has {len(layers)} states, more than a graph can show ({MAX_STATES}); "
                         f"draw it as a table: lmtoy figure transition_matrix{'_second_order' * (order == 2)}"
                         + ("" if options.corpus is None else f" --corpus {shlex.quote(corpus.name)}"))
    return FigureResult(_chain_tree(edges, title), _chain_svg(layers, edges, title))


def _chain_svg(layers: dict[tuple, int], edges, title: str) -> str:
    labels = {s: " ".join(s) for s in layers}
    size = 18 if all(len(s) == 1 for s in layers) else 16  # pair states: smaller, to fit 1280 px
    boxes = layered(layers, labels, gap=100 if size == 18 else 64, row=70, top=MARGIN + 40, size=size)
    svg = Svg(*extent(boxes, below=60), title=title)
    svg.text(MARGIN, MARGIN + 18, title, size=20, weight="bold")
    for a, b, p in edges:
        edge(svg, boxes[a], boxes[b], fmt(p), width=1 + 4 * p)
    for s, box in boxes.items():
        node(svg, box, labels[s], size=size)
    note(svg, MARGIN, svg.height - MARGIN - 8, ["each arrow: the probability of the next word (thicker is likelier)"])
    return svg.to_string()


def _chain_tree(edges, title: str) -> Tree:
    tree = Tree(Text(title, style="bold"), guide_style="dim")
    branches: dict[tuple, Tree] = {}
    for a, b, p in edges:
        if a not in branches:
            branches[a] = tree.add(Text(" ".join(a), style="bold"))
        branches[a].add(Text.assemble(("-> ", "dim"), b[-1], " ", (fmt(p), "cyan")))
    return tree


@register("markov_chain", "First-order Markov chain: words as states, arrows with probabilities", "2", C)
def markov_chain(options: Options) -> FigureResult:
    return _chain(options, 1, "show_me", "First-order sequence model (Markov chain)")


@register("markov_chain_2", "Second-order Markov chain: word pairs as states, arrows with probabilities", "3", C)
def markov_chain_2(options: Options) -> FigureResult:
    return _chain(options, 2, "battery", "Second-order sequence model: each state is a pair of words")


def _prompts(options: Options, corpus: Corpus) -> list[list[str]]:
    if options.corpus is None:
        return [PROGRAM.split(), BATTERY.split()]
    out = [p for p in (corpus.sentence(s)[:-1] for s in range(min(2, corpus.n_sentences))) if len(p) >= 2]
    if not out:
        raise CorpusError(f"{corpus.name}: no sentence of three words or more to take a prompt from")
    return out


def _votes(options: Options):
    """For each prompt: (prompt, feature labels (F,), next words (M,), weights (F, M), totals (M,))."""
    from lmtoy import attention
    from lmtoy.ngrams import skips

    corpus = _corpus(options, "program_log")
    model, words = skips(corpus), corpus.vocabulary.words
    out = []
    for prompt in _prompts(options, corpus):
        corpus.vocabulary.require(prompt)
        v = attention.vote(model, corpus.vocabulary.encode(prompt))
        used = np.flatnonzero(v.unmasked_totals)  # (M,)
        feats = [f"({words[a]}, {words[b]})" for a, b in v.features]
        out.append((prompt, feats, [words[j] for j in used], v.values[:, used], v.unmasked_totals[used]))
    return out


@register("feature_voting", "Feature voting: each active feature's row votes for the next word; the totals decide", "4", C)
def feature_voting(options: Options) -> FigureResult:
    votes = _votes(options)
    parts = []
    for prompt, feats, nexts, values, totals in votes:
        parts.append(Grid.of(np.vstack([values, totals]), feats + ["total"], nexts, row_header="feature",
                             title=f"'{' '.join(prompt)}' ->", keep_order=True))
    return FigureResult(_drawn(parts), _voting_svg(votes))


def _drawn(parts):
    from lmtoy.render.figures.parts import Drawn

    return Drawn(parts)


MAX_NEXT, MAX_FEATURES = 4, 16  # what one voting panel draws: the leading next words, the heaviest features


def _drawable(feats, nexts, values, totals):
    """One panel's part to draw: the MAX_NEXT next words with the largest totals (in their
    order) and the MAX_FEATURES features voting most for them; and a note of the rest."""
    keep = np.sort(np.argsort(-totals, kind="stable")[:MAX_NEXT])
    values, shown_totals = values[:, keep], totals[keep]
    rows = np.sort(np.argsort(-values.sum(axis=1), kind="stable")[:MAX_FEATURES])
    hidden = [f"{len(nexts) - len(keep)} other next words (totals {fmt(totals.sum() - shown_totals.sum())} in all)"
              if len(keep) < len(nexts) else "",
              f"{len(feats) - len(rows)} features voting less" if len(rows) < len(feats) else ""]
    return ([feats[i] for i in rows], [nexts[j] for j in keep], values[rows], shown_totals,
            " and ".join(h for h in hidden if h))


def _voting_svg(votes) -> str:
    panels, x, height = [], MARGIN, 0
    left_out = []
    for prompt, *voted in votes:
        feats, nexts, values, totals, hidden = _drawable(*voted)
        if hidden:
            left_out.append(f"'{' '.join(prompt)}': {hidden} not drawn")
        left = {("f", i): 0 for i in range(len(feats))}
        ports = int((values != 0).sum(axis=1).max(initial=1))  # the most arrows leaving one feature
        boxes = layered(left, {("f", i): f for i, f in enumerate(feats)}, row=46 + 14 * max(0, ports - 2),
                        top=MARGIN + 50, left=x, size=16)
        fh = max(max(b.y + b.h for b in boxes.values()) - (MARGIN + 50), 56 * len(nexts))
        right = max(b.x + b.w for b in boxes.values()) + 210
        w = max(text_width(n, 18) + 24 for n in nexts)
        for j, n in enumerate(nexts):  # next words spread over the features' height
            boxes[("n", j)] = Box(right, MARGIN + 50 + fh * (j + 1) / (len(nexts) + 1) - 20, w, 40)
        width = max(right + w + 110 - x, text_width(" ".join(prompt), 16) + 20)
        panels.append((prompt, feats, nexts, values, totals, boxes, x))
        x, height = x + width + 40, max(height, fh)
    svg = Svg(x - 40 + MARGIN, MARGIN + 50 + height + 70 + 24 * len(left_out), title="Feature voting")
    for prompt, feats, nexts, values, totals, boxes, x0 in panels:
        svg.text(x0, MARGIN + 16, "Prompt:", size=16, weight="bold")
        svg.text(x0, MARGIN + 38, " ".join(prompt), size=16, italic=True)
        for i, j in zip(*np.nonzero(values)):  # one port per arrow, its weight printed at the start
            a, b, v = boxes[("f", i)], boxes[("n", j)], values[i, j]
            mine = np.flatnonzero(values[i])
            y = a.cy + 15 * (np.searchsorted(mine, j) - (len(mine) - 1) / 2)
            svg.text(a.x + a.w + 6, y + 5, fmt(v), size=14, fill=INK)
            svg.line(a.x + a.w + 34, y, b.x - 2, b.cy, stroke=INK if v == 1 else MUTED,
                     stroke_width=1 + 5 * v, arrow=True, stroke_opacity=0.85)
        for key, box in boxes.items():
            node(svg, box, feats[key[1]] if key[0] == "f" else nexts[key[1]], size=16 if key[0] == "f" else 18,
                 bold=key[0] == "n")
        for j, box in ((k[1], b) for k, b in boxes.items() if k[0] == "n"):
            best = totals[j] == totals.max()
            svg.text(box.x + box.w + 12, box.cy + 7, f"total {fmt(totals[j])}", size=20, weight="bold" if best else None)
    note(svg, MARGIN, svg.height - MARGIN - 8 - 24 * len(left_out),
         ["each feature (earlier word, most recent word) votes with its row; arrow thickness is the weight; "
          "the highest total wins", *left_out])
    return svg.to_string()


def feature_layer(options: Options):
    """The section 7 layer for the first prompt's most recent word: (FeedForward, input
    labels (I+1,), feature labels (K,), next-word columns (M,), W2 (K, M), worked prompts)."""
    from lmtoy import attention
    from lmtoy.complete import Ladder

    corpus = _corpus(options, "program_log")
    prompts = _prompts(options, corpus)
    words = corpus.vocabulary.words
    for p in prompts:
        corpus.vocabulary.require(p)
    ladder = Ladder(corpus, None, attention.DEFAULT_MIN_GAIN)
    recent = corpus.vocabulary.id(prompts[0][-1])
    ff = attention.feed_forward(ladder.get("skips"), recent, ladder.get("informative"))
    inputs = [words[i] for i in ff.inputs] + ["bias"]
    feats = [f"{words[a]}, {words[b]}" for a, b in ff.features]
    used = np.flatnonzero(ff.w2.any(axis=0))  # (M,)
    return ff, inputs, feats, [words[j] for j in used], ff.w2[:, used], [(p, corpus.vocabulary.encode(p)) for p in prompts]


def _worked(ff, inputs, nexts, used_w2, prompt, ids) -> str:
    x, pre, post, _ = ff.forward(ids)
    given = " ".join(f"{name}={fmt(v) if v else 0}" for name, v in zip(inputs, x))
    out = ", ".join(f"{n} {fmt(v) if v else 0}" for n, v in zip(nexts, post @ used_w2))
    vec = lambda a: "[" + ", ".join(fmt(v) if v else "0" for v in a) + "]"
    return f"{given} -> {vec(pre)} -> ReLU {vec(post)} -> {out}"


@register("feature_creation_layer", "The feature-creation layer: inputs and a bias make pair features (W1), ReLU, then votes (W2)", "7", C)
def feature_creation_layer(options: Options) -> FigureResult:
    ff, inputs, feats, nexts, w2, prompts = feature_layer(options)
    worked = [_worked(ff, inputs, nexts, w2, p, ids) for p, ids in prompts]
    parts = [Grid.of(ff.w1, feats, inputs, row_header="feature", title="W1: feature creation (inputs -> features)",
                     hide_zeros=False, keep_order=True),
             Grid.of(w2, feats, nexts, row_header="feature", title="W2: the features' transition rows",
                     keep_order=True)] + [Text(w) for w in worked]
    return FigureResult(_drawn(parts), _layer_svg(ff.w1, inputs, feats, nexts, w2, worked))


def _layer_svg(w1, inputs, feats, nexts, w2, worked) -> str:
    layers = {("i", k): 0 for k in range(len(inputs))}
    layers |= {("f", k): 1 for k in range(len(feats))} | {("n", k): 2 for k in range(len(nexts))}
    labels = {("i", k): s for k, s in enumerate(inputs)} | {("f", k): s for k, s in enumerate(feats)}
    labels |= {("n", k): s for k, s in enumerate(nexts)}
    boxes = layered(layers, labels, gap=260, row=80, top=MARGIN + 70)
    svg = Svg(*extent(boxes, below=60 + 24 * len(worked)), title="Feature creation layer")
    svg.text(MARGIN, MARGIN + 18, "Feature creation: FFN(x) = max(0, x W1) W2", size=20, weight="bold")
    for k, title in enumerate(("inputs (bias = 1)", "features (ReLU)", "next words")):
        column = [b for key, b in boxes.items() if key[0] == "ifn"[k]]
        svg.text(max(column[0].cx, MARGIN + text_width(title, 16) / 2), MARGIN + 50, title, size=16, anchor="middle",
                 fill=MUTED)
    for f, i in zip(*np.nonzero(w1)):
        v = w1[f, i]
        edge(svg, boxes[("i", i)], boxes[("f", f)], f"{v:+g}", width=2.5, at=0.35,
             stroke=POSITIVE if v > 0 else NEGATIVE, dash=None if v > 0 else "7 4")
    for f, n in zip(*np.nonzero(w2)):
        edge(svg, boxes[("f", f)], boxes[("n", n)], fmt(w2[f, n]), width=1 + 3 * w2[f, n], at=0.5)
    for key, box in boxes.items():
        node(svg, box, labels[key], bold=key[0] == "f")
    y = max(b.y + b.h for b in boxes.values()) + 40
    svg.text(MARGIN, y, "W1: blue +1, dashed vermillion -1; W2: the features' transition rows", size=16, fill=MUTED)
    for line in worked:
        y += 24
        svg.text(MARGIN, y, line, size=16)
    return svg.to_string()
