"""Routed parameters: keyword parameters beyond the constructor's names.

As in scikeras, ``optimizer__beta_1=0.8``, ``fit__shuffle=False`` or
``callbacks__patience=3`` are parameters like any other: stored by
``__init__`` as they are, returned by ``get_params``, set by
``set_params``, cloned and searched over. Each names its destination before
``__``; :func:`routed_params` checks them when a fit starts and hands them
out by destination. A name the estimators do not take -- scikit-learn's
MLP's, Keras', a typo -- gets an error that says what to write instead
(:func:`name_advice`), and so do the values of scikit-learn's MLP that
sknoise spells otherwise (:func:`value_advice`).
"""

import difflib

#: Keyword arguments beyond the named parameters must be routed to one of
#: these destinations, e.g. ``optimizer__beta_1=0.8`` or ``fit__shuffle=False``.
ROUTING_PREFIXES = frozenset({"optimizer", "fit", "callbacks"})
#: Routed parameters only Keras' own fit loop can honour.
KERAS_LOOP_PREFIXES = frozenset({"fit", "callbacks"})
#: Where ``__init__`` keeps keyword parameters shaped like fitted
#: (``model_``) or private attributes, so that they cannot make the
#: estimator look fitted; a fit rejects them.
MISNAMED = "_misnamed_params"

#: Parameter names a user of scikit-learn's MLP (or of Keras) will type, with
#: what sknoise takes instead; the error for an unknown parameter says it.
OTHER_NAMES = {
    "hidden_layer_sizes": "scikit-learn's name for 'nodes', one width per "
    "hidden layer: nodes=(100, 50)",
    "max_iter": "scikit-learn's name for 'epochs'",
    "learning_rate_init": "scikit-learn's name for 'learning_rate'",
    "solver": "scikit-learn's name for 'optimizer': 'adam' (the default), "
    "'sgd' or another Keras optimizer; L-BFGS has no counterpart",
    "momentum": "use optimizer='sgd' with 'optimizer__momentum'",
    "nesterovs_momentum": "use optimizer='sgd' with 'optimizer__nesterov'",
    "beta_1": "route it to the optimizer: 'optimizer__beta_1'",
    "beta_2": "route it to the optimizer: 'optimizer__beta_2'",
    "epsilon": "route it to the optimizer: 'optimizer__epsilon'",
    "shuffle": "the compiled loop always shuffles; 'fit__shuffle' routes it "
    "to Keras' fit, which then runs instead",
    "power_t": "the exponent of scikit-learn's learning_rate='invscaling'; "
    "for a decaying rate pass a Keras schedule as 'optimizer__learning_rate', "
    "e.g. keras.optimizers.schedules.InverseTimeDecay",
    "max_fun": "scikit-learn's, for solver='lbfgs' only, which has no counterpart here",
    "lr": "Keras' former name for 'learning_rate'",
    "l2": "use 'alpha', the L2 penalty (as in scikit-learn; 'l1' is the L1 one)",
    "patience": "Keras' name for 'n_iter_no_change' (with early_stopping=True)",
    "min_delta": "Keras' name for 'tol' (with early_stopping=True)",
    "validation_split": "Keras' name for 'validation_fraction' (with "
    "early_stopping=True)",
    "seed": "use 'random_state'",
    "random_seed": "use 'random_state'",
    "dropout_rate": "use 'dropout'",
}
#: Values scikit-learn's MLP takes that sknoise spells otherwise, by
#: (parameter, value): the error for the value says what to write.
OTHER_VALUES = {
    ("activation", "logistic"): "scikit-learn's 'logistic' is 'sigmoid' here.",
    ("activation", "identity"): "scikit-learn's 'identity' is 'linear' here.",
    ("optimizer", "lbfgs"): "Keras has no L-BFGS: use 'adam' (the default) or 'sgd'.",
    ("learning_rate", "constant"): "scikit-learn's learning_rate names a "
    "schedule; here it is the rate (scikit-learn's learning_rate_init), "
    "constant unless a schedule is routed: leave it None (0.001) or give a "
    "float.",
    ("learning_rate", "invscaling"): "scikit-learn's learning_rate names a "
    "schedule; here it is the rate (scikit-learn's learning_rate_init). For "
    "a decaying rate pass a Keras schedule as optimizer__learning_rate, e.g. "
    "keras.optimizers.schedules.InverseTimeDecay.",
    ("learning_rate", "adaptive"): "scikit-learn's learning_rate names a "
    "schedule; here it is the rate (scikit-learn's learning_rate_init). To "
    "lower it when the loss stops improving, pass "
    "callbacks=[keras.callbacks.ReduceLROnPlateau()].",
}


