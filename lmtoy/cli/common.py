"""What every command shares: corpus loading, options, errors and output.

Nothing heavy is imported here: numpy, the core and the renderers are imported
inside the commands, so ``lmtoy --help`` stays fast.
"""

from __future__ import annotations

import functools
import math
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmtoy.cli.completion import complete_corpus
from lmtoy.errors import LmtoyError

if TYPE_CHECKING:
    from lmtoy.corpus import Corpus
    from lmtoy.render.views import View

class Format(str, Enum):  # every output format: NgramFormatOpt offers them all
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"
    arpa = "arpa"  # n-gram models only (first-order, second-order): View.arpa


class TextFormat(str, Enum):  # what FormatOpt offers: every format but arpa (compare by .value)
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"


class Scale(str, Enum):  # the colours of an SVG figure (lmtoy.render.figures.svg.Scale)
    linear = "linear"
    log = "log"  # a big corpus's counts spread over the ramp


class Positions(str, Enum):  # lmtoy.transformer.model.POSITIONS
    sinusoidal = "sinusoidal"
    learned = "learned"


class Task(str, Enum):  # lmtoy.transformer.model.TASKS
    next_word = "next-word"
    translate = "translate"
    classify = "classify"


class Pool(str, Enum):  # lmtoy.transformer.model.POOLS
    mean = "mean"
    max = "max"


class Init(str, Enum):  # lmtoy.transformer.model.INITS
    xavier = "xavier"
    he = "he"
    normal = "normal"


CorpusArg = Annotated[
    Optional[str],
    typer.Argument(
        help="Corpus: a file, '-' for stdin, or a bundled name (show_me, battery, program_log, "
        "find_my_files, commands; commands_pairs and intents for the transformer's translate and classify "
        "tasks). Omitted: read stdin when it is piped.",
        show_default=False,
        autocompletion=complete_corpus,
    ),
]
JoinLines = Annotated[bool, typer.Option("--join-lines", help="Single line breaks in prose are spaces (wrapped text); blank lines end sentences.")]
KeepCase = Annotated[bool, typer.Option("--keep-case", help="Keep upper case instead of lower-casing words.")]
FormatOpt = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format; only the table view truncates.", case_sensitive=False)]
# first-order and second-order: also an ARPA file, the n-gram model KenLM and SRILM read
NgramFormatOpt = Annotated[Format, typer.Option("--format", "-f", case_sensitive=False,
                                                help="Output format; only the table view truncates; arpa: the model as an ARPA file (KenLM, SRILM).")]
Sparse = Annotated[bool, typer.Option("--sparse", help="Write only the non-zero entries as (row, column, value) records (json, csv, tsv).")]
Svg = Annotated[Optional[Path], typer.Option("--svg", help="Also save the table view as a standalone SVG figure (light, numbers printed, a colour legend).", dir_okay=False)]
ScaleOpt = Annotated[Scale, typer.Option("--scale", help="Colour scale of the --svg figure: log spreads a big corpus's counts.", case_sensitive=False)]
SvgScaleOpt = Annotated[Scale, typer.Option("--svg-scale", help="Colour scale of the --svg figure: log spreads large values.", case_sensitive=False)]  # where --scale means something else
MaxRows = Annotated[int, typer.Option("--max-rows", min=0, help="Rows the table view shows (0: all); the most frequent are kept.")]
TokenizerOpt = Annotated[str, typer.Option("--tokenizer", metavar="words|chars|FILE.json", help="How text becomes tokens: words (the default), chars (each character, a space shown as ␣) or a BPE tokenizer file from 'lmtoy bpe train' (its tokens, labelled as 'bpe encode' shows them, e.g. ␣the).")]


MAX_STEPS = 100_000  # words a completion adds at most: a corpus that cycles would go on for ever
Steps = Annotated[int, typer.Option("--steps", "-n", help=f"Words to add at most (up to {MAX_STEPS:,}).")]
Temperature = Annotated[Optional[float], typer.Option("--temperature", "-t", help="Sample from scores^(1/T) (probabilities: softmax(logits / T)); below 1 sharper, above 1 flatter.")]
TopK = Annotated[Optional[int], typer.Option("--top-k", min=1, help="Sample among the N best words only.")]
Seed = Annotated[Optional[int], typer.Option("--seed", help="Sample with this seed (0 to 2^63 - 1): the same seed gives the same words.")]


