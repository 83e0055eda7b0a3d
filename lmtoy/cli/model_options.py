"""What the commands that read a trained model share: the --model, --prompt, --strict and
--mid-sentence options, loading a model of the right task, and reading a prompt for it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple, Optional

import typer

if TYPE_CHECKING:
    import numpy as np

from lmtoy.cli.common import bad_option, quoted, split_words
from lmtoy.cli.completion import complete_model
from lmtoy.cli.output import note

ModelPath = Annotated[Path, typer.Option("--model", "-m", help="A model file written by 'lmtoy transformer train'.", dir_okay=False,
                                           autocompletion=complete_model)]
Prompt = Annotated[str, typer.Option("--prompt", "-p", help="The words so far.")]
OptionalPrompt = Annotated[Optional[str], typer.Option("--prompt", "-p", help="The words so far (next-word models).")]
Strict = Annotated[bool, typer.Option("--strict", help="Refuse a prompt longer than the model's context instead of using its last window.")]
MidSentence = Annotated[bool, typer.Option("--mid-sentence", help="Read the prompt as the middle of a sentence: no <end> before it.")]


COMMAND_OF_TASK = {"next-word": "predict, generate, attention, trace, backward", "translate": "translate, attention, trace",
                   "classify": "classify"}  # what each kind of model is for


def _load(path: Path, tasks: tuple[str, ...] = ("next-word",)):
    """The model a --model option names, of one of ``tasks``; a path that does not exist (or
    that the system cannot look up, such as a name too long), or a model of another task
    (a translation model given to predict), is a command-line error."""
    from lmtoy.transformer import load_model

    try:
        exists = path.exists()
    except OSError as error:  # e.g. File name too long
        bad_option(f"{quoted(path)}: {error.strerror or error}", "--model")
    if not exists:
        bad_option(f"{quoted(path)} does not exist "
                   f"(train one with: lmtoy transformer train CORPUS --out {quoted(path)})", "--model")
    saved = load_model(path)
    if saved.config.task not in tasks:
        task = saved.config.task
        bad_option(f"{quoted(path)} is a {task} model, for 'lmtoy transformer {COMMAND_OF_TASK[task]}'; this command "
                   f"needs a {' or '.join(tasks)} model", "--model")
    return saved


class Prompted(NamedTuple):
    words: list[str]  # the prompt's words (the last window's, when it was cut)
    seen: list[str]  # what the model reads: <end> (a sentence start) and the words
    ids: np.ndarray  # (len(seen),) the ids of ``seen``


def _prompt(saved, prompt: str, strict: bool, mid_sentence: bool, cut: bool = True) -> Prompted:
    """Read a prompt for a model: unknown words are an error; the model sees <end> first, as
    at the start of every training sentence (unless mid_sentence); a prompt longer than the
    context keeps its last window (``cut``), or is refused (``strict``)."""
    from lmtoy.corpus import Vocabulary
    from lmtoy.errors import UsageError
    from lmtoy.transformer import END

    words = split_words(prompt, "--prompt", saved.keep_case, saved.tokenizer)
    vocab = Vocabulary(tuple(saved.vocabulary))
    vocab.require(words)
    context = saved.config.context
    if len(words) > context:
        if strict:
            raise UsageError(f"the prompt has {len(words)} words but the model's context is {context} (--strict)")
        note(f"the prompt has {len(words)} words; the model's context is {context}: it reads the last {context}")
    seen = words if mid_sentence or len(words) >= context else [END] + words
    if cut:
        words, seen = words[-context:], seen[-context:]
    return Prompted(words, seen, vocab.encode(seen))


def _reading(view, read: Prompted):
    """A view of what the model read: JSON "prompt" is the user's words, "seen" adds the <end> it read first."""
    payload = view.payload
    view.payload = lambda: payload() | {"prompt": read.words, "seen": read.seen}
    return view


def _config_dict(config) -> dict:
    import json

    return json.loads(config.to_json())
