"""Commands for sections 9-11: the NumPy transformer (train, predict, generate, translate,
attention, trace, backward, classify, gradcheck), positional encoding and embeddings.

``train`` (lmtoy.cli.train), ``translate`` (lmtoy.cli.seq2seq) and ``classify``
(lmtoy.cli.classify) live in modules of their own and are registered here, in the order
of 'lmtoy transformer --help'; what every model-reading command shares is in
lmtoy.cli.model_options.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lmtoy.cli.classify import classify
from lmtoy.cli.common import (
    Format, FormatOpt, Scale, ScaleOpt, Svg, bad_option, emit, handle_errors,
    Pool, Positions, Seed, Steps, Task, Temperature, TopK, sampler, split_words,
)
from lmtoy.cli.model_options import (
    COMMAND_OF_TASK, MidSentence, ModelPath, OptionalPrompt, Prompt, Strict, _config_dict, _load, _prompt, _reading,
)
from lmtoy.cli.seq2seq import (
    SourceText, TargetText, _no_translate_options, _sides, _translate_attention, _translate_trace, translate,
)
from lmtoy.cli.train import Attention, TrainNorm, train

app = typer.Typer()  # its commands are registered in lmtoy.cli.root.COMMANDS

transformer_app = typer.Typer(
    help="A tiny NumPy transformer: train it on a corpus, then predict, generate and look inside (sections 9-11).",
    no_args_is_help=True,
)
app.add_typer(transformer_app, name="transformer")

transformer_app.command()(train)  # listed first in 'lmtoy transformer --help'


@transformer_app.command()
@handle_errors
def predict(model: ModelPath = ..., prompt: Prompt = ..., top: Annotated[int, typer.Option("--top", min=1, help="Words the table shows.")] = 10,
            strict: Strict = False, mid_sentence: MidSentence = False, fmt: FormatOpt = Format.table, svg: Svg = None,
            scale: ScaleOpt = Scale.linear):
    """The next-word distribution after the prompt (JSON: the whole vocabulary)."""
    from lmtoy.render.transformer import predict_view
    from lmtoy.transformer import next_distribution

    saved = _load(model)
    read = _prompt(saved, prompt, strict, mid_sentence)
    p = next_distribution(saved.params, saved.config, read.ids)
    emit(predict_view(read.words, saved.vocabulary, p, top), fmt, svg=svg, scale=scale)


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
    scale: ScaleOpt = Scale.linear,
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
    emit(generation_view(read.words, [saved.vocabulary[i] for i in new], END, saved.tokenizer.text), fmt, svg=svg, scale=scale)


transformer_app.command()(translate)


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
    scale: ScaleOpt = Scale.linear,
):
    """The n x n attention weights of each layer and head, labelled with the prompt's words (translate models: --source)."""
    import numpy as np

    from lmtoy.render.transformer import attention_row_view, attention_view
    from lmtoy.transformer import attention_weights

    saved = _load(model, ("next-word", "translate"))
    if saved.config.task == "translate":
        only = {"--last": last, "--strict": strict, "--mid-sentence": mid_sentence}
        return emit(_translate_attention(saved, _sides(saved, prompt, source, target, only), layer, head), fmt, svg=svg, scale=scale)
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
    emit(_reading(view, read), fmt, svg=svg, scale=scale)


@transformer_app.command()
@handle_errors
def trace(model: ModelPath = ..., prompt: OptionalPrompt = None, source: SourceText = None, target: TargetText = None,
          shapes_only: Annotated[bool, typer.Option("--shapes", help="Only the shape table (section 10).")] = False,
          strict: Strict = False, mid_sentence: MidSentence = False, fmt: FormatOpt = Format.table, svg: Svg = None,
            scale: ScaleOpt = Scale.linear):
    """One forward pass step by step: every intermediate matrix with its shape, and the shape table (translate models: --source)."""
    from lmtoy.render.transformer import shapes, trace_view
    from lmtoy.transformer import trace as forward_trace

    saved = _load(model, ("next-word", "translate"))
    if saved.config.task == "translate":
        sides = _sides(saved, prompt, source, target, {"--strict": strict, "--mid-sentence": mid_sentence})
        return emit(_translate_trace(saved, sides, shapes_only), fmt, svg=svg, scale=scale)
    _no_translate_options(source, target, prompt)
    read = _prompt(saved, prompt, strict, mid_sentence)
    steps = [] if shapes_only else forward_trace(saved.params, saved.config, read.ids)
    config = _config_dict(saved.config)
    view = trace_view(read.seen, saved.vocabulary, steps, shapes(saved.config, len(read.seen)), config,
                      saved.dimensions, saved.hidden)
    emit(_reading(view, read), fmt, svg=svg, scale=scale)