def sampler(steps: int, temperature: float | None, top_k: int | None, seed: int | None, sample: bool = False):
    """Check the sampling options; the random generator to sample with, or None for greedy.

    --temperature, --top-k and --seed each imply sampling.
    """
    import numpy as np

    if not 0 <= steps <= MAX_STEPS:
        bad_option(f"{steps:,} is not from 0 to {MAX_STEPS:,}", "--steps")
    if seed is not None and not 0 <= seed < 2**63:
        bad_option(f"{seed} is not a whole number from 0 to 2^63 - 1", "--seed")
    if temperature is not None and not (temperature > 0 and math.isfinite(temperature)):
        bad_option(f"{temperature:g} must be a finite number above 0", "--temperature")
    sample = sample or temperature is not None or top_k is not None or seed is not None
    return np.random.default_rng(seed) if sample else None


def handle_errors(command):
    """Turn the core's errors into a one-line message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LmtoyError as error:
            fail(str(error), error.exit_code)
        except MemoryError:
            fail("out of memory: what this command was asked to build needs more memory than the machine has")

    return wrapper


def fail(message: str, code: int = 1):
    """Print ``error: message`` to stderr (never as markup) and exit with ``code``."""
    from lmtoy.cli.output import report

    report(message)
    raise typer.Exit(code)


def stderr():
    from lmtoy.cli.output import stderr as console

    return console()


def stdout(**kw):
    from lmtoy.cli.output import console

    return console(**kw)


def bad_option(message: str, option: str):
    """A command-line problem (exit 2)."""
    raise typer.BadParameter(message, param_hint=option)


def quoted(value: object, limit: int = 60) -> str:
    """A user's value for a message: quoted, and cut in the middle when long."""
    from lmtoy.files import shorten

    return repr(shorten(str(value), limit)) if "'" in str(value) else f"'{shorten(str(value), limit)}'"


def tokenizer_from(value: str):
    """The tokenizer a --tokenizer value names: words, chars, or a BPE tokenizer file (a
    missing file is a usage error, exit 2; a file that is not a tokenizer exit 1)."""
    from lmtoy import tokenizers

    if value in ("words", "chars"):
        return tokenizers.WORDS if value == "words" else tokenizers.CHARS
    from lmtoy.bpe_tokenizer import load_tokenizer

    path = Path(value)
    try:
        exists = path.is_file()
    except OSError as error:
        bad_option(f"{quoted(value)}: {error.strerror or error}", "--tokenizer")
    if not exists:
        if path.is_dir():
            bad_option(f"{quoted(value)} is a folder, not a tokenizer file (nor words or chars)", "--tokenizer")
        if path.exists():
            bad_option(f"{quoted(value)} is not a tokenizer file (not a regular file)", "--tokenizer")
        bad_option(f"{quoted(value)} is not words, chars or a tokenizer file (no such file; write one with: "
                   f"lmtoy bpe train CORPUS --out {quoted(value)})", "--tokenizer")
    return tokenizers.Bpe(load_tokenizer(path))


def load_corpus(source: str | None, join_lines: bool = False, keep_case: bool = False, tokenizer=None) -> "Corpus":
    """Read the corpus a CORPUS argument names: a path, '-', a bundled name, or piped stdin."""
    data, name = corpus_bytes(source)
    return corpus_from(data, name, join_lines, keep_case, tokenizer)


def corpus_from(data: bytes, name: str, join_lines: bool = False, keep_case: bool = False, tokenizer=None) -> "Corpus":
    """Parse corpus bytes with ``tokenizer`` (None: words), with the hint for text written
    without spaces on stderr (words only)."""
    from lmtoy.corpus import parse_corpus

    if tokenizer is not None and tokenizer.kind != "words":
        return tokenizer.read(data, name=name, join_lines=join_lines, keep_case=keep_case)
    return _hinted(parse_corpus(data, name=name, join_lines=join_lines, keep_case=keep_case))


