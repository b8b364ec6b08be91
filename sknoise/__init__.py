"""sknoise: scikit-learn neural networks regularised by Gaussian noise.

Importing sknoise loads neither Keras nor its backend: they are imported by
the first fit (or ``model_``, ``export_model``, a saved ``model_`` loading),
so a process that only loads fitted estimators and predicts never pays for
them. Whenever Keras is imported, by sknoise or not, sknoise's layers are
registered with it.
"""

from ._compilation_cache import clear_compilation_cache, enable_compilation_cache
from ._estimators import NoisyMLPClassifier, NoisyMLPRegressor
from ._noise import NOISE_SITES
from ._registration import register_when_keras_is_imported as _register_layers
from ._version import __version__

_register_layers()

__all__ = [
    "NOISE_SITES",
    "NoisyMLPClassifier",
    "NoisyMLPRegressor",
    "__version__",
    "clear_compilation_cache",
    "enable_compilation_cache",
]
