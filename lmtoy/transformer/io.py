"""The model file: a plain .npz that any NumPy can read with ``allow_pickle=False``.

Keys (``FORMAT_VERSION`` 3; files of version 1, decoder-only models from before tasks,
and of version 2, from before the config fields ``attention`` and ``attention_scale`` and
norm "none" (a model without norm weights), are read alike):

- ``format``: the string "lmtoy-transformer"; ``format_version``: the integer 3;
- ``config``: the Config as a JSON object string (every field, d_k, d_v, d_ff filled in);
- ``vocabulary``: (N,) unicode array, the word of each id (the corpus words sorted, then "<end>");
- ``keep_case``: a bool, True when the corpus was read with --keep-case (prompts keep case too);
- ``source_vocabulary``: (N_src,) unicode array, the source side's words then "<end>" (translate only);
- ``labels``: (C,) unicode array, the class names in id order (classify only);
- ``tokenizer``: a JSON string, how text became tokens (``lmtoy.tokenizers``): {"kind": "words"},
  {"kind": "chars"} or a BPE tokenizer file's content; a file without it was read as words;
- ``dimensions``, ``hidden``: optional (d_model,) and (d_ff,) unicode arrays naming the residual
  stream's dimensions and the (single) layer's feed-forward units, for hand-set models
  (``compile``: 'ran', '#ran', '>ran'; 'battery,ran'): ``trace`` labels its columns with them;
- every weight under its ``model.param_shapes`` name, float32 as trained, e.g.
  ``embedding`` (N, d_model), ``layer0.W_q`` (h, d_model, d_k), ``de_embedding`` (d_model, N).

Files are written atomically: to a temporary file in the same directory, then
renamed over the target, so an interrupted save never leaves half a model.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from lmtoy.errors import LmtoyError, ModelFileError, OutputFileError
from lmtoy.files import NAME_MAX, fit_name, write_with
from lmtoy.tokenizers import WORDS, Words, loads as load_tokenizer
from lmtoy.transformer.model import END, Config, iter_param_shapes, param_count, param_shapes

FORMAT = "lmtoy-transformer"
FORMAT_VERSION = 3
READS = ("1", "2", "3")  # the versions this lmtoy reads
_META = ("format", "format_version", "config", "vocabulary", "keep_case", "source_vocabulary", "labels", "tokenizer",
         "dimensions", "hidden")


class SavedModel(NamedTuple):
    params: dict[str, np.ndarray]
    config: Config
    vocabulary: tuple[str, ...]
    keep_case: bool = False  # the corpus kept upper case: prompts must too
    source_vocabulary: tuple[str, ...] | None = None  # translate: the source side's words, then END
    labels: tuple[str, ...] | None = None  # classify: the class names in id order
    tokenizer: Words = WORDS  # how prompts become tokens (and tokens text)
    dimensions: tuple[str, ...] | None = None  # hand-set models: what each of d_model's dimensions holds
    hidden: tuple[str, ...] | None = None  # hand-set one-layer models: what each feed-forward unit detects


def save_model(path, params, config, vocabulary, keep_case: bool = False, *, only_over_models: bool = False,
               source_vocabulary=None, labels=None, tokenizer: Words = WORDS, dimensions=None, hidden=None) -> Path:
    """Write weights, config and vocabulary to ``path`` (.npz), atomically; the path written.

    ModelFileError if it cannot. With ``only_over_models`` a file already at ``path`` is
    replaced only when it is an lmtoy model (``is_model_file``): checked after the new model
    is written and just before the rename, so a file someone put there meanwhile is kept and
    the model goes to the first free name beside it (``notes.npz`` -> ``notes.1.npz``), which
    is returned.
    """
    if len(vocabulary) != config.vocab_size:
        raise ValueError(f"{len(vocabulary)} words but config.vocab_size {config.vocab_size}")
    extra = {"source_vocabulary": source_vocabulary, "labels": labels, "dimensions": dimensions, "hidden": hidden}
    arrays = {name: np.array(words, dtype=str) for name, words in extra.items() if words is not None} | {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "config": np.array(config.to_json()),
        "vocabulary": np.array(vocabulary, dtype=str),
        "keep_case": np.array(bool(keep_case)),
        "tokenizer": np.array(tokenizer.dumps()),
    } | {name: np.asarray(params[name]) for name in param_shapes(config)}
    replace = _replace_only_models if only_over_models else None
    try:
        return write_with(path, lambda file: np.savez(file, **arrays), replace, what="the model")
    except OutputFileError as error:
        raise ModelFileError(str(error)) from None


def _replace_only_models(temporary: Path, path: Path) -> Path:
    """Rename ``temporary`` over ``path`` when that is an lmtoy model or nothing; else to the
    first free name beside it. When nothing is there the model is put in place with a hard
    link, which fails rather than replace a file that appeared meanwhile; over an existing
    model, a file swapped in between the check and the rename is the one race left."""
    try:
        os.link(temporary, path)
        temporary.unlink()
        return path
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system: check, then rename
        pass
    if os.path.lexists(path) and not is_model_file(path):
        return _rename_to_free_name(temporary, path)
    os.replace(temporary, path)
    return path


def _rename_to_free_name(temporary: Path, path: Path) -> Path:
    """Give ``temporary`` the first name ``STEM.K.SUFFIX`` (K = 1, 2, ...) nothing has; never
    replaces a file (a hard link fails when the name is taken)."""
    for k in range(1, 10_000):
        tail = f".{k}{path.suffix}"
        candidate = path.with_name(fit_name(path.stem, NAME_MAX - len(os.fsencode(tail))) + tail)
        try:
            os.link(temporary, candidate)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some file systems): check, then rename
            if os.path.lexists(candidate):
                continue
            os.replace(temporary, candidate)
            return candidate
        temporary.unlink()
        return candidate
    raise ModelFileError(f"{path}: no free name beside it for the model")


def is_model_file(path) -> bool:
    """True when ``path`` is a file holding an .npz whose ``format`` is "lmtoy-transformer" (any
    version): the only kind of file training may replace. Reads just that key."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as file:
            if file.read(4) != b"PK\x03\x04":
                return False
        with np.load(path, allow_pickle=False) as npz:
            return "format" in npz.files and str(npz["format"]) == FORMAT
    except (OSError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile):
        return False


