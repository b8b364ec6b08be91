"""The Keras layers sknoise networks are made of.

Each holds what a fit may change -- a noise scale, a dropout rate, a penalty
strength -- in a non-trainable variable rather than a constant, so that the
compiled training loop serves every value without being traced again, and
draws its randomness from sknoise's counter-based generator
(:mod:`sknoise._random`). All noise and dropout act in training only.

Each layer's ``strength_variables()`` names those variables by the field of
:class:`sknoise._config.Strengths` that sets them, so the network module
assigns a fit's strengths without knowing the layers' attributes.

The classes share the names of Keras' own (``Dense``, ``Dropout``,
``GaussianNoise``) because saved files depend on them: besides the
registered names ``sknoise>Dense`` ..., Keras' ``.keras`` archives key each
layer's variables by its class name in snake case
(``keras/src/saving/saving_lib.py``), so a renamed class could not load the
files written before. Import them from this module, never with a star.
"""

import math
import sys

import numpy as np

from ._backend import variable_to_numpy
from ._noise import perturb
from ._random import uniform

# Imported by the registration hook inside whoever's ``import keras``, or by
# ``_network`` once Keras is imported: either way Keras is in sys.modules.
# Never import_keras, which could wait for a thread that waits for this
# import (the lock order of sknoise._backend). The modules above are loaded
# by ``import sknoise``.
try:
    keras = sys.modules["keras"]
except KeyError:
    raise ImportError(
        "sknoise._layers needs Keras imported first: import keras, or call "
        "sknoise._backend.import_keras(), before importing it."
    ) from None
ops = keras.ops


def _scalar(layer, name, value):
    return layer.add_weight(
        shape=(),
        # In NumPy, as the weights (see GlorotUniform): Keras' Constant
        # compiles three small programs on JAX.
        initializer=lambda shape, dtype: np.full(shape, value, dtype=dtype),
        trainable=False,
        name=name,
    )


# The initial weights are drawn in NumPy. Keras' own initialisers draw on the
# backend, and on JAX every new weight shape compiles a program of its own
# (0.1 to 0.3 s each, two per layer: the network and the compiled loop's
# private copy), a large part of a first fit and of every fit of a new width.
# NumPy draws the same distributions at once, and the same values on every
# backend.
@keras.saving.register_keras_serializable(package="sknoise")
class GlorotUniform(keras.initializers.Initializer):
    """Glorot (Xavier) uniform weights, ``U(-l, l)`` with ``l = sqrt(6 /
    (fan_in + fan_out))``, as ``keras.initializers.GlorotUniform``, drawn by
    NumPy's ``default_rng(seed)``.

    Parameters
    ----------
    seed : int or None, default=None
        Seed of the draw; None draws from fresh entropy.
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = shape
        limit = math.sqrt(6.0 / max(1.0, fan_in + fan_out))
        values = np.random.default_rng(self.seed).uniform(-limit, limit, size=shape)
        return values.astype(keras.backend.standardize_dtype(dtype))

    def get_config(self):
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="sknoise")
class Zeros(keras.initializers.Initializer):
    """Zeros, as ``keras.initializers.Zeros``, made by NumPy (see
    :class:`GlorotUniform`)."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=keras.backend.standardize_dtype(dtype))


class _ArrayStore:
    """A weights store that Keras' ``save_own_variables`` fills with arrays.

    Keras' layers put their variables in the store, whose conversion,
    ``np.array(variable)``, makes NumPy 2 warn (see
    :func:`~sknoise._backend.variable_to_numpy`); converted first, the same
    values are saved silently.
    """

    def __init__(self, store):
        self.store = store

    def __setitem__(self, key, value):
        if isinstance(value, keras.Variable):
            value = variable_to_numpy(value)
        self.store[key] = value


class _KeepsSeedState:
    """Save and load the layer's generator counter with its variables.

    Keras saves a layer's variables but not its seed generator's state, so a
    pickled network would restart its noise stream from the first step, and a
    continued fit would repeat the noise it trained with.
    """

    SEED_STATE = "seed_state"

    def save_own_variables(self, store):
        super().save_own_variables(_ArrayStore(store))
        if hasattr(self, "seed_generator"):
            store[self.SEED_STATE] = variable_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        # Keras checks that the store holds exactly the layer's variables.
        own = {key: store[key] for key in store.keys() if key != self.SEED_STATE}
        super().load_own_variables(own)
        if hasattr(self, "seed_generator") and self.SEED_STATE in store.keys():
            self.seed_generator.state.assign(store[self.SEED_STATE])


