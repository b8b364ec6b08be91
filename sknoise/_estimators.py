"""The scikit-learn estimators: NoisyMLPClassifier and NoisyMLPRegressor.

This is the only module that imports scikeras. scikeras 0.13 is no longer
maintained, so everything that relies on it -- the ``BaseWrapper`` plumbing
for fit/partial_fit, parameter routing (``optimizer__*``, ``fit__*``,
``callbacks__*``), callbacks, the Keras training call and pickling of Keras
models -- is reached from here and nowhere else.
"""

import contextlib
import random
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _training
from ._architecture import build_mlp
from ._backend import import_keras, quiet_tensorflow
from ._noise import NOISE_TYPES, STEP_SITES, resolve_noise_sites
from ._sklearn_compat import Interval, StrOptions, check_sample_weight
from ._targets import ClassifierTargetEncoder, RegressorTargetEncoder

keras = import_keras()

from scikeras.wrappers import BaseWrapper  # noqa: E402

ACTIVATIONS = frozenset(
    {"relu", "tanh", "sigmoid", "elu", "selu", "gelu", "softplus", "swish", "linear"}
)
OPTIMIZERS = frozenset(
    {"adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"}
)
# Keyword arguments beyond the named parameters must be routed to one of these
# destinations, e.g. ``optimizer__beta_1=0.8`` or ``fit__shuffle=False``.
ROUTING_PREFIXES = frozenset({"optimizer", "fit", "callbacks"})
# Routed parameters only Keras' own fit loop can honour.
_STOCK_LOOP_PREFIXES = frozenset({"fit", "callbacks"})
# Rows per forward pass at prediction time: bounds memory on large inputs.
_PREDICT_CHUNK = 16384
# Prediction inputs are padded to a multiple of this many rows (see
# ``_predict_raw``); 8 was enough in tests, 32 leaves a margin for wider SIMD.
_ROW_BLOCK = 32


@contextlib.contextmanager
def _seeded(seed):
    """Seed Keras' fit (batch shuffling) without leaking into user RNG state.

    ``keras.utils.set_random_seed`` seeds Python's ``random``, NumPy's global
    generator and the backend; the first two are restored afterwards.
    """
    if seed is None:
        yield
        return
    # The legacy global generator is exactly the state to give back.
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002


def _canonical_nodes(nodes, estimator_name):
    """Return ``nodes`` as a tuple of positive ints, or raise naming it."""
    widths = (nodes,) if isinstance(nodes, Integral) else tuple(nodes)
    if not widths or not all(
        isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in widths
    ):
        raise ValueError(
            f"The 'nodes' parameter of {estimator_name} must be a positive int or "
            f"a non-empty tuple of positive ints (one per hidden layer). Got {nodes!r}."
        )
    return tuple(int(w) for w in widths)


