"""Commands for sections 9-11: the NumPy transformer (train, predict, generate, attention,
trace, backward, gradcheck), positional encoding and embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple, Optional

import typer

if TYPE_CHECKING:
    import numpy as np

from lmtoy.cli.common import (
    Format, FormatOpt, Svg, bad_option, emit, handle_errors,
    Norm, Pool, Positions, Seed, Steps, Task, Temperature, TopK, quoted, sampler, split_words,
)
from lmtoy.cli.output import note

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

transformer_app = typer.Typer(
    help="A tiny NumPy transformer: train it on a corpus, then predict, generate and look inside (sections 9-11).",
    no_args_is_help=True,
)
app.add_typer(transformer_app, name="transformer")

ModelPath = Annotated[Path, typer.Option("--model", "-m", help="A model file written by 'lmtoy transformer train'.", dir_okay=False)]
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


SourceText = Annotated[Optional[str], typer.Option("--source", "-s", help="translate models: the source sentence (instead of --prompt).")]
TargetText = Annotated[Optional[str], typer.Option("--target", help="translate models, with --source: the target words to read (default: the model's own greedy translation).")]


class Sides(NamedTuple):
    source: list[str]  # what the encoder reads: the source words, then <end>
    target: list[str]  # what the decoder reads: <end>, then the target words
    source_ids: np.ndarray  # (n_s,)
    target_ids: np.ndarray  # (n_t,)


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


from lmtoy.cli.train import train  # noqa: E402  (listed first in 'lmtoy transformer --help')

transformer_app.command()(train)


@transformer_app.command()
@handle_errors
def predict(model: ModelPath = ..., prompt: Prompt = ..., top: Annotated[int, typer.Option("--top", min=1, help="Words the table shows.")] = 10,
            strict: Strict = False, mid_sentence: MidSentence = False, fmt: FormatOpt = Format.table, svg: Svg = None):
    """The next-word distribution after the prompt (JSON: the whole vocabulary)."""
    from lmtoy.render.transformer import predict_view
    from lmtoy.transformer import next_distribution

    saved = _load(model)
    read = _prompt(saved, prompt, strict, mid_sentence)
    p = next_distribution(saved.params, saved.config, read.ids)
    emit(predict_view(read.words, saved.vocabulary, p, top), fmt, svg=svg)


@transformer_app.command()
@handle_errors
def generate(
    model: ModelPath = ...,
    prompt: Prompt = ...,
    steps: Steps = 10,
    temperature: Temperature = None,
    top_k: TopK = None,
    seed: Seed = None,
    strict: Strict = False,
    mid_sentence: MidSentence = False,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
):
    """Generate words after the prompt: greedy by default; --temperature, --top-k or --seed sample instead."""
    from lmtoy.render.transformer import generation_view
    from lmtoy.transformer import END
    from lmtoy.transformer import generate as generate_ids

    rng = sampler(steps, temperature, top_k, seed)
    saved = _load(model)
    read = _prompt(saved, prompt, strict, mid_sentence, cut=False)
    new = generate_ids(saved.params, saved.config, read.ids, steps, rng, temperature or 1.0, top_k, greedy=rng is None,
                       end_id=saved.vocabulary.index(END))
    emit(generation_view(read.words, [saved.vocabulary[i] for i in new], END, saved.tokenizer.text), fmt, svg=svg)


@transformer_app.command()
@handle_errors
def translate(
    model: ModelPath = ...,
    text: Annotated[str, typer.Argument(help="The source sentence.", show_default=False)] = ...,
    beam: Annotated[int, typer.Option("--beam", "-k", min=1, max=1000, metavar="K", help="Beam search keeping K hypotheses (1: greedy); the answer has the highest log probability per word, <end> counted.")] = 1,
    steps: Annotated[Optional[int], typer.Option("--steps", "-n", min=1, max=100_000, help="Words to produce at most (default: as many as the model's context holds).")] = None,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
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
    emit(translation_view(words, translation, result.score, stopped, saved.tokenizer.text), fmt, svg=svg)


def _translate_attention(saved, sides: Sides, layer: int | None, head: int | None):
    """The attention view of an encoder-decoder: encoder, decoder and cross-attention."""
    from lmtoy.render.seq2seq import attention_view
    from lmtoy.transformer.translate import attention_weights

    c = saved.config
    for value, limit, name in ((layer, min(c.encoder_layers, c.n_layers), "--layer"), (head, c.n_heads, "--head")):
        if value is not None and value > limit:
            what = "heads" if name == "--head" else f"layers in its encoder ({c.encoder_layers}) or decoder ({c.n_layers})"
            bad_option(f"{value} is more than the model's {limit} {what}" if name == "--head" else
                       f"{value} is more than the {what}", name)  # fmt: skip
    weights = attention_weights(saved.params, c, sides.source_ids, sides.target_ids)
    pick = lambda count: [layer - 1] if layer else list(range(count))
    heads = [head - 1] if head else list(range(c.n_heads))
    return attention_view(sides.source, sides.target, weights, pick(c.encoder_layers), pick(c.n_layers), heads)


def _translate_trace(saved, sides: Sides, shapes_only: bool):
    from lmtoy.render.seq2seq import shapes, trace_view
    from lmtoy.transformer.translate import trace as forward_trace

    steps = [] if shapes_only else forward_trace(saved.params, saved.config, sides.source_ids, sides.target_ids)
    vocabularies = {"source": saved.source_vocabulary, "target": saved.vocabulary}
    table = shapes(saved.config, len(sides.source), len(sides.target))
    return trace_view(sides.source, sides.target, vocabularies, steps, table, _config_dict(saved.config))


@transformer_app.command()
@handle_errors
def attention(
    model: ModelPath = ...,
    prompt: OptionalPrompt = None,
    source: SourceText = None,
    target: TargetText = None,
    layer: Annotated[Optional[int], typer.Option("--layer", min=1, help="Only this layer (from 1).")] = None,
    head: Annotated[Optional[int], typer.Option("--head", min=1, help="Only this head (from 1).")] = None,
    last: Annotated[bool, typer.Option("--last", help="Only the last word's row: what it attends to, per layer and head.")] = False,
    strict: Strict = False,
    mid_sentence: MidSentence = False,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
):
    """The n x n attention weights of each layer and head, labelled with the prompt's words (translate models: --source)."""
    import numpy as np

    from lmtoy.render.transformer import attention_row_view, attention_view
    from lmtoy.transformer import attention_weights

    saved = _load(model, ("next-word", "translate"))
    if saved.config.task == "translate":
        only = {"--last": last, "--strict": strict, "--mid-sentence": mid_sentence}
        return emit(_translate_attention(saved, _sides(saved, prompt, source, target, only), layer, head), fmt, svg=svg)
    _no_translate_options(source, target, prompt)
    read = _prompt(saved, prompt, strict, mid_sentence)
    c = saved.config
    for value, limit, name in ((layer, c.n_layers, "--layer"), (head, c.n_heads, "--head")):
        if value is not None and value > limit:
            bad_option(f"{value} is more than the model's {limit}", name)
    weights = attention_weights(saved.params, c, read.ids)  # (L, h, n, n)
    layers = [layer - 1] if layer else list(range(c.n_layers))
    heads = [head - 1] if head else list(range(c.n_heads))
    if last:
        view = attention_row_view(read.seen, weights[np.ix_(layers, heads)], layers, heads)
    else:
        view = attention_view(read.seen, weights, layers, heads)
    emit(_reading(view, read), fmt, svg=svg)