def _gather_rows(kernel, index):
    """``kernel[index]``, whose gradient is a dense scatter-add on every
    backend.

    TensorFlow's gradient of a gather is IndexedSlices, the rows gathered,
    repeats included, which Keras' optimizers apply as sparse updates: the
    moments of rows not gathered are not decayed, and a row gathered twice
    has its moments updated twice. Summed into a dense gradient first, a
    step is the one dense input gets (JAX's gradient of a gather is dense).
    """
    if keras.backend.backend() != "tensorflow":
        return ops.take(kernel, index, axis=0)
    import tensorflow as tf

    @tf.custom_gradient
    def gather(kernel):
        def dense_gradient(upstream):
            return tf.math.unsorted_segment_sum(
                tf.reshape(upstream, (-1, kernel.shape[-1])),
                tf.reshape(index, (-1,)),
                tf.shape(kernel)[0],
            )

        return tf.gather(kernel, index), dense_gradient

    return gather(tf.convert_to_tensor(kernel))


@keras.saving.register_keras_serializable(package="sknoise")
class GaussianNoise(_KeepsSeedState, keras.layers.Layer):
    """Apply Gaussian noise during training; the identity otherwise.

    Unlike ``keras.layers.GaussianNoise``, the standard deviation is held in a
    non-trainable variable (``stddev``) and the noise may be multiplicative.

    Parameters
    ----------
    stddev : float
        Standard deviation σ of the noise.
    seed : int or None, default=None
        Seed of the layer's generator; None draws one at random.
    noise_type : {"gaussian", "multiplicative"}, default="gaussian"
        ``x + σε`` or ``x * (1 + σε)``.
    **kwargs
        Passed to ``keras.layers.Layer`` (e.g. ``name``).
    """

    def __init__(self, stddev, seed=None, noise_type="gaussian", **kwargs):
        super().__init__(**kwargs)
        self.initial_stddev = float(stddev)
        self.seed = seed
        self.noise_type = noise_type
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def build(self, input_shape):
        self.stddev = _scalar(self, "stddev", self.initial_stddev)

    def strength_variables(self):
        """The setting variables, by the ``Strengths`` field that sets them."""
        return {"noise": self.stddev}

    def call(self, inputs, training=False):
        if not training:
            return inputs
        return perturb(inputs, self.stddev, self.seed_generator.next(), self.noise_type)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "stddev": self.initial_stddev,
            "seed": self.seed,
            "noise_type": self.noise_type,
        }


