"""One fit's configuration, worked out once from the validated parameters.

The estimators hold what the user set; :class:`FitConfig` says what a fit
does with it: the canonical hidden widths and noise sites, which training
loop runs, the training-step noise, early stopping and the optimizer. Every
rule that relates two parameters lives here, and so does the decision of
what needs a new network (:class:`NetworkStructure`) and what is only a value
held in a variable (:class:`Strengths`): a continued fit is checked against
the previous network in :func:`check_continuation` and nowhere else.
"""

import dataclasses
import inspect
from numbers import Integral
from typing import NamedTuple

from sklearn.base import is_classifier

from ._backend import import_keras, optimizer_config
from ._inference import ACTIVATIONS as NUMPY_ACTIVATIONS
from ._noise import STEP_SITES, resolve_noise_sites
from ._params import KERAS_LOOP_PREFIXES

# Files of earlier versions name the seeds ``sknoise._config.Seeds``.
from ._seeds import Seeds  # noqa: F401
from ._targets import MultilabelTargetEncoder

#: The hidden activations: those predictions can compute in NumPy, but the
#: output-only softmax and "silu", Keras' own name for swish.
ACTIVATIONS = frozenset(NUMPY_ACTIVATIONS) - {"softmax", "silu"}
OPTIMIZERS = frozenset(
    {"adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"}
)
#: The learning rate of an optimizer given by name or class, unless set.
DEFAULT_LEARNING_RATE = 0.001


def canonical_nodes(nodes, estimator_name):
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


@dataclasses.dataclass(frozen=True)
class NetworkStructure:
    """What a network is made of, as opposed to the values it holds.

    Two fits with equal structures can share a network (a continued fit) and
    a compiled training loop; amounts, strengths and rates are left out, as
    they live in variables. Each field's ``parameter`` metadata is what the
    user changes to change it.
    """

    n_features: int = dataclasses.field(metadata={"parameter": "n_features_in_"})
    n_outputs: int = dataclasses.field(metadata={"parameter": "n_outputs"})
    nodes: tuple = dataclasses.field(metadata={"parameter": "nodes"})
    activation: str = dataclasses.field(metadata={"parameter": "activation"})
    output_activation: str = dataclasses.field(
        metadata={"parameter": "output_activation"}
    )
    #: The layer and step sites that act; empty when ``noise_amount`` is 0.
    noise_sites: tuple = dataclasses.field(metadata={"parameter": "noise_site"})
    noise_type: str = dataclasses.field(metadata={"parameter": "noise_type"})
    dropout: bool = dataclasses.field(metadata={"parameter": "dropout"})
    penalised: bool = dataclasses.field(metadata={"parameter": "alpha or l1"})
    max_norm: float | None = dataclasses.field(metadata={"parameter": "max_norm"})
    #: Whether the network takes sparse X's padded (column, value) pairs
    #: rather than dense rows; defaulted, as files saved before it existed
    #: hold dense networks.
    sparse_input: bool = dataclasses.field(
        default=False, metadata={"parameter": "sparse X"}
    )


class Strengths(NamedTuple):
    """Values of the network's setting variables (see ``_layers``)."""

    noise: float
    dropout: float
    l2: float
    l1: float


class StepNoise(NamedTuple):
    """Noise the training step applies: amounts of 0 switch a site off."""

    labels: float
    gradients: float
    noise_type: str


class StoppingRule(NamedTuple):
    """Stop once ``monitor`` has not improved by ``tol`` for ``patience`` epochs."""

    monitor: str
    patience: int
    tol: float


