"""``lmtoy transformer translate``, and what ``attention`` and ``trace`` do with a model
trained with --task translate: read --source (and --target), then show the encoder, the
decoder and the cross-attention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NamedTuple, Optional

import typer

if TYPE_CHECKING:
    import numpy as np

from lmtoy.cli.common import Format, FormatOpt, Scale, ScaleOpt, Svg, bad_option, emit, handle_errors, split_words
from lmtoy.cli.model_options import ModelPath, _config_dict, _load
from lmtoy.cli.output import note

SourceText = Annotated[Optional[str], typer.Option("--source", "-s", help="translate models: the source sentence (instead of --prompt).")]
TargetText = Annotated[Optional[str], typer.Option("--target", help="translate models, with --source: the target words to read (default: the model's own greedy translation).")]


class Sides(NamedTuple):
    source: list[str]  # what the encoder reads: the source words, then <end>
    target: list[str]  # what the decoder reads: <end>, then the target words
    source_ids: np.ndarray  # (n_s,)
    target_ids: np.ndarray  # (n_t,)


@handle_errors
def translate(
    model: ModelPath = ...,
    text: Annotated[str, typer.Argument(help="The source sentence.", show_default=False)] = ...,
    beam: Annotated[int, typer.Option("--beam", "-k", min=1, max=1000, metavar="K", help="Beam search keeping K hypotheses (1: greedy); the answer has the highest log probability per word, <end> counted.")] = 1,
    steps: Annotated[Optional[int], typer.Option("--steps", "-n", min=1, max=100_000, help="Words to produce at most (default: as many as the model's context holds).")] = None,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """Translate TEXT with a model trained with --task translate: greedy, or beam search with --beam K."""
    from lmtoy.render.seq2seq import stopped_text, translation_view
    from lmtoy.transformer import END
    from lmtoy.transformer.translate import beam_search

    saved = _load(model, ("translate",))
    words, source = _source(saved, text, "TEXT")
    result = beam_search(saved.params, saved.config, source, saved.vocabulary.index(END), beam, steps)
    stopped = stopped_text(result.stopped, saved.config.context)
    translation = [saved.vocabulary[i] for i in result.ids]
    emit(translation_view(words, translation, result.score, stopped, saved.tokenizer.text), fmt, svg=svg, scale=scale)


def _source(saved, text: str, option: str):
    """A source sentence's words, and the ids the encoder reads (the words, then <end>):
    unknown words are an error naming close ones; a source longer than the context too."""
    from lmtoy.corpus import Vocabulary
    from lmtoy.transformer import END
    from lmtoy.transformer.translate import source_ids

    words = split_words(text, option, saved.keep_case, saved.tokenizer)
    Vocabulary(tuple(w for w in saved.source_vocabulary if w != END)).require(words)
    ids = Vocabulary(saved.source_vocabulary).encode(words)
    return words, source_ids(ids, saved.source_vocabulary.index(END), saved.config.context)


def _sides(saved, prompt, source: str | None, target: str | None, next_word_only: dict[str, bool]) -> Sides:
    """What an encoder-decoder reads for ``attention`` and ``trace``: --source, and --target or
    the model's own greedy translation; options for decoder-only models are refused."""
    import numpy as np

    from lmtoy.corpus import Vocabulary
    from lmtoy.transformer import END
    from lmtoy.transformer.translate import greedy

    for option, given in ({"--prompt": prompt is not None} | next_word_only).items():
        if given:
            bad_option("is for next-word models; a translate model reads --source (and --target)", option)
    if source is None:
        bad_option("is needed: a translate model reads a source sentence", "--source")
    words, source_ids = _source(saved, source, "--source")
    end = saved.vocabulary.index(END)
    if target is None:
        ids = greedy(saved.params, saved.config, source_ids, end).ids[: saved.config.context - 1]
        target_words = [saved.vocabulary[i] for i in ids]
    else:
        target_words = split_words(target, "--target", saved.keep_case, saved.tokenizer)
        Vocabulary(tuple(w for w in saved.vocabulary if w != END)).require(target_words)
    target_ids = np.array([end] + [saved.vocabulary.index(w) for w in target_words], dtype=np.int64)
    return Sides(words + [END], [END] + target_words, source_ids, target_ids)


def _no_translate_options(source: str | None, target: str | None, prompt: str | None) -> None:
    """A next-word model reads --prompt; --source and --target are for translate models."""
    for option, given in (("--source", source), ("--target", target)):
        if given is not None:
            bad_option("is for translate models (trained with --task translate); this model reads --prompt", option)
    if prompt is None:
        bad_option("is needed: the words so far", "--prompt")


def _translate_attention(saved, sides: Sides, layer: int | None, head: int | None):
    """The attention view of an encoder-decoder: encoder, decoder and cross-attention."""
    from lmtoy.render.seq2seq import attention_view
    from lmtoy.transformer.translate import attention_weights

    c = saved.config
    if head is not None and head > c.n_heads:
        bad_option(f"{head} is more than the model's {c.n_heads} heads", "--head")
    encoder, decoder = _translate_layers(c, layer)
    weights = attention_weights(saved.params, c, sides.source_ids, sides.target_ids)
    heads = [head - 1] if head else list(range(c.n_heads))
    return attention_view(sides.source, sides.target, weights, encoder, decoder, heads)


def _translate_layers(config, layer: int | None) -> tuple[list[int], list[int]]:
    """The encoder and decoder layers (from 0) that --layer L picks: layer L of each stack that
    has one (a decoder layer with its cross-attention); L beyond both stacks is an error.

    3 encoder and 1 decoder layers: --layer 2 -> ([1], []), --layer 4 refused.
    """
    e, d = config.encoder_layers, config.n_layers
    if layer is None:
        return list(range(e)), list(range(d))
    if layer > max(e, d):
        bad_option(f"{layer} is more than the layers in its encoder ({e}) and decoder ({d})", "--layer")
    if layer > d:
        note(f"the decoder has {_layers(d)}: --layer {layer} shows encoder layer {layer} only")
    elif layer > e:
        note(f"the encoder has {_layers(e)}: --layer {layer} shows decoder and cross-attention layer {layer} only")
    pick = lambda count: [layer - 1] if layer <= count else []
    return pick(e), pick(d)


def _layers(count: int) -> str:
    return f"{count} layer" if count == 1 else f"{count} layers"


def _translate_trace(saved, sides: Sides, shapes_only: bool):
    from lmtoy.render.seq2seq import shapes, trace_view
    from lmtoy.transformer.translate import trace as forward_trace

    steps = [] if shapes_only else forward_trace(saved.params, saved.config, sides.source_ids, sides.target_ids)
    vocabularies = {"source": saved.source_vocabulary, "target": saved.vocabulary}
    table = shapes(saved.config, len(sides.source), len(sides.target))
    return trace_view(sides.source, sides.target, vocabularies, steps, table, _config_dict(saved.config))
