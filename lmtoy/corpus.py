"""Corpora: text and weights in, sentences of word ids and a Vocabulary out.

The text format (README, "Corpora"):

- a line whose first non-blank character is ``#`` is a comment; blank lines are
  ignored; a line break is ``\\n``, ``\\r\\n`` or ``\\r``;
- a line may begin with a weight token, a non-negative number followed at once
  by ``%`` or ``x`` (``20%``, ``0.4x``, ``3x``); the rest of that line is one
  weighted sequence, even if it contains ``.``; a zero weight drops the line;
- other lines are prose: sentences end at ``.``, ``!``, ``?``, their full-width
  forms ``。`` ``！`` ``？`` ``．`` ``｡`` or a line break, each with weight 1
  (``join_lines`` makes single line breaks spaces); in a weighted line these
  marks are dropped;
- words are maximal runs of letters, digits, apostrophes (``’`` becomes ``'``)
  and combining marks, with the apostrophes at a run's edges stripped: inner
  ones stay (``don't``, ``o'er``, ``rock'n'roll``), so ``'alas'``, ``alas'`` and
  ``alas`` are one word, and a run of apostrophes alone is not a word. Words are
  lower-cased with ``str.lower`` unless ``keep_case``;
- text written without spaces (Chinese, Japanese) makes each sentence or clause
  one long word: ``spacing_hint`` says so, and the caller may show it.

Shapes: T tokens in all, S sentences, N words in the vocabulary.

Example: ``parse_corpus("20% show me.\\nShow it!")`` has the sentences
``[show, me]`` (weight 0.2) and ``[show, it]`` (weight 1); vocabulary
``(it, me, show)``, ids ``[2, 1, 2, 0]``, starts ``[0, 2, 4]``; and
``tokenize("'Tis rock'n'roll, dogs'!")`` is ``[tis, rock'n'roll, dogs]``.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from lmtoy.errors import CorpusError, VocabularyError

BUNDLED = Path(__file__).parent / "corpora"

_FULL_WIDTH_ENDS = "\u3002\uff01\uff1f\uff0e\uff61"  # 。！？．｡
_ENDS = frozenset(".!?" + _FULL_WIDTH_ENDS)
_TOKEN = re.compile(r"\w+(?:'+\w+)*|[.!?\n]")  # ASCII words without edge apostrophes, ends
_WEIGHT_LIKE = re.compile(r"[-+]?[\d.,]*\d[\d.,]*[%xX]")
_WEIGHT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([%xX])")
DROP_ENDS = str.maketrans(dict.fromkeys(_ENDS, " "))
_CJK = re.compile(  # Han ideographs (with 々〆〇), hiragana, katakana (with half-width forms)
    "[\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003ffff]"
)
_HINT_MEAN_LENGTH = 4  # characters per CJK word above which the text looks unspaced


@dataclass(frozen=True)
class Vocabulary:
    """The sorted words of a corpus; a word's id is its place in that order."""

    words: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def id(self, word: str) -> int:
        """The id of ``word``; raises VocabularyError naming close words."""
        try:
            return self._index[word]
        except KeyError:
            raise VocabularyError(f"'{word}' is not in the vocabulary{self.suggest(word)}") from None

    def suggest(self, word: str) -> str:
        """'; did you mean ...?' for words close to ``word``, or ''."""
        cutoff = 0.5 if len(word) <= 3 else 0.6  # short words share fewer letters
        close = difflib.get_close_matches(word, self.words, n=3, cutoff=cutoff)
        return f"; did you mean {', '.join(close)}?" if close else ""

    def require(self, words: list[str], advice: str = "") -> None:
        """Raise VocabularyError naming every word not in the vocabulary (with close words
        for a single one, and ``advice``); do nothing when all are known."""
        unknown = list(dict.fromkeys(w for w in words if w not in self._index))  # each once, in order
        if unknown:
            hint = self.suggest(unknown[0]) if len(unknown) == 1 else ""
            raise VocabularyError(f"not in the vocabulary: {', '.join(repr(w) for w in unknown)}{hint}{advice}")

    def encode(self, words: list[str]) -> np.ndarray:  # (n,)
        """Ids of ``words`` in order; raises VocabularyError on the first unknown."""
        return np.array([self.id(w) for w in words], dtype=np.int64)


