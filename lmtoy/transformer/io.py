"""The model file: a plain .npz that any NumPy can read with ``allow_pickle=False``.

Keys (``FORMAT_VERSION`` 1):

- ``format``: the string "lmtoy-transformer"; ``format_version``: the integer 1;
- ``config``: the Config as a JSON object string (every field, d_k, d_v, d_ff filled in);
- ``vocabulary``: (N,) unicode array, the word of each id (the corpus words sorted, then "<end>");
- ``keep_case``: a bool, True when the corpus was read with --keep-case (prompts keep case too);
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

from lmtoy.errors import LmtoyError, ModelFileError
from lmtoy.transformer.model import END, Config, iter_param_shapes, param_count, param_shapes

FORMAT = "lmtoy-transformer"
FORMAT_VERSION = 1
_META = ("format", "format_version", "config", "vocabulary", "keep_case")


class SavedModel(NamedTuple):
    params: dict[str, np.ndarray]
    config: Config
    vocabulary: tuple[str, ...]
    keep_case: bool = False  # the corpus kept upper case: prompts must too


def save_model(path, params, config, vocabulary, keep_case: bool = False) -> None:
    """Write weights, config and vocabulary to ``path`` (.npz), atomically; ModelFileError if it cannot."""
    if len(vocabulary) != config.vocab_size:
        raise ValueError(f"{len(vocabulary)} words but config.vocab_size {config.vocab_size}")
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "config": np.array(config.to_json()),
        "vocabulary": np.array(vocabulary, dtype=str),
        "keep_case": np.array(bool(keep_case)),
    } | {name: np.asarray(params[name]) for name in param_shapes(config)}
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # same directory: rename is atomic
    try:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ModelFileError(f"{path}: cannot write the model ({error.strerror})") from None
        raise


def load_model(path) -> SavedModel:
    """Read a model written by ``save_model``; raises ModelFileError with a one-line reason."""
    arrays = _read(path)
    if str(arrays.get("format", "")) != FORMAT:
        raise ModelFileError(f"{path}: not an lmtoy transformer model (no format key '{FORMAT}')")
    version = str(arrays.get("format_version", "none"))
    if version != str(FORMAT_VERSION):
        raise ModelFileError(
            f"{path}: model format version {version}; this lmtoy reads version {FORMAT_VERSION}"
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
    return SavedModel(params, config, vocabulary, _keep_case(path, arrays))


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
