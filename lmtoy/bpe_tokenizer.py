"""The byte-level BPE tokenizer (section 12): merges in, encode, decode, token labels and the
tokenizer file out. Training is in ``lmtoy.bpe``.

Ids 0-255 are the single bytes of UTF-8 text; merge k (counted from 0) joins the pair
(left, right) into id 256 + k, so a tokenizer with M merges has a vocabulary of 256 + M.
Text is first cut into chunks by ``SPLIT`` (or is one chunk when ``split`` is None), and
merges never cross a chunk. Shapes: n tokens, M merges.

Example (Wikipedia's): merges [(97, 97), (97, 98), (256, 257)] without a split encode
"aaabdaaabac" as [258, 100, 258, 97, 99] ('aaab', 'd', 'aaab', 'a', 'c'), and decode
gives the text back.
"""

from __future__ import annotations

import heapq
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lmtoy.errors import CorpusError, ModelFileError, VocabularyError

#: The pre-split, in Python ``re`` syntax: an optional single space, then a run of letters
#: (with apostrophes ' or \u2019 inside a word), or of digits, or of other non-space
#: characters; or else a run of whitespace. "Letters" are word characters that are neither
#: decimal digits nor '_' (so also numerals such as ² or Ⅻ), "other" is everything that is
#: neither whitespace, a letter nor a digit ('_' included). Every character of a text falls
#: in exactly one chunk, so the chunks joined give the text back:
#: " don't stop_now, 42!" -> [" don't", " stop", "_", "now", ",", " 42", "!"].
SPLIT = r" ?(?:[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+|(?:[^\s\w]|_)+)|\s+"
FORMAT, VERSION = "lmtoy-bpe", 1
BYTES = 256  # ids 0..255: one byte each
MAX_VOCAB = 1_000_000  # the largest vocabulary lmtoy trains or reads


class TokenizerFileError(ModelFileError):
    """A tokenizer file is not JSON, not an lmtoy-bpe file, or names ids it has not defined."""


def merge(ids: list[int], pair: tuple[int, int], new: int) -> list[int]:  # (n,) -> (n',), n' <= n
    """``ids`` with every occurrence of ``pair`` replaced by ``new``, left to right, never
    overlapping: [97, 97, 97, 98], (97, 97), 256 -> [256, 97, 98]."""
    out, i, n, (a, b) = [], 0, len(ids), pair
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def token_label(data: bytes) -> str:
    """A token's bytes as text to show: whole UTF-8 characters as themselves, a space as '␣',
    and every byte of an invisible character (a control character, another kind of space)
    or of an incomplete one as <0xHH>: b' the' -> '␣the', b'\\xe2\\x82' -> '<0xE2><0x82>',
    b'a\\n' -> 'a<0x0A>'."""
    out, i, n = [], 0, len(data)
    while i < n:
        lead = data[i]
        size = 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4 if lead >> 3 == 30 else 0
        try:
            char = data[i : i + size].decode("utf-8") if size and i + size <= n else ""
        except UnicodeDecodeError:
            char = ""
        if char == " ":
            out.append("␣")
        elif char and char.isprintable():
            out.append(char)
        else:
            size = size if char else 1
            out.append("".join(f"<0x{b:02X}>" for b in data[i : i + size]))
        i += size
    return "".join(out)


