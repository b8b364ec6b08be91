"""Where Gaussian noise is injected, and how the sites are spelled.

A *noise site* names one place in the network where zero-mean Gaussian noise
of standard deviation ``noise_amount`` is added during training:

``"input"``
    to the features, before the first hidden layer;
``"hidden"``
    to the pre-activation of every hidden layer (Dense -> noise -> activation);
``"activation"``
    to the output of every hidden activation (Dense -> activation -> noise).

Users may combine sites as a tuple (``("input", "hidden")``) or as a string
joined with ``+`` (``"input+hidden"``); ``None`` means no noise. Every form is
reduced to one canonical tuple so that ``GridSearchCV`` grids may mix them.

The noise itself is added by :class:`GaussianNoise`, a Keras layer whose
standard deviation is a (non-trainable) variable rather than a constant, so
that the compiled training loop serves every ``noise_amount`` without being
traced again.
"""

from ._backend import import_keras
from ._random import standard_normal

keras = import_keras()

NOISE_SITES = ("input", "hidden", "activation")

_ALLOWED = (
    "None, one of 'input', 'hidden', 'activation', or a combination of them "
    "given as a tuple such as ('input', 'hidden') or a string such as "
    "'input+hidden'"
)


def resolve_noise_sites(noise_site):
    """Canonicalise a ``noise_site`` parameter value.

    Parameters
    ----------
    noise_site : None, str, or tuple/list/set of str
        The user's value.

    Returns
    -------
    tuple of str
        The distinct sites in the fixed order of ``NOISE_SITES``; empty for
        ``None``.

    Raises
    ------
    TypeError
        If ``noise_site`` is neither None, a string, nor a collection of
        strings.
    ValueError
        If a site name is unknown, or the collection is empty.
    """
    if noise_site is None:
        return ()
    if isinstance(noise_site, str):
        names = [part.strip() for part in noise_site.split("+")]
    elif isinstance(noise_site, tuple | list | set | frozenset):
        names = list(noise_site)
        if not all(isinstance(name, str) for name in names):
            raise TypeError(
                f"The 'noise_site' parameter must be {_ALLOWED}. "
                f"Got {noise_site!r}, which holds a non-string entry."
            )
    else:
        raise TypeError(
            f"The 'noise_site' parameter must be {_ALLOWED}. "
            f"Got {noise_site!r} of type {type(noise_site).__name__}."
        )
    unknown = [name for name in names if name not in NOISE_SITES]
    if unknown or not names:
        raise ValueError(
            f"The 'noise_site' parameter must be {_ALLOWED}. Got {noise_site!r}."
        )
    return tuple(site for site in NOISE_SITES if site in names)


@keras.saving.register_keras_serializable(package="sknoise")
class GaussianNoise(keras.layers.Layer):
    """Add zero-mean Gaussian noise during training; the identity otherwise.

    Unlike ``keras.layers.GaussianNoise``, the standard deviation is held in a
    non-trainable variable (``stddev``), so changing it does not change the
    traced computation, and the deviates come from sknoise's counter-based
    generator (:func:`sknoise._random.standard_normal`).

    Parameters
    ----------
    stddev : float
        Standard deviation of the noise.
    seed : int or None, default=None
        Seed of the layer's generator; None draws one at random.
    **kwargs
        Passed to ``keras.layers.Layer`` (e.g. ``name``).
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.initial_stddev = float(stddev)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        self.stddev = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial_stddev),
            trainable=False,
            name="stddev",
        )

    def call(self, inputs, training=False):
        if not training:
            return inputs
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        deviates = standard_normal(
            keras.ops.shape(inputs), self.seed_generator.next(), dtype=dtype
        )
        return inputs + keras.ops.cast(self.stddev, dtype) * deviates

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "stddev": self.initial_stddev,
            "seed": self.seed,
        }
