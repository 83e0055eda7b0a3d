"""``lmtoy transformer classify``: a classifier's label probabilities for a text, or its
accuracy and confusion matrix on a labelled file (--eval)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lmtoy.cli.common import Format, FormatOpt, Scale, ScaleOpt, Svg, bad_option, emit, handle_errors, split_words
from lmtoy.cli.model_options import ModelPath, _load
from lmtoy.cli.output import note


@handle_errors
def classify(
    model: ModelPath = ...,
    text: Annotated[Optional[str], typer.Argument(help="The text to classify; the model reads its first words (as many as its context).", show_default=False)] = None,
    eval_file: Annotated[Optional[str], typer.Option("--eval", metavar="FILE", help="Instead of a text: the accuracy and confusion matrix on a labelled file (__label__NAME text lines), '-' for stdin, or a bundled name.")] = None,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
):
    """The label probabilities of a text, from a model trained with --task classify; --eval FILE scores a labelled file."""
    if (text is None) == (eval_file is None):
        bad_option("give a TEXT or --eval FILE, not both" if text is not None else "give a TEXT to classify, or --eval FILE",
                   "TEXT")
    saved = _load(model, ("classify",))
    emit(_classification(saved, text) if eval_file is None else _evaluation(saved, eval_file), fmt, svg=svg, scale=scale)


def _first_window(words: list[str], context: int, what: str) -> list[str]:
    """A classifier reads a text's first ``context`` words: the rest is cut, and a note says so."""
    if len(words) > context:
        note(f"{what} has {len(words)} words; the model's context is {context}: it reads the first {context}")
    return words[:context]


def _classification(saved, text: str):
    from lmtoy.corpus import Vocabulary
    from lmtoy.render.classifier import classify_view
    from lmtoy.transformer.classifier import probabilities

    words = _first_window(split_words(text, "TEXT", saved.keep_case, saved.tokenizer), saved.config.context, "the text")
    vocabulary = Vocabulary(tuple(saved.vocabulary))
    vocabulary.require(words)
    return classify_view(words, saved.labels, probabilities(saved.params, saved.config, vocabulary.encode(words)))


def _evaluation(saved, source: str):
    """Accuracy and confusion on the labelled lines ``--eval`` names; every word and label must be the model's."""
    from lmtoy.cli.common import corpus_bytes
    from lmtoy.corpus import Vocabulary
    from lmtoy.labelled import parse_labelled
    from lmtoy.render.classifier import evaluation_view
    from lmtoy.transformer.classifier import encode_labelled, evaluate

    try:
        raw, name = corpus_bytes(source)
    except typer.BadParameter as error:
        error.param_hint = "--eval"
        raise
    labelled = parse_labelled(raw, name=name, keep_case=saved.keep_case, min_labels=1, tokenizer=saved.tokenizer)
    texts, label_ids = encode_labelled(labelled, Vocabulary(tuple(saved.vocabulary)), saved.labels)
    context, longer = saved.config.context, sum(len(t) > saved.config.context for t in texts)
    if longer:
        note(f"{longer:,} of the {len(texts):,} lines are longer than the model's context of {context} words: "
             f"it reads their first {context}")
    weights = labelled.text.weights
    accuracy, confusion = evaluate(saved.params, saved.config, texts, label_ids, weights)
    return evaluation_view(saved.labels, accuracy, confusion, weighted=bool((weights != 1).any()))