def load_model(path) -> SavedModel:
    """Read a model written by ``save_model``; raises ModelFileError with a one-line reason."""
    arrays = _read(path)
    if str(arrays.get("format", "")) != FORMAT:
        raise ModelFileError(f"{path}: not an lmtoy transformer model (no format key '{FORMAT}')")
    version = str(arrays.get("format_version", "none"))
    if version not in READS:
        raise ModelFileError(
            f"{path}: model format version {version}; this lmtoy reads versions {', '.join(READS[:-1])} and {READS[-1]}"
        )
    return _unpack(path, arrays)


def _read(path) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as file:
            magic = file.read(4)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read ({error.strerror})") from None
    if magic != b"PK\x03\x04":  # every .npz is a zip archive
        raise ModelFileError(f"{path}: not an lmtoy transformer model (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile):
        raise ModelFileError(f"{path}: truncated or damaged model file (unreadable .npz)") from None


def _unpack(path, arrays) -> SavedModel:
    try:
        config = Config.from_json(str(arrays["config"].item()))
        words = arrays["vocabulary"]
        if words.ndim != 1 or words.dtype.kind != "U":
            raise ValueError(f"the vocabulary is {words.dtype} {words.shape}, expected (N,) str")
        vocabulary = tuple(str(word) for word in words)
    except (KeyError, ValueError, TypeError, LmtoyError) as error:
        raise ModelFileError(f"{path}: damaged model: config or vocabulary unreadable ({error})") from None
    _check_vocabulary(path, vocabulary, config)
    _check_size(path, arrays, config)  # before listing the names of every layer the config claims
    params = {}
    for name, shape in iter_param_shapes(config):
        if name not in arrays:
            raise ModelFileError(f"{path}: damaged model: weight '{name}' is missing")
        if arrays[name].shape != shape or arrays[name].dtype.kind != "f":
            raise ModelFileError(
                f"{path}: damaged model: weight '{name}' is {arrays[name].dtype} {arrays[name].shape}, "
                f"expected float {shape}"
            )
        if not np.isfinite(arrays[name]).all():
            raise ModelFileError(f"{path}: damaged model: weight '{name}' holds values that are not finite numbers")
        params[name] = arrays[name]
    source, labels = _task_words(path, arrays, config)
    return SavedModel(params, config, vocabulary, _keep_case(path, arrays), source, labels, _tokenizer(path, arrays),
                      _names(path, arrays, "dimensions", config.d_model), _names(path, arrays, "hidden", config.d_ff))


def _names(path, arrays, key: str, size: int) -> tuple[str, ...] | None:
    """The optional labels under ``key``: ``size`` distinct strings, or None when absent."""
    names = arrays.get(key)
    if names is None:
        return None
    if names.ndim != 1 or names.dtype.kind != "U" or len(names) != size or len(set(names.tolist())) != size:
        raise ModelFileError(f"{path}: damaged model: '{key}' must hold {size} distinct names")
    return tuple(str(name) for name in names)


def _tokenizer(path, arrays) -> Words:
    """The stored tokenizer; words for a file from before the key."""
    stored = arrays.get("tokenizer")
    if stored is None:
        return WORDS
    if stored.shape != () or stored.dtype.kind != "U":
        raise ModelFileError(f"{path}: damaged model: tokenizer is {stored.dtype} {stored.shape}, expected a str ()")
    try:
        return load_tokenizer(str(stored), f"{path}: tokenizer")
    except LmtoyError as error:
        raise ModelFileError(f"{path}: damaged model: {error}") from None


def _task_words(path, arrays, config: Config) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The source vocabulary (translate) and the labels (classify) the config says the file holds."""
    found = {}
    for name, size, task in (("source_vocabulary", config.source_vocab_size, "translate"),
                             ("labels", config.n_classes, "classify")):  # fmt: skip
        if config.task != task:
            continue
        words = arrays.get(name)
        if words is None or words.ndim != 1 or words.dtype.kind != "U" or len(words) != size:
            raise ModelFileError(f"{path}: damaged model: a {task} model needs '{name}' of {size} words")
        found[name] = tuple(str(w) for w in words)
        if len(set(found[name])) != size:
            raise ModelFileError(f"{path}: damaged model: '{name}' holds a word more than once")
    if "source_vocabulary" in found and found["source_vocabulary"].count(END) != 1:
        raise ModelFileError(f"{path}: damaged model: the source vocabulary has no {END}")
    return found.get("source_vocabulary"), found.get("labels")


def _check_vocabulary(path, vocabulary: tuple[str, ...], config: Config) -> None:
    """One word per id, each once, with exactly one END (generation stops at it)."""
    if len(vocabulary) != config.vocab_size:
        raise ModelFileError(f"{path}: damaged model: {len(vocabulary)} words but vocab_size {config.vocab_size}")
    ends = vocabulary.count(END)
    if ends != 1:
        raise ModelFileError(f"{path}: damaged model: the vocabulary has no {END}" if ends == 0 else
                             f"{path}: damaged model: the vocabulary holds {END} {ends} times")
    if len(set(vocabulary)) != len(vocabulary):
        seen = set()
        twice = next(w for w in vocabulary if w in seen or seen.add(w))
        raise ModelFileError(f"{path}: damaged model: the vocabulary holds '{twice}' more than once")


def _check_size(path, arrays, config: Config) -> None:
    """Refuse a config that needs more weight arrays than the file holds, counted from the
    config's sizes alone, before ``param_shapes`` builds every layer's names: a config
    claiming 10^9 layers is refused at once, naming the first weight the file lacks."""
    needed, numbers = param_count(config)
    held = sum(key not in _META for key in arrays)
    if needed > held:
        missing = next(name for name, _ in iter_param_shapes(config) if name not in arrays)
        layers = f"{config.n_layers:,} layer{'s' * (config.n_layers != 1)}"
        raise ModelFileError(
            f"{path}: damaged model: weight '{missing}' is missing (its config, {layers}, needs {needed:,} "
            f"weight arrays of {numbers:,} numbers; the file holds {held:,})"
        )


def _keep_case(path, arrays) -> bool:
    flag = arrays.get("keep_case", np.array(False))  # files from before keep_case: lower case
    if flag.shape != () or flag.dtype != np.bool_:
        raise ModelFileError(f"{path}: damaged model: keep_case is {flag.dtype} {flag.shape}, expected a bool ()")
    return bool(flag)