@transformer_app.command()
@handle_errors
def trace(model: ModelPath = ..., prompt: OptionalPrompt = None, source: SourceText = None, target: TargetText = None,
          shapes_only: Annotated[bool, typer.Option("--shapes", help="Only the shape table (section 10).")] = False,
          strict: Strict = False, mid_sentence: MidSentence = False, fmt: FormatOpt = Format.table, svg: Svg = None):
    """One forward pass step by step: every intermediate matrix with its shape, and the shape table (translate models: --source)."""
    from lmtoy.render.transformer import shapes, trace_view
    from lmtoy.transformer import trace as forward_trace

    saved = _load(model, ("next-word", "translate"))
    if saved.config.task == "translate":
        sides = _sides(saved, prompt, source, target, {"--strict": strict, "--mid-sentence": mid_sentence})
        return emit(_translate_trace(saved, sides, shapes_only), fmt, svg=svg)
    _no_translate_options(source, target, prompt)
    read = _prompt(saved, prompt, strict, mid_sentence)
    steps = [] if shapes_only else forward_trace(saved.params, saved.config, read.ids)
    config = _config_dict(saved.config)
    view = trace_view(read.seen, saved.vocabulary, steps, shapes(saved.config, len(read.seen)), config)
    emit(_reading(view, read), fmt, svg=svg)


