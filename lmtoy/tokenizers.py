"""Tokenizers: words | chars | a BPE file, one interface the corpus reader calls.

Every tokenizer reads a corpus into a ``Corpus`` (the same sentences and weights as the
word reader: weights, comments, sentence ends as README's "Corpora" says), turns a prompt
into tokens, and a token sequence back into text.

- ``words``: today's rule (``lmtoy.corpus.parse_corpus``, ``tokenize``), unchanged;
- ``chars``: each character of a sentence's text is a token, a space the visible ``␣``;
- a BPE file: the labels (``lmtoy.bpe_tokenizer.token_label``) of a sentence text's BPE tokens.

For chars and BPE a sentence's text is the one ``lmtoy bpe train`` reads
(``lmtoy.corpus.sentence_texts``, then ``lmtoy.bpe.sentence_text``): runs of whitespace are one
space, the edges stripped, lower-cased unless ``keep_case``. A prompt is read as one such
sentence, its sentence-end marks spaces (as in a weighted line). The vocabulary is the sorted
distinct labels. Example: chars on "Show me." -> [s, h, o, w, ␣, m, e]; a BPE file that merged
" m"+"e" -> [s, h, o, w, ␣me].
"""

from __future__ import annotations

import json
from functools import cached_property

import numpy as np

from lmtoy.bpe import sentence_text
from lmtoy.bpe_tokenizer import Tokenizer, TokenizerFileError
from lmtoy.corpus import DROP_ENDS, Corpus, corpus_of, parse_corpus, sentence_texts, tokenize
from lmtoy.errors import CorpusError

SPACE = "␣"  # how a space is shown, in a chars or a BPE token


class Words:
    """Today's word rule: maximal runs of letters, digits and inner apostrophes."""

    kind = "words"

    def read(self, data: str | bytes, *, name: str = "<text>", join_lines: bool = False,
             keep_case: bool = False) -> Corpus:
        return parse_corpus(data, name=name, join_lines=join_lines, keep_case=keep_case)

    def tokens(self, text: str, keep_case: bool = False) -> list[str]:
        """"Show me." -> [show, me]."""
        return tokenize(text, keep_case)

    def text(self, tokens: list[str]) -> str:
        """[show, me] -> "show me"."""
        return " ".join(tokens)

    def dumps(self) -> str:
        return json.dumps({"kind": self.kind})


class _Sentences(Words):
    """A tokenizer that splits each sentence text (``sentence_text``) into labelled tokens."""

    def split(self, text: str) -> list[str]:  # one normalised sentence -> its token labels
        """Each subclass (Chars, Bpe) says how a sentence becomes tokens."""
        raise TypeError(f"{type(self).__name__} does not say how to split a sentence")

    def read(self, data: str | bytes, *, name: str = "<text>", join_lines: bool = False,
             keep_case: bool = False) -> Corpus:
        """The corpus's sentences as tokens: "a b. c" (chars) -> [a, ␣, b], [c]."""
        sentences, weights = [], []
        for raw, weight in sentence_texts(data, name=name, join_lines=join_lines):
            tokens = self.split(sentence_text(raw, keep_case))
            if tokens:
                sentences.append(tokens)
                weights.append(weight)
        if not sentences:
            raise CorpusError(f"{name}: no tokens found (the corpus is empty, has only comments, or every line weighs 0)")
        return corpus_of(sentences, np.asarray(weights, dtype=np.float64), name)

    def tokens(self, text: str, keep_case: bool = False) -> list[str]:
        """A prompt's tokens: the text as one sentence, its sentence ends spaces."""
        return self.split(sentence_text(text.translate(DROP_ENDS), keep_case))

    def token(self, text: str, keep_case: bool = False) -> str:
        """One token named by its text (--word): a space may be typed as ' ' or '␣'."""
        text = text.replace(" ", SPACE)
        return text if keep_case else text.lower()


class Chars(_Sentences):
    """Each character is a token; a space is ``␣``, so text can be rebuilt."""

    kind = "chars"

    def split(self, text: str) -> list[str]:
        """"show me" -> [s, h, o, w, ␣, m, e]."""
        return [SPACE if c == " " else c for c in text]

    def text(self, tokens: list[str]) -> str:
        """[m, e, ␣, t, o] -> "me to"."""
        return "".join(tokens).replace(SPACE, " ")


class Bpe(_Sentences):
    """The BPE tokens of a tokenizer file, labelled as ``lmtoy bpe encode`` shows them (``␣the``)."""

    kind = "bpe"

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer

    def split(self, text: str) -> list[str]:
        labels = self.tokenizer.labels
        return [labels[i] for i in self.tokenizer.encode(text)]

    @cached_property
    def _bytes(self) -> dict[str, bytes]:  # label -> bytes; two ids that look alike: the first
        out: dict[str, bytes] = {}
        for label, data in zip(self.tokenizer.labels, self.tokenizer.vocab):
            out.setdefault(label, data)
        return out

    def text(self, tokens: list[str]) -> str:
        """The decoded text: [show, ␣me] -> "show me" (invalid UTF-8 becomes U+FFFD)."""
        data = self._bytes
        return b"".join(data.get(t, t.encode("utf-8")) for t in tokens).decode("utf-8", errors="replace")

    def dumps(self) -> str:
        return self.tokenizer.dumps()


WORDS, CHARS = Words(), Chars()


def loads(text: str, name: str = "<tokenizer>") -> Words:
    """A tokenizer from its stored form (``dumps``): {"kind": "words"}, {"kind": "chars"} or a
    BPE tokenizer file's content; TokenizerFileError otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        raise TokenizerFileError(f"{name}: the stored tokenizer is not JSON") from None
    if isinstance(data, dict) and "format" in data:
        return Bpe(Tokenizer.loads(text, name))
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in ("words", "chars"):
        raise TokenizerFileError(f"{name}: the stored tokenizer is {json.dumps(kind)[:30]}, expected words, chars "
                                 "or a BPE tokenizer file")
    return WORDS if kind == "words" else CHARS