class _NoisyMLPBase(BaseEstimator):
    """Shared machinery of the classifier and the regressor.

    The estimator itself is plain scikit-learn; the Keras training call is
    delegated to a scikeras ``BaseWrapper`` held in ``_engine``, so that
    scikeras' legacy tag and mixin layout never reaches scikit-learn.
    Subclasses provide ``_target_encoder``, ``_check_targets``,
    ``_y_validation`` and ``_metrics``.
    """

    _parameter_constraints = {
        "nodes": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "noise_amount": [Interval(Real, 0, None, closed="left")],
        "noise_site": [None, str, tuple, list],
        "noise_type": [StrOptions(set(NOISE_TYPES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "activation": [StrOptions(ACTIVATIONS)],
        "optimizer": [StrOptions(OPTIMIZERS), type, keras.optimizers.Optimizer],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "monitor": [StrOptions({"loss", "val_loss", "accuracy", "val_accuracy"})],
        "warm_start": ["boolean"],
        "training_loop": [StrOptions({"auto", "compiled", "keras"})],
        "callbacks": [list, keras.callbacks.Callback, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        nodes=100,
        *,
        noise_amount=0.1,
        noise_site="hidden",
        noise_type="gaussian",
        alpha=0.0,
        l1=0.0,
        dropout=0.0,
        max_norm=None,
        activation="relu",
        optimizer="adam",
        learning_rate=0.001,
        epochs=200,
        batch_size=32,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        monitor="val_loss",
        warm_start=False,
        training_loop="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.nodes = nodes
        self.noise_amount = noise_amount
        self.noise_site = noise_site
        self.noise_type = noise_type
        self.alpha = alpha
        self.l1 = l1
        self.dropout = dropout
        self.max_norm = max_norm
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.monitor = monitor
        self.warm_start = warm_start
        self.training_loop = training_loop
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        # Routed parameters (``optimizer__beta_1=...``) are stored as they
        # are, as scikeras does; they are validated in ``fit``.
        vars(self).update(kwargs)

    # ------------------------------------------------------------------
    # Parameters: the named ones plus routed ``prefix__name`` ones
    # ------------------------------------------------------------------
    def _extra_params(self):
        """Keyword parameters beyond the named ones (normally routed ones)."""
        named = self._get_param_names()
        return {
            key: value
            for key, value in vars(self).items()
            if key not in named and not key.startswith("_") and not key.endswith("_")
        }

    def _routed_params(self, prefix):
        """Routed parameters for ``prefix``, with the prefix removed."""
        start = prefix + "__"
        return {
            key[len(start) :]: value
            for key, value in self._extra_params().items()
            if key.startswith(start)
        }

    def get_params(self, deep=True):
        """Get parameters, including routed ``optimizer__*``-style ones.

        Parameters
        ----------
        deep : bool, default=True
            Kept for scikit-learn compatibility; these estimators hold no
            sub-estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {**super().get_params(deep=deep), **self._extra_params()}

    def set_params(self, **params):
        """Set parameters, including routed ``optimizer__*``-style ones.

        Parameters
        ----------
        **params : dict
            Estimator parameters. Names other than the constructor's must be
            routed to one of ``optimizer__``, ``fit__`` or ``callbacks__``.

        Returns
        -------
        self : object
            The estimator.
        """
        extra = self._extra_params()
        for key in list(params):
            if key in extra or key.partition("__")[0] in ROUTING_PREFIXES:
                setattr(self, key, params.pop(key))
        return super().set_params(**params)

    def _check_params(self):
        """Validate every parameter, raising errors that name it."""
        self._validate_params()
        name = type(self).__name__
        _canonical_nodes(self.nodes, name)
        sites = resolve_noise_sites(self.noise_site)
        if "labels" in sites and is_classifier(self) and self.noise_amount > 1:
            raise ValueError(
                f"The 'noise_amount' parameter of {name} must be in [0, 1] with "
                "noise_site 'labels': for a classifier it is the label smoothing "
                f"factor. Got {self.noise_amount!r}."
            )
        if isinstance(self.optimizer, type) and not issubclass(
            self.optimizer, keras.optimizers.Optimizer
        ):
            raise ValueError(
                f"The 'optimizer' parameter of {name} must be an optimizer name, "
                "a keras.optimizers.Optimizer subclass or instance. Got the class "
                f"{self.optimizer.__name__}."
            )
        misrouted = [
            key
            for key in self._extra_params()
            if key.partition("__")[0] not in ROUTING_PREFIXES or "__" not in key
        ]
        if misrouted:
            raise ValueError(
                f"{name} got unknown parameters {sorted(misrouted)}. Extra keyword "
                "parameters must be routed to one of "
                f"{sorted(p + '__' for p in ROUTING_PREFIXES)}."
            )
        if self.monitor.endswith("accuracy") and not is_classifier(self):
            raise ValueError(
                f"The 'monitor' parameter of {name} must be 'loss' or 'val_loss'; "
                f"a regressor logs no accuracy. Got {self.monitor!r}."
            )
        if self.training_loop == "compiled" and self._needs_stock_loop():
            raise ValueError(
                "training_loop='compiled' cannot run Keras callbacks or routed "
                "fit__/callbacks__ parameters; use training_loop='auto' or 'keras'."
            )
        step_sites = sorted(STEP_SITES.intersection(sites))
        if step_sites and not self._uses_compiled_loop():
            raise ValueError(
                f"noise_site {step_sites} is applied by sknoise's compiled training "
                "loop, which cannot run Keras callbacks or fit__/callbacks__ "
                f"parameters (training_loop={self.training_loop!r}); drop them, or "
                "use training_loop='compiled'."
            )

    def _needs_stock_loop(self):
        """Whether the user asked for something only Keras' ``fit`` runs."""
        routed = {key.partition("__")[0] for key in self._extra_params()}
        return bool(self.callbacks) or bool(routed & _STOCK_LOOP_PREFIXES)

    def _uses_compiled_loop(self):
        if self.training_loop == "auto":
            return not self._needs_stock_loop()
        return self.training_loop == "compiled"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def _check_inputs(self, X, y=None, reset=False):
        """Check X (and y) the scikit-learn way; set or check feature counts."""
        dtype = np.dtype(keras.backend.floatx())
        if y is None:
            return validate_data(self, X, reset=reset, dtype=dtype), None
        X, y = validate_data(self, X, y, reset=reset, dtype=dtype, **self._y_validation)
        self._check_targets(y)
        return X, y

    def _weight_samples(self, X, y_encoded, sample_weight):
        """Validated per-sample weights; subclasses fold class weights in."""
        if sample_weight is None:
            return None
        return check_sample_weight(sample_weight, X, dtype=X.dtype)

    def _encode_validation_data(self, validation_data):
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError(
                "validation_data must be a pair (X_val, y_val); got "
                f"{type(validation_data).__name__}."
            ) from None
        X_val, y_val = self._check_inputs(X_val, y_val, reset=False)
        return X_val, self.target_encoder_.transform(y_val)

    # ------------------------------------------------------------------
    # The network
    # ------------------------------------------------------------------
    def _make_optimizer(self):
        """A fresh optimizer with ``learning_rate`` and ``optimizer__*`` applied."""
        config = {
            "learning_rate": self.learning_rate,
            **self._routed_params("optimizer"),
        }
        if isinstance(self.optimizer, str):
            return keras.optimizers.get(
                {"class_name": self.optimizer, "config": config}
            )
        if isinstance(self.optimizer, type):
            return self.optimizer(**config)
        # An instance: copy it, so that no optimizer state leaks between fits.
        cls = type(self.optimizer)
        return cls.from_config({**self.optimizer.get_config(), **config})

    def _structure(self, noise_sites):
        """The network's structure under the current parameters.

        It keys the compiled training loop, and a warm start may not change
        it (the network is kept). Amounts, strengths and rates live in
        variables and are left out: they change without a rebuild.
        """
        encoder = self.target_encoder_
        return (
            ("n_features_in_", self.n_features_in_),
            ("n_outputs", encoder.n_outputs_),
            ("nodes", _canonical_nodes(self.nodes, type(self).__name__)),
            ("activation", self.activation),
            ("output_activation", encoder.output_activation_),
            ("noise_site", noise_sites if self.noise_amount > 0 else ()),
            ("noise_type", self.noise_type),
            ("dropout", self.dropout > 0),
            ("alpha or l1", self.alpha > 0 or self.l1 > 0),
            ("max_norm", self.max_norm),
        )

    def _penalties(self, n_rows):
        """The layers' L2 and L1 strengths for training on ``n_rows`` rows."""
        # scikit-learn's MLP divides its L2 term by the rows of the batch;
        # the L1 term follows the same convention.
        batch = min(self.batch_size, n_rows)
        return 0.5 * float(self.alpha) / batch, float(self.l1) / batch

    def _build_keras_model(self, n_samples):
        encoder = self.target_encoder_
        nodes = _canonical_nodes(self.nodes, type(self).__name__)
        l2, l1 = self._penalties(n_samples)
        self._architecture = self._structure(self.noise_sites_)
        model = build_mlp(
            self.n_features_in_,
            encoder.n_outputs_,
            nodes=nodes,
            activation=self.activation,
            output_activation=encoder.output_activation_,
            noise_amount=float(self.noise_amount),
            noise_sites=self.noise_sites_,
            noise_type=self.noise_type,
            dropout=float(self.dropout),
            l2=l2,
            l1=l1,
            max_norm=None if self.max_norm is None else float(self.max_norm),
            seed=self._seed,
        )
        model.compile(
            optimizer=self._make_optimizer(),
            loss=encoder.loss_,
            metrics=self._metrics,
        )
        return model

    def _initialize(self, y, classes=None):
        """Encode the targets, build the network and the scikeras engine."""
        if self.random_state is None or isinstance(self.random_state, Integral):
            self._seed = self.random_state
        else:
            self._seed = int(
                check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            )
        self.noise_sites_ = resolve_noise_sites(self.noise_site)
        self.target_encoder_ = self._target_encoder(classes).fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.model_ = self._build_keras_model(n_samples=len(y))
        self.n_iter_ = 0
        self.history_ = {}
        # The compiled loop's per-epoch shuffles and the training-step noise
        # (targets, gradients) each have a stream of their own, apart from
        # the layer seeds that ``build_mlp`` derives from the seed.
        self._shuffle_seed = self._stream_seed(1)
        self._noise_seed = self._stream_seed(2)
        # No random_state for scikeras: its seeding context switches on
        # TensorFlow's global op determinism, which made fits fail at random
        # ("Random ops require a seed"); ``_seeded`` seeds the fit instead.
        self._engine = BaseWrapper(
            model=self.model_,
            **{
                key: value
                for key, value in self._extra_params().items()
                if not key.startswith("optimizer__")
            },
        )

    def _stream_seed(self, stream):
        """A seed for random stream number ``stream``, derived from ``_seed``."""
        entropy = None if self._seed is None else [self._seed, stream]
        return int(np.random.default_rng(entropy).integers(2**32))

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def _train(
        self, X, y, sample_weight, validation_data, *, incremental, classes=None
    ):
        """Validate, (re)initialise if needed, and run the epochs.

        ``incremental`` runs one epoch from the current weights and epoch
        count (``partial_fit``); otherwise ``warm_start`` decides whether to
        continue. The epochs run in sknoise's compiled loop, or in Keras' own
        ``fit`` (through scikeras) when the user's settings need it.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        continuing = hasattr(self, "model_") and (incremental or self.warm_start)
        X, y = self._check_inputs(X, y, reset=not continuing)
        if not continuing:
            self._initialize(y, classes)
        y_encoded = self.target_encoder_.transform(y)
        sample_weight = self._weight_samples(X, y_encoded, sample_weight)
        if validation_data is not None:
            validation_data = self._encode_validation_data(validation_data)
        # As in scikit-learn's MLP, partial_fit does not stop early.
        early_stopping = self.early_stopping and not incremental
        if early_stopping and self.monitor.startswith("val_") and not validation_data:
            X, y_encoded, sample_weight, validation_data = self._hold_out(
                X, y_encoded, sample_weight
            )
        if continuing:
            self._check_structure_kept()
        self._set_strengths(n_rows=len(X))
        run = self._run_compiled if self._uses_compiled_loop() else self._run_keras
        with quiet_tensorflow():
            history = run(
                X,
                y_encoded,
                sample_weight,
                validation_data,
                epochs=1 if incremental else self.epochs,
                early_stopping=early_stopping,
                continuing=continuing,
            )
        self._check_converged(history, X)
        self.n_iter_ += len(history["loss"])
        self.history_ = {
            key: self.history_.get(key, []) + values for key, values in history.items()
        }
        return self

    def _check_structure_kept(self):
        """A continued fit keeps the network: refuse parameters that reshape it."""
        kept = dict(self._architecture)
        wanted = dict(self._structure(resolve_noise_sites(self.noise_site)))
        changed = [name for name in kept if kept[name] != wanted[name]]
        if changed:
            raise ValueError(
                f"warm_start and partial_fit continue the fitted network, but "
                f"the parameters now ask for a different one ({', '.join(changed)} "
                f"changed: {kept[changed[0]]!r} -> {wanted[changed[0]]!r}). Fit "
                "with warm_start=False to build the new network."
            )

    def _set_strengths(self, n_rows):
        """Give the network's variables the current amounts, rates and strengths.

        They are set at every fit, so a warm start or ``partial_fit`` trains
        with the parameters as they are now, and the penalties are scaled by
        the rows actually trained on (after any early-stopping hold-out).
        """
        l2, l1 = self._penalties(n_rows)
        values = {
            "stddev": self.noise_amount,
            "weight_noise": self.noise_amount,
            "rate": self.dropout,
            "l2": l2,
            "l1": l1,
        }
        for layer in self.model_.layers:
            for name, value in values.items():
                variable = getattr(layer, name, None)
                if isinstance(variable, keras.Variable):
                    variable.assign(float(value))

    def _check_converged(self, history, X):
        """Raise if training diverged, rather than keep a network of NaNs."""
        losses = np.asarray(history["loss"], dtype=float)
        weights = self.model_.get_weights()
        if np.isfinite(losses).all() and all(np.isfinite(w).all() for w in weights):
            return
        bad = np.flatnonzero(~np.isfinite(losses))
        when = f" (first at epoch {bad[0] + 1})" if bad.size else ""
        raise ValueError(
            f"Training diverged: the loss or the weights of {type(self).__name__} "
            f"became NaN or infinite{when}. The largest |feature| is "
            f"{np.abs(X).max():.3g}; standardise the inputs (e.g. StandardScaler in "
            "a Pipeline) or lower learning_rate."
        )

    def _hold_out(self, X, y_encoded, sample_weight):
        """Split off ``validation_fraction`` of the data for early stopping."""
        arrays = [X, y_encoded] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=self._seed,
            stratify=y_encoded if is_classifier(self) else None,
        )
        X, X_val, y_encoded, y_val = parts[:4]
        sample_weight = parts[4] if sample_weight is not None else None
        return X, y_encoded, sample_weight, (X_val, y_val)

    def _run_compiled(
        self,
        X,
        y_encoded,
        sample_weight,
        validation_data,
        *,
        epochs,
        early_stopping,
        continuing,
    ):
        """The epochs in sknoise's compiled loop (see ``_training``)."""
        encoder = self.target_encoder_
        step_noise = {
            site: float(self.noise_amount) if site in self.noise_sites_ else 0.0
            for site in STEP_SITES
        }
        return _training.train(
            self.model_,
            architecture=self._architecture,
            loss=encoder.loss_,
            metric=encoder.metric_,
            x=X,
            y=y_encoded,
            sample_weight=sample_weight,
            validation_data=validation_data,
            epochs=epochs,
            batch_size=self.batch_size,
            first_epoch=self.n_iter_,
            shuffle_seed=self._shuffle_seed,
            early_stopping=(
                {
                    "monitor": self.monitor,
                    "patience": self.n_iter_no_change,
                    "tol": self.tol,
                }
                if early_stopping
                else None
            ),
            label_noise=step_noise["labels"],
            gradient_noise=step_noise["gradients"],
            noise_type=self.noise_type,
            noise_seed=self._noise_seed,
            verbose=self.verbose,
        )

    def _run_keras(
        self,
        X,
        y_encoded,
        sample_weight,
        validation_data,
        *,
        epochs,
        early_stopping,
        continuing,
    ):
        """The epochs in Keras' ``fit``, through the scikeras engine."""
        if isinstance(self.callbacks, keras.callbacks.Callback):
            callbacks = [self.callbacks]
        else:
            callbacks = list(self.callbacks or [])
        if early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=self.monitor,
                    patience=self.n_iter_no_change,
                    min_delta=self.tol,
                    restore_best_weights=True,
                )
            )
        engine = self._engine
        already = len(getattr(engine, "history_", {}).get("loss", []))
        engine.set_params(
            batch_size=self.batch_size,
            verbose=self.verbose,
            callbacks=callbacks or None,
            warm_start=continuing,
            epochs=epochs,
        )
        with _seeded(self._seed):
            engine.fit(
                X,
                y_encoded,
                sample_weight=sample_weight,
                validation_data=validation_data,
            )
        # scikeras appends to its history when warm-starting; keep the new part.
        skip = already if continuing else 0
        return {key: list(values[skip:]) for key, values in engine.history_.items()}

    def _train_or_discard(self, *args, incremental, **kwargs):
        """Train; if a fresh fit raises, leave the estimator unfitted.

        A fresh fit replaces the network before training it, so after a
        failure the estimator must not answer ``predict`` with a network that
        was built, or half-trained, by the failed call. A failed continuation
        (``partial_fit``, ``warm_start``) is rolled back to the network and
        optimizer state it started from.
        """
        continuing = hasattr(self, "model_") and (incremental or self.warm_start)
        if continuing:
            model = self.model_
            saved = [v.numpy() for v in model.variables + model.optimizer.variables]
        try:
            return self._train(*args, incremental=incremental, **kwargs)
        except Exception:
            if continuing:
                variables = model.variables + model.optimizer.variables
                for variable, value in zip(variables, saved, strict=True):
                    variable.assign(value)
            else:
                for attr in [a for a in vars(self) if a.endswith("_")]:
                    delattr(self, attr)
            raise

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Build the network and train it on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Sparse matrices are not supported.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the training loss.
        validation_data : tuple (X_val, y_val), default=None
            Held-out data scored after every epoch; its loss and metric are
            recorded in ``history_`` under ``val_``-prefixed keys. It does not
            influence training.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_params()
        return self._train_or_discard(
            X, y, sample_weight, validation_data, incremental=False
        )

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def _predict_raw(self, X):
        """Network outputs for ``X``, computed with noise switched off."""
        check_is_fitted(self, "model_")
        X, _ = self._check_inputs(X)
        outputs = []
        for start in range(0, X.shape[0], _PREDICT_CHUNK):
            chunk = X[start : start + _PREDICT_CHUNK]
            n_rows = chunk.shape[0]
            # Pad to whole row blocks: XLA's float32 matmul rounds the rows of
            # a ragged tail differently, which made a row's prediction depend
            # on its position in X (by one ulp, on JAX).
            chunk = _training.pad_rows(chunk, _training.round_up(n_rows, _ROW_BLOCK))
            raw = self.model_(chunk, training=False)
            outputs.append(keras.ops.convert_to_numpy(raw)[:n_rows])
        return np.concatenate(outputs, axis=0)

    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted class labels (classifier) or values (regressor).
        """
        raw = self._predict_raw(X)  # first: it raises NotFittedError
        return self.target_encoder_.inverse_transform(raw)


_COMMON_PARAMETERS_DOC = """\
    nodes : int or tuple of int, default=100
        Width of each hidden layer, one layer per entry; an int is a single
        hidden layer.
    noise_amount : float, default=0.1
        Scale σ of the noise, drawn fresh at every training step (see
        ``noise_site`` for its meaning at each site). 0 disables the noise.
        The noise has a fixed scale, so standardise the inputs first (e.g.
        ``StandardScaler`` in a ``Pipeline``).
    noise_site : str, tuple of str or None, default="hidden"
        Where the noise acts (ε is standard normal):

        - ``"input"``: the features, ``x + σε``, before the first hidden
          layer;
        - ``"hidden"``: the pre-activation of every hidden layer,
          ``act(Wx + b + σε)``;
        - ``"activation"``: the output of every hidden activation,
          ``act(Wx + b) + σε``;
        - ``"weights"``: every kernel and bias; each step takes its loss and
          gradients at ``W + σε`` and updates ``W`` (weight noise, Graves
          2011);
        - ``"gradients"``: annealed gradient noise, ``g + N(0, η / (1 +
          t)^0.55)`` at optimizer step ``t`` with ``η = noise_amount`` (a
          variance; Neelakantan et al. 2015);
        - ``"labels"``: classifiers train on smoothed labels ``(1 - ε) onehot
          + ε / n_classes`` with ``ε = noise_amount`` in [0, 1] (Szegedy et
          al. 2016); regressors on ``y + σε``;
        - a combination, as a tuple ``("input", "hidden")`` or a string
          ``"input+hidden"``, all with the same ``noise_amount``;
        - ``None``: nowhere.

        Noise is active in training only; predictions are deterministic.
        "gradients" and "labels" act on the training step and need the
        compiled training loop (see ``training_loop``).
    noise_type : {"gaussian", "multiplicative"}, default="gaussian"
        "gaussian" adds ``σε``; "multiplicative" multiplies by ``1 + σε``
        (mean-one noise, as Gaussian dropout, Srivastava et al. 2014: rate
        ``p`` matches ``σ = sqrt(p / (1 - p))``). It applies to the input,
        hidden, activation and weights sites and to regression targets;
        gradient noise and label smoothing ignore it.
    alpha : float, default=0.0
        Strength of the L2 penalty, as in scikit-learn's MLP: ``0.5 * alpha *
        sum(W**2) / b`` is added to every step's loss, over the kernels of
        all layers (not the biases), with ``b = min(batch_size, n)`` for
        ``n`` rows trained on (after any early-stopping hold-out); unlike
        scikit-learn, a short last batch gets the same ``b``. scikit-learn's
        MLP defaults to 1e-4; here no penalty is the default.
    l1 : float, default=0.0
        Strength of the L1 penalty ``l1 * sum(|W|) / b``, on the same
        weights and with the same ``b`` as ``alpha``.
    dropout : float in [0, 1), default=0.0
        Dropout rate after every hidden layer (inverted dropout: kept units
        are scaled by ``1 / (1 - dropout)``, so inference needs no change).
    max_norm : float or None, default=None
        Max-norm constraint: after every update, each unit's vector of
        incoming weights is rescaled to a norm of at most ``max_norm``
        (Srivastava et al. 2014). None for no constraint.
    activation : str, default="relu"
        Hidden activation; one of "relu", "tanh", "sigmoid", "elu", "selu",
        "gelu", "softplus", "swish", "linear".
    optimizer : str, keras Optimizer class or instance, default="adam"
        The optimizer. A name is one of "adam", "adamw", "sgd", "rmsprop",
        "adagrad", "adadelta", "adamax", "nadam". An instance is copied at
        every fit, so no state carries over between fits. Further settings
        are routed with ``optimizer__<name>=value`` (e.g.
        ``optimizer__beta_1=0.8``).
    learning_rate : float, default=0.001
        The optimizer's learning rate. ``optimizer__learning_rate`` (e.g. a
        Keras schedule) takes precedence.
    epochs : int, default=200
        Passes over the training data per call to ``fit``.
    batch_size : int, default=32
        Samples per gradient step; the data are reshuffled every epoch.
    early_stopping : bool, default=False
        Stop once ``monitor`` has not improved by more than ``tol`` for
        ``n_iter_no_change`` epochs, and restore the weights of the best
        epoch. ``partial_fit`` never stops early.
    validation_fraction : float, default=0.1
        Share of the training data held out (stratified for classifiers) to
        score a ``val_*`` monitor, when ``fit`` gets no ``validation_data``.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping (Keras' patience).
    tol : float, default=1e-4
        Smallest change of ``monitor`` that counts as an improvement.
    monitor : {"val_loss", "loss", "val_accuracy", "accuracy"}, \
default="val_loss"
        The ``history_`` entry early stopping watches; losses should fall,
        accuracies (classifiers only) rise.
    warm_start : bool, default=False
        If True, ``fit`` continues from the current weights, optimizer state
        and epoch count instead of building a new network, with the current
        ``noise_amount``, ``alpha``, ``l1`` and ``dropout``. Parameters that
        would change the network itself (``nodes``, ``noise_site``,
        ``noise_type``, ``max_norm``, or switching noise, dropout or the
        penalties on or off) raise a ValueError then.
    training_loop : {"auto", "compiled", "keras"}, default="auto"
        "compiled" runs many epochs inside one compiled call of the Keras
        backend (``jax.jit``, or ``tf.function`` with XLA), hundreds of times
        faster than Keras' ``fit`` on small data; the compiled program is
        reused by later fits of the same shapes, whatever their
        ``noise_amount`` or ``learning_rate``. "keras" runs Keras' own
        ``fit`` (through scikeras). "auto" uses the compiled loop unless
        ``callbacks`` or ``fit__*``/``callbacks__*`` parameters need Keras'
        ``fit``.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Keras callbacks run during training; they need Keras' ``fit`` (see
        ``training_loop``).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the noise and the shuffling. An int
        makes two fits give identical predictions.
    verbose : int, default=0
        Verbosity during training: 0 silent; 1 a progress line (Keras' bar,
        or one line per 1000 epochs in the compiled loop); 2 one line per
        epoch."""

# Last in every Parameters section, as in the signatures.
_KWARGS_DOC = """\
    **kwargs
        Routed parameters: ``optimizer__*``, ``fit__*`` (e.g.
        ``fit__shuffle=False``) and ``callbacks__*``, as in scikeras."""

_COMMON_ATTRIBUTES_DOC = """\
    model_ : keras.Model
        The trained network. Its noise layers are named after their site
        (``input_noise``, ``hidden_noise_<i>``, ``activation_noise_<i>``),
        its dropout layers ``dropout_<i>``.
    history_ : dict of str to list of float
        Per-epoch training record: ``loss`` and, for classifiers,
        ``accuracy`` (both from the noisy training passes, as Keras logs
        them); ``val_loss`` (and ``val_accuracy``) when ``validation_data``
        is passed to ``fit`` or early stopping holds data out. Continued
        training (``warm_start``, ``partial_fit``) appends to it.
    n_iter_ : int
        Epochs trained since the network was built.
    noise_sites_ : tuple of str
        The canonical noise sites used, e.g. ``("input", "hidden")``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of features seen during ``fit``, when ``X`` has string column
        names (e.g. a pandas DataFrame)."""


class NoisyMLPClassifier(ClassifierMixin, _NoisyMLPBase):
    __doc__ = f"""Multi-layer perceptron classifier regularised by Gaussian noise.

    A Keras network built from the constructor parameters and trained with
    Gaussian noise injected at ``noise_site``. Binary problems use one sigmoid
    output and binary cross-entropy, multiclass problems a softmax and
    categorical cross-entropy.

    Parameters
    ----------
{_COMMON_PARAMETERS_DOC}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``.
        "balanced" weights classes inversely to their frequency in ``y``.
{_KWARGS_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_classes_ : int
        Number of classes.
{_COMMON_ATTRIBUTES_DOC}

    See Also
    --------
    NoisyMLPRegressor : The regression counterpart.
    sklearn.neural_network.MLPClassifier : The noise-free MLP of scikit-learn.

    Examples
    --------
    >>> from sklearn.datasets import make_circles
    >>> from sknoise import NoisyMLPClassifier
    >>> X, y = make_circles(n_samples=100, noise=0.1, random_state=1)
    >>> clf = NoisyMLPClassifier(nodes=50, noise_amount=0.1, epochs=20,
    ...                          random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.noise_sites_
    ('hidden',)
    """

    _parameter_constraints = {
        **_NoisyMLPBase._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _metrics = ["accuracy"]
    _y_validation = {}

    def __init__(
        self,
        nodes=100,
        *,
        noise_amount=0.1,
        noise_site="hidden",
        noise_type="gaussian",
        alpha=0.0,
        l1=0.0,
        dropout=0.0,
        max_norm=None,
        activation="relu",
        optimizer="adam",
        learning_rate=0.001,
        epochs=200,
        batch_size=32,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        monitor="val_loss",
        warm_start=False,
        training_loop="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
        class_weight=None,
        **kwargs,
    ):
        super().__init__(
            nodes=nodes,
            noise_amount=noise_amount,
            noise_site=noise_site,
            noise_type=noise_type,
            alpha=alpha,
            l1=l1,
            dropout=dropout,
            max_norm=max_norm,
            activation=activation,
            optimizer=optimizer,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            monitor=monitor,
            warm_start=warm_start,
            training_loop=training_loop,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.class_weight = class_weight

    def _target_encoder(self, classes):
        return ClassifierTargetEncoder(classes=classes)

    def _check_targets(self, y):
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets; "
                f"got a target of type {type_of_target(y)!r}."
            )

    def _weight_samples(self, X, y_encoded, sample_weight):
        sample_weight = super()._weight_samples(X, y_encoded, sample_weight)
        if self.class_weight is None:
            return sample_weight
        indices = y_encoded.reshape(-1).astype(int)
        per_class = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self.classes_[indices]
        )
        weights = per_class[indices].astype(X.dtype)
        return weights if sample_weight is None else weights * sample_weight

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class of the problem. Required on the first call, since a
            batch need not contain all classes; ignored afterwards unless it
            disagrees with ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the training loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._check_params()
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the whole data set and is not "
                "supported by partial_fit; pass a dict of class weights instead."
            )
        if not hasattr(self, "model_"):
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"classes={list(classes)!r} is not the same as on the first call "
                f"to partial_fit, which was {list(self.classes_)!r}."
            )
        return self._train_or_discard(
            X, y, sample_weight, None, incremental=True, classes=classes
        )

    def predict_proba(self, X):
        """Class probabilities for ``X``, computed with noise switched off.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        raw = self._predict_raw(X)  # first: it raises NotFittedError
        return self.target_encoder_.inverse_transform(raw, return_proba=True)


class NoisyMLPRegressor(RegressorMixin, _NoisyMLPBase):
    __doc__ = f"""Multi-layer perceptron regressor regularised by Gaussian noise.

    A Keras network built from the constructor parameters, with a linear
    output per target, trained on the mean squared error with Gaussian noise
    injected at ``noise_site``. Single and multi-output targets are supported.

    Parameters
    ----------
{_COMMON_PARAMETERS_DOC}
{_KWARGS_DOC}

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
{_COMMON_ATTRIBUTES_DOC}

    See Also
    --------
    NoisyMLPClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : The noise-free MLP of scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from sknoise import NoisyMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5])
    >>> reg = NoisyMLPRegressor(nodes=(20, 20), noise_site="input+hidden",
    ...                         epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.noise_sites_
    ('input', 'hidden')
    """

    _metrics = None
    _y_validation = {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _target_encoder(self, classes):
        return RegressorTargetEncoder()

    def _check_targets(self, y):
        pass

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the training loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        self._check_params()
        return self._train_or_discard(X, y, sample_weight, None, incremental=True)
