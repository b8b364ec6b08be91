"""Build the Keras network described by an estimator's parameters."""

import numpy as np

from ._backend import import_keras
from ._layers import Dense, Dropout, GaussianNoise


def build_mlp(
    n_features,
    n_outputs,
    *,
    nodes,
    activation,
    output_activation,
    noise_amount,
    noise_sites,
    noise_type="gaussian",
    dropout=0.0,
    l2=0.0,
    l1=0.0,
    max_norm=None,
    seed=None,
):
    """Return an uncompiled multi-layer perceptron with its noise layers.

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
        σ of the noise at the layer sites. Nothing is added when it is 0.
    noise_sites : tuple of str
        Canonical noise sites, see :func:`sknoise._noise.resolve_noise_sites`;
        the training-step sites ("gradients", "labels") add no layer.
    noise_type : {"gaussian", "multiplicative"}, default="gaussian"
        How the noise is applied (see :mod:`sknoise._noise`).
    dropout : float, default=0.0
        Dropout rate after every hidden layer; 0 adds no dropout layer.
    l2, l1 : float, default=0.0
        Coefficients of ``sum(kernel**2)`` and ``sum(|kernel|)`` added to the
        loss for every Dense kernel.
    max_norm : float or None, default=None
        Bound on the norm of each unit's incoming weights, enforced after
        every update (``keras.constraints.MaxNorm``).
    seed : int or None
        Seeds the weight initialisers and the noise generators, each with its
        own seed derived from this one.

    Returns
    -------
    keras.Model
        The model. Layers are named so that the placement of noise can be
        read off ``model.layers``: ``input_noise``, ``hidden_<i>``,
        ``hidden_noise_<i>``, ``activation_<i>``, ``activation_noise_<i>``,
        ``dropout_<i>`` and ``output``, with ``i`` counting hidden layers
        from 1. With weight noise, the Dense layers carry it themselves.
    """
    keras = import_keras()
    layers = keras.layers
    rng = np.random.default_rng(seed)

    def next_seed():
        return None if seed is None else int(rng.integers(2**31 - 1))

    sites = noise_sites if noise_amount > 0 else ()
    weight_noise = noise_amount if "weights" in sites else 0.0

    def dense(units, name, layer_activation=None):
        return Dense(
            units,
            activation=layer_activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()),
            kernel_constraint=(
                None if max_norm is None else keras.constraints.MaxNorm(max_norm)
            ),
            weight_noise=weight_noise,
            noise_type=noise_type,
            l2=l2,
            l1=l1,
            # Drawn only when used, so that networks without weight noise
            # keep the seeds (and the results) they had before it existed.
            seed=next_seed() if weight_noise else None,
            name=name,
        )

    def noise(name):
        return GaussianNoise(
            noise_amount, seed=next_seed(), noise_type=noise_type, name=name
        )

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
        if dropout > 0:
            x = Dropout(dropout, seed=next_seed(), name=f"dropout_{i}")(x)
    outputs = dense(n_outputs, "output", layer_activation=output_activation)(x)
    return keras.Model(inputs, outputs, name="noisy_mlp")
