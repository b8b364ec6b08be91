"""Small data sets of the source material, to study noise as a regularizer.

* :func:`load_published_circles`: the circles split of the published
  experiments (30 training points, so that a wide network overfits);
* :func:`make_blobs_pair`: two Gaussian blobs, a linearly separable problem;
* :func:`make_ring`: an inner blob inside a noisy ring, a problem no linear
  model separates.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ._sklearn_compat import Interval, StrOptions, validate_params

__all__ = ["load_published_circles", "make_blobs_pair", "make_ring"]


@validate_params(
    {"split": [StrOptions({"first30", "train_test_split"})]},
    prefer_skip_nested_validation=True,
)
def load_published_circles(split="first30"):
    """The published circles data, split 30 train / 70 test.

    ``make_circles(n_samples=100, noise=0.1, random_state=1)``, as float32.

    Parameters
    ----------
    split : {"first30", "train_test_split"}, default="first30"
        "first30": the first 30 points train, the other 70 test (the
        "Promote robustness with noise" tutorial). "train_test_split":
        ``train_test_split(X, y, test_size=0.7, random_state=42)`` (the
        grid-search article).

    Returns
    -------
    X_train : ndarray of shape (30, 2)
        Training points.
    y_train : ndarray of shape (30,)
        Their classes, 0 or 1.
    X_test : ndarray of shape (70, 2)
        Test points.
    y_test : ndarray of shape (70,)
        Their classes, 0 or 1.

    See Also
    --------
    sklearn.datasets.make_circles : The generator of these points.

    Examples
    --------
    >>> from sknoise.datasets import load_published_circles
    >>> X_train, y_train, X_test, y_test = load_published_circles()
    >>> X_train.shape, X_test.shape
    ((30, 2), (70, 2))
    """
    X, y = make_circles(n_samples=100, noise=0.1, random_state=1)
    X = X.astype("float32")
    if split == "first30":
        return X[:30], y[:30], X[30:], y[30:]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.7, random_state=42
    )
    return X_train, y_train, X_test, y_test


_SAMPLES = {
    "n_samples": [Interval(Integral, 2, None, closed="left")],
    "random_state": ["random_state"],
}


@validate_params(_SAMPLES, prefer_skip_nested_validation=True)
def make_blobs_pair(n_samples=200, *, random_state=None):
    """Two Gaussian blobs of unit variance centred at (-2, -2) and (2, 2).

    Half of the points (rounded down) belong to class 0, the rest to class 1.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        Their classes, 0 or 1.

    See Also
    --------
    make_ring : A problem no linear model separates.

    Examples
    --------
    >>> from sknoise.datasets import make_blobs_pair
    >>> X, y = make_blobs_pair(10, random_state=0)
    >>> X.shape, y.tolist()
    ((10, 2), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    """
    rng = check_random_state(random_state)
    y = _labels(n_samples)
    centres = np.where(y[:, None] == 0, -2.0, 2.0)
    return centres + rng.normal(size=(n_samples, 2)), y


@validate_params(
    {**_SAMPLES, "radius": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def make_ring(n_samples=200, *, radius=5.0, random_state=None):
    """An inner blob N(0, I) (class 0) inside a jittered ring (class 1).

    The ring's points are evenly spaced in angle on a circle of ``radius``,
    each moved by N(0, I) jitter.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points, half (rounded down) in the blob.
    radius : float, default=5.0
        Radius of the ring.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        The points.
    y : ndarray of shape (n_samples,)
        Their classes: 0 for the blob, 1 for the ring.

    See Also
    --------
    make_blobs_pair : A linearly separable problem.

    Examples
    --------
    >>> import numpy as np
    >>> from sknoise.datasets import make_ring
    >>> X, y = make_ring(400, random_state=0)
    >>> bool(np.linalg.norm(X[y == 1], axis=1).mean() > 4)
    True
    """
    rng = check_random_state(random_state)
    y = _labels(n_samples)
    n_ring = int(y.sum())
    angles = np.linspace(0, 2 * np.pi, n_ring, endpoint=False)
    ring = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    centres = np.zeros((n_samples, 2))
    centres[y == 1] = ring
    return centres + rng.normal(size=(n_samples, 2)), y


def _labels(n_samples):
    """Class 0 for the first half (rounded down), class 1 for the rest."""
    return (np.arange(n_samples) >= n_samples // 2).astype(int)
