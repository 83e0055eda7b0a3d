"""One-hot encoding, the dot product, and matrix multiplication as lookup (section 1).

Shapes: n words in a sequence, N words in the vocabulary.

Example: over the vocabulary (files, find, my), "find my files" is the number
sequence [2, 3, 1] counting from one, and one-hot rows [[0,1,0],[0,0,1],[1,0,0]].
"""

from __future__ import annotations

import numpy as np


def one_hot(ids: np.ndarray, n_words: int) -> np.ndarray:  # (n,) -> (n, N)
    """One row per id with a single 1 in that id's column."""
    out = np.zeros((len(ids), n_words))
    out[np.arange(len(ids)), ids] = 1.0
    return out


def lookup(onehots: np.ndarray, table: np.ndarray) -> np.ndarray:  # (n, N), (N, C) -> (n, C)
    """Matrix multiplication as lookup: one-hot rows pull out rows of ``table``."""
    return onehots @ table
