"""The scikit-learn estimators: NoisyMLPClassifier and NoisyMLPRegressor.

The estimators hold the parameters and the fitted state and orchestrate a
fit; what a fit does is worked out by :mod:`._config`, the network is built
by :mod:`._network`, and the epochs run in sknoise's compiled loop
(:mod:`._training`) or, for Keras callbacks, in Keras' own ``fit``
(:mod:`._keras_loop`, the only module that imports scikeras).

Nothing this module imports at its top loads Keras: the modules that do
(``_network``, ``_training``, ``_keras_loop``) are imported where a fit, the
training network ``model_`` or ``export_model`` needs them, so that
``import sknoise`` and a process that only loads a fitted estimator and
predicts (in NumPy) never load Keras or its backend.
"""

import threading
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import import_keras, quiet_tensorflow
from ._config import (
    ACTIVATIONS,
    OPTIMIZERS,
    ROUTING_PREFIXES,
    FitConfig,
    KeptState,
    Seeds,
    check_continuation,
    divergence_hints,
)
from ._data import TrainingData
from ._docstrings import COMMON_ATTRIBUTES, COMMON_PARAMETERS, KWARGS
from ._fitted import is_fitted_state, record_fit
from ._noise import NOISE_TYPES
from ._sklearn_compat import Interval, KerasInstance, StrOptions, check_sample_weight
from ._targets import (
    ClassifierTargetEncoder,
    MultilabelTargetEncoder,
    RegressorTargetEncoder,
)

# Loading a saved network into ``model_`` (see ``_NoisyMLPBase.__getattr__``)
# happens once per estimator, even when threads read it at once.
_MODEL_LOADING = threading.Lock()


