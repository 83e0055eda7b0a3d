"""The handout page: well-formed, self-contained, every section in the contents, colours kept."""

import re
from html.parser import HTMLParser

from lmtoy.render.handout import HandoutStep, ansi_html, handout, inline_svg

VOID = {"meta", "br", "img", "hr", "link", "input", "col", "wbr", "source"}


class Balanced(HTMLParser):
    """Checks that every element is closed, in order; collects ids, links and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.ids, self.links, self.tags, self.text = [], [], set(), [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src", "xlink:href"):
            if name in attrs:
                self.links.append(attrs[name])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Balanced:
    parser = Balanced()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    return parser


SVG = '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text x="9" text-anchor="end">0.5</text><rect width="1" height="1"/></svg>'


def test_a_page_holds_every_section_in_its_contents_and_each_step():
    steps = [
        HandoutStep("2. First-order", "the row of <my>", "lmtoy first-order show_me --word my", "\x1b[1mmy\x1b[0m 0.2"),
        HandoutStep("2. First-order", "again & again", "lmtoy first-order show_me", "plain", SVG, "markov_chain"),
        HandoutStep("4. Feature voting", "votes", "lmtoy vote program_log -p 'a b'", ""),
    ]
    page = handout(steps)
    parsed = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    anchors = [link for link in parsed.links if link.startswith("#")]
    assert len(anchors) == 2 and {a[1:] for a in anchors} <= parsed.ids  # the contents link to both sections
    text = "".join(parsed.text)
    assert "the row of <my>" in text and "again & again" in text and "lmtoy vote program_log -p 'a b'" in text
    assert page.count("<svg") == 1 and "<?xml" not in page and "lmtoy figure markov_chain" in text
    assert page.count('class="output"') == 2  # a step that printed nothing shows no empty box


def test_nothing_is_fetched_from_the_network():
    page = handout([HandoutStep("1. One-hot", "c", "lmtoy onehot 'a b'", "x", SVG, "one_hot_vocabulary")])
    parsed = parse(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "@import" not in page
    assert all(link.startswith("#") for link in parsed.links)


def test_colours_become_inline_styles_and_text_is_escaped():
    shown = ansi_html("\x1b[1mbold\x1b[0m \x1b[38;2;255;0;0m<red>\x1b[0m")
    assert 'style="font-weight: bold">bold</span>' in shown
    assert "color: #ff0000" in shown and "&lt;red&gt;" in shown and "\x1b" not in shown


def test_an_svg_loses_its_xml_declaration_and_doctype():
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg></svg>\n'
    assert inline_svg(svg) == "<svg></svg>"


def test_two_figures_keep_their_own_arrowheads_and_messages_are_shown():
    """Every figure defines marker ids such as arrow0: on one page, url(#arrow0) would reach
    the first figure's marker, so each figure's ids get the section's prefix."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><defs><marker id="arrow0"/></defs>'
           '<line marker-end="url(#arrow0)"/></svg>')
    page = handout([HandoutStep("2. One", "c", "lmtoy a", "x", svg, "a", notes="done: 300 steps"),
                    HandoutStep("3. Two", "c", "lmtoy b", "y", svg, "b")])
    parse(page)
    ids = re.findall(r'<marker id="([^"]+)"', page)
    assert len(ids) == len(set(ids)) == 2
    for mid in ids:
        assert f"url(#{mid})" in page
    assert '<pre class="notes">done: 300 steps</pre>' in page
