"""The Keras network of a fit: its layers, its optimizer and its settings.

:func:`build_network` turns a :class:`sknoise._config.NetworkStructure` into
a compiled Keras model; :func:`set_strengths` gives an existing network a
fit's amounts, rates, penalty strengths and learning rate, which live in
variables (see :mod:`sknoise._layers`), so changing them needs no new
network.
"""

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ._backend import import_keras, optimizer_config, start_tensorflow_quietly
from ._seeds import layer_seeds
from ._targets import METRIC_KEY

# Keras before its layers: ``_layers`` is also imported inside an ``import
# keras`` (by the post-import hook), so it never imports Keras itself (the
# lock order of sknoise._backend).
import_keras()
from ._layers import Dense, Dropout, GaussianNoise, GlorotUniform, Zeros  # noqa: E402


def build_network(structure, strengths, *, encoder, optimizer, seed=None):
    """Return the compiled multi-layer perceptron for ``structure``.

    Parameters
    ----------
    structure : NetworkStructure
        Widths, activations, noise sites and which regularizers exist.
    strengths : Strengths
        Initial values of the setting variables.
    encoder : ClassifierTargetEncoder or RegressorTargetEncoder
        The fitted target encoder: it names the loss and the metric.
    optimizer : keras.optimizers.Optimizer
        A fresh optimizer (see :func:`make_optimizer`).
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
        A network for sparse X (``structure.sparse_input``) takes the dict
        ``{"index", "value"}`` of :func:`sknoise._rows.padded_entries`; its
        ``hidden_1`` holds the same kernel as a dense network's.
    """
    keras = import_keras()
    make = _LayerMaker(structure, strengths, seed)
    sites = structure.noise_sites
    if structure.sparse_input:
        inputs = {
            "index": keras.Input(shape=(None,), dtype="int32", name="index"),
            "value": keras.Input(shape=(None,), name="value"),
        }
        value = inputs["value"]
        if "input" in sites:
            # Multiplicative only (FitConfig.structure): the zeros that are
            # not stored stay zero, so the stored values are all it moves.
            value = make.noise("input_noise")(value)
        x = [inputs["index"], value]
    else:
        inputs = keras.Input(shape=(structure.n_features,), name="features")
        x = inputs
        if "input" in sites:
            x = make.noise("input_noise")(x)
    for i, width in enumerate(structure.nodes, start=1):
        # The first layer of a sparse network takes the padded pairs.
        sparse_features = (
            structure.n_features if i == 1 and structure.sparse_input else None
        )
        if "hidden" in sites:
            # Noise on the pre-activation: the activation must be a layer of
            # its own so that the noise can sit between it and the Dense.
            x = make.dense(width, f"hidden_{i}", sparse_features=sparse_features)(x)
            x = make.noise(f"hidden_noise_{i}")(x)
            x = keras.layers.Activation(structure.activation, name=f"activation_{i}")(x)
        else:
            x = make.dense(
                width,
                f"hidden_{i}",
                structure.activation,
                sparse_features=sparse_features,
            )(x)
        if "activation" in sites:
            x = make.noise(f"activation_noise_{i}")(x)
        if structure.dropout:
            x = make.dropout(f"dropout_{i}")(x)
    outputs = make.dense(structure.n_outputs, "output", structure.output_activation)(x)
    model = keras.Model(inputs, outputs, name="noisy_mlp")
    model.compile(
        optimizer=optimizer,
        loss=encoder.loss_,
        metrics=[METRIC_KEY] if encoder.metric_ else None,
    )
    return model


class _LayerMaker:
    """Makes a network's layers, each seeded from one seed in build order."""

    def __init__(self, structure, strengths, seed):
        self.structure = structure
        self.strengths = strengths
        self.seeds = layer_seeds(seed)

    def next_seed(self):
        return next(self.seeds)

    def dense(self, units, name, activation=None, sparse_features=None):
        keras = import_keras()
        structure, strengths = self.structure, self.strengths
        weight_noise = strengths.noise if "weights" in structure.noise_sites else 0.0
        max_norm = structure.max_norm
        return Dense(
            units,
            activation=activation,
            kernel_initializer=GlorotUniform(seed=self.next_seed()),
            bias_initializer=Zeros(),
            kernel_constraint=(
                None if max_norm is None else keras.constraints.MaxNorm(max_norm)
            ),
            weight_noise=weight_noise,
            noise_type=structure.noise_type,
            l2=strengths.l2 if structure.penalised else 0.0,
            l1=strengths.l1 if structure.penalised else 0.0,
            # Drawn only when used, so that networks without weight noise
            # keep the seeds (and the results) they had before it existed.
            seed=self.next_seed() if weight_noise else None,
            sparse_features=sparse_features,
            name=name,
        )

    def noise(self, name):
        return GaussianNoise(
            self.strengths.noise,
            seed=self.next_seed(),
            noise_type=self.structure.noise_type,
            name=name,
        )

    def dropout(self, name):
        return Dropout(self.strengths.dropout, seed=self.next_seed(), name=name)