class _NoisyMLPBase(BaseEstimator):
    """Shared machinery of the classifier and the regressor.

    Subclasses provide ``_target_encoder``, ``_check_targets`` and
    ``_target_validation``, and may weigh samples by class
    (``_weight_samples``).
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
        "optimizer": [
            StrOptions(OPTIMIZERS),
            type,
            KerasInstance("optimizers.Optimizer"),
        ],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "monitor": [StrOptions({"loss", "val_loss", "accuracy", "val_accuracy"})],
        "warm_start": ["boolean"],
        "training_loop": [StrOptions({"auto", "compiled", "keras"})],
        "callbacks": [None, list, KerasInstance("callbacks.Callback")],
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
        learning_rate=None,
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
        # are, as scikeras does; they are validated in ``fit``. Names shaped
        # like fitted (``model_``) or private attributes are kept apart, so
        # that they cannot make the estimator look fitted; ``fit`` rejects
        # them.
        for key, value in kwargs.items():
            if key.startswith("_") or key.endswith("_"):
                vars(self).setdefault("_misnamed_params", {})[key] = value
            else:
                setattr(self, key, value)

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

    def _check_params(self, *, incremental, has_validation_data=False):
        """Validate every parameter; return the fit's configuration."""
        self._validate_params()
        config = FitConfig.from_estimator(
            self, incremental=incremental, has_validation_data=has_validation_data
        )
        from ._network import check_optimizer  # loads Keras: after validation

        check_optimizer(config.optimizer, type(self).__name__)
        return config

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def _check_inputs(self, X, y=None, reset=False, dtype=None):
        """Check X (and y) the scikit-learn way; set or check feature counts.

        X is converted to ``dtype``, by default Keras' float type, which a
        fit trains in.
        """
        if dtype is None:
            dtype = np.dtype(import_keras().backend.floatx())
        if y is None:
            return validate_data(self, X, reset=reset, dtype=dtype), None
        X, y = validate_data(
            self, X, y, reset=reset, dtype=dtype, **self._target_validation(y)
        )
        self._check_targets(y)
        return X, y

    def _weight_samples(self, X, y_encoded, sample_weight):
        """Validated per-sample weights; subclasses fold class weights in."""
        if sample_weight is None:
            return None
        return check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )

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

    def _hold_out(self, data, validation_fraction):
        """Split off ``validation_fraction`` of the data for early stopping."""
        X, y_encoded, sample_weight, _ = data
        arrays = [X, y_encoded] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(
            *arrays,
            test_size=validation_fraction,
            random_state=self._seeds.layers,
            stratify=y_encoded if self.target_encoder_.stratify_ else None,
        )
        X, X_val, y_encoded, y_val = parts[:4]
        sample_weight = parts[4] if sample_weight is not None else None
        return TrainingData(X, y_encoded, sample_weight, (X_val, y_val))

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
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
        config = self._check_params(
            incremental=False, has_validation_data=validation_data is not None
        )
        return self._fit_or_roll_back(
            config, X, y, sample_weight, validation_data, incremental=False
        )

    def _fit_or_roll_back(self, config, *args, incremental, **kwargs):
        """Train; if that raises, undo what the call did, then re-raise.

        A fresh fit replaces the network before training it, so after a
        failure or an interrupt the estimator must not answer ``predict``
        with a network that was built, or half-trained, by the failed call:
        it is left unfitted.
        A failed continuation (``partial_fit``, ``warm_start``) is rolled back
        to the network and optimizer state it started from.
        """
        continuing = (incremental or self.warm_start) and self.__sklearn_is_fitted__()
        if continuing:
            model = self.model_
            saved = [v.numpy() for v in model.variables + model.optimizer.variables]
        try:
            return self._train(config, *args, continuing=continuing, **kwargs)
        except BaseException:  # KeyboardInterrupt too: never keep half a fit
            if continuing:
                variables = model.variables + model.optimizer.variables
                for variable, value in zip(variables, saved, strict=True):
                    variable.assign(value)
            else:
                for attr in [a for a in vars(self) if is_fitted_state(a)]:
                    delattr(self, attr)
            raise

    def _train(self, config, X, y, sample_weight, validation_data, *, continuing,
               classes=None):  # fmt: skip
        """Validate the data, build or check the network, and run the epochs."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X, y = self._check_inputs(X, y, reset=not continuing)
        if continuing:
            encoder = self.target_encoder_
        else:
            encoder = self._target_encoder(classes, y).fit(y)
        kept = KeptState(
            config.structure(X.shape[1], encoder), config.optimizer.kept_settings()
        )
        if continuing:
            check_continuation(self._kept, kept)
        else:
            self._initialize(config, kept, encoder, n_rows=len(y))
        data = self._training_data(X, y, sample_weight, validation_data)
        if config.holds_out:
            data = self._hold_out(data, config.validation_fraction)
        # Set at every fit, so that a continued fit trains with the current
        # amounts and penalties scaled by the rows actually trained on.
        from ._network import apply_settings

        apply_settings(
            self.model_, config.strengths(n_rows=len(data.x)), config.optimizer
        )
        with quiet_tensorflow():
            history = self._run_epochs(config, kept.structure, data)
        self._check_converged(config, history, data)
        record_fit(self, config, history, data)
        return self

    def _training_data(self, X, y, sample_weight, validation_data):
        """The encoded targets, weights and validation data of a fit."""
        y_encoded = self.target_encoder_.transform(y)
        sample_weight = self._weight_samples(X, y_encoded, sample_weight)
        if sample_weight is not None and not sample_weight.any():
            raise ValueError(
                "Every sample has weight 0 (sample_weight, times class_weight "
                "for a classifier): there is nothing to train on."
            )
        if validation_data is not None:
            validation_data = self._encode_validation_data(validation_data)
        return TrainingData(X, y_encoded, sample_weight, validation_data)

    def _initialize(self, config, kept, encoder, n_rows):
        """Set up a fresh fit: seeds, target encoding and a new network."""
        from ._network import build_network, make_optimizer

        # A network loaded with the estimator, not yet read, is replaced:
        # free its archive now rather than at the next save.
        vars(self).pop("_model_archive", None)
        self._seeds = Seeds.from_random_state(self.random_state)
        self.noise_sites_ = config.noise_sites
        self.target_encoder_ = encoder
        vars(self).update(encoder.get_metadata())
        self._kept = kept
        self.model_ = build_network(
            kept.structure,
            config.strengths(n_rows),
            encoder=encoder,
            optimizer=make_optimizer(config.optimizer),
            seed=self._seeds.layers,
        )
        self.n_iter_ = self.t_ = 0
        self.history_ = {}
        self.validation_scores_ = None

    def _run_epochs(self, config, structure, data):
        """The epochs of one call, in the loop the configuration chose."""
        if config.loop == "compiled":
            from . import _training

            return _training.train(
                self.model_,
                config,
                structure,
                self.target_encoder_,
                data,
                first_epoch=self.n_iter_,
                seeds=self._seeds,
            )
        from . import _keras_loop  # imports scikeras: only on this path

        return _keras_loop.train(self.model_, config, data, seed=self._seeds.layers)

    def _check_converged(self, config, history, data):
        """Raise if training diverged, rather than keep a network of NaNs."""
        losses = np.asarray(history["loss"], dtype=float)
        weights = self.model_.get_weights()
        if np.isfinite(losses).all() and all(np.isfinite(w).all() for w in weights):
            return
        bad = np.flatnonzero(~np.isfinite(losses))
        when = f" (first at epoch {bad[0] + 1})" if bad.size else ""
        hints = divergence_hints(
            config,
            largest_feature=float(np.abs(data.x).max()),
            largest_weight=(
                0.0 if data.sample_weight is None else float(data.sample_weight.max())
            ),
        )
        raise ValueError(
            f"Training diverged: the loss or the weights of {type(self).__name__} "
            f"became NaN or infinite{when}. Likely causes: {hints}."
        )

    # ------------------------------------------------------------------
    # Inference
    # ------------------------------------------------------------------
    def __sklearn_is_fitted__(self):
        # The NumPy network predictions use, recorded by every successful
        # fit; ``model_`` may still be on disk (a loaded estimator).
        return "_forward" in vars(self)

    def _predict_raw(self, X):
        """Network outputs for ``X``, noise off, in the output dtype: float32
        for float32 input, else float64, as scikit-learn's MLP."""
        check_is_fitted(self)
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X, _ = self._check_inputs(X, dtype=self._forward.dtype)
        return self._forward(X), dtype

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
        raw, dtype = self._predict_raw(X)  # first: it raises NotFittedError
        y = self.target_encoder_.inverse_transform(raw)
        return y.astype(dtype) if y.dtype.kind == "f" else y

    def export_model(self):
        """The fitted network for inference, as a plain Keras model.

        Noise and dropout act in training only, so the inference network is
        a stack of built-in ``keras.layers.Dense`` layers with their
        activations and the fitted weights. Saved with ``model.save(path)``
        (a ``.keras`` file), it loads with ``keras.saving.load_model`` in
        any process, without sknoise installed. ``model_``, the training
        network, needs ``import sknoise`` to load, for its noise layers.

        Returns
        -------
        model : keras.Model
            Maps features (float32) to the network's outputs: the positive
            class's probability (binary), the class probabilities
            (multiclass), each label's probability (multilabel) or the
            predicted values (regressor).

        Examples
        --------
        >>> import numpy as np
        >>> from sknoise import NoisyMLPRegressor
        >>> X = np.random.default_rng(0).normal(size=(20, 2))
        >>> reg = NoisyMLPRegressor(nodes=4, epochs=2).fit(X, X[:, 0])
        >>> [layer.name for layer in reg.export_model().layers]
        ['features', 'hidden_1', 'output']
        """
        check_is_fitted(self)
        return self._forward.to_keras()

    # scikit-learn's MLP attributes, read off the NumPy inference network.
    # Unfitted, ``self._forward`` raises AttributeError, so hasattr() is
    # False, as for scikit-learn's fitted attributes.
    @property
    def coefs_(self):
        """list of ndarray: The weight matrix of each layer, ``coefs_[i]`` of
        shape (n_units of layer i, n_units of layer i + 1), float32, read-only."""
        return [_read_only(kernel) for kernel, _, _ in self._forward.layers]

    @property
    def intercepts_(self):
        """list of ndarray: The bias vector of each layer, ``intercepts_[i]``
        of shape (n_units of layer i + 1,), float32, read-only."""
        return [_read_only(bias) for _, bias, _ in self._forward.layers]

    @property
    def n_layers_(self):
        """int: Number of layers, the input and output layers included."""
        return len(self._forward.layers) + 1

    # ------------------------------------------------------------------
    # Pickling: the network travels as a .keras archive, and is loaded
    # into ``model_`` only when something reads it
    # ------------------------------------------------------------------
    def __getstate__(self):
        # A copy: on Python 3.11+ the inherited state is ``vars(self)`` itself.
        state = dict(super().__getstate__())
        archive = state.pop("_model_archive", None)
        if "model_" in state:
            from ._network import model_to_bytes

            state["model_"] = model_to_bytes(state["model_"])
        elif archive is not None:
            state["model_"] = archive
        return state

    def __setstate__(self, state):
        # Predictions need only ``_forward``, so the network (and Keras) is
        # loaded when training or reading ``model_`` asks for it.
        # Files of earlier versions have the same layout.
        if "model_" in state:
            state = dict(state)
            state["_model_archive"] = state.pop("model_")
        super().__setstate__(state)

    def __getattr__(self, name):
        # Called only for attributes not found: ``model_`` of a loaded
        # estimator whose network is still an archive -- or was, until
        # another thread loaded it since this lookup failed.
        if name == "model_":
            with _MODEL_LOADING:
                state = vars(self)
                if "_model_archive" in state:
                    from ._network import model_from_bytes

                    state["model_"] = model_from_bytes(state["_model_archive"])
                    del state["_model_archive"]
                if "model_" in state:
                    return state["model_"]
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )


class NoisyMLPClassifier(ClassifierMixin, _NoisyMLPBase):
    __doc__ = f"""Multi-layer perceptron classifier regularised by Gaussian noise.

    A Keras network built from the constructor parameters and trained with
    Gaussian noise injected at ``noise_site``. Binary problems use one sigmoid
    output and binary cross-entropy, multiclass problems a softmax and
    categorical cross-entropy, multilabel problems (``y`` a 2-D 0/1
    indicator matrix) one sigmoid per label and binary cross-entropy on
    each, as scikit-learn's MLP.

    Parameters
    ----------
{COMMON_PARAMETERS}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``.
        "balanced" weights classes inversely to their frequency in ``y``.
{KWARGS}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for multilabel targets, the label indices
        ``0 .. n_outputs_ - 1``.
    n_classes_ : int
        Number of classes (not set for multilabel targets).
    n_outputs_ : int
        Number of labels (multilabel targets only).
{COMMON_ATTRIBUTES}

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
        learning_rate=None,
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _target_encoder(self, classes, y):
        if _is_multilabel(y):
            return MultilabelTargetEncoder()
        return ClassifierTargetEncoder(classes=classes)

    def _target_validation(self, y):
        return {"multi_output": _is_multilabel(y)}

    def _check_targets(self, y):
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"{type(self).__name__} supports binary, multiclass and "
                f"multilabel-indicator targets; got a target of type {kind!r}."
            )

    def _weight_samples(self, X, y_encoded, sample_weight):
        sample_weight = super()._weight_samples(X, y_encoded, sample_weight)
        if self.class_weight is None:
            return sample_weight
        if isinstance(self.target_encoder_, MultilabelTargetEncoder):
            raise ValueError(
                "The 'class_weight' parameter of "
                f"{type(self).__name__} must be None for multilabel targets, "
                "whose labels are not classes of one another."
            )
        indices = y_encoded.reshape(-1).astype(int)
        per_class = compute_class_weight(
            self.class_weight, classes=self.classes_, y=self.classes_[indices]
        )
        if not (np.isfinite(per_class).all() and (per_class >= 0).all()):
            raise ValueError(
                "The 'class_weight' parameter of "
                f"{type(self).__name__} must give every class a finite, "
                f"non-negative weight. Got {self.class_weight!r}."
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
        config = self._check_params(incremental=True)
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the whole data set and is not "
                "supported by partial_fit; pass a dict of class weights instead."
            )
        if not self.__sklearn_is_fitted__():
            if classes is None and not _is_multilabel(y):
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
        return self._fit_or_roll_back(
            config, X, y, sample_weight, None, incremental=True, classes=classes
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
        raw, dtype = self._predict_raw(X)  # first: it raises NotFittedError
        proba = self.target_encoder_.inverse_transform(raw, return_proba=True)
        return proba.astype(dtype)

    def predict_log_proba(self, X):
        """Log of the class probabilities for ``X`` (see ``predict_proba``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Natural logarithm of each class's probability, columns ordered
            as ``classes_``.
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):  # a probability of 0 is log -inf
            return np.log(proba)


def _read_only(array):
    view = array.view()
    view.flags.writeable = False
    return view


def _is_multilabel(y):
    try:
        return type_of_target(y) == "multilabel-indicator"
    except ValueError:  # not a target at all: validate_data will say why
        return False


class NoisyMLPRegressor(RegressorMixin, _NoisyMLPBase):
    __doc__ = f"""Multi-layer perceptron regressor regularised by Gaussian noise.

    A Keras network built from the constructor parameters, with a linear
    output per target, trained on the mean squared error with Gaussian noise
    injected at ``noise_site``. Single and multi-output targets are supported.

    Parameters
    ----------
{COMMON_PARAMETERS}
{KWARGS}

    Attributes
    ----------
    n_outputs_ : int
        Number of targets.
{COMMON_ATTRIBUTES}

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _target_encoder(self, classes, y):
        return RegressorTargetEncoder()

    def _target_validation(self, y):
        return {"multi_output": True, "y_numeric": True}

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
        config = self._check_params(incremental=True)
        return self._fit_or_roll_back(
            config, X, y, sample_weight, None, incremental=True
        )