def utf8(text: str) -> bytes:
    """``text`` as UTF-8; CorpusError when it holds a lone surrogate, which UTF-8 cannot hold."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise CorpusError(f"the text holds U+{ord(error.object[error.start]):04X}, a lone surrogate (from bytes "
                          "that are not UTF-8?), which UTF-8 cannot encode") from None


@dataclass(frozen=True)
class Tokenizer:
    """Merges and the pre-split: encode text to ids and back.

    merges : M (left, right) pairs; merge k makes id 256 + k
    split : the chunk regex (``SPLIT``), or None for one chunk per text
    """

    merges: tuple[tuple[int, int], ...]
    split: str | None = SPLIT
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def vocab_size(self) -> int:
        return BYTES + len(self.merges)

    @cached_property
    def ranks(self) -> dict[tuple[int, int], int]:
        """pair -> its merge number k (the new id is 256 + k)."""
        return {pair: k for k, pair in enumerate(self.merges)}

    @cached_property
    def vocab(self) -> tuple[bytes, ...]:  # (256 + M,)
        """The bytes of every id."""
        table = [bytes([b]) for b in range(BYTES)]
        for left, right in self.merges:
            table.append(table[left] + table[right])
        return tuple(table)

    @cached_property
    def labels(self) -> tuple[str, ...]:  # (256 + M,)
        """Every id's bytes as text to show (``token_label``); two ids may look alike."""
        return tuple(map(token_label, self.vocab))

    @cached_property
    def pattern(self) -> re.Pattern | None:
        return None if self.split is None else re.compile(self.split)

    def chunks(self, text: str) -> list[str]:
        """The chunks of ``text``, in order; they join to the text: "hi there" -> ["hi", " there"]."""
        if not text:
            return []
        return [text] if self.pattern is None else self.pattern.findall(text)

    def encode(self, text: str) -> list[int]:  # -> (n,)
        """The ids of ``text``: each chunk's bytes with the merges applied (a chunk seen before
        is taken from a cache). CorpusError when the text holds a lone surrogate."""
        if self.pattern is None:
            return self.encode_bytes(utf8(text))
        out: list[int] = []
        cache, encode = self._cache, self.encode_bytes
        for chunk in self.pattern.findall(text):
            ids = cache.get(chunk)
            if ids is None:
                ids = cache[chunk] = encode(utf8(chunk))
            out.extend(ids)
        return out

    def encode_bytes(self, data: bytes) -> list[int]:  # (n_bytes,) -> (n,)
        """One chunk's ids: apply the merges in the order they were learned (the lowest merge
        number present first, each left to right), as training did. A heap of (merge number,
        position) over a linked list makes it O(n log n) even for a long chunk."""
        ids, ranks = list(data), self.ranks
        n = len(ids)
        heap = [(r, i) for i, pair in enumerate(zip(ids, ids[1:])) if (r := ranks.get(pair)) is not None]
        if not heap:
            return ids
        heapq.heapify(heap)
        after, before = list(range(1, n + 1)), list(range(-1, n - 1))  # linked list of live positions
        while heap:
            r, i = heapq.heappop(heap)
            j = after[i]
            if j >= n or ids[i] < 0 or ranks.get((ids[i], ids[j])) != r:
                continue  # stale: this position was merged since
            new = ids[i] = BYTES + r
            ids[j] = -1
            k = after[i] = after[j]
            if k < n:
                before[k] = i
                if (q := ranks.get((new, ids[k]))) is not None:
                    heapq.heappush(heap, (q, i))
            p = before[i]
            if p >= 0 and (q := ranks.get((ids[p], new))) is not None:
                heapq.heappush(heap, (q, p))
        return [t for t in ids if t >= 0]

    def check_ids(self, ids: list[int]) -> None:
        """VocabularyError naming the ids that are not from 0 to vocab_size - 1."""
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
            raise VocabularyError(f"id{'s' * (len(bad) > 1)} {shown} not in the vocabulary "
                                  f"(ids are 0 to {self.vocab_size - 1:,})")

    def decode_bytes(self, ids: list[int]) -> bytes:
        """The bytes of ``ids`` joined; VocabularyError for an id out of range."""
        self.check_ids(ids)
        vocab = self.vocab
        return b"".join([vocab[i] for i in ids])

    def decode(self, ids: list[int]) -> str:
        """The text of ``ids``: decode(encode(text)) == text. Bytes that are not valid UTF-8
        (ids cut inside a character) become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # -- the file ------------------------------------------------------------------

    def dumps(self) -> str:
        """The tokenizer file: {"format": "lmtoy-bpe", "version": 1, "split", "merges", "vocab_size"}."""
        merges = "[" + ", ".join(f"[{a}, {b}]" for a, b in self.merges) + "]"
        head = {"format": FORMAT, "version": VERSION, "split": self.split}
        lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        return "{\n" + "\n".join(lines) + f'\n  "merges": {merges},\n  "vocab_size": {self.vocab_size}\n}}\n'

    @classmethod
    def loads(cls, text: str | bytes, name: str = "<tokenizer>") -> "Tokenizer":
        """A tokenizer from its file's text; TokenizerFileError saying what is wrong."""
        def bad(reason: str) -> TokenizerFileError:
            return TokenizerFileError(f"{name}: not a tokenizer file: {reason}")

        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise bad(f"not JSON ({str(error).split(':')[0]})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise bad(f"its format is {json.dumps(found)[:40]}, expected \"{FORMAT}\" (write one with lmtoy bpe train)")
        if data.get("version") != VERSION:
            raise TokenizerFileError(f"{name}: tokenizer file version {json.dumps(data.get('version'))[:20]} "
                                     f"is not one this lmtoy reads (version {VERSION})")
        split = data.get("split")
        if split is not None and split != SPLIT:
            raise bad(f"its split is not lmtoy's ({SPLIT}) nor null")
        merges = _merges(data.get("merges"), bad)
        if data.get("vocab_size") != BYTES + len(merges) or isinstance(data.get("vocab_size"), bool):
            raise bad(f"vocab_size is {json.dumps(data.get('vocab_size'))[:20]}, but 256 bytes and "
                      f"{len(merges):,} merges make {BYTES + len(merges):,}")
        return cls(tuple(merges), split)

    def save(self, path: str | Path) -> None:
        """Write the file atomically (a temporary file, then a rename); OutputFileError if it cannot."""
        from lmtoy.files import write_with

        write_with(path, lambda file: file.write(self.dumps().encode("utf-8")), what="the tokenizer")


