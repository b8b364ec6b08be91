"""Inference without Keras: the fitted network as NumPy arrays.

Noise and dropout act in training only, so at inference an sknoise network
is a plain stack of dense layers and activations. :class:`InferenceNetwork`
holds just that, copied from the trained Keras model after every fit, and
computes predictions with NumPy in float32: a single-row ``predict`` then
costs tens of microseconds instead of a Keras call's milliseconds, and the
result no longer depends on the Keras backend. :meth:`to_keras` rebuilds it
as a Keras model of built-in layers only, which loads anywhere Keras does.
"""

import numpy as np
from scipy.sparse import issparse
from scipy.special import erf

from ._backend import variable_to_numpy
from ._rows import pad_rows, round_up

#: Rows per forward pass: bounds the memory of large predictions.
CHUNK_ROWS = 16384
#: Inputs are padded to a multiple of this many rows, so that BLAS takes the
#: same path for one row as for many and a row's prediction never depends on
#: the rows predicted with it.
ROW_BLOCK = 32


def _sigmoid(x):
    # exp(-|x|) never overflows; both branches agree with 1 / (1 + exp(-x)).
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

#: Keras' activations (``keras.activations``), in NumPy and float32.
ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "softmax": _softmax,
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
    # Keras' default: the exact form with erf, not the tanh approximation.
    "gelu": lambda x: (0.5 * x * (1 + erf(x / np.sqrt(2)))).astype(x.dtype),
    "softplus": lambda x: np.logaddexp(np.zeros_like(x), x),
    "swish": lambda x: x * _sigmoid(x),
}
# Keras names swish "silu".
ACTIVATIONS["silu"] = ACTIVATIONS["swish"]


class InferenceNetwork:
    """A trained network's inference computation: dense layers, activations.

    Parameters
    ----------
    layers : list of (kernel, bias, activation)
        Each dense layer's float32 kernel and bias and the name of the
        activation that follows it (``"linear"`` for none).
    """

    def __init__(self, layers):
        self.layers = layers

    @classmethod
    def from_model(cls, model):
        """Copy the inference computation out of an sknoise Keras model."""
        layers = []
        for layer in model.layers:
            weights = [variable_to_numpy(weight) for weight in layer.weights]
            if hasattr(layer, "kernel"):
                kernel, bias = weights[0], weights[1]
                layers.append([kernel, bias, _activation_name(layer.activation)])
            elif type(layer).__name__ == "Activation":
                # A separate activation (hidden noise sits before it).
                layers[-1][2] = _activation_name(layer.activation)
        return cls([tuple(layer) for layer in layers])

    @property
    def dtype(self):
        """The float type of the weights, which inputs are converted to."""
        return self.layers[0][0].dtype

    def __call__(self, X):
        """Outputs for ``X`` of shape (n_samples, n_features): a float32 array,
        or a scipy CSR matrix (as the input checks give), never densified."""
        outputs = []
        for start in range(0, X.shape[0], CHUNK_ROWS):
            chunk = X[start : start + CHUNK_ROWS]
            n_rows = chunk.shape[0]
            layers = self.layers
            if issparse(chunk):
                # SciPy's sparse product computes each row on its own, so
                # the rows need no padding; the dense layers after it do.
                kernel, bias, activation = layers[0]
                chunk = ACTIVATIONS[activation](chunk @ kernel + bias)
                layers = layers[1:]
            x = pad_rows(chunk, round_up(n_rows, ROW_BLOCK))
            for kernel, bias, activation in layers:
                x = ACTIVATIONS[activation](x @ kernel + bias)
            outputs.append(x[:n_rows])
        return np.concatenate(outputs, axis=0)

    def to_keras(self):
        """A Keras model of built-in ``Dense`` layers computing the same,
        called once, so that ``model.export(path, format="onnx")`` takes it
        as it is."""
        from ._backend import import_keras

        keras = import_keras()
        n_features = self.layers[0][0].shape[0]
        inputs = keras.Input(shape=(n_features,), name="features")
        x = inputs
        dense_layers = []
        for i, (kernel, _, activation) in enumerate(self.layers, start=1):
            last = i == len(self.layers)
            dense = keras.layers.Dense(
                kernel.shape[1],
                activation=activation,
                name="output" if last else f"hidden_{i}",
            )
            x = dense(x)
            dense_layers.append(dense)
        for dense, (kernel, bias, _) in zip(dense_layers, self.layers, strict=True):
            dense.set_weights([kernel, bias])
        model = keras.Model(inputs, x, name="noisy_mlp_inference")
        # Keras' ONNX export refuses a model that has never been called, even
        # a functional one whose input signature is known; one call on a row
        # of zeros marks it as called. (A model loaded from a file is not
        # marked: Keras does not save it.)
        model(np.zeros((1, n_features), dtype=self.dtype), training=False)
        return model


def _activation_name(activation):
    name = getattr(activation, "__name__", str(activation))
    if name not in ACTIVATIONS:
        raise ValueError(f"No NumPy form of the activation {name!r}.")
    return name
