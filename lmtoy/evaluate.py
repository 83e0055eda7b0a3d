"""Scoring held-out text: per-event log10 probabilities and perplexity, for every model.

One convention (``lmtoy.smoothing``): a sentence of n words is n + 1 events, the last
P(</s> | ...); an unseen word is <unk>. Perplexity = 10^(-log10 P / E) over all E events
(words + sentences, <unk> words included, as KenLM's query does); bits per word is
-log2 P / E. Held-out weights are ignored: each held-out sentence counts once.

- first-order, second-order: the smoothed model (``smoothing.smooth``);
- skips, masked-skips: lambda * (vote for w) / (all the votes) + (1 - lambda) * the
  smoothed first-order P(w | previous word); the skip model is counted with </s> after
  each training sentence so it can vote for the end, and an event no feature votes on
  (the first two of a sentence) takes the first-order row alone;
- transformer: softmax over its vocabulary, <end> read before each sentence and scored
  as </s>; it has no <unk>, so a held-out word outside its vocabulary is an error.

Shapes: m events, n - 1 history words, F (event, feature) pairs, R skip rows.

Example: show_me first-order add-1 (P = 9 outcomes), "show me my photos please": six
events, P(show | <s>) = P(me | show) = P(my | me) = 2/10, P(photos | my) = 1.5/10,
P(please | photos) = 1.5/9.5, P(</s> | please) = 2/10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmtoy import attention
from lmtoy.corpus import Corpus, Vocabulary
from lmtoy.errors import CorpusError, VocabularyError
from lmtoy.ngrams import first_order, skips
from lmtoy.smoothing import Smoothed, context_codes, padded, probabilities

DEFAULT_LAMBDA = 0.5
LADDER = ("first-order", "second-order", "skips", "masked-skips")
_PAIRS = 1 << 21  # (event, earlier word) pairs a skip score handles per batch


@dataclass(frozen=True)
class Events:
    """Held-out events mapped to a model's ids: ``targets`` (m,), ``history`` (m, n-1)
    (-1 before <s>), ``sentence`` (m,) each event's sentence, ``oov`` the <unk> words."""

    targets: np.ndarray
    history: np.ndarray
    sentence: np.ndarray
    words: int
    sentences: int
    oov: int


def events(model: Smoothed, held_out: Corpus, width: int | None = None) -> Events:
    """The n + 1 events of each held-out sentence under ``model``'s vocabulary."""
    width = model.order - 1 if width is None else width
    mapping = np.array([model.id(w) for w in held_out.vocabulary.words], np.int64)  # (N_held,)
    mapped = Corpus(held_out.vocabulary, mapping[held_out.ids], held_out.starts, held_out.weights, held_out.name)
    ids, starts, _ = _padded_ids(mapped, model)
    predicted = np.ones(len(ids), bool)
    predicted[starts[:-1]] = False  # <s> is never predicted
    pos = np.flatnonzero(predicted)
    first = np.repeat(starts[:-1], np.diff(starts))[pos]
    history = np.full((len(pos), width), -1, np.int64)
    for j in range(width):
        back = pos - (width - j)
        history[:, j] = np.where(back >= first, ids[np.maximum(back, 0)], -1)
    oov = int(np.sum(mapped.ids == model.unk))
    sentence = np.repeat(np.arange(held_out.n_sentences), held_out.lengths + 1)
    return Events(ids[pos], history, sentence, len(held_out.ids), held_out.n_sentences, oov)


def _padded_ids(mapped: Corpus, model: Smoothed):
    """``padded`` with the model's </s> and <s> ids (the held-out corpus has its own N)."""
    fake = Corpus(Vocabulary(model.words[: model.n_words]), mapped.ids, mapped.starts, mapped.weights)
    return padded(fake)