class OptimizerSpec(NamedTuple):
    """The optimizer parameter, its learning rate and routed settings."""

    optimizer: object
    learning_rate: float | None
    routed: dict

    @property
    def effective_learning_rate(self):
        """The learning rate to train with; None keeps an instance's own."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        if isinstance(self.optimizer, str | type):
            return DEFAULT_LEARNING_RATE
        return None

    def kept_settings(self):
        """What a continued fit keeps: the optimizer's kind, configuration
        and routed settings (its state depends on them), by parameter name.
        The learning rate is a value: a continued fit may change it."""
        return self._identity(traced=False)

    def traced_settings(self):
        """What the compiled training step depends on, the compiled loop's
        key: the kept settings, an instance's class by its full path and
        its learning-rate schedule if it has one (a float rate is a
        variable's value, which the step reads, not a traced constant)."""
        return self._identity(traced=True)

    def _identity(self, *, traced):
        if isinstance(self.optimizer, str):
            kind = self.optimizer
        elif isinstance(self.optimizer, type):
            kind = f"{self.optimizer.__module__}.{self.optimizer.__qualname__}"
        else:
            cls = type(self.optimizer)
            config = optimizer_config(self.optimizer)
            config.pop("name", None)
            rate = config.pop("learning_rate", None)
            if traced and not isinstance(rate, float | None):
                config["learning_rate"] = rate
            # Saved files hold the kept kind: it keeps its short name.
            name = (
                f"{cls.__module__}.{cls.__qualname__}" if traced else cls.__qualname__
            )
            kind = f"{name}({config!r})"
        routed = {f"optimizer__{key}": value for key, value in self.routed.items()}
        return {"optimizer": kind, **routed}


class KeptState(NamedTuple):
    """What a continued fit must find unchanged: the network's structure and
    the optimizer's kept settings (see :func:`check_continuation`)."""

    structure: NetworkStructure
    optimizer: dict


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """What one call to ``fit`` or ``partial_fit`` does.

    Build it with :meth:`from_estimator` after scikit-learn's parameter
    validation; it raises, naming the parameters, for combinations that the
    per-parameter constraints cannot see.
    """

    estimator_name: str
    classifier: bool
    nodes: tuple
    noise_sites: tuple
    noise_amount: float
    noise_type: str
    activation: str
    alpha: float
    l1: float
    dropout: float
    max_norm: float | None
    batch_size: int
    epochs: int
    training_loop: str
    step_noise: StepNoise
    early_stopping: StoppingRule | None
    holds_out: bool
    validation_fraction: float
    optimizer: OptimizerSpec
    keras_fit_params: dict
    callbacks: tuple
    verbose: int
    #: A classifier's ``class_weight`` (None for a regressor).
    class_weight: dict | str | None = None

    @classmethod
    def from_estimator(cls, estimator, routed, *, incremental, has_validation_data):
        """The configuration of a fit of ``estimator`` with its parameters now.

        ``routed`` are its routed parameters by destination (see
        :func:`sknoise._params.routed_params`); ``incremental`` is a
        ``partial_fit`` (one epoch, no early stopping);
        ``has_validation_data`` whether ``fit`` got ``validation_data``.
        """
        name = type(estimator).__name__
        classifier = is_classifier(estimator)
        _check_optimizer_class(estimator.optimizer, name)
        _check_keras_routes(routed, estimator.callbacks, name)
        sites = resolve_noise_sites(estimator.noise_site)
        training_loop = _training_loop(estimator, routed, sites)
        amount = float(estimator.noise_amount)
        _check_targets_and_amounts(estimator, sites, incremental=incremental)
        # As in scikit-learn's MLP, partial_fit does not stop early.
        early_stopping = None
        if estimator.early_stopping and not incremental:
            early_stopping = StoppingRule(
                estimator.monitor, estimator.n_iter_no_change, estimator.tol
            )
        return cls(
            estimator_name=name,
            classifier=classifier,
            nodes=canonical_nodes(estimator.nodes, name),
            noise_sites=sites,
            noise_amount=amount,
            noise_type=estimator.noise_type,
            activation=estimator.activation,
            alpha=float(estimator.alpha),
            l1=float(estimator.l1),
            dropout=float(estimator.dropout),
            max_norm=None if estimator.max_norm is None else float(estimator.max_norm),
            batch_size=estimator.batch_size,
            epochs=1 if incremental else estimator.epochs,
            training_loop=training_loop,
            step_noise=StepNoise(
                *(amount if site in sites else 0.0 for site in ("labels", "gradients")),
                estimator.noise_type,
            ),
            early_stopping=early_stopping,
            holds_out=early_stopping is not None
            and early_stopping.monitor.startswith("val_")
            and not has_validation_data,
            validation_fraction=estimator.validation_fraction,
            optimizer=OptimizerSpec(
                estimator.optimizer, estimator.learning_rate, routed["optimizer"]
            ),
            keras_fit_params={
                f"{prefix}__{key}": value
                for prefix in sorted(KERAS_LOOP_PREFIXES)
                for key, value in routed[prefix].items()
            },
            callbacks=_callback_list(estimator.callbacks),
            verbose=estimator.verbose,
            class_weight=getattr(estimator, "class_weight", None),
        )

    def structure(self, n_features, encoder, *, sparse_input=False):
        """The network this fit needs, for data of ``n_features`` (sparse if
        ``sparse_input``) and targets encoded by ``encoder``."""
        noise_sites = self.noise_sites if self.noise_amount > 0 else ()
        if sparse_input and "input" in noise_sites and self.noise_type == "gaussian":
            raise ValueError(
                f"The 'noise_site' parameter of {self.estimator_name} cannot "
                "include 'input' with sparse X and noise_type='gaussian': "
                "additive noise on every feature would make all the zeros of "
                "X non-zero, a dense matrix. Pass X dense, use "
                "noise_type='multiplicative' (x * (1 + noise) moves only the "
                "stored entries, as it would on dense X), or choose another "
                "noise_site."
            )
        return NetworkStructure(
            n_features=n_features,
            n_outputs=encoder.n_outputs_,
            nodes=self.nodes,
            activation=self.activation,
            output_activation=encoder.output_activation_,
            noise_sites=noise_sites,
            noise_type=self.noise_type,
            dropout=self.dropout > 0,
            penalised=self.alpha > 0 or self.l1 > 0,
            max_norm=self.max_norm,
            sparse_input=sparse_input,
        )

    def check_class_weight(self, encoder):
        """Refuse ``class_weight`` for targets whose labels are not classes
        of one another (a multilabel ``encoder``)."""
        if self.class_weight is not None and isinstance(
            encoder, MultilabelTargetEncoder
        ):
            raise ValueError(
                f"The 'class_weight' parameter of {self.estimator_name} must be "
                "None for multilabel targets, whose labels are not classes of one "
                "another."
            )

    def strengths(self, n_samples):
        """The setting variables' values for training on ``n_samples`` samples."""
        # scikit-learn's MLP divides its L2 term by the rows of the batch;
        # the L1 term follows the same convention.
        batch = min(self.batch_size, n_samples)
        return Strengths(
            noise=self.noise_amount,
            dropout=self.dropout,
            l2=0.5 * self.alpha / batch,
            l1=self.l1 / batch,
        )


def divergence_hints(config, largest_feature, largest_weight):
    """Likely causes of a diverged fit, from its settings and data."""
    hints = []
    acting = [site for site in config.noise_sites if site != "gradients"]
    if config.classifier and "labels" in acting:
        acting.remove("labels")  # label smoothing is bounded
    if config.noise_amount >= 10 and acting:
        hints.append(
            f"noise_amount={config.noise_amount:g} at noise_site {acting} is far "
            "larger than standardised data; try amounts below 1"
        )
    if "gradients" in config.noise_sites and config.noise_amount >= 10:
        hints.append(
            f"noise_amount={config.noise_amount:g} is the variance of the "
            "gradient noise; try amounts below 1"
        )
    rate = config.optimizer.effective_learning_rate
    if rate is not None and rate >= 0.1:
        hints.append(f"learning_rate={rate:g} is large; lower it")
    if largest_weight > 1e3:
        hints.append(
            f"sample weights reach {largest_weight:.3g} (sample_weight times "
            "class_weight); scale them down"
        )
    if largest_feature > 100 or not hints:
        hints.append(
            f"the largest |feature| is {largest_feature:.3g}; standardise the "
            "inputs (e.g. StandardScaler in a Pipeline)"
        )
    return "; ".join(hints)


def check_continuation(previous, wanted):
    """Refuse a continued fit whose parameters ask for a different network
    or optimizer; ``previous`` and ``wanted`` are :class:`KeptState`."""
    changed = [
        (field.metadata["parameter"], getattr(previous.structure, field.name),
         getattr(wanted.structure, field.name))
        for field in dataclasses.fields(NetworkStructure)
        if getattr(previous.structure, field.name)
        != getattr(wanted.structure, field.name)
    ]  # fmt: skip
    missing = object()
    for name in sorted(set(previous.optimizer) | set(wanted.optimizer)):
        old = previous.optimizer.get(name, missing)
        new = wanted.optimizer.get(name, missing)
        if old != new:
            changed.append((name, old, new))
    if changed:
        name, old, new = changed[0]
        old, new = ("unset" if v is missing else repr(v) for v in (old, new))
        raise ValueError(
            "warm_start and partial_fit continue the fitted network and its "
            "optimizer's state, but the parameters now ask for a different "
            f"one ({', '.join(change[0] for change in changed)} changed: "
            f"{old} -> {new}). Fit with warm_start=False to start afresh; "
            "learning_rate, noise_amount, alpha, l1 and dropout may change."
        )


def _check_targets_and_amounts(estimator, sites, *, incremental):
    """Refuse what a classifier's or a regressor's parameters cannot mean
    together: label smoothing beyond 1, a regressor monitoring accuracy,
    balanced class weights from one batch."""
    name = type(estimator).__name__
    classifier = is_classifier(estimator)
    if "labels" in sites and classifier and float(estimator.noise_amount) > 1:
        raise ValueError(
            f"The 'noise_amount' parameter of {name} must be in [0, 1] with "
            "noise_site 'labels': for a classifier it is the label smoothing "
            f"factor. Got {estimator.noise_amount!r}."
        )
    if estimator.monitor.endswith("accuracy") and not classifier:
        raise ValueError(
            f"The 'monitor' parameter of {name} must be 'loss' or 'val_loss'; "
            f"a regressor logs no accuracy. Got {estimator.monitor!r}."
        )
    if incremental and getattr(estimator, "class_weight", None) == "balanced":
        raise ValueError(
            "class_weight='balanced' needs the whole data set and is not "
            "supported by partial_fit; pass a dict of class weights instead."
        )


def _check_optimizer_class(optimizer, name):
    if not isinstance(optimizer, type):
        return  # a name, or an instance (the constraints checked its type)
    if not issubclass(optimizer, import_keras().optimizers.Optimizer):
        raise ValueError(
            f"The 'optimizer' parameter of {name} must be an optimizer name, "
            "a keras.optimizers.Optimizer subclass or instance. Got the class "
            f"{optimizer.__name__}."
        )


def _check_keras_routes(routed, callbacks, name):
    """Refuse ``fit__*`` and ``callbacks__*`` parameters Keras would not use.

    Keras is loaded only to read ``Model.fit``'s arguments, when there are
    ``fit__*`` parameters to check against them.
    """
    if routed["fit"]:
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


def _callback_list(callbacks):
    if callbacks is None:
        return ()
    if isinstance(callbacks, list):
        return tuple(callbacks)
    return (callbacks,)


def _training_loop(estimator, routed, sites):
    """``"compiled"`` or ``"keras"``: the loop this fit runs."""
    needs_keras = bool(estimator.callbacks) or any(
        routed[prefix] for prefix in KERAS_LOOP_PREFIXES
    )
    step_sites = sorted(STEP_SITES.intersection(sites))
    if step_sites and (needs_keras or estimator.training_loop == "keras"):
        raise ValueError(
            f"noise_site {step_sites} with Keras callbacks, fit__/callbacks__ "
            "parameters or training_loop='keras' is not supported: these noise "
            "sites act inside sknoise's compiled training loop, and only Keras' "
            "own fit runs callbacks. Drop the callbacks and routed fit "
            "parameters (early_stopping, validation_data and verbose work "
            "without them), or choose another noise_site."
        )
    if estimator.training_loop == "compiled" and needs_keras:
        raise ValueError(
            "training_loop='compiled' cannot run Keras callbacks or routed "
            "fit__/callbacks__ parameters; use training_loop='auto' or 'keras'."
        )
    if estimator.training_loop == "auto":
        return "keras" if needs_keras else "compiled"
    return estimator.training_loop
