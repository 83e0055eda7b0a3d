"""``lmtoy bpe``: train a byte-level BPE tokenizer on a corpus, replay its merges step by
step, encode text and decode ids (section 12)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lmtoy.cli.common import (
    CorpusArg, Format, FormatOpt, JoinLines, KeepCase, Scale, ScaleOpt, Svg, bad_option, corpus_bytes, emit, handle_errors, quoted,
)

if TYPE_CHECKING:
    from lmtoy.bpe import ChunkCounts
    from lmtoy.bpe_tokenizer import Tokenizer

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

bpe_app = typer.Typer(
    help="Byte pair encoding: train a tokenizer on a corpus, replay its merges, encode and decode text (section 12).",
    no_args_is_help=True,
)
app.add_typer(bpe_app, name="bpe")

BYTES, MAX_VOCAB = 256, 1_000_000  # lmtoy.bpe_tokenizer's (not imported: help stays fast)
SHOW_MERGES = 10  # show's default: 10 merges
SAMPLE_CHARS = 60  # show's default text: the first sentence, cut to this many characters
PLAIN_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal

VocabSize = Annotated[int, typer.Option("--vocab-size", "-k", help=f"Train until the vocabulary has K ids: 256 bytes plus K - 256 merges (256 to {MAX_VOCAB:,}).", metavar="K")]
NoSplit = Annotated[bool, typer.Option("--no-split", help="Train on each sentence as one chunk (minbpe's BasicTokenizer): merges may cross spaces.")]
TokenizerOpt = Annotated[Path, typer.Option("--tokenizer", help="A tokenizer file written by 'lmtoy bpe train'.", dir_okay=False, show_default=False)]


@bpe_app.command()
@handle_errors
def train(
    corpus: CorpusArg = None,
    vocab_size: VocabSize = 1000,
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Write the tokenizer file here (JSON, atomically).", metavar="FILE", show_default=False)] = None,
    no_split: NoSplit = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    fmt: FormatOpt = Format.table,
):
    """Train a byte-level BPE tokenizer: merge the most frequent pair until the vocabulary has K ids.

    Each sentence's text (whitespace collapsed, lower-cased unless --keep-case) is cut into
    chunks by lmtoy's split regex, the chunks are counted (sentence weights honoured), and
    the most frequent adjacent pair inside a chunk becomes the next id, ties to the smaller
    left id, then right id. Training stops early when no pair is left.
    """
    from lmtoy.bpe import train as train_bpe
    from lmtoy.render.bpe import train_view

    _check_vocab(vocab_size)
    if out is not None:
        out = _check_out(out)
    chunks = _chunks(corpus, no_split, join_lines, keep_case)
    with _Progress(vocab_size - BYTES) as progress:
        tokenizer, steps = train_bpe(chunks, vocab_size, not no_split, progress.update)
    if out is not None:
        _check_out(out, again=True)
        tokenizer.save(out)
    facts = {"out": None if out is None else str(out), "requested": vocab_size, "sentences": chunks.sentences,
             "chunks": len(chunks.counts)}
    emit(train_view(tokenizer, steps, chunks.scale, facts), fmt)


@bpe_app.command()
@handle_errors
def show(
    corpus: CorpusArg = None,
    vocab_size: Annotated[Optional[int], typer.Option("--vocab-size", "-k", help=f"Train until the vocabulary has K ids (default: {BYTES + SHOW_MERGES}, i.e. {SHOW_MERGES} merges, or the end of --steps).", metavar="K", show_default=False)] = None,
    steps: Annotated[Optional[str], typer.Option("--steps", help="Show only merges A to B - 1, counted from 0 (A:B, A:, :B or one merge N).", metavar="A:B", show_default=False)] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="The text to show after each merge (default: the corpus's first sentence); with --tokenizer, the text whose pairs are counted.", show_default=False)] = None,
    tokenizer: Annotated[Optional[Path], typer.Option("--tokenizer", help="Replay this tokenizer's merges on --text instead of training on a corpus.", dir_okay=False, show_default=False)] = None,
    no_split: NoSplit = False,
    join_lines: JoinLines = False,
    keep_case: KeepCase = False,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Replay byte pair encoding step by step: each merge's top pair counts, the new token and the text after it.

    For each merge: the 5 most frequent pairs (the winner marked, a tie named as a tie and
    the rule that broke it), the new token, and the text after the merge as coloured token
    boxes. With --tokenizer FILE --text TEXT the tokenizer's merges are replayed on TEXT,
    with TEXT's own pair counts (merges whose pair is not in it are skipped).
    """
    span = _span(steps)
    if tokenizer is not None:
        _only_corpus_options(corpus, vocab_size, no_split, join_lines, keep_case)
        view = _replay_tokenizer(_load(tokenizer), text, span)
    else:
        k = vocab_size if vocab_size is not None else BYTES + (span.stop if span.stop < sys.maxsize else SHOW_MERGES)
        _check_vocab(k)
        view = _replay_training(corpus, k, span, text, no_split, join_lines, keep_case)
    emit(view, fmt, svg=svg, scale=scale)


