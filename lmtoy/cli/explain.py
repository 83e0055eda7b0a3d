"""The explain command: where one number that another command shows comes from."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from lmtoy.cli.common import CorpusArg, JoinLines, KeepCase, bad_option, emit, handle_errors, load_corpus, quoted, split_words
from lmtoy.cli.evaluate import KOpt, Smoothing, check_k

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

BOUNDARIES = ("<s>", "</s>")


class Explained(str, Enum):
    first_order = "first-order"
    second_order = "second-order"
    skips = "skips"
    vote = "vote"
    masked_skips = "masked-skips"  # vote with --auto-mask


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"


# model -> (words --words needs at least, an example)
NEEDS = {"first-order": (2, "my photos"), "second-order": (3, "whether the battery"), "skips": (3, "battery ran down"),
         "vote": (3, "check the battery log and find out whether it ran down"),
         "masked-skips": (3, "check the battery log and find out whether it ran down")}
WORDS_HELP = ("The context, then the next word: 'my photos' (first-order: the last word before NEXT; second-order: "
              "the last two), 'battery ran down' (skips: the feature (earlier, recent) and NEXT), or a prompt and "
              "NEXT (vote). With --smoothing, <s> and </s> may be used, as score shows them.")


@app.command()
@handle_errors
def explain(
    model: Annotated[Explained, typer.Argument(case_sensitive=False, help="The model: first-order|second-order|skips|vote|masked-skips (masked-skips is vote with --auto-mask).", show_default=False)],
    corpus: CorpusArg = None,
    words: Annotated[str, typer.Option("--words", "-w", help=WORDS_HELP, show_default=False)] = ...,
    smoothing: Annotated[Optional[Smoothing], typer.Option("--smoothing", "-s", case_sensitive=False, help="Explain the smoothed probability (first-order, second-order): each term with its number, and every lower order.")] = None,
    k: KOpt = 1.0,
    auto_mask: Annotated[bool, typer.Option("--auto-mask", help="vote: keep only the informative features, as lmtoy vote --auto-mask.")] = False,
    min_gain: Annotated[float, typer.Option("--min-gain", min=0.0, max=1.0, help="With --auto-mask: see lmtoy vote --help.")] = 0.25,
    window: Annotated[Optional[int], typer.Option("--window", min=1, max=1_000_000_000, help="Skip features reach at most N words back.")] = None,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    fmt: Annotated[ExplainFormat, typer.Option("--format", "-f", case_sensitive=False, help="Output format.")] = ExplainFormat.table,
):
    """Where a number comes from: the count, the row total, the formula and the value behind one entry.

    first-order show_me --words 'my photos' gives the row of my: the weighted count of
    (my, photos) 0.5, the row total 1.0 and the value 0.5, with the corpus events that
    made them. skips lists the sentences where the feature was active; vote the active
    features and their sum; --smoothing the smoothing's terms, order by order.
    """
    from lmtoy.render.explain import explain_view

    kind = model.value
    tokens = _words(words, keep_case, smoothing is not None)
    least, example = NEEDS[kind]
    if smoothing is not None and kind not in ("first-order", "second-order"):
        bad_option(f"applies to first-order and second-order, not {kind}", "--smoothing")
    least = 2 if tokens[0] == "<s>" else least  # nothing comes before <s>
    if len(tokens) < least or (kind == "skips" and len(tokens) != 3):
        need = "three" if kind == "skips" else f"at least {least}"
        bad_option(f"{quoted(words)} is {len(tokens)} word{'s' * (len(tokens) != 1)}; {kind} needs {need}, e.g. '{example}'", "--words")
    c = load_corpus(corpus, join_lines, keep_case)
    context, nxt = tokens[:-1], tokens[-1]
    if smoothing is not None:
        return emit(_smoothed(c, kind, smoothing.value, k, context, nxt), fmt)
    if k != 1.0:
        bad_option("applies to --smoothing add-k", "--k")
    emit(explain_view(_counted(c, kind, context, nxt, auto_mask, min_gain, window), c.vocabulary.words), fmt)


def _words(text: str, keep_case: bool, smoothed: bool) -> list[str]:
    """The --words tokens, tokenized like a corpus; <s> and </s> kept as they are (smoothing only)."""
    out = []
    for part in text.split():
        if part in BOUNDARIES:
            if not smoothed:
                bad_option(f"{part} exists only in a smoothed model: add --smoothing", "--words")
            out.append(part)
        else:
            out += split_words(part, "--words", keep_case) if any(ch.isalnum() for ch in part) else []
    if not out:
        bad_option(f"{quoted(text)} has no words", "--words")
    return out


def _counted(c, kind: str, context, nxt, auto_mask: bool, min_gain: float, window):
    from lmtoy import explain, ngrams

    if kind in ("vote", "masked-skips"):
        from lmtoy.complete import Ladder

        ladder = Ladder(c, window, min_gain)
        flags = ladder.get("informative") if auto_mask or kind == "masked-skips" else None
        return explain.voted(ladder.get("skips"), context, nxt, flags, "masked-skips" if flags is not None else "vote")
    if auto_mask:
        bad_option("applies to vote and masked-skips", "--auto-mask")
    size = explain.CONTEXT_SIZE[kind]
    model = ngrams.skips(c, window) if kind == "skips" else ngrams.build(kind, c)
    return explain.counted(model, c, context[-size:], nxt)


def _smoothed(c, kind: str, method: str, k: float, context, nxt):
    from lmtoy.cli.output import note
    from lmtoy.explain import smoothed
    from lmtoy.render.explain import explain_view

    check_k(k, method)
    if "</s>" in context:
        bad_option("</s> ends a sentence, so nothing follows it: it can only be the last word", "--words")
    if "<s>" in context[1:]:
        bad_option("<s> starts a sentence, so nothing comes before it: it can only be the first word", "--words")
    if nxt == "<s>":
        bad_option("<s> is a context only, never predicted: end with a word or </s>", "--words")
    for word in dict.fromkeys(w for w in [*context, nxt] if w not in c.vocabulary and w not in BOUNDARIES):
        note(f"'{word}' is not in the vocabulary{c.vocabulary.suggest(word)}: it counts as <unk>")
    return explain_view(smoothed(c, kind, method, k, context, nxt))