def keep_keyword_params(estimator, params):
    """Store ``__init__``'s extra keyword ``params`` on ``estimator``, as
    they are; they are validated when a fit starts."""
    for key, value in params.items():
        if key.startswith("_") or key.endswith("_"):
            vars(estimator).setdefault(MISNAMED, {})[key] = value
        else:
            setattr(estimator, key, value)


def extra_params(estimator):
    """Keyword parameters beyond the named ones (normally routed ones)."""
    named = estimator._get_param_names()
    return {
        key: value
        for key, value in vars(estimator).items()
        if key not in named and not key.startswith("_") and not key.endswith("_")
    }


def set_extra_params(estimator, params):
    """Set the routed (and already extra) parameters of ``params`` on
    ``estimator``; return the others, for scikit-learn's ``set_params``."""
    extra = extra_params(estimator)
    rest = dict(params)
    for key in params:
        if key in extra or key.partition("__")[0] in ROUTING_PREFIXES:
            setattr(estimator, key, rest.pop(key))
    return rest


def routed_params(estimator):
    """The routed parameters by destination, each with its prefix removed;
    raises, naming them, for parameters no destination takes."""
    name = type(estimator).__name__
    extra = extra_params(estimator)
    unknown = [
        key
        for key in extra
        if key.partition("__")[0] not in ROUTING_PREFIXES or "__" not in key
    ]
    unknown += list(vars(estimator).get(MISNAMED, {}))
    if unknown:
        advice = name_advice(estimator, unknown)
        raise ValueError(
            f"{name} got unknown parameters {sorted(unknown)}. "
            f"{advice + ' ' if advice else ''}Extra keyword parameters must be "
            f"routed to one of {sorted(p + '__' for p in ROUTING_PREFIXES)}."
        )
    routed = {prefix: {} for prefix in ROUTING_PREFIXES}
    for key, value in extra.items():
        prefix, _, rest = key.partition("__")
        routed[prefix][rest] = value
    return routed


def name_advice(estimator, keys):
    """What to write instead of the parameter names ``keys`` that
    ``estimator`` does not take, as sentences ("" if there is nothing to
    suggest): scikit-learn's and Keras' names (:data:`OTHER_NAMES`), a
    misspelt routing prefix, or the close match of a typo."""
    names = estimator._get_param_names()
    sentences = []
    for key in sorted(keys):
        advice = _advice(key, names)
        if advice:
            end = "" if advice.endswith("?") else "."
            sentences.append(f"{key!r}: {advice}{end}")
    return " ".join(sentences)


def _advice(key, names):
    if key in OTHER_NAMES:
        return OTHER_NAMES[key]
    prefix, routed, rest = key.partition("__")
    if routed and prefix not in names:
        close = difflib.get_close_matches(prefix, ROUTING_PREFIXES, n=1)
        return f"did you mean '{close[0]}__{rest}'?" if close else None
    for prefix in ("optimizer", "callbacks"):
        # One underscore for a route's two: optimizer_beta_1.
        if key.startswith(f"{prefix}_"):
            return f"did you mean '{prefix}_{key[len(prefix) :]}'?"
    close = difflib.get_close_matches(key, [*names, *OTHER_NAMES], n=1, cutoff=0.8)
    if not close:
        return None
    if close[0] in OTHER_NAMES:
        return f"{OTHER_NAMES[close[0]]} (taking it for {close[0]!r})"
    return f"did you mean {close[0]!r}?"


def value_advice(estimator, message):
    """What to write instead of a value scikit-learn's MLP takes and
    sknoise spells otherwise (:data:`OTHER_VALUES`), for the parameter that
    the validation error ``message`` names; None if there is none."""
    for (name, value), advice in OTHER_VALUES.items():
        given = getattr(estimator, name, None)
        if isinstance(given, str) and given == value and f"'{name}'" in message:
            return advice
    return None
