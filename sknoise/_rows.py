"""Rows padded to fixed counts, so that compiled programs are reused.

A compiled program is specialised to the shapes it was traced with. Padding
the rows of training data (and of prediction inputs) to a few fixed counts,
with padding rows that weigh nothing, lets data sets of nearby sizes -- the
folds of a cross-validation -- share one program.

Sparse data are trained on in a padded form too (:func:`padded_entries`):
each row's stored entries as a fixed number of (column, value) pairs, the
form a sparse first layer takes inside a compiled program, whose shapes
cannot vary with a row's length.
"""

import numpy as np
from scipy.sparse import issparse

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


def entry_width(*matrices):
    """Entries per row of the padded form of sparse ``matrices`` (see
    :func:`padded_entries`): the most any row stores, rounded up.

    The width is part of the compiled loop's shapes; rounding it up to a
    multiple of ``ROW_BUCKET``, or of an eighth of its power of two for wide
    rows, lets data sets whose longest rows are close in length -- folds --
    share one compiled loop, for at most a quarter more padding.
    """
    # tocsr(): a no-op on the CSR matrices the input checks give.
    longest = max(int(np.diff(m.tocsr().indptr).max(initial=0)) for m in matrices)
    longest = max(longest, 1)
    return round_up(longest, max(ROW_BUCKET, 2 ** (longest.bit_length() - 3)))


def padded_entries(matrix, n_rows, width):
    """The sparse ``matrix`` as the padded pair the sparse network takes.

    Returns ``{"index": ..., "value": ...}``, both of shape ``(n_rows,
    width)``: row ``i``'s stored columns and their values, then padding
    entries (column 0, value 0, which add nothing), then rows of padding up
    to ``n_rows``. Duplicate entries stay apart; they add up in the first
    layer as in a sparse matrix product.
    """
    csr = matrix.tocsr()  # a no-op on the CSR matrices the input checks give
    lengths = np.diff(csr.indptr)
    rows = np.repeat(np.arange(csr.shape[0]), lengths)
    slots = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], lengths)
    index = np.zeros((n_rows, width), dtype=np.int32)
    value = np.zeros((n_rows, width), dtype=csr.dtype)
    index[rows, slots] = csr.indices
    value[rows, slots] = csr.data
    return {"index": index, "value": value}


def pad_inputs(x, n_rows, width):
    """Network inputs for ``x`` padded to ``n_rows`` rows: the array, or
    for sparse ``x`` its padded pair of ``width`` entries a row."""
    if issparse(x):
        return padded_entries(x, n_rows, width)
    return pad_rows(x, n_rows)
