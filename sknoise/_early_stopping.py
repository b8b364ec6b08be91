"""Early stopping as two pure functions, for both training loops.

The compiled loop calls :func:`update` inside its traced epochs; the Keras
loop calls it from a callback after every epoch. Both stop once the
monitored quantity has not improved by more than ``tol`` for ``patience``
epochs, and keep the trainable values of the best epoch to restore.
"""

from typing import NamedTuple

import numpy as np

from ._backend import import_keras


class EarlyStoppingState(NamedTuple):
    """Where early stopping stands after an epoch."""

    best: list
    best_score: object
    wait: object
    stopped: object


def init(trainable):
    """The state before the first epoch: nothing seen yet."""
    return EarlyStoppingState(
        best=list(trainable),
        best_score=np.float32(np.inf),
        wait=np.int32(0),
        stopped=np.bool_(False),
    )


def update(state, value, trainable, *, maximise, patience, tol):
    """The state after an epoch whose monitored quantity was ``value``.

    Parameters
    ----------
    state : EarlyStoppingState
        The state after the previous epoch.
    value : scalar tensor or float
        The monitored quantity this epoch.
    trainable : list of tensor
        The trainable values after this epoch.
    maximise : bool
        True for accuracies, which improve upwards; losses improve downwards.
    patience : int or scalar tensor
        Epochs without improvement that stop training.
    tol : float or scalar tensor
        Smallest change that counts as an improvement.

    Returns
    -------
    EarlyStoppingState
    """
    ops = import_keras().ops
    score = -value if maximise else value
    improved = score < state.best_score - tol
    wait = ops.where(improved, 0, state.wait + 1)
    return EarlyStoppingState(
        best=[
            ops.where(improved, new, old)
            for new, old in zip(trainable, state.best, strict=True)
        ],
        best_score=ops.where(improved, score, state.best_score),
        wait=wait,
        stopped=wait >= patience,
    )