@dataclass(frozen=True)
class Corpus:
    """Weighted sentences of word ids.

    Attributes
    ----------
    vocabulary : Vocabulary
    ids : (T,) ndarray of int64, the word ids of every sentence, concatenated
    starts : (S+1,) ndarray of int64, sentence s is ``ids[starts[s]:starts[s+1]]``
    weights : (S,) ndarray of float64, each sentence's raw weight (> 0)
    name : str, where the text came from
    """

    vocabulary: Vocabulary
    ids: np.ndarray
    starts: np.ndarray
    weights: np.ndarray
    name: str = "<text>"

    @property
    def n_sentences(self) -> int:
        return len(self.weights)

    @cached_property
    def lengths(self) -> np.ndarray:  # (S,)
        return np.diff(self.starts)

    @cached_property
    def sentence_of(self) -> np.ndarray:  # (T,)
        """The sentence index of every token."""
        return np.repeat(np.arange(self.n_sentences), self.lengths)

    @property
    def uniform(self) -> bool:
        """True when every sentence has the same weight."""
        return bool(np.all(self.weights == self.weights[0]))

    def sentence(self, s: int) -> list[str]:
        """The words of sentence ``s``."""
        words = self.vocabulary.words
        return [words[i] for i in self.ids[self.starts[s] : self.starts[s + 1]]]


def tokenize(text: str, keep_case: bool = False) -> list[str]:
    """Words of ``text``, as a corpus reads them, sentence ends dropped:
    "Don’t stop_now, 'Kate'!" -> [don't, stop, now, kate]."""
    return [t for t in _tokens(text, keep_case) if t not in _ENDS and t != "\n"]


def _tokens(text: str, keep_case: bool) -> list[str]:
    """Words, sentence ends and line breaks of ``text``: "'Tis o'er." -> [tis, o'er, .]."""
    text = text.replace("’", "'").replace("_", " ")
    if text.isascii():  # lower-casing the whole text is the same, and faster
        return _TOKEN.findall(text if keep_case else text.lower())
    tokens = [t.strip("'") for t in _unicode_token().findall(unicodedata.normalize("NFC", text))]
    return tokens if keep_case else [t.lower() for t in tokens]


@functools.cache
def _unicode_token() -> re.Pattern:
    """Maximal runs of word characters, apostrophes and combining marks (Unicode category M,
    in the Basic Multilingual Plane) with at least one word character, and sentence ends
    (full-width too): 'nai\u0308ve' and Hindi stay whole. The caller strips the edge
    apostrophes ("'alas'" -> "alas")."""
    marks = [c for c in map(chr, range(0x300, 0x10000)) if unicodedata.category(c)[0] == "M"]
    ranges, start = [], None
    for a, b in zip(marks, marks[1:] + [None]):
        start = start or a
        if b is None or ord(b) != ord(a) + 1:
            ranges.append(f"{start}-{a}" if start != a else a)
            start = None
    cls = "".join(ranges)
    return re.compile(rf"['{cls}]*\w[\w'{cls}]*|[.!?{_FULL_WIDTH_ENDS}\n]")


def _ascii_table(lower: bool) -> bytes:
    """A bytes.translate table: letters, digits and ' stay, .!? become '.', a line break '|'."""
    table = bytearray(b" " * 256)
    for code in range(128):
        char = chr(code)
        if char.isalnum() or char == "'":
            table[code] = ord(char.lower() if lower else char)
    table[ord(".")] = table[ord("!")] = table[ord("?")] = ord(".")
    table[ord("\n")] = ord("|")
    return bytes(table)


_ASCII_TABLES = {False: _ascii_table(lower=True), True: _ascii_table(lower=False)}  # by keep_case


def _token_ids(text: str, keep_case: bool) -> tuple[list[str], np.ndarray]:
    """The sorted words of ``text`` and its token stream (T_all,) of int64.

    The stream holds word ids, -1 for a sentence end and -2 for a line break.
    ASCII text takes a fast path, bytes.translate and split instead of a regex,
    with the same words: "_" is a separator, and edge apostrophes are stripped
    from the distinct runs, not from every token ("'alas'" and "alas" share an id).
    Example: "'Tis o'er. 'tis" -> [o'er, tis] and [1, 0, -1, 1].
    """
    if text.isascii():
        data = text.encode("ascii").translate(_ASCII_TABLES[keep_case])
        tokens = data.replace(b".", b" . ").replace(b"|", b" | ").split()
        marks, apostrophe = {b".": -1, b"|": -2}, b"'"
    else:
        tokens = _tokens(text, keep_case)
        marks, apostrophe = dict.fromkeys(_ENDS, -1) | {"\n": -2}, "'"
    words, index = _word_index(set(tokens) - marks.keys(), apostrophe)
    stream = np.fromiter(map((index | marks).__getitem__, tokens), dtype=np.int64, count=len(tokens))
    if -3 in index.values():
        stream = stream[stream != -3]
    return [w if isinstance(w, str) else w.decode("ascii") for w in words], stream


