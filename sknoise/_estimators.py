"""The scikit-learn estimators: NoisyMLPClassifier and NoisyMLPRegressor.

The estimators hold the parameters and the fitted state. The routed
``prefix__name`` parameters are :mod:`._params`', what a fit does is worked
out by :mod:`._config`, its data are checked by :mod:`._data`, and its steps
are :mod:`._fit`'s: the network is built by :mod:`._network`, and the epochs
run in sknoise's compiled loop (:mod:`._compiled`) or, for Keras callbacks,
in Keras' own ``fit`` (:mod:`._keras_loop`, the only module that imports
scikeras).

Nothing this module imports at its top loads Keras: the modules that do
(``_network``, ``_compiled``, ``_keras_loop``) are imported where a fit or
the training network ``model_`` needs them, so that ``import sknoise`` and a
process that only loads a fitted estimator and predicts (in NumPy) never
load Keras or its backend.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _fitted, _params
from ._backend import import_keras
from ._config import ACTIVATIONS, OPTIMIZERS, FitConfig
from ._docstrings import COMMON_ATTRIBUTES, COMMON_PARAMETERS, DOCS_URL, KWARGS
from ._fit import fit_or_roll_back
from ._noise import NOISE_TYPES
from ._sklearn_compat import (
    Interval,
    InvalidParameterError,
    KerasInstance,
    StrOptions,
)
from ._targets import ClassifierTargets, RegressorTargets, is_multilabel


class _NoisyMLPBase(BaseEstimator):
    """Shared machinery of the classifier and the regressor.

    Subclasses say what their targets are (``_targets``, see
    :mod:`._targets`).
    """

    # The HTML representation's "?" links to the estimator's API page, as
    # scikit-learn's estimators' do (scikit-learn fills in the module up to
    # its first private part, "sknoise", and the class name).
    _doc_link_module = "sknoise"
    _doc_link_template = DOCS_URL + "generated/{estimator_module}.{estimator_name}.html"

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
        # Routed parameters (``optimizer__beta_1=...``), as scikeras does.
        _params.keep_keyword_params(self, kwargs)

    # ------------------------------------------------------------------
    # Parameters: the named ones plus routed ``prefix__name`` ones
    # ------------------------------------------------------------------
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
        return {**super().get_params(deep=deep), **_params.extra_params(self)}

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
        rest = _params.set_extra_params(self, params)
        try:
            return super().set_params(**rest)
        except ValueError as error:
            # scikit-learn's message lists the valid names; say which is meant.
            names = self._get_param_names()
            unknown = [key for key in rest if key.partition("__")[0] not in names]
            advice = _params.name_advice(self, unknown)
            if not advice:
                raise
            raise ValueError(f"{error} {advice}") from None

    def _fit_config(self, *, incremental, has_validation_data=False):
        """Validate every parameter; return the fit's configuration."""
        try:
            self._validate_params()
        except InvalidParameterError as error:
            # scikit-learn's MLP spells some values otherwise: say how.
            advice = _params.value_advice(self, str(error))
            if advice is None:
                raise
            raise InvalidParameterError(f"{error} {advice}") from None
        return FitConfig.from_estimator(
            self,
            _params.routed_params(self),
            incremental=incremental,
            has_validation_data=has_validation_data,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags

    def _check_data(self, X, y=None, *, reset=False, dtype=None):
        """``X`` (and ``y``) checked the scikit-learn way, with the feature
        counts set (``reset``) or checked: the one check of a fit's, a
        validation set's and a prediction's inputs (:mod:`._fit` calls it),
        and, with ``_targets``, what a subclass changes to take other
        targets.

        X is converted to ``dtype``, by default Keras' float type, which a fit
        trains in. Sparse X stays sparse, as CSR (other formats, CSC among
        them, are converted once, here): training and predictions read it by
        rows and never densify it.
        """
        if dtype is None:
            dtype = np.dtype(import_keras().backend.floatx())
        checks = {"reset": reset, "dtype": dtype, "accept_sparse": "csr"}
        if y is None:
            return validate_data(self, X, **checks), None
        X, y = validate_data(self, X, y, **checks, **self._targets.validation(y))
        self._targets.check(y, type(self).__name__)
        return X, y

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Build the network and train it on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse data are trained on without being
            densified (formats other than CSR, CSC among them, are converted
            to CSR once).
        y : {array-like, sparse matrix} of shape (n_samples,) or (n_samples, n_outputs)
            Target values. A sparse ``y`` (a multilabel indicator matrix, a
            regressor's outputs) is trained on as the same targets dense;
            a classifier then predicts sparse labels, as scikit-learn's MLP.
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
        config = self._fit_config(
            incremental=False, has_validation_data=validation_data is not None
        )
        return fit_or_roll_back(
            self, config, X, y, sample_weight, validation_data, incremental=False
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
        X, _ = self._check_data(X, dtype=self._forward.dtype)
        return self._forward(X), dtype

    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data, dense or sparse whatever the training data were.

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

        The model has been called once, so Keras' ONNX export takes it as
        it is: ``model.export("model.onnx", format="onnx")`` on TensorFlow
        or JAX, with the ``onnx`` extra installed. A model loaded back from
        a ``.keras`` file has not (Keras does not save that): pass
        ``input_signature=model.inputs`` to its ``export``. A model fitted
        on sparse X takes the same features dense.

        Returns
        -------
        model : keras.Model
            Maps features (float32) to the network's outputs: the positive
            class's probability ``p`` (binary, one column;
            ``predict_proba`` gives ``(1 - p, p)``), the class
            probabilities (multiclass), each label's probability
            (multilabel) or the predicted values (regressor).

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
    # Pickling: the fitted state as _fitted saves it; the network is read
    # back into ``model_`` only when something reads it
    # ------------------------------------------------------------------
    def __getstate__(self):
        # A copy: on Python 3.11+ the inherited state is ``vars(self)`` itself.
        return _fitted.saved_state(dict(super().__getstate__()))

    def __setstate__(self, state):
        super().__setstate__(_fitted.loaded_state(state))

    def __getattr__(self, name):
        # Called only for attributes not found: ``model_`` of a loaded
        # estimator whose network is still an archive -- or was, until
        # another thread loaded it since this lookup failed.
        if name == "model_":
            model = _fitted.read_network(vars(self))
            if model is not None:
                return model
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

    Notes
    -----
    Unlike scikit-learn's MLP, ``fit`` and ``partial_fit`` refuse a target
    with a single class: ``fit(X, ["spam"] * len(X))`` raises ``ValueError:
    A classifier needs samples of at least 2 classes, but the data contains
    only one class: 'spam'. scikit-learn's MLPClassifier fits such a target
    and predicts that class everywhere; sknoise refuses it, as the network
    would learn nothing. Check that the target and any split of it keep every
    class (pass them all through `classes` to partial_fit), or predict the
    one class with sklearn.dummy.DummyClassifier.``

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
    _targets = ClassifierTargets()

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

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: dense if the first call's was, else sparse.
        y : {array-like, sparse matrix} of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix (dense or
            sparse).
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
        config = self._fit_config(incremental=True)
        if not self.__sklearn_is_fitted__():
            if classes is None and not is_multilabel(y):
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
        return fit_or_roll_back(
            self, config, X, y, sample_weight, None, incremental=True, classes=classes
        )

    def predict_proba(self, X):
        """Class probabilities for ``X``, computed with noise switched off.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data, dense or sparse whatever the training data were.

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
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data, dense or sparse whatever the training data were.

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

    _targets = RegressorTargets()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data: dense if the first call's was, else sparse.
        y : {array-like, sparse matrix} of shape (n_samples,) or (n_samples, n_outputs)
            Target values (a sparse ``y`` is trained on dense).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the training loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        config = self._fit_config(incremental=True)
        return fit_or_roll_back(
            self, config, X, y, sample_weight, None, incremental=True
        )
