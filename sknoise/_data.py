"""A fit's training data, as both training loops take them."""

from typing import NamedTuple

import numpy as np


class TrainingData(NamedTuple):
    """A fit's training data, as the network takes them: float features,
    encoded targets, per-sample weights (or None) and the encoded
    validation pair (or None)."""

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    validation: tuple | None
