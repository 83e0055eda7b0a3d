"""The article's figures by name: each drawn in the terminal and as a standalone SVG.

A figure module registers its figures with ``@register(name, caption, section, accepts)``;
``figures()`` imports the modules on first use. Every figure is computed from a corpus
(the article's by default) by the same core code the commands use.

    @register("transition_matrix", "First-order transition matrix", "2", accepts=("corpus",))
    def transition_matrix(options: Options) -> FigureResult: ...
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from lmtoy.errors import UsageError

if TYPE_CHECKING:
    from lmtoy.corpus import Corpus

ACCEPTS = ("corpus", "model", "highlight")
MODULES = ("lmtoy.render.figures.tables", "lmtoy.render.figures.diagrams")

# every figure of the article, in its order, and the module that draws it
NAMES = {
    "one_hot_vocabulary": "tables", "dot_product": "tables", "matrix_mult_three_row_two_col": "tables",
    "markov_chain": "diagrams", "transition_matrix": "tables", "transition_lookups": "tables",
    "markov_chain_2": "diagrams", "transition_matrix_second_order": "tables", "feature_voting": "diagrams",
    "transition_matrix_second_order_skips": "tables", "feature_selection": "tables",
    "masked_feature_activities": "tables", "masked_transition_matrix": "tables", "mask_matrix_lookup": "tables",
    "feature_creation_layer": "diagrams", "feature_creation_matrix": "tables",
    "second_order_feature_battery": "tables", "second_order_feature_program": "tables",
    "embedded_words": "diagrams", "positional_encoding": "diagrams", "matrix_shapes": "diagrams",
    "architecture": "diagrams",
}


@dataclass(frozen=True)
class Options:
    """What a figure is drawn from: ``corpus`` None means the figure's own (the article's);
    ``model`` a saved transformer (.npz); ``highlight`` a block to stand out; ``scale`` of
    the colours, linear or log."""

    corpus: "Corpus | None" = None
    model: Path | None = None
    highlight: str | None = None
    scale: str = "linear"


@dataclass
class FigureResult:
    """A drawn figure: ``renderable`` for the terminal (rich), ``svg`` the standalone document."""

    renderable: object
    svg: str


@dataclass(frozen=True)
class Figure:
    name: str
    caption: str  # one line
    section: str  # of the article (WORKED_EXAMPLES.md), e.g. "2"
    build: Callable[[Options], FigureResult]
    accepts: tuple[str, ...] = field(default=())  # of ACCEPTS


FIGURES: dict[str, Figure] = {}


def register(name: str, caption: str, section: str, accepts: tuple[str, ...] = ()):
    """Add the decorated ``build(options) -> FigureResult`` to FIGURES as ``name``."""
    if name not in NAMES:
        raise ValueError(f"{name!r} is not a figure of the article (lmtoy.render.figures.NAMES)")
    unknown = set(accepts) - set(ACCEPTS)
    if unknown:
        raise ValueError(f"{name}: accepts {sorted(unknown)}; expected some of {ACCEPTS}")

    def decorator(build: Callable[[Options], FigureResult]):
        FIGURES[name] = Figure(name, caption, section, build, tuple(accepts))
        return build

    return decorator


_loaded = False


def figures() -> dict[str, Figure]:
    """Every registered figure, in the article's order (modules not yet written are skipped)."""
    global _loaded
    if not _loaded:
        for module in MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:
                    raise
        _loaded = True
    return {name: FIGURES[name] for name in NAMES if name in FIGURES}


def figure(name: str) -> Figure:
    """The figure called ``name``; UsageError naming close names when there is none."""
    found = figures()
    if name in found:
        return found[name]
    if name in NAMES:
        raise UsageError(f"figure '{name}' is not drawn yet (lmtoy.render.figures.{NAMES[name]})")
    close = difflib.get_close_matches(name, list(NAMES), n=2, cutoff=0.6)
    hint = f": did you mean {' or '.join(close)}?" if close else " (lmtoy figure --list lists them)"
    raise UsageError(f"no figure '{name}'{hint}")


def article_corpus(name: str) -> "Corpus":
    """A bundled corpus, read as the commands read it (words, lower-cased)."""
    from lmtoy.corpus import bundled, read_corpus

    path = bundled(name)
    assert path is not None, f"bundled corpus {name} is missing"
    return read_corpus(path)
