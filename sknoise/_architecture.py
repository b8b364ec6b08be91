"""Build the Keras network described by an estimator's parameters."""

import numpy as np

from ._backend import import_keras
from ._noise import GaussianNoise


def build_mlp(
    n_features,
    n_outputs,
    *,
    nodes,
    activation,
    output_activation,
    noise_amount,
    noise_sites,
    seed=None,
):
    """Return an uncompiled multi-layer perceptron with Gaussian noise layers.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_outputs : int
        Width of the output layer.
    nodes : tuple of int
        Width of each hidden layer.
    activation : str
        Keras name of the hidden activation.
    output_activation : str
        Keras name of the output activation (``"sigmoid"``, ``"softmax"`` or
        ``"linear"``).
    noise_amount : float
        Standard deviation of the Gaussian noise. No noise layer is added when
        it is 0.
    noise_sites : tuple of str
        Canonical noise sites, see :func:`sknoise._noise.resolve_noise_sites`.
    seed : int or None
        Seeds the weight initialisers and the noise generators, each with its
        own seed derived from this one.

    Returns
    -------
    keras.Model
        The model. Layers are named so that the placement of noise can be
        read off ``model.layers``: ``input_noise``, ``hidden_<i>``,
        ``hidden_noise_<i>``, ``activation_<i>``, ``activation_noise_<i>`` and
        ``output``, with ``i`` counting hidden layers from 1.
    """
    keras = import_keras()
    layers = keras.layers
    rng = np.random.default_rng(seed)

    def next_seed():
        return None if seed is None else int(rng.integers(2**31 - 1))

    def dense(units, name, layer_activation=None):
        return layers.Dense(
            units,
            activation=layer_activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()),
            name=name,
        )

    def noise(name):
        return GaussianNoise(noise_amount, seed=next_seed(), name=name)

    sites = noise_sites if noise_amount > 0 else ()
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    if "input" in sites:
        x = noise("input_noise")(x)
    for i, width in enumerate(nodes, start=1):
        if "hidden" in sites:
            # Noise on the pre-activation: the activation must be a layer of
            # its own so that the noise can sit between it and the Dense.
            x = dense(width, f"hidden_{i}")(x)
            x = noise(f"hidden_noise_{i}")(x)
            x = layers.Activation(activation, name=f"activation_{i}")(x)
        else:
            x = dense(width, f"hidden_{i}", layer_activation=activation)(x)
        if "activation" in sites:
            x = noise(f"activation_noise_{i}")(x)
    outputs = dense(n_outputs, "output", layer_activation=output_activation)(x)
    return keras.Model(inputs, outputs, name="noisy_mlp")