@bpe_app.command()
@handle_errors
def encode(
    text: Annotated[str, typer.Argument(help="The text to encode ('-': read standard input).", show_default=False)],
    tokenizer: TokenizerOpt = ...,
    max_rows: Annotated[int, typer.Option("--max-rows", min=0, help="Tokens the table view lists (0: all).")] = 40,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Encode TEXT with a tokenizer: each token's id and its bytes as text.

    A space is drawn as ␣ ('␣the'), and a byte that is not a whole UTF-8 character (or
    belongs to an invisible one) as <0xHH>. The text is encoded as it is (no lower-casing).
    """
    from lmtoy.bpe_tokenizer import utf8
    from lmtoy.render.bpe import tokens_view

    tok = _load(tokenizer)
    if text == "-":
        text = _stdin_text()
    if not text:
        bad_option("is empty: give the text to encode", "TEXT")
    utf8(text)
    emit(tokens_view(tok, tok.encode(text), text, max_rows), fmt, svg=svg, scale=scale)


@bpe_app.command(context_settings={"ignore_unknown_options": True})  # -1 is an id to refuse, not an option
@handle_errors
def decode(
    ids: Annotated[list[str], typer.Argument(help="The token ids, e.g. 258 100 258 97 99 (commas and brackets are fine: [258, 100]).", show_default=False)],
    tokenizer: TokenizerOpt = ...,
    max_rows: Annotated[int, typer.Option("--max-rows", min=0, help="Tokens the table view lists (0: all).")] = 40,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Decode token ids with a tokenizer: the text, and each token's bytes.

    Bytes that do not form valid UTF-8 (ids that end inside a character) are shown as
    U+FFFD, and a note says so.
    """
    from lmtoy.render.bpe import tokens_view

    numbers = _ids(ids)
    tok = _load(tokenizer)
    tok.check_ids(numbers)
    emit(tokens_view(tok, numbers, None, max_rows), fmt, svg=svg, scale=scale)


# -- helpers ----------------------------------------------------------------------


def _check_vocab(k: int) -> None:
    if not BYTES <= k <= MAX_VOCAB:
        bad_option(f"{k:,} is not from 256 (bytes only) to {MAX_VOCAB:,}", "--vocab-size")


def _chunks(corpus: str | None, no_split: bool, join_lines: bool, keep_case: bool, sentences=None) -> "ChunkCounts":
    """The corpus's chunks, counted; CorpusError naming the corpus when it has no text."""
    from lmtoy.bpe import count_chunks
    from lmtoy.corpus import sentence_texts
    from lmtoy.errors import CorpusError

    if sentences is None:
        data, name = corpus_bytes(corpus)
        sentences = sentence_texts(data, name=name, join_lines=join_lines)
    chunks = count_chunks(sentences, not no_split, keep_case)
    if not chunks.counts:
        raise CorpusError(f"{_name(corpus)}: no text to train on (the corpus is empty, has only comments, "
                          "or every line weighs 0)")
    return chunks


def _name(corpus: str | None) -> str:
    return "<stdin>" if corpus in (None, "-") else corpus


def _check_out(text: str | Path, again: bool = False) -> Path:
    """--out must name a file that can be written, and never replaces a file that is not
    a tokenizer (checked before training, exit 2, and again just before writing, exit 1)."""
    from lmtoy.errors import OutputFileError
    from lmtoy.files import check_writable

    out = Path(text)
    try:
        is_dir = out.is_dir()
    except OSError as error:  # e.g. a name too long
        bad_option(f"{quoted(text)}: {error.strerror or error}", "--out")
    if str(text).endswith(("/", "\\")) or is_dir:
        bad_option(f"{quoted(text)} names a folder: give a file name, e.g. {quoted(out / 'tok.json')}", "--out")
    if out.exists() and not _is_tokenizer_file(out):
        message = f"{quoted(out)} exists and is not an lmtoy tokenizer file: not replacing it (choose another name)"
        if again:
            raise OutputFileError(message.replace("exists", "appeared during training"))
        bad_option(message, "--out")
    if not again:
        try:
            check_writable(out)
        except OSError as error:
            bad_option(f"{quoted(out)}: cannot write there ({error.strerror or error})", "--out")
    return out


def _is_tokenizer_file(path: Path) -> bool:
    from lmtoy.bpe_tokenizer import read_bounded
    from lmtoy.errors import LmtoyError

    try:
        data = json.loads(read_bounded(path))
    except (LmtoyError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == "lmtoy-bpe"


def _load(path: Path) -> "Tokenizer":
    """The tokenizer a --tokenizer option names: a missing file is a usage error (exit 2),
    a file that is not a tokenizer a data error (exit 1)."""
    from lmtoy.bpe_tokenizer import load_tokenizer

    try:
        exists = path.exists()
    except OSError as error:
        bad_option(f"{quoted(path)}: {error.strerror or error}", "--tokenizer")
    if not exists:
        bad_option(f"{quoted(path)} does not exist (train one with: lmtoy bpe train CORPUS --out {quoted(path)})",
                   "--tokenizer")
    return load_tokenizer(path)


def _span(steps: str | None) -> range:
    """--steps 'A:B' (merges A..B-1), 'A:', ':B' or 'N' as a range of merge numbers."""
    if steps is None:
        return range(0, sys.maxsize)
    parts = steps.split(":")
    try:
        if len(parts) == 1:
            start = int(parts[0])
            stop = start + 1
        elif len(parts) == 2:
            start = int(parts[0]) if parts[0].strip() else 0
            stop = int(parts[1]) if parts[1].strip() else sys.maxsize
        else:
            raise ValueError
    except ValueError:
        bad_option(f"{quoted(steps)} is not A:B, A:, :B or N (merge numbers from 0)", "--steps")
    if start < 0 or stop <= start:
        bad_option(f"{quoted(steps)} is an empty range: merge numbers count from 0, and A must be below B", "--steps")
    if stop != sys.maxsize and stop > MAX_VOCAB - BYTES:
        bad_option(f"{quoted(steps)} goes past merge {MAX_VOCAB - BYTES - 1:,}, the last there can be", "--steps")
    return range(start, stop)


def _only_corpus_options(corpus, vocab_size, no_split, join_lines, keep_case) -> None:
    """--tokenizer replays a trained tokenizer: the options that train one do not apply."""
    if corpus is not None:
        bad_option("--tokenizer replays a trained tokenizer on --text: leave out the corpus", "CORPUS")
    for given, name in ((vocab_size is not None, "--vocab-size"), (no_split, "--no-split"),
                        (join_lines, "--join-lines"), (keep_case, "--keep-case")):
        if given:
            bad_option("--tokenizer replays the merges it has: leave it out", name)


def _replay_tokenizer(tok: "Tokenizer", text: str | None, span: range):
    from lmtoy.bpe import replay_text
    from lmtoy.bpe_tokenizer import utf8
    from lmtoy.render.bpe import show_view

    if text is None:
        bad_option("--tokenizer replays its merges on a text: give --text TEXT", "--text")
    utf8(text)
    applied = list(replay_text(tok, text))
    shown = [s for s in applied if s.merge.k in span]
    earlier = [s.ids for s in applied if s.merge.k < span.start]
    facts = {"source": "tokenizer", "text": text, "requested": None, "ranged": span.stop < sys.maxsize or span.start,
             "skipped": len(range(len(tok.merges))[span.start : span.stop]) - len(shown),
             "before": earlier[-1] if earlier else list(text.encode("utf-8"))}
    return show_view(tok, shown, 1, facts)


def _replay_training(corpus, vocab_size: int, span: range, text: str | None, no_split: bool, join_lines: bool,
                     keep_case: bool):
    from lmtoy.bpe import replay, sentence_text, train as train_bpe
    from lmtoy.bpe_tokenizer import utf8
    from lmtoy.corpus import sentence_texts
    from lmtoy.render.bpe import show_view

    data, name = corpus_bytes(corpus)
    sentences = list(sentence_texts(data, name=name, join_lines=join_lines))
    chunks = _chunks(corpus, no_split, join_lines, keep_case, sentences)
    if text is not None:
        utf8(text)
        sample = sentence_text(text, keep_case)
    else:
        sample = next(t for t in (sentence_text(raw, keep_case) for raw, w in sentences if w > 0) if t)
        if len(sample) > SAMPLE_CHARS:
            sample = sample[:SAMPLE_CHARS].rsplit(" ", 1)[0] or sample[:SAMPLE_CHARS]
    with _Progress(vocab_size - BYTES) as progress:
        tok, merges = train_bpe(chunks, vocab_size, not no_split, progress.update, top=5, steps=span)
    replayed = list(replay(merges, tok.split, sample))
    shown = [s for s in replayed if s.merge.k in span]
    before = replayed[span.start - 1].ids if 0 < span.start <= len(replayed) else list(sample.encode("utf-8"))
    facts = {"source": "corpus", "text": sample, "requested": vocab_size, "ranged": span.stop < sys.maxsize,
             "before": before}
    return show_view(tok, shown, chunks.scale, facts)


def _ids(args: list[str]) -> list[int]:
    """The ids of the arguments ('258', '100,', '[258,' ...); anything else is a usage error."""
    ids = []
    for arg in args:
        for piece in arg.replace(",", " ").replace("[", " ").replace("]", " ").split():
            try:
                ids.append(int(piece))
            except ValueError:
                bad_option(f"{quoted(piece)} is not a whole number (a token id)", "IDS")
    if not ids:
        bad_option("give at least one token id", "IDS")
    return ids


def _stdin_text() -> str:
    from lmtoy.cli.output import note
    from lmtoy.errors import CorpusError

    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():
        note("reading standard input (Ctrl-D to end)")
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"<stdin>: invalid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start:,})") from None


class _Progress:
    """Merges done on stderr: a rich bar on a terminal (gone when training ends), else a
    plain line every PLAIN_EVERY seconds of a long run."""

    def __init__(self, total: int):
        from lmtoy.cli.progress import stderr_is_terminal

        self.total, self.done, self.start = max(total, 0), 0, time.monotonic()
        self.last = self.start
        self.bar = None
        if stderr_is_terminal() and total > 0:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from lmtoy.cli.common import stderr

            self.bar = Progress(TextColumn("merging", markup=False), BarColumn(bar_width=None), MofNCompleteColumn(),
                                TextColumn("{task.fields[speed]} merges/s", markup=False), TimeRemainingColumn(),
                                console=stderr(), transient=True)
            self.task = self.bar.add_task("bpe", total=self.total, speed="-")

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc) if self.bar is not None else False

    def update(self, merge) -> None:
        self.done = merge.k + 1
        now = time.monotonic()
        speed = self.done / max(now - self.start, 1e-9)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, speed=f"{speed:,.0f}")
        elif now - self.last >= PLAIN_EVERY:
            from lmtoy.cli.output import note
            from lmtoy.cli.progress import clock

            note(f"merge {self.done:,}/{self.total:,}: {speed:,.0f} merges/s, "
                 f"ETA {clock((self.total - self.done) / speed)}", style="")
            self.last = now