def make_optimizer(spec):
    """A fresh optimizer with the spec's learning rate and routed settings."""
    keras = import_keras()
    rate = spec.effective_learning_rate
    config = {**({} if rate is None else {"learning_rate": rate}), **spec.routed}
    if isinstance(spec.optimizer, str):
        return keras.optimizers.get({"class_name": spec.optimizer, "config": config})
    if isinstance(spec.optimizer, type):
        return spec.optimizer(**config)
    # An instance: copy it, so that no optimizer state leaks between fits.
    cls = type(spec.optimizer)
    return cls.from_config({**optimizer_config(spec.optimizer), **config})


def check_optimizer(spec, estimator_name):
    """Build the optimizer and take one step with it, eagerly, so that a bad
    routed setting is reported by name rather than deep inside a traced
    training step."""
    if isinstance(spec.optimizer, str) and not spec.routed:
        return  # a name with Keras' defaults
    keras = import_keras()
    try:
        optimizer = make_optimizer(spec)
        variable = keras.Variable(np.zeros(1, dtype="float32"))
        optimizer.apply([np.ones(1, dtype="float32")], [variable])
    except Exception as error:  # TensorFlow raises its own error types too
        names = [f"optimizer__{key}" for key in spec.routed] or ["optimizer"]
        raise ValueError(
            f"The optimizer of {estimator_name} cannot be built or used with "
            f"{', '.join(sorted(names))}: {error}"
        ) from error


def set_strengths(model, strengths, optimizer_spec):
    """Give ``model`` a fit's values: every setting variable its value in
    ``strengths``, and the optimizer its learning rate (a variable too)."""
    for layer in model.layers:
        for field, variable in getattr(layer, "strength_variables", dict)().items():
            variable.assign(float(getattr(strengths, field)))
    rate = optimizer_spec.effective_learning_rate
    # A routed learning rate (e.g. a schedule) is part of the optimizer.
    if rate is not None and "learning_rate" not in optimizer_spec.routed:
        model.optimizer.learning_rate = rate


def model_to_bytes(model):
    """The network, its optimizer state and its compile settings, as the
    bytes of a ``.keras`` archive (Keras' own format): the same bytes
    whenever the same network is saved (see :func:`_reproducible`)."""
    keras = import_keras()
    start_tensorflow_quietly()  # Keras' serialisation imports it
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        keras.saving.save_model(model, path)
        return _reproducible(path.read_bytes())


#: The time of every entry of a saved archive: the earliest a zip file holds.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _reproducible(archive):
    """``archive`` without what changes from one save to the next: the time
    of each zip entry (the weights' is the time of saving) and the
    ``date_saved`` of ``metadata.json``; Keras reads neither when loading.
    So a pickled estimator has the same bytes each time, as scikit-learn's
    do, for ``joblib.hash``, ``joblib.Memory`` and content-addressed stores.
    (The weights file, HDF5, holds no times: h5py writes its datasets
    without them.)"""
    rewritten = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(rewritten, "w") as target,
    ):
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            fixed = zipfile.ZipInfo(entry.filename, date_time=_ZIP_EPOCH)
            fixed.compress_type = entry.compress_type
            fixed.external_attr = entry.external_attr
            target.writestr(fixed, data)
    return rewritten.getvalue()


def model_from_bytes(archive):
    """The network saved by :func:`model_to_bytes`, compiled.

    Raises a ValueError that says what to do when the archive is damaged:
    Keras would report that the temporary ``model.keras`` was not found,
    or a bad CRC.
    """
    _check_intact(archive)
    keras = import_keras()
    start_tensorflow_quietly()  # Keras' serialisation imports it
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(archive)
        return keras.saving.load_model(path)


def _check_intact(archive):
    """Raise if ``archive`` is not a whole zip file (cut short, or with
    bytes changed): the saved file it came from is damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as entries:
            damaged = entries.testzip()  # the first entry failing its CRC
        problem = None if damaged is None else f"its entry {damaged!r} is corrupt"
    except zipfile.BadZipFile as error:
        problem = f"it is not a whole zip file ({error})"
    if problem is not None:
        raise ValueError(
            "The saved training network (model_, a .keras archive of "
            f"{len(archive)} bytes) is damaged: {problem}. The file the "
            "estimator was loaded from is incomplete or altered (a copy or a "
            "download cut short?). Predictions do not need the network and "
            "still work; to read model_ or continue training, load the "
            "estimator from an intact copy of the file, or fit it afresh "
            "(warm_start=False)."
        )
