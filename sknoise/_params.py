"""Routed parameters: keyword parameters beyond the constructor's names.

As in scikeras, ``optimizer__beta_1=0.8``, ``fit__shuffle=False`` or
``callbacks__patience=3`` are parameters like any other: stored by
``__init__`` as they are, returned by ``get_params``, set by
``set_params``, cloned and searched over. Each names its destination before
``__``; :func:`routed_params` checks them when a fit starts and hands them
out by destination.
"""

import inspect

from ._backend import import_keras

#: Keyword arguments beyond the named parameters must be routed to one of
#: these destinations, e.g. ``optimizer__beta_1=0.8`` or ``fit__shuffle=False``.
ROUTING_PREFIXES = frozenset({"optimizer", "fit", "callbacks"})
#: Routed parameters only Keras' own fit loop can honour.
KERAS_LOOP_PREFIXES = frozenset({"fit", "callbacks"})
#: Where ``__init__`` keeps keyword parameters shaped like fitted
#: (``model_``) or private attributes, so that they cannot make the
#: estimator look fitted; a fit rejects them.
MISNAMED = "_misnamed_params"


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
        raise ValueError(
            f"{name} got unknown parameters {sorted(unknown)}. Extra keyword "
            "parameters must be routed to one of "
            f"{sorted(p + '__' for p in ROUTING_PREFIXES)}."
        )
    routed = {prefix: {} for prefix in ROUTING_PREFIXES}
    for key, value in extra.items():
        prefix, _, rest = key.partition("__")
        routed[prefix][rest] = value
    _check_keras_routes(routed, estimator.callbacks, name)
    return routed


def _check_keras_routes(routed, callbacks, name):
    """Refuse ``fit__*`` and ``callbacks__*`` parameters Keras would not use."""
    keras_fit = inspect.signature(import_keras().Model.fit).parameters
    unknown = sorted(f"fit__{key}" for key in routed["fit"] if key not in keras_fit)
    if unknown:
        raise ValueError(
            f"{name} got {unknown}, but Keras' Model.fit takes no such "
            f"argument; it takes {sorted(set(keras_fit) - {'self'})}."
        )
    if routed["callbacks"] and not callbacks:
        keys = sorted(f"callbacks__{key}" for key in routed["callbacks"])
        raise ValueError(
            f"{name} got {keys}, which are routed to the callbacks, but the "
            "'callbacks' parameter is None: there is nothing to route them to."
        )