def _word_index(types: set, apostrophe: str | bytes) -> tuple[list, dict]:
    """The sorted words of distinct raw runs and each run's id: edge apostrophes are
    stripped, and a run of apostrophes alone gets -3 (dropped).
    Example: {"'alas'", "alas'", "''"} -> ["alas"] and {"'alas'": 0, "alas'": 0, "''": -3}."""
    stripped = {t: t.strip(apostrophe) for t in types}
    words = sorted(set(stripped.values()) - {apostrophe[:0]})  # ASCII bytes sort as their text does
    ids = {w: i for i, w in enumerate(words)}
    return words, {t: ids.get(w, -3) for t, w in stripped.items()}


def spacing_hint(corpus: Corpus) -> str | None:
    """A one-line hint when the corpus looks like text written without spaces, else None.

    A word is CJK when it holds a Han ideograph or kana (Hangul is spaced, so not).
    The rule: CJK words hold at least half of the corpus's word characters (counting
    every token) and average more than 4 characters a token. Chinese or Japanese
    written with spaces between words averages under 2.5, and text without spaces
    makes a word of each sentence or clause (punctuation such as ``，`` splits it).
    Example: "我喜欢学习中文。今天天气很好！" (words of 7 and 6) gives the hint;
    "我 喜欢 学习 中文。" (mean 1.75) and English, Hindi or Russian give None.
    """
    words = corpus.vocabulary.words
    counts = np.bincount(corpus.ids, minlength=len(words))  # (N,)
    chars = counts * np.fromiter(map(len, words), dtype=np.int64, count=len(words))  # (N,)
    cjk = np.array([_CJK.search(w) is not None for w in words], dtype=bool)  # (N,)
    cjk_chars, cjk_tokens = int(chars[cjk].sum()), int(counts[cjk].sum())
    if cjk_tokens == 0 or 2 * cjk_chars < chars.sum() or cjk_chars <= _HINT_MEAN_LENGTH * cjk_tokens:
        return None
    return (
        "the text looks unspaced (Chinese or Japanese?): each sentence became one long word "
        f"(CJK words average {cjk_chars / cjk_tokens:.1f} characters); "
        "words are split at spaces, so put spaces between the words (a word segmenter does it)"
    )


def _parse_weight(first: str, line: int) -> float | None:
    """The weight a line's first word gives, None if it is not a weight token."""
    if not _WEIGHT_LIKE.fullmatch(first):
        return None
    match = _WEIGHT.fullmatch(first)
    if match is None:
        problem = "is negative" if first.startswith("-") else "is not a valid weight"
        raise CorpusError(f"line {line}: weight '{first}' {problem} (expected e.g. 20%, 0.4x, 3x)")
    value = float(match.group(1)) / (100 if match.group(2) == "%" else 1)
    if not math.isfinite(value) or value > 1e300:
        raise CorpusError(f"line {line}: weight '{first[:20]}{'…' * (len(first) > 20)}' is too large")
    return value


def parse_weight(first: str, line: int) -> float | None:
    """The weight a line's first word gives (``20%`` -> 0.2, ``3x`` -> 3.0), None when it is
    not a weight token (``find``); CorpusError naming ``line`` when it looks like one but is
    not (``-20%``, ``1.2.3x``). For readers of other line formats (labelled lines)."""
    return _parse_weight(first, line)


def text_lines(data: str | bytes, name: str) -> list[str]:
    """The lines of corpus text (or UTF-8 bytes) as every reader splits them: a line break is
    ``\\n``, ``\\r\\n`` or ``\\r``, a leading byte-order mark is dropped; CorpusError on invalid
    UTF-8, naming the line. "a\\r\\nb" -> ["a", "b"]."""
    text = _decode(data, name) if isinstance(data, bytes) else data
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _segments(text: str, join_lines: bool) -> tuple[list[str], list[float]]:
    """Split text into segments: a weighted line, a prose line or paragraph."""
    texts: list[str] = []
    weights: list[float] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            texts.append(" ".join(paragraph))
            weights.append(1.0)
            paragraph.clear()

    for no, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped[0] == "#":
            continue
        weight = None
        if stripped[0] in "0123456789.+-":
            first, *rest = stripped.split(None, 1)
            weight = _parse_weight(first, no)
        if weight is None and join_lines:
            paragraph.append(stripped)
            continue
        if weight is None:
            texts.append(stripped)
            weights.append(1.0)
            continue
        flush()
        if not rest:
            raise CorpusError(f"line {no}: weight '{first}' is not followed by any text")
        if weight > 0:
            texts.append(rest[0].translate(DROP_ENDS))
            weights.append(weight)
    flush()
    return texts, weights