@transformer_app.command()
@handle_errors
def backward(
    model: ModelPath = ...,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="One sentence: inputs <end> w_1..w_n, targets w_1..w_n <end>.")] = ...,
    layer: Annotated[int, typer.Option("--layer", min=1, help="The layer to walk back through (from 1).")] = 1,
    head: Annotated[int, typer.Option("--head", min=1, help="The head of that layer (from 1).")] = 1,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
):
    """The backward pass of self-attention step by step: one sentence's loss back through one head, checked."""
    from lmtoy.render.walkthrough import backward_view
    from lmtoy.transformer import END
    from lmtoy.transformer.walkthrough import backward_walk, require_fit

    saved = _load(model)
    c = saved.config
    for value, limit, name in ((layer, c.n_layers, "--layer"), (head, c.n_heads, "--head")):
        if value > limit:
            bad_option(f"{value} is more than the model's {limit}", name)
    require_fit(len(split_words(prompt, "--prompt", saved.keep_case, saved.tokenizer)), c.context)  # before _prompt cuts it
    read = _prompt(saved, prompt, strict=True, mid_sentence=False)  # seen: <end> w_1..w_n
    walk = backward_walk(saved.params, c, read.ids[1:], saved.vocabulary.index(END), layer - 1, head - 1)
    emit(backward_view(read.words, read.seen, layer, head, walk, c.norm), fmt, svg=svg)


@transformer_app.command()
@handle_errors
def classify(
    model: ModelPath = ...,
    text: Annotated[Optional[str], typer.Argument(help="The text to classify; the model reads its first words (as many as its context).", show_default=False)] = None,
    eval_file: Annotated[Optional[str], typer.Option("--eval", metavar="FILE", help="Instead of a text: the accuracy and confusion matrix on a labelled file (__label__NAME text lines), '-' for stdin, or a bundled name.")] = None,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
):
    """The label probabilities of a text, from a model trained with --task classify; --eval FILE scores a labelled file."""
    if (text is None) == (eval_file is None):
        bad_option("give a TEXT or --eval FILE, not both" if text is not None else "give a TEXT to classify, or --eval FILE",
                   "TEXT")
    saved = _load(model, ("classify",))
    emit(_classification(saved, text) if eval_file is None else _evaluation(saved, eval_file), fmt, svg=svg)


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


