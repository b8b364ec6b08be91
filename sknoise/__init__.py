"""sknoise: scikit-learn neural networks regularised by Gaussian noise."""

from ._compilation_cache import apply_environment as _apply_environment
from ._compilation_cache import enable_compilation_cache
from ._estimators import NoisyMLPClassifier, NoisyMLPRegressor
from ._noise import NOISE_SITES
from ._version import __version__

# Opt-in only: with SKNOISE_COMPILATION_CACHE set, JAX's persistent cache is
# on from here, so that the small programs compiled while a network is built
# are kept too, not only the training loop.
_apply_environment()

__all__ = [
    "NOISE_SITES",
    "NoisyMLPClassifier",
    "NoisyMLPRegressor",
    "__version__",
    "enable_compilation_cache",
]
