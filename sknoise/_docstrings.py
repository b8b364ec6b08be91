"""Docstring sections the two estimators share, written once, and where
the documentation lives.

The estimators' ``__doc__`` are f-strings that splice these in, so that a
parameter shared by the classifier and the regressor is described in one
place.
"""

#: Where the documentation is published: the API page of an estimator is
#: ``generated/sknoise.<name>.html`` under it, as docs/api.rst builds it, and
#: the HTML representation's "?" links there.
DOCS_URL = "https://sknoise.readthedocs.io/en/stable/"

COMMON_PARAMETERS = """\
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
        With sparse X, "input" needs ``noise_type="multiplicative"``, which
        moves only the stored entries (additive noise would densify X).
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
    learning_rate : float or None, default=None
        The optimizer's learning rate. None trains an optimizer given by
        name or class at 0.001 and an optimizer instance at its own
        configured rate; a float overrides either. ``optimizer__learning_rate``
        (e.g. a Keras schedule) takes precedence over both.
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
        ``noise_amount``, ``alpha``, ``l1``, ``dropout`` and
        ``learning_rate``. Parameters that would change the network itself
        (``nodes``, ``noise_site``, ``noise_type``, ``max_norm``, or
        switching noise, dropout or the penalties on or off) or the
        optimizer (``optimizer``, ``optimizer__*``) raise a ValueError then,
        as does a regressor's target with another number of outputs.
    training_loop : {"auto", "compiled", "keras"}, default="auto"
        "compiled" runs many epochs inside one compiled call of the Keras
        backend (``jax.jit``, or ``tf.function`` with XLA): on the published
        setting 26 times (JAX) to 426 times (TensorFlow) faster per epoch
        than Keras' ``fit`` (``benchmarks/speed.py``); the compiled program
        is reused by later fits of the same shapes, whatever their
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
        Verbosity during training: 0 silent; 1 progress while the fit runs
        (Keras' bar in Keras' loop; in the compiled loop a tqdm bar where
        tqdm is installed, otherwise a line about every half second); 2 one
        line per epoch."""

# Last in every Parameters section, as in the signatures.
KWARGS = """\
    **kwargs
        Routed parameters: ``optimizer__*``, ``fit__*`` (e.g.
        ``fit__shuffle=False``) and ``callbacks__*``, as in scikeras."""

COMMON_ATTRIBUTES = """\
    model_ : keras.Model
        The trained network (loading it saved needs ``import sknoise``, for
        its noise layers; see ``export_model`` for one that loads anywhere).
        Predictions do not call it: they are computed in NumPy float32 from
        its weights (``coefs_``, ``intercepts_``), and returned as float32
        for float32 input, else float64. An estimator loaded from a file
        loads it, and Keras, only when it is first read, or when training
        continues (so ``hasattr(model, "model_")`` loads them too; use
        ``sklearn.utils.validation.check_is_fitted`` to ask whether it is
        fitted). Its noise layers are named after their site
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
    t_ : int
        Training samples seen since the network was built (epochs times
        rows trained on, after any early-stopping hold-out).
    loss_curve_ : list of float
        The training loss of every epoch (``history_["loss"]``), penalties
        included, as in scikit-learn's MLP.
    best_loss_ : float or None
        The smallest entry of ``loss_curve_``; None with early stopping.
    validation_scores_ : list of float or None
        With early stopping, the validation score of every epoch:
        accuracy for a classifier, R² for a regressor (variance-weighted
        over several outputs); None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``; None without early stopping.
    out_activation_ : str
        The output activation, in scikit-learn's names: "logistic",
        "softmax" or "identity".
    coefs_ : list of ndarray
        The weight matrix of each layer, as in scikit-learn's MLP:
        ``coefs_[i]`` has shape (units of layer i, units of layer i + 1).
        Read-only float32 views of the arrays predictions use.
    intercepts_ : list of ndarray
        The bias vector of each layer: ``intercepts_[i]`` has shape
        (units of layer i + 1,). Read-only float32 views.
    n_layers_ : int
        Number of layers, the input and output layers included.
    noise_sites_ : tuple of str
        The canonical noise sites used, e.g. ``("input", "hidden")``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of features seen during ``fit``, when ``X`` has string column
        names (e.g. a pandas DataFrame)."""