@keras.saving.register_keras_serializable(package="sknoise")
class Dropout(_KeepsSeedState, keras.layers.Layer):
    """Inverted dropout whose rate is a variable.

    In training, each element is zeroed with probability ``rate`` and the
    others are divided by ``1 - rate``; the identity otherwise.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping an element.
    seed : int or None, default=None
        Seed of the layer's generator.
    **kwargs
        Passed to ``keras.layers.Layer``.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.initial_rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.rate = _scalar(self, "rate", self.initial_rate)

    def strength_variables(self):
        """The setting variables, by the ``Strengths`` field that sets them."""
        return {"dropout": self.rate}

    def call(self, inputs, training=False):
        if not training:
            return inputs
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        rate = ops.cast(self.rate, dtype)
        draws = uniform(ops.shape(inputs), self.seed_generator.next(), dtype=dtype)
        return ops.where(draws >= rate, inputs / (1.0 - rate), 0.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.initial_rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="sknoise")
class Dense(_KeepsSeedState, keras.layers.Dense):
    """``keras.layers.Dense`` with optional weight noise and weight penalties.

    Parameters
    ----------
    units : int
        Width of the layer.
    weight_noise : float, default=0.0
        σ of the noise applied to the kernel and the bias at every training
        call (gradients are taken at the perturbed weights); 0 for none.
    noise_type : {"gaussian", "multiplicative"}, default="gaussian"
        How the weight noise is applied, as in :class:`GaussianNoise`.
    l2, l1 : float, default=0.0
        Penalties ``l2 * sum(kernel**2) + l1 * sum(|kernel|)`` added to the
        training loss (``add_loss``), as Keras' ``L1L2`` regularizer does.
        The bias is not penalised.
    seed : int or None, default=None
        Seed of the weight noise.
    sparse_features : int or None, default=None
        For sparse inputs, their number of features: the layer then takes
        the pair ``[index, value]`` of :func:`sknoise._rows.padded_entries`
        and computes ``sum_k value[:, k] * kernel[index[:, k]] + bias``, the
        dense product with the rows of the kernel that the stored entries
        select (an embedding bag: its gradient is a scatter-add), at a cost
        of the entries, not of the features. None: dense inputs.
    **kwargs
        Passed to ``keras.layers.Dense`` (``activation``, initialisers,
        ``kernel_constraint``, ``name`` ...).
    """

    def __init__(
        self,
        units,
        weight_noise=0.0,
        noise_type="gaussian",
        l2=0.0,
        l1=0.0,
        seed=None,
        sparse_features=None,
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        self.sparse_features = sparse_features
        if sparse_features is not None:
            self.input_spec = None  # Keras' Dense expects one input, not a pair
        self.initial_weight_noise = float(weight_noise)
        self.noise_type = noise_type
        self.initial_l2 = float(l2)
        self.initial_l1 = float(l1)
        self.seed = seed
        if self.initial_weight_noise > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def penalised(self):
        """Whether the layer adds an L2 or L1 penalty to the training loss."""
        return self.initial_l2 > 0 or self.initial_l1 > 0

    def build(self, input_shape):
        if self.sparse_features is None:
            super().build(input_shape)
        else:
            # Keras' Dense sizes its kernel by the input's last axis, here
            # the entries of a row: give it the features instead, so that
            # it makes its variables as for dense inputs (same order, same
            # initial values), then drop its check of one input of that
            # shape, as the layer takes the pair.
            super().build((None, self.sparse_features))
            self.input_spec = None
        # Variables only for what is switched on: the rest costs nothing.
        if self.initial_weight_noise > 0:
            self.weight_noise = _scalar(self, "weight_noise", self.initial_weight_noise)
        if self.penalised:
            self.l2 = _scalar(self, "l2", self.initial_l2)
            self.l1 = _scalar(self, "l1", self.initial_l1)

    def call(self, inputs, training=None):
        kernel, bias = self.kernel, self.bias
        if training and self.penalised:
            self.add_loss(
                ops.cast(self.l2, kernel.dtype) * ops.sum(ops.square(kernel))
                + ops.cast(self.l1, kernel.dtype) * ops.sum(ops.abs(kernel))
            )
        if training and self.initial_weight_noise > 0:
            kernel = perturb(
                kernel, self.weight_noise, self.seed_generator.next(), self.noise_type
            )
            if bias is not None:
                bias = perturb(
                    bias, self.weight_noise, self.seed_generator.next(), self.noise_type
                )
        if self.sparse_features is None:
            outputs = ops.matmul(inputs, kernel)
        else:
            index, value = inputs
            rows = _gather_rows(kernel, index)  # (batch, entries, units)
            outputs = ops.einsum("be,beu->bu", ops.cast(value, kernel.dtype), rows)
        if bias is not None:
            outputs = ops.add(outputs, bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        if self.sparse_features is None:
            return super().compute_output_shape(input_shape)
        return (input_shape[0][0], self.units)

    def strength_variables(self):
        """The setting variables, by the ``Strengths`` field that sets them.

        Only those switched on exist: weight noise, and the penalties.
        """
        found = {}
        if self.initial_weight_noise > 0:
            found["noise"] = self.weight_noise
        if self.penalised:
            found.update(l2=self.l2, l1=self.l1)
        return found

    # Keras' Dense saves and loads its kernel and bias only, by position, and
    # refuses a layer with more variables: save the settings by name.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        for variable in self.strength_variables().values():
            store[variable.name] = variable_to_numpy(variable)

    def load_own_variables(self, store):
        super().load_own_variables(store)
        for variable in self.strength_variables().values():
            variable.assign(store[variable.name])

    def get_config(self):
        return {
            **super().get_config(),
            "weight_noise": self.initial_weight_noise,
            "noise_type": self.noise_type,
            "l2": self.initial_l2,
            "l1": self.initial_l1,
            "seed": self.seed,
            # Only when set: a dense layer's configuration is as before.
            **(
                {}
                if self.sparse_features is None
                else {"sparse_features": self.sparse_features}
            ),
        }