@transformer_app.command()
@handle_errors
def gradcheck(
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1, help="Seeds the random model and data.")] = 0,
    norm: Annotated[Norm, typer.Option("--norm", help="Layer norm after each sublayer (post) or before it (pre).")] = Norm.post,
    positions: Annotated[Positions, typer.Option("--positions", help="Position encoding.")] = Positions.sinusoidal,
    tied: Annotated[bool, typer.Option("--tied", help="De-embed with the transposed embedding.")] = False,
    task: Annotated[Task, typer.Option("--task", help="The model to check: next-word (decoder-only), translate (encoder-decoder) or classify (encoder, pooling and class head).")] = Task.next_word,
    pool: Annotated[Optional[Pool], typer.Option("--pool", help="classify: mean or max pooling over positions (default mean).")] = None,
    fmt: FormatOpt = Format.table,
):
    """Check every weight's hand-derived gradient against central finite differences (float64)."""
    import numpy as np

    from lmtoy.render.matrix import Grid
    from lmtoy.render.views import View

    config, check = _gradcheck_model(task, norm.value, positions.value, tied, pool)
    errors = check(config, np.random.default_rng(seed))
    values = np.array(list(errors.values()))[:, None]
    what = {"classify": f", {config.pool} pooling", "translate": ", encoder-decoder"}.get(config.task, "")
    grid = Grid.of(values, list(errors), ["worst relative error"], row_header="weight", hide_zeros=False, scale=(0, 1e-6),
                   title=f"Analytic vs finite-difference gradients ({config.norm}-norm, {config.positions} positions"
                         f"{', tied' if tied else ''}{what}): worst {values.max():.1e}")
    emit(View([grid], lambda: {"config": _config_dict(config), "errors": errors}, main=grid), fmt, max_rows=0)


def _gradcheck_model(task: Task, norm: str, positions: str, tied: bool, pool: Pool | None):
    """The small random model ``gradcheck`` checks for a task, and the function that checks it."""
    from lmtoy.transformer import Config, gradcheck as check

    if pool is not None and task is not Task.classify:
        bad_option("is for --task classify", "--pool")
    sizes = dict(vocab_size=7, d_model=8, n_heads=2, n_layers=2, context=5, d_ff=12, positions=positions, norm=norm,
                 tied=tied)
    if task is Task.classify:
        from lmtoy.transformer import classifier

        return Config(**sizes, task="classify", n_classes=3, pool=(pool or Pool.mean).value), classifier.gradcheck
    if task is Task.translate:
        from lmtoy.transformer import seq2seq

        return Config(**sizes, task="translate", source_vocab_size=6), seq2seq.gradcheck
    return Config(**sizes), check


def _config_dict(config) -> dict:
    import json

    return json.loads(config.to_json())


@app.command()
@handle_errors
def posenc(
    positions: Annotated[int, typer.Option("--positions", "-n", min=1, max=1_000_000, help="Positions (rows).")] = 12,
    d_model: Annotated[int, typer.Option("--d-model", "-d", min=1, max=100_000, help="Embedding width (columns).")] = 8,
    pair: Annotated[Optional[int], typer.Option("--pair", min=0, help="Show dimension pair I (2I, 2I+1) tracing its circle.")] = None,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
):
    """Sinusoidal positional encoding (section 9): the table as a heatmap, or one pair's circle."""
    from lmtoy.render.transformer import posenc_view
    from lmtoy.transformer import sinusoidal_positions

    if positions * d_model > 10_000_000:
        from lmtoy.errors import TooLargeError

        raise TooLargeError(f"{positions:,} positions x {d_model:,} dimensions is more than 10,000,000 values: "
                            "use fewer --positions or a smaller --d-model")
    if pair is not None and 2 * pair + 1 >= d_model:
        pairs = f"pairs 0 to {d_model // 2 - 1}" if d_model >= 2 else "no complete sin/cos pair"
        bad_option(f"pair {pair} does not exist: d_model {d_model} has {pairs}", "--pair")
    emit(posenc_view(sinusoidal_positions(positions, d_model), pair), fmt, svg=svg, max_rows=0)


@app.command()
@handle_errors
def embed(model: ModelPath = ..., fmt: FormatOpt = Format.table, svg: Svg = None):
    """A trained model's word embeddings projected to 2-D (PCA), as a labelled scatter plot."""
    from lmtoy.render.transformer import embed_view
    from lmtoy.transformer import embeddings_2d

    saved = _load(model, tuple(COMMAND_OF_TASK))  # every model has word embeddings
    emit(embed_view(saved.vocabulary, embeddings_2d(saved.params["embedding"])), fmt, svg=svg)