def corpus_bytes(source: str | None, option: str = "CORPUS") -> tuple[bytes, str]:
    """The bytes a CORPUS argument names and a name for messages: a file, '-' (or piped
    stdin when omitted), or a bundled corpus. Any parser (pairs, labelled lines) reads them."""
    from lmtoy.errors import CorpusError

    if source is None:
        if sys.stdin is None or sys.stdin.isatty():
            bad_option("no corpus given: name a file, use '-' for stdin, or pipe text in", "CORPUS")
        source = "-"
    if source == "-":
        if sys.stdin is not None and sys.stdin.isatty():
            from lmtoy.cli.output import note

            note("reading standard input (Ctrl-D to end)")
        return (sys.stdin.buffer.read() if sys.stdin is not None else b""), "<stdin>"
    path = corpus_path(source, option)
    try:
        return path.read_bytes(), str(path)
    except OSError as error:
        raise CorpusError(f"{path}: cannot read ({error.strerror})") from None


def corpus_path(source: str, option: str = "CORPUS") -> Path:
    """The file a corpus name means: a path that exists, else a bundled corpus; a usage error
    naming close bundled names otherwise."""
    from lmtoy.corpus import BUNDLED, bundled

    path = Path(source)
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except OSError as error:  # e.g. a name too long for the file system
        bad_option(f"{quoted(source)}: {error.strerror}", option)
    if is_dir:
        bad_option(f"{quoted(source)} is a directory, not a corpus file", option)
    if exists:
        return path
    found = bundled(source) or bundled(source.replace("-", "_"))
    if found is None:
        import difflib

        names = sorted(p.stem for p in BUNDLED.glob("*.txt"))
        close = difflib.get_close_matches(source.replace("-", "_"), names, n=2, cutoff=0.6)
        hint = f"; did you mean the bundled {' or '.join(close)}?" if close else " (nor is it a bundled corpus)"
        bad_option(f"{quoted(source)} does not exist{hint}", option)
    return found


def _hinted(corpus: "Corpus") -> "Corpus":
    """Say on stderr when the text looks like it has no spaces between words."""
    from lmtoy.corpus import spacing_hint

    message = spacing_hint(corpus)
    if message:
        from lmtoy.cli.output import note

        note(f"hint: {message}")
    return corpus


def one_word(text: str, option: str, keep_case: bool = False, tokenizer=None) -> str:
    """The single word an option names; none or several is a usage error. With chars or a
    BPE file, the one token whose text is ``text`` (a space typed as ' ' or '␣')."""
    if tokenizer is not None and tokenizer.kind != "words":
        if not text:
            bad_option("is empty: name a token", option)
        return tokenizer.token(text, keep_case)
    words = split_words(text, option, keep_case)
    if len(words) != 1:
        bad_option(f"{quoted(text)} is {len(words)} words; give one", option)
    return words[0]


def split_words(text: str, option: str, keep_case: bool = False, tokenizer=None) -> list[str]:
    """The words (tokens) of an option value, tokenized like a corpus (by ``tokenizer``, None:
    words); empty is a usage error."""
    from lmtoy.corpus import tokenize

    words = tokenize(text, keep_case) if tokenizer is None else tokenizer.tokens(text, keep_case)
    if not words:
        bad_option(f"{quoted(text)} has no {'words' if tokenizer is None or tokenizer.kind == 'words' else 'tokens'}", option)
    return words


def emit(view: "View", fmt: Format, sparse: bool = False, svg: Path | None = None, max_rows: int = 40,
         scale: Scale = Scale.linear) -> None:
    """Write a view in the chosen format: data to stdout, its notes to stderr (table view)."""
    from lmtoy.cli import output
    from lmtoy.render.views import write_svg

    fmt = Format(fmt.value)  # a TextFormat or a Format
    if sparse and fmt not in (Format.json, Format.csv, Format.tsv):
        bad_option("--sparse writes records: use it with --format json, csv or tsv", "--sparse")
    text = None if fmt is Format.table else view.text(fmt.value, sparse)  # may refuse: before any output
    if svg is not None:
        write_svg(view, svg, max_rows, Scale(scale).value)
    if text is None:
        out = output.console()
        output.print_renderable(view.table(out.width, max_rows), out)
    else:
        output.write_text(text, _ascii_json(text) if fmt is Format.json else None)
    for message in getattr(view, "messages", ()):
        output.note(message)


def _ascii_json(text: str):
    """The same JSON with \\u escapes, made only if stdout's encoding needs it."""
    import json

    return lambda: json.dumps(json.loads(text), ensure_ascii=True) + "\n"
