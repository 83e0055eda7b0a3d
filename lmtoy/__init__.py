"""lmtoy: run the worked examples of "Transformers from Scratch" in a terminal.

The package imports nothing heavy at start-up; the public API below is loaded
on first use (``lmtoy.read_corpus``, ``lmtoy.first_order``, ...).
"""

__version__ = "0.1.0"

_API = {
    "read_corpus": "lmtoy.corpus",
    "parse_corpus": "lmtoy.corpus",
    "tokenize": "lmtoy.corpus",
    "Corpus": "lmtoy.corpus",
    "Vocabulary": "lmtoy.corpus",
    "first_order": "lmtoy.ngrams",
    "second_order": "lmtoy.ngrams",
    "skips": "lmtoy.ngrams",
    "TransitionModel": "lmtoy.ngrams",
    "one_hot": "lmtoy.onehot",
}


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'lmtoy' has no attribute '{name}'")