def corpus_of(sentences: list[list[str]], weights: np.ndarray, name: str) -> Corpus:
    """Sentences of tokens as a Corpus: sorted vocabulary, ids, starts, weights (S,).
    [[b, a], [a]] -> vocabulary (a, b), ids [1, 0, 0], starts [0, 2, 3]."""
    words = sorted({w for sentence in sentences for w in sentence})
    index = {w: i for i, w in enumerate(words)}
    flat = [w for sentence in sentences for w in sentence]
    ids = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat))
    starts = np.concatenate([[0], np.cumsum([len(s) for s in sentences])]).astype(np.int64)
    return Corpus(Vocabulary(tuple(words)), ids, starts, weights, name)


def parse_corpus(
    data: str | bytes, *, name: str = "<text>", join_lines: bool = False, keep_case: bool = False
) -> Corpus:
    """Parse corpus text (or UTF-8 bytes) into a Corpus; raises CorpusError."""
    text = _decode(data, name) if isinstance(data, bytes) else data
    try:
        texts, seg_weights = _segments(text.removeprefix("\ufeff"), join_lines)
    except CorpusError as error:
        raise CorpusError(f"{name}: {error}") from None
    words, stream = _token_ids("\n".join(texts), keep_case)
    if not words:
        raise CorpusError(f"{name}: no words found (the corpus is empty, has only comments, or every line weighs 0)")
    is_word = stream >= 0
    segment = np.cumsum(stream == -2)  # (T_all,) segment of each token
    previous_end = np.ones_like(is_word)
    previous_end[1:] = stream[:-1] < 0
    first = (is_word & previous_end)[is_word]  # (T,) a token that starts a sentence
    starts = np.flatnonzero(first)
    ids = stream[is_word]
    weights = np.asarray(seg_weights, dtype=np.float64)[segment[is_word][starts]]
    return Corpus(Vocabulary(tuple(words)), ids, np.append(starts, len(ids)), weights, name)


_SENTENCE_END = re.compile(f"[{''.join(sorted(_ENDS))}]")


def sentence_texts(data: str | bytes, *, name: str = "<text>", join_lines: bool = False):
    """Yield (text, weight) for each sentence as ``parse_corpus`` finds it, before any
    splitting into words: the characters between two sentence ends (or line breaks), the
    weight token removed and the end itself not included; whitespace and case as written.
    Texts may be empty or blank (``"a.."`` has an empty second sentence); comments, blank
    lines and zero-weight lines yield nothing; CorpusError as ``parse_corpus`` raises it.

    Example: "20% show me. now\\nShow it! Go" -> ("show me  now", 0.2), ("Show it", 1.0),
    (" Go", 1.0): a weighted line is one sentence, its '.' a space.
    """
    text = _decode(data, name) if isinstance(data, bytes) else data
    try:
        texts, weights = _segments(text.removeprefix("\ufeff"), join_lines)
    except CorpusError as error:
        raise CorpusError(f"{name}: {error}") from None
    for segment, weight in zip(texts, weights):
        for sentence in _SENTENCE_END.split(segment):
            yield sentence, weight


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        head = data[: error.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = head.count(b"\n") + 1
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise CorpusError(f"{name}: the text is UTF-16, not UTF-8: save it as UTF-8") from None
        raise CorpusError(f"{name}: line {line}: invalid UTF-8 (byte 0x{data[error.start]:02x})") from None


def read_corpus(path: str | Path, *, join_lines: bool = False, keep_case: bool = False) -> Corpus:
    """Read a corpus file (UTF-8); see ``parse_corpus``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"{path}: cannot read ({error.strerror})") from None
    return parse_corpus(data, name=str(path), join_lines=join_lines, keep_case=keep_case)


def bundled(name: str) -> Path | None:
    """The path of a bundled corpus named ``name`` (with or without .txt), or None."""
    for candidate in (BUNDLED / name, BUNDLED / f"{name}.txt"):
        if candidate.is_file() and candidate.parent == BUNDLED:
            return candidate
    return None
