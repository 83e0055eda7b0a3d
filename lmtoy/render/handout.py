"""The tour as one self-contained HTML page: a classroom handout.

Every section of the tour becomes a heading in a table of contents; every step
its caption, the command it runs, the command's output with its colours (rich's
HTML export, styles inline) and, where the step has one, its figure as inline
SVG. Nothing is fetched: no script, no stylesheet, no font from the network, so
the page prints or goes on a course site as it is. Nothing here runs a command:
the tour hands over what each step printed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_STYLE = """
body { font-family: DejaVu Sans, Arial, Helvetica, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; background: #ffffff; line-height: 1.45; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; margin-top: 2.5rem; }
nav ol { columns: 2; } p.caption { margin: 1rem 0 0.3rem; }
pre { font-family: DejaVu Sans Mono, Menlo, Consolas, monospace; font-size: 0.8rem; line-height: 1.25;
      background: #fafafa; border: 1px solid #e2e2e2; padding: 0.6rem; overflow-x: auto; white-space: pre; }
pre.command { background: #f0f4fa; color: #123e7a; border-color: #c9d6ea; }
pre.notes { background: #ffffff; color: #555555; border-style: dashed; }
figure { margin: 0.8rem 0; } figure svg { max-width: 100%; height: auto; }
@media print { pre { white-space: pre-wrap; } h2 { break-before: auto; } section.step { break-inside: avoid; } }
"""


@dataclass
class HandoutStep:
    """One tour step as it ran.

    section : "4. Feature voting" (the heading the step belongs to)
    caption, command : as the tour shows them
    output : what the command printed, with its ANSI colour codes
    figure : the step's figure as an SVG document, or ""
    figure_name : the ``lmtoy figure`` arguments that drew it, or ""
    notes : what the command said on stderr (progress, "done: ..."), plain text
    """

    section: str
    caption: str
    command: str
    output: str
    figure: str = ""
    figure_name: str = ""
    notes: str = ""


def handout(steps: list[HandoutStep], title: str = "Transformers from Scratch, run: the lmtoy tour") -> str:
    """The HTML page of these steps, sections in order of first appearance."""
    sections: dict[str, list[HandoutStep]] = {}
    for step in steps:
        sections.setdefault(step.section, []).append(step)
    anchors = {name: f"s{i + 1}-{_slug(name)}" for i, name in enumerate(sections)}
    toc = "\n".join(f'<li><a href="#{anchors[n]}">{html.escape(n)}</a></li>' for n in sections)
    body = "\n".join(_section(name, anchors[name], shown) for name, shown in sections.items())
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        "<p>Each step: what it shows, the command (type it yourself once lmtoy is installed, as its README "
        "says: the output is the same), what the command printed, its messages, and the section's figure.</p>\n"
        f'<nav>\n<h2 id="contents">Contents</h2>\n<ol>\n{toc}\n</ol>\n</nav>\n'
        f"{body}\n</body>\n</html>\n"
    )


def _section(name: str, anchor: str, steps: list[HandoutStep]) -> str:
    shown = "\n".join(_step(step) for step in steps)
    return f'<section id="{anchor}">\n<h2>{html.escape(name)}</h2>\n{shown}\n</section>'


def _step(step: HandoutStep) -> str:
    parts = [
        '<section class="step">',
        f'<p class="caption">{html.escape(step.caption)}</p>',
        f'<pre class="command">{html.escape(step.command)}</pre>',
        f'<pre class="output">{ansi_html(step.output)}</pre>' if step.output.strip() else "",
        f'<pre class="notes">{html.escape(step.notes.rstrip())}</pre>' if step.notes.strip() else "",
    ]
    if step.figure:
        label = html.escape(f"lmtoy figure {step.figure_name}")
        svg = inline_svg(step.figure, f"f{_slug(step.section)}-")
        parts.append(f'<figure>\n{svg}\n<figcaption><code>{label}</code></figcaption>\n</figure>')
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def ansi_html(text: str) -> str:
    """Text with ANSI colour codes as HTML spans with inline styles (escaped)."""
    from rich.console import Console
    from rich.text import Text
    import io

    console = Console(record=True, width=200, file=io.StringIO(), color_system="truecolor", force_terminal=True)
    for line in text.rstrip("\n").split("\n"):
        console.print(Text.from_ansi(line), soft_wrap=True)
    return console.export_html(inline_styles=True, code_format="{code}").rstrip("\n")


def inline_svg(svg: str, prefix: str = "") -> str:
    """An SVG document ready to sit inside HTML: without its XML declaration and doctype, and
    its ids (arrowhead markers, ...) given ``prefix``, since one page holds many figures and
    ``url(#arrow0)`` would otherwise reach the first figure's marker."""
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"^\s*<!DOCTYPE[^>]*>\s*", "", svg).strip()
    if prefix:
        svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", svg)
        svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', svg)
    return svg


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
