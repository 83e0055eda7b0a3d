"""Section 1: one-hot rows, dot products, matrix multiplication as lookup."""

from __future__ import annotations

import numpy as np

from lmtoy.onehot import lookup, one_hot


def test_find_my_files():
    """Vocabulary (files, find, my): 'find my files' is ids [1, 2, 0] -> [[0,1,0],[0,0,1],[1,0,0]]."""
    np.testing.assert_array_equal(one_hot(np.array([1, 2, 0]), 3), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def test_dot_products():
    hot = one_hot(np.arange(4), 4)
    np.testing.assert_array_equal(hot @ hot.T, np.eye(4))  # 1 with itself, 0 with any other
    mix = np.array([0.2, 0.3, 0.0, 0.5])
    np.testing.assert_array_equal(hot @ mix, mix)  # against a weighted mix: that word's weight


def test_lookup_pulls_rows_1_4_3():
    b = np.arange(20.0).reshape(4, 5)
    np.testing.assert_array_equal(lookup(one_hot(np.array([0, 3, 2]), 4), b), b[[0, 3, 2]])