@dataclass(frozen=True)
class Score:
    """A model's score of held-out text: ``log10`` (m,) per event, ``sentence`` (m,)."""

    name: str
    log10: np.ndarray
    sentence: np.ndarray
    words: int
    sentences: int
    oov: int
    smoothing: str
    short: str = ""  # the smoothing in a few words, for a table column

    @property
    def log10_prob(self) -> float:
        return float(self.log10.sum())

    @property
    def perplexity(self) -> float:
        return float(10.0 ** (-self.log10_prob / len(self.log10)))

    @property
    def bits_per_word(self) -> float:
        return float(-self.log10_prob / len(self.log10) / np.log10(2.0))

    def per_sentence(self) -> np.ndarray:  # (S,)
        return np.bincount(self.sentence, weights=self.log10, minlength=self.sentences)


def _log10(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log10(p)


def score_ngram(model: Smoothed, held_out: Corpus, name: str | None = None) -> Score:
    """Score held-out text with a smoothed first- or second-order model."""
    ev = events(model, held_out)
    p = probabilities(model, ev.history, ev.targets)
    return Score(name or model.kind, _log10(p), ev.sentence, ev.words, ev.sentences, ev.oov, model.label,
                 model.short_label)


def matched_orders(model: Smoothed, held_out: Corpus) -> list[int]:
    """For each event, the longest k-gram ending in it that training saw (0: none, <unk>)."""
    ev = events(model, held_out)
    best = np.zeros(len(ev.targets), np.int64)
    for level in model.levels:
        ctx, usable = context_codes(model, ev.history, level.order - 1)
        seen = np.isin(ctx * model.base + ev.targets, level.codes) & usable
        best = np.where(seen, level.order, best)
    return best.tolist()


def with_end(corpus: Corpus) -> Corpus:
    """The corpus with a word </s> (id N) after every sentence, for a skip model that votes
    for the end. [[a, b]] -> [[a, b, </s>]]."""
    n = len(corpus.vocabulary)
    ids = np.insert(corpus.ids, corpus.starts[1:], n)
    starts = corpus.starts + np.arange(corpus.n_sentences + 1)
    return Corpus(Vocabulary((*corpus.vocabulary.words, "</s>")), ids, starts, corpus.weights, corpus.name)


def score_skips(first: Smoothed, train: Corpus, held_out: Corpus, masked: bool = False,
                lam: float = DEFAULT_LAMBDA, window: int | None = None) -> Score:
    """Score held-out text with the skip (or masked-skip) vote, interpolated with ``first``,
    the smoothed first-order model: lam * votes(w) / sum(votes) + (1 - lam) * P1(w | prev)."""
    ended = with_end(train)
    model = skips(ended, window)
    flags = attention.informative(model, first_order(ended)) if masked else None
    ev = events(first, held_out, width=1)
    base = probabilities(first, ev.history, ev.targets)
    share, voted = _vote_shares(model, flags, held_out, first, window)
    p = np.where(voted, lam * share + (1 - lam) * base, base)
    name = "masked-skips" if masked else "skips"
    label = f"vote, lambda={lam:g}, with first-order {first.label}"
    short = f"vote λ={lam:g} + {first.short_label}"
    return Score(name, _log10(p), ev.sentence, ev.words, ev.sentences, ev.oov, label, short)


def _vote_shares(model, flags, held_out: Corpus, first: Smoothed, window):  # -> (m,), (m,) bool
    """Each held-out event's vote share for its target word, and whether any feature voted."""
    n1 = len(model.vocabulary)  # N + 1: the words and </s>
    mapping = np.array([first.id(w) for w in held_out.vocabulary.words], np.int64)
    ids = np.insert(mapping[held_out.ids], held_out.starts[1:], first.eos)  # (m,) the targets
    starts = held_out.starts + np.arange(held_out.n_sentences + 1)
    local = np.arange(len(ids)) - np.repeat(starts[:-1], np.diff(starts))  # (m,) place in sentence
    share, voted = np.zeros(len(ids)), np.zeros(len(ids), bool)
    entry = np.repeat(np.arange(model.n_rows), np.diff(model.indptr)) * n1 + model.cols  # (E,) sorted
    reach = np.maximum(local - 1, 0) if window is None else np.minimum(np.maximum(local - 1, 0), window)
    cuts = np.searchsorted(np.cumsum(reach), np.arange(_PAIRS, reach.sum(), _PAIRS))
    bounds = np.unique(np.r_[0, cuts, len(ids)])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        _vote_batch(model, flags, ids, local, reach, entry, np.arange(lo, hi), share, voted)
    return share, voted


def _vote_batch(model, flags, ids, local, reach, entry, ev, share, voted) -> None:
    """Fill share/voted for events ``ev``: each pairs with the earlier positions
    i-1-reach .. i-2 of its sentence; a word seen twice there counts once."""
    n1 = len(model.vocabulary)
    count = reach[ev]
    owner = np.repeat(ev, count)  # (F,)
    earlier = owner - 1 - count.repeat(count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    recent, word = ids[owner - 1], ids[earlier]
    code = owner.astype(np.int64) * (n1 + 1) + word  # (event, earlier word): keep one of each
    _, first_of = np.unique(code, return_index=True)
    owner, word, recent = owner[first_of], word[first_of], recent[first_of]
    known = (word < n1) & (recent < n1)
    rows = np.where(known, model.index_of(np.where(known, word * n1 + recent, 0)), -1)
    owner, rows = owner[rows >= 0], rows[rows >= 0]
    if flags is not None and len(rows):
        any_informative = np.zeros(len(ids), bool)
        any_informative[owner[flags[rows]]] = True
        keep = flags[rows] | ~any_informative[owner]
        owner, rows = owner[keep], rows[keep]
    target = ids[owner]
    at = np.minimum(np.searchsorted(entry, rows * n1 + target), max(len(entry) - 1, 0))
    hit = (target < n1) & (entry[at] == rows * n1 + target) if len(entry) else np.zeros(len(rows), bool)
    votes = np.bincount(owner, weights=np.where(hit, model.values[at], 0.0), minlength=len(ids))
    total = np.bincount(owner, minlength=len(ids))  # each row sums to 1
    got = total[ev] > 0
    share[ev[got]] = votes[ev[got]] / total[ev[got]]
    voted[ev] |= got


def score_transformer(saved, held_out: Corpus, name: str) -> Score:
    """Score held-out text with a saved transformer: <end> before each sentence, the
    softmax P(w | <end> w_1 .. w_{i-1}) per word and P(<end> | the sentence) as </s>."""
    from lmtoy.transformer.inference import checked_forward
    from lmtoy.transformer.layers import softmax

    index = {w: i for i, w in enumerate(saved.vocabulary)}
    unknown = [w for w in held_out.vocabulary.words if w not in index]
    if unknown:
        shown = ", ".join(repr(w) for w in unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        raise VocabularyError(f"{name}: {len(unknown)} held-out word{'s' * (len(unknown) != 1)} not in the "
                              f"transformer's vocabulary ({shown}): it has no <unk>, so it cannot score them; "
                              f"leave it out of --model, or score text within its vocabulary")
    end = len(saved.vocabulary) - 1
    mapping = np.array([index[w] for w in held_out.vocabulary.words], np.int64)
    out = []
    for s in range(held_out.n_sentences):
        seq = np.r_[end, mapping[held_out.ids[held_out.starts[s] : held_out.starts[s + 1]]], end]
        out.append(_sentence_log10(saved, seq, checked_forward, softmax))
    log10 = np.concatenate(out)
    sentence = np.repeat(np.arange(held_out.n_sentences), held_out.lengths + 1)
    return Score(name, log10, sentence, len(held_out.ids), held_out.n_sentences, 0, "softmax (no smoothing)", "softmax")


def _sentence_log10(saved, seq, forward, softmax) -> np.ndarray:  # (n+2,) -> (n+1,)
    """log10 P(seq[i+1] | seq[:i+1]) from the last ``context`` ids before each word: one pass
    for the first window, then one per later word."""
    c, inputs = saved.config.context, seq[:-1]
    logits = [forward(saved.params, saved.config, inputs[:c])[0][0]]
    logits += [forward(saved.params, saved.config, inputs[i + 1 - c : i + 1])[0][0, -1:] for i in range(c, len(inputs))]
    p = softmax(np.concatenate(logits).astype(np.float64))  # (n+1, N)
    return _log10(p[np.arange(len(inputs)), seq[1:]])


def check_held_out(held_out: Corpus) -> None:
    if not len(held_out.ids):
        raise CorpusError(f"{held_out.name}: the held-out file has no words")