def _merges(value, bad) -> list[tuple[int, int]]:
    """The merge list of a file, checked: pairs of ids each defined before its merge, none twice."""
    if not isinstance(value, list):
        raise bad("'merges' is missing or not a list")
    if len(value) > MAX_VOCAB - BYTES:
        raise bad(f"{len(value):,} merges is more than {MAX_VOCAB - BYTES:,}")
    merges, seen = [], {}
    for k, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(i) is int for i in pair)):
            raise bad(f"merge {k} is {json.dumps(pair)[:30]}, not a pair of ids [left, right]")
        for i in pair:
            if not 0 <= i < BYTES + k:
                raise bad(f"merge {k} names id {i}, which is not defined before it (ids 0 to {BYTES + k - 1})")
        pair = (pair[0], pair[1])
        if pair in seen:
            raise bad(f"merge {k} repeats merge {seen[pair]} {list(pair)}")
        seen[pair] = k
        merges.append(pair)
    return merges


MAX_FILE_BYTES = 256 << 20  # a tokenizer of a million merges takes about 15 MB


def read_bounded(path: str | Path) -> bytes:
    """A tokenizer file's bytes; TokenizerFileError for what cannot be one: not a regular file
    (a folder, /dev/zero, a pipe) or larger than MAX_FILE_BYTES, so nothing reads without end."""
    path = Path(path)
    try:
        if not path.exists():
            raise TokenizerFileError(f"{path}: cannot read (no such file)")
        if not path.is_file():
            raise TokenizerFileError(f"{path}: not a tokenizer file (not a regular file)")
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise TokenizerFileError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > MAX_FILE_BYTES:
        raise TokenizerFileError(f"{path}: not a tokenizer file (larger than {MAX_FILE_BYTES >> 20} MiB)")
    return data


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Read a tokenizer file; TokenizerFileError when it cannot be read or is not one."""
    return Tokenizer.loads(read_bounded(path), str(path))
