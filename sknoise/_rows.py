"""Rows padded to fixed counts, so that compiled programs are reused.

A compiled program is specialised to the shapes it was traced with. Padding
the rows of training data (and of prediction inputs) to a few fixed counts,
with padding rows that weigh nothing, lets data sets of nearby sizes -- the
folds of a cross-validation -- share one program.
"""

import numpy as np

#: Data without whole batches to pad to are padded to a multiple of this.
ROW_BUCKET = 8


def padded_rows(n_samples, batch_size):
    """Rows the compiled loop trains on, padded with rows of weight 0.

    The loop is compiled for a number of rows, not of samples, so that data
    sets of nearby sizes -- the folds of a cross-validation -- share one
    compiled loop: whole batches when there are several, else a multiple of
    ``ROW_BUCKET`` rows (at most ``batch_size``).
    """
    if n_samples > batch_size:
        return round_up(n_samples, batch_size)
    return min(batch_size, round_up(n_samples, ROW_BUCKET))


def round_up(n, multiple):
    """The smallest multiple of ``multiple`` that is at least ``n``."""
    return -(-n // multiple) * multiple


def pad_rows(array, n_rows):
    """``array`` with rows of zeros appended up to ``n_rows`` rows."""
    array = np.asarray(array)
    padding = [(0, n_rows - len(array))] + [(0, 0)] * (array.ndim - 1)
    return np.pad(array, padding)
