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
from lmtoy.transformer.model import Config, param_shapes

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
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise ModelFileError(f"{path}: truncated or damaged model file (unreadable .npz)") from None


def _unpack(path, arrays) -> SavedModel:
    try:
        config = Config.from_json(str(arrays["config"].item()))
        vocabulary = tuple(str(word) for word in arrays["vocabulary"])
    except (KeyError, ValueError, TypeError, LmtoyError) as error:
        raise ModelFileError(f"{path}: damaged model: config or vocabulary unreadable ({error})") from None
    if len(vocabulary) != config.vocab_size:
        words = len(vocabulary)
        raise ModelFileError(f"{path}: damaged model: {words} words but vocab_size {config.vocab_size}")
    params = {}
    for name, shape in param_shapes(config).items():
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
    return SavedModel(params, config, vocabulary, bool(arrays.get("keep_case", False)))
