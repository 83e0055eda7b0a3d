"""A small SVG document builder (no dependencies): light, frameless figures for slides.

Text stays text (selectable, searchable), in a generic font stack that every renderer
has (no web font, no @import, no URL). Numbers are placed with ``text-anchor="end"`` at
an explicit x, which rsvg-convert, cairosvg and Chromium all honour, so right-aligned
columns stay aligned. Coordinates are pixels; y of a text is its baseline.

    svg = Svg(200, 60)
    svg.rect(10, 10, 40, 20, fill=RAMP.colour(0.5))
    svg.text(48, 25, "0.5", anchor="end")
    svg.to_string()  # '<?xml ...?><svg ...>...</svg>'
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

FONT = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"  # for text aligned with spaces
INK = "#222222"  # text and lines
MUTED = "#666666"  # notes, legends
GRID = "#d0d0d0"  # thin cell borders
BACKGROUND = "#ffffff"
CHAR = 0.62  # a character's width in em, roughly (DejaVu Sans digits are 0.636)


def text_width(text: str, size: float) -> float:
    """Roughly how wide ``text`` is at ``size`` px (a wide East Asian character counts double)."""
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in str(text)) * CHAR * size


def _number(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _attrs(attrs: dict) -> str:
    """{'stroke_width': 2, 'fill': None} -> ' stroke-width="2"' (None is left out)."""
    return "".join(f" {_name(k)}={quoteattr(_number(v) if isinstance(v, (int, float)) else str(v))}"
                   for k, v in attrs.items() if v is not None)


def _spans(parts: list[tuple[str, bool]]) -> str:
    """[('Prompt:', True), (' x', False)] -> '<tspan font-weight="bold">Prompt:</tspan> x'."""
    return "".join(f'<tspan font-weight="bold">{escape(t)}</tspan>' if bold else escape(t) for t, bold in parts)


def _name(key: str) -> str:
    """An attribute's name from a keyword: stroke_width -> stroke-width, xml_space -> xml:space."""
    return "xml:space" if key == "xml_space" else key.rstrip("_").replace("_", "-")


class Canvas(ABC):
    """What can be drawn on: an ``Svg`` or a ``group`` inside it."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def _add(self, tag: str, attrs: dict, body: str | None = None) -> None:
        self.items.append(f"<{tag}{_attrs(attrs)}/>" if body is None else f"<{tag}{_attrs(attrs)}>{body}</{tag}>")

    def rect(self, x, y, width, height, fill="none", stroke=None, stroke_width=None, rx=None, **attrs) -> None:
        self._add("rect", dict(x=x, y=y, width=width, height=height, fill=fill, stroke=stroke,
                               stroke_width=stroke_width, rx=rx, **attrs))

    def line(self, x1, y1, x2, y2, stroke=INK, stroke_width=1, dash=None, arrow=False, **attrs) -> None:
        """A straight line; ``arrow``: an arrowhead at (x2, y2)."""
        self._add("line", dict(x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, stroke_width=stroke_width,
                               stroke_dasharray=dash, marker_end=self._arrowhead(stroke) if arrow else None, **attrs))

    def arrow(self, x1, y1, x2, y2, stroke=INK, stroke_width=1.5, **attrs) -> None:
        """A line from (x1, y1) with an arrowhead at (x2, y2)."""
        self.line(x1, y1, x2, y2, stroke=stroke, stroke_width=stroke_width, arrow=True, **attrs)

    def path(self, d: str, stroke=INK, stroke_width=1.5, fill="none", arrow=False, dash=None, **attrs) -> None:
        """An SVG path ('M 0 0 C 10 0 ...'); ``arrow``: an arrowhead at its end."""
        self._add("path", dict(d=d, stroke=stroke, stroke_width=stroke_width, fill=fill, stroke_dasharray=dash,
                               marker_end=self._arrowhead(stroke) if arrow else None, **attrs))

    def circle(self, cx, cy, r, fill="none", stroke=INK, stroke_width=1.5, **attrs) -> None:
        self._add("circle", dict(cx=cx, cy=cy, r=r, fill=fill, stroke=stroke, stroke_width=stroke_width, **attrs))

    def text(self, x, y, text, size=16, anchor="start", weight=None, fill=INK, italic=False, **attrs) -> None:
        """``text`` (escaped) with its baseline at y; ``anchor`` start, middle or end (a number: end).
        ``text`` may be a list of (part, bold) pairs: the bold parts as bold <tspan>s."""
        if anchor not in ("start", "middle", "end"):
            raise ValueError(f"anchor is {anchor!r}; expected start, middle or end")
        body = _spans(text) if isinstance(text, list) else escape(str(text))
        if body == "":
            return
        self._add("text", dict(x=x, y=y, font_size=size, text_anchor=anchor, font_weight=weight, fill=fill,
                               font_style="italic" if italic else None, **attrs), body)

    def group(self, transform: str | None = None, **attrs) -> "Group":
        """A <g> drawn in order with the rest; draw on the returned group."""
        group = Group(self._root(), transform=transform, **attrs)
        self.items.append(group)  # type: ignore[arg-type]  # rendered by to_string
        return group

    @abstractmethod
    def _root(self) -> "Svg":
        """The document this canvas draws into (it holds the shared arrowhead markers)."""

    def _arrowhead(self, colour: str) -> str:
        return self._root().marker(colour)

    def _body(self) -> str:
        return "\n".join(item if isinstance(item, str) else item.to_element() for item in self.items)


class Group(Canvas):
    def __init__(self, root: "Svg", **attrs) -> None:
        super().__init__()
        self.root, self.attrs = root, attrs

    def _root(self) -> "Svg":
        return self.root

    def to_element(self) -> str:
        return f"<g{_attrs(self.attrs)}>\n{self._body()}\n</g>"


class Svg(Canvas):
    """A standalone SVG document ``width`` x ``height`` px on a white background, no frame."""

    def __init__(self, width: float, height: float, title: str = "") -> None:
        super().__init__()
        self.width, self.height, self.title = width, height, title
        self.markers: dict[str, str] = {}

    def _root(self) -> "Svg":
        return self

    def marker(self, colour: str) -> str:
        """The url(#id) of an arrowhead marker in ``colour`` (defined once per colour)."""
        if colour not in self.markers:
            self.markers[colour] = f"arrow{len(self.markers)}"
        return f"url(#{self.markers[colour]})"

    def to_string(self) -> str:
        """The document as well-formed XML."""
        w, h = _number(float(math.ceil(self.width))), _number(float(math.ceil(self.height)))
        defs = "".join(f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
                       f'orient="auto-start-reverse" markerUnits="userSpaceOnUse">'
                       f'<path d="M 0 0 L 10 5 L 0 10 z" fill={quoteattr(colour)}/></marker>'
                       for colour, mid in self.markers.items())
        title = f"<title>{escape(self.title)}</title>\n" if self.title else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
                f'font-family={quoteattr(FONT)}>\n{title}'
                + (f"<defs>{defs}</defs>\n" if defs else "")
                + f'<rect x="0" y="0" width="{w}" height="{h}" fill="{BACKGROUND}"/>\n{self._body()}\n</svg>\n')


