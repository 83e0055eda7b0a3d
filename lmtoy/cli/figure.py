"""The figure command: the article's figures by name, in the terminal or as SVG for slides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lmtoy.cli.completion import complete_corpus, complete_model

from lmtoy.cli.common import Scale, ScaleOpt, Svg, bad_option, handle_errors, load_corpus, quoted

app = typer.Typer()  # its command is registered in lmtoy.cli.root.COMMANDS


def _names(incomplete: str) -> list[str]:
    """The figure names that start with what was typed (shell completion)."""
    from lmtoy.render.figures import NAMES

    return [name for name in NAMES if name.startswith(incomplete)]


@app.command()
@handle_errors
def figure(
    name: Annotated[Optional[str], typer.Argument(help="The figure, named after the article's figure file, e.g. transition_matrix.",
                                                        show_default=False, autocompletion=_names)] = None,
    list_: Annotated[bool, typer.Option("--list", "-l", help="List the figures: name, section, caption and options.")] = False,
    corpus: Annotated[Optional[str], typer.Option("--corpus", "-c", help="Redraw on this corpus (file, '-' or bundled name) instead of the article's.", autocompletion=complete_corpus)] = None,
    model: Annotated[Optional[Path], typer.Option("--model", "-m", help="A saved transformer (.npz) to draw, for the figures that show one.", dir_okay=False, autocompletion=complete_model)] = None,
    highlight: Annotated[Optional[str], typer.Option("--highlight", help="The block to stand out (architecture).")] = None,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """The article's figures by name: drawn in the terminal, or saved as a standalone SVG for slides."""
    from lmtoy.cli import output
    from lmtoy.render.figures import Options, figure as find

    if list_ or name is None:
        if name is not None:
            bad_option("give a figure name or --list, not both", "--list")
        return output.print_renderable(_listing())
    chosen = find(name)
    for option, value in (("corpus", corpus), ("model", model), ("highlight", highlight)):
        if value is not None and option not in chosen.accepts:
            bad_option(f"figure {name} does not take --{option}", f"--{option}")
    if model is not None and not model.is_file():
        bad_option(f"{quoted(str(model))}: no such model file (train one: lmtoy transformer train CORPUS --out "
                   f"{quoted(str(model))})", "--model")
    options = Options(load_corpus(corpus) if corpus is not None else None, model, highlight, scale.value)
    drawn = chosen.build(options)
    if svg is not None:
        from lmtoy.files import write_atomic

        write_atomic(svg, drawn.svg.encode("utf-8"))
    output.print_renderable(drawn.renderable)


def _listing():
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from lmtoy.render.figures import NAMES, figures

    drawn = figures()
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("figure", no_wrap=True)
    table.add_column("§", justify="right")
    table.add_column("caption (options)", overflow="fold")
    for name in NAMES:
        f = drawn.get(name)
        options = f" ({' '.join(f'--{a}' for a in f.accepts)})" if f and f.accepts else ""
        table.add_row(name, f.section if f else "", Text(f.caption + options) if f else Text("not drawn yet", style="dim"))
    return table