@transformer_app.command()
@handle_errors
def backward(
    model: ModelPath = ...,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="One sentence: inputs <end> w_1..w_n, targets w_1..w_n <end>.")] = ...,
    layer: Annotated[int, typer.Option("--layer", min=1, help="The layer to walk back through (from 1).")] = 1,
    head: Annotated[int, typer.Option("--head", min=1, help="The head of that layer (from 1).")] = 1,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
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
    emit(backward_view(read.words, read.seen, layer, head, walk, c.norm), fmt, svg=svg, scale=scale)


transformer_app.command()(classify)


@transformer_app.command()
@handle_errors
def gradcheck(
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1, help="Seeds the random model and data.")] = 0,
    norm: Annotated[TrainNorm, typer.Option("--norm", help="Layer norm after each sublayer (post), before it (pre), or none (next-word only).")] = TrainNorm.post,
    attention: Annotated[Attention, typer.Option("--attention", help="softmax(scale Q K^T + mask), or linear: scale Q K^T masked, no softmax (next-word only).")] = Attention.softmax,
    attention_scale: Annotated[Optional[float], typer.Option("--attention-scale", min=0.0, help="The factor on Q K^T (default 1 / sqrt(d_k)).")] = None,
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

    config, check = _gradcheck_model(task, norm.value, positions.value, tied, pool,
                                     dict(attention=attention.value, attention_scale=attention_scale))
    errors = check(config, np.random.default_rng(seed))
    values = np.array(list(errors.values()))[:, None]
    what = {"classify": f", {config.pool} pooling", "translate": ", encoder-decoder"}.get(config.task, "")
    grid = Grid.of(values, list(errors), ["worst relative error"], row_header="weight", hide_zeros=False, scale=(0, 1e-6),
                   title=f"Analytic vs finite-difference gradients ({'no' if config.norm == 'none' else config.norm + '-'}norm, {config.positions} positions, "
                         f"{config.attention} attention{'' if attention_scale is None else f' x {attention_scale:g}'}"
                         f"{', tied' if tied else ''}{what}): worst {values.max():.1e}")
    emit(View([grid], lambda: {"config": _config_dict(config), "errors": errors}, main=grid), fmt, max_rows=0)


def _gradcheck_model(task: Task, norm: str, positions: str, tied: bool, pool: Pool | None, attention: dict):
    """The small random model ``gradcheck`` checks for a task, and the function that checks it."""
    from lmtoy.transformer import Config, gradcheck as check

    if pool is not None and task is not Task.classify:
        bad_option("is for --task classify", "--pool")
    sizes = dict(vocab_size=7, d_model=8, n_heads=2, n_layers=2, context=5, d_ff=12, positions=positions, norm=norm,
                 tied=tied, **attention)
    if task is Task.classify:
        from lmtoy.transformer import classifier

        return Config(**sizes, task="classify", n_classes=3, pool=(pool or Pool.mean).value), classifier.gradcheck
    if task is Task.translate:
        from lmtoy.transformer import seq2seq

        return Config(**sizes, task="translate", source_vocab_size=6), seq2seq.gradcheck
    return Config(**sizes), check


@app.command()
@handle_errors
def posenc(
    positions: Annotated[int, typer.Option("--positions", "-n", min=1, max=1_000_000, help="Positions (rows).")] = 12,
    d_model: Annotated[int, typer.Option("--d-model", "-d", min=1, max=100_000, help="Embedding width (columns).")] = 8,
    pair: Annotated[Optional[int], typer.Option("--pair", min=0, help="Show dimension pair I (2I, 2I+1) tracing its circle.")] = None,
    fmt: FormatOpt = Format.table,
    svg: Svg = None,
    scale: ScaleOpt = Scale.linear,
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
    emit(posenc_view(sinusoidal_positions(positions, d_model), pair), fmt, svg=svg, scale=scale, max_rows=0)


@app.command()
@handle_errors
def embed(model: ModelPath = ..., fmt: FormatOpt = Format.table, svg: Svg = None,
            scale: ScaleOpt = Scale.linear):
    """A trained model's word embeddings projected to 2-D (PCA), as a labelled scatter plot."""
    from lmtoy.render.transformer import embed_view
    from lmtoy.transformer import embeddings_2d

    saved = _load(model, tuple(COMMAND_OF_TASK))  # every model has word embeddings
    emit(embed_view(saved.vocabulary, embeddings_2d(saved.params["embedding"])), fmt, svg=svg, scale=scale)
from lmtoy.cli.compile import compile_command; transformer_app.command("compile")(compile_command)  # noqa: E402, E702