# viridis sampled at 9 stops, light to dark: more is darker on a white page; colour-blind safe
VIRIDIS = ("#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4a89", "#482878")


@dataclass(frozen=True)
class Ramp:
    """A sequential colour ramp: ``colour(t)`` for t from 0 (light) to 1 (dark), interpolated."""

    stops: tuple[str, ...] = VIRIDIS

    def colour(self, t: float) -> str:
        t = min(max(float(t), 0.0), 1.0) * (len(self.stops) - 1)
        i = min(int(t), len(self.stops) - 2)
        a, b = _rgb(self.stops[i]), _rgb(self.stops[i + 1])
        return "#" + "".join(f"{round(x + (y - x) * (t - i)):02x}" for x, y in zip(a, b))

    def ink(self, t: float) -> str:
        """Black or white text, whichever reads better on ``colour(t)``."""
        r, g, b = _rgb(self.colour(t))
        return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


RAMP = Ramp()


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@dataclass(frozen=True)
class Scale:
    """Values lo..hi -> 0..1 for a colour ramp, linear or log.

    The log scale is symmetric (sign(v) log10(1 + |v|/c), c the smallest non-zero |value|
    shown), so zeros and negative numbers still have a place and a big corpus's counts
    1 .. 10,000 spread over the ramp instead of all but one being the lightest colour.
    """

    lo: float
    hi: float
    kind: str = "linear"
    unit: float = 1.0  # c, the log scale's smallest step

    @classmethod
    def of(cls, values, kind: str = "linear", lo: float | None = None, hi: float | None = None) -> "Scale":
        """The scale over the finite ``values`` (lo at most 0), or over lo..hi when given."""
        if kind not in ("linear", "log"):
            raise ValueError(f"scale is {kind!r}; expected linear or log")
        finite = [float(v) for v in _flat(values) if math.isfinite(v)]
        lo = min([0.0] + finite) if lo is None else lo
        hi = max([0.0] + finite) if hi is None else hi
        nonzero = [abs(v) for v in finite if v != 0]
        return cls(lo, hi, kind, min(nonzero) if nonzero else 1.0)

    def _f(self, v: float) -> float:
        return v if self.kind == "linear" else math.copysign(math.log10(1 + abs(v) / self.unit), v)

    def __call__(self, v: float) -> float:
        """Where ``v`` falls, 0 to 1 (values outside lo..hi take the ends)."""
        lo, hi = self._f(self.lo), self._f(self.hi)
        return 0.0 if hi <= lo or not math.isfinite(v) else min(max((self._f(v) - lo) / (hi - lo), 0.0), 1.0)

    def ticks(self, n: int = 5) -> list[float]:
        """``n`` values from lo to hi, evenly spaced on this scale."""
        lo, hi = self._f(self.lo), self._f(self.hi)
        out = [lo + (hi - lo) * k / (n - 1) for k in range(n)]
        if self.kind == "linear":
            return out
        return [math.copysign((10 ** abs(f) - 1) * self.unit, f) for f in out]


def _flat(values):
    for v in values:
        if hasattr(v, "__iter__") and not isinstance(v, str):
            yield from _flat(v)
        else:
            yield v
