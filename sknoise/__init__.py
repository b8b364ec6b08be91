"""sknoise: scikit-learn neural networks regularised by Gaussian noise."""

from ._estimators import NoisyMLPClassifier, NoisyMLPRegressor
from ._noise import NOISE_SITES
from ._version import __version__

__all__ = ["NOISE_SITES", "NoisyMLPClassifier", "NoisyMLPRegressor", "__version__"]
