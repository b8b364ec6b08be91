"""ONNX conversion of the estimators with skl2onnx.

`skl2onnx <https://onnx.ai/sklearn-onnx/>`_ turns scikit-learn models, whole
pipelines included, into ONNX graphs that onnxruntime runs (from Python,
C++, Java, C# or a browser). It converts a third party's estimator once that
estimator's converter is registered with it: :func:`register_converters`
registers those of :class:`~sknoise.NoisyMLPClassifier` and
:class:`~sknoise.NoisyMLPRegressor`.

At inference an sknoise network is dense layers and activations only (noise
and dropout act in training), so the graph is a ``MatMul``, an ``Add`` and
an activation per layer, computed in float32 as ``predict`` computes it.
Everything is read from the estimator's public fitted attributes:
``coefs_``, ``intercepts_``, ``classes_``, ``out_activation_`` and the
``activation`` parameter.

Importing this module imports neither skl2onnx nor Keras;
:func:`register_converters` imports skl2onnx, which the ``onnx`` extra
installs (``pip install "sknoise[onnx]"``).
"""

import numpy as np

from ._config import ACTIVATIONS
from ._estimators import NoisyMLPClassifier, NoisyMLPRegressor
from ._inference import _SELU_ALPHA, _SELU_SCALE

__all__ = ["register_converters"]

#: Activations that are one ONNX operator of the same meaning.
_ONE_NODE = {
    "relu": "Relu",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "logistic": "Sigmoid",
    "elu": "Elu",
    "softplus": "Softplus",
}
#: Every activation the converters write, hidden (sknoise's names) or output
#: (``out_activation_``, scikit-learn's names).
_ONNX_ACTIVATIONS = frozenset(
    {*_ONE_NODE, "linear", "identity", "softmax", "selu", "gelu", "swish"}
)
#: The names the converters are registered under with skl2onnx.
_CLASSIFIER_ALIAS = "SknoiseNoisyMLPClassifier"
_REGRESSOR_ALIAS = "SknoiseNoisyMLPRegressor"

#: The classifier's options, as skl2onnx's own classifiers take them:
#: ``zipmap`` (probabilities as a list of dicts, True; as a tensor, False;
#: or one output per class, "columns"), ``nocl`` (class indices as labels)
#: and ``output_class_labels``. Declaring ``zipmap`` lets skl2onnx parse
#: the classifier with its classifier parser, which applies them.
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [True, False],
    "output_class_labels": [False, True],
}


def register_converters():
    """Register the estimators' ONNX converters with skl2onnx.

    After this call, ``skl2onnx.to_onnx`` and ``skl2onnx.convert_sklearn``
    convert a fitted :class:`~sknoise.NoisyMLPClassifier` or
    :class:`~sknoise.NoisyMLPRegressor`, alone or as a step of a pipeline,
    for the rest of the process. Calling it again changes nothing.

    The classifier's graph has skl2onnx's classifier outputs: the labels
    (``classes_``, as int64 or strings; for multilabel targets a 0/1 int64
    matrix) and the probabilities of ``predict_proba``, as a list of dicts
    unless the option ``zipmap`` is False or "columns"; ``nocl=True`` gives
    class indices as labels. The regressor's graph has one output, the
    predictions, of shape ``(n_samples, n_outputs_)``. The network computes
    in float32, as ``predict`` does: float64 features (the graph's input and
    outputs then float64) and int64 features are cast to float32 first. The
    features are dense, even for a model fitted on sparse X.

    Raises
    ------
    ImportError
        If skl2onnx is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> import skl2onnx
    >>> from sknoise import NoisyMLPClassifier
    >>> from sknoise.onnx import register_converters
    >>> register_converters()
    >>> X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> clf = NoisyMLPClassifier(nodes=4, epochs=2).fit(X, y)
    >>> onx = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString())
    >>> labels, proba = session.run(None, {"X": X})
    >>> bool((labels == clf.predict(X)).all())
    True
    >>> float(np.abs(proba - clf.predict_proba(X)).max()) < 1e-6
    True
    """
    from skl2onnx import update_registered_converter

    update_registered_converter(
        NoisyMLPClassifier,
        _CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        NoisyMLPRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )


# ----------------------------------------------------------------------
# What the model's outputs are
# ----------------------------------------------------------------------
def _is_multilabel(model):
    # A binary classifier has one sigmoid unit for its two classes; a
    # multilabel one a sigmoid unit per label (see sknoise._targets).
    return model.out_activation_ == "logistic" and model.coefs_[-1].shape[1] > 1


def _class_labels(model):
    """``classes_`` as ONNX holds them: int64, or strings (as bytes)."""
    classes = model.classes_
    # Float labels are whole numbers: scikit-learn refuses other floats as
    # classes. Booleans become 0 and 1, as skl2onnx makes them.
    if classes.dtype.kind in "iubf":
        return classes.astype(np.int64)
    if all(isinstance(label, str) for label in classes):
        return np.array([label.encode("utf-8") for label in classes])
    raise ValueError(
        f"{type(model).__name__} has class labels {classes.tolist()} of "
        f"dtype {classes.dtype}: ONNX labels are int64 or strings. Fit it on "
        "labels of one of these types to convert it."
    )


def _classifier_shapes(operator):
    """skl2onnx's shape calculator: the label and probability types."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    model = operator.raw_operator
    n_rows = _check_input(operator, n_outputs=2)
    n_classes = len(model.classes_)
    nocl = operator.scope_inst.get_options(model, dict(nocl=False))["nocl"]
    if _is_multilabel(model):
        label = Int64TensorType([n_rows, n_classes])
    elif nocl or _class_labels(model).dtype == np.int64:
        label = Int64TensorType([n_rows])
    else:
        label = StringTensorType([n_rows])
    operator.outputs[0].type = label
    operator.outputs[1].type = _output_type(operator)([n_rows, n_classes])


def _regressor_shapes(operator):
    """skl2onnx's shape calculator: the predictions' type."""
    n_rows = _check_input(operator, n_outputs=1)
    n_outputs = operator.raw_operator.coefs_[-1].shape[1]
    operator.outputs[0].type = _output_type(operator)([n_rows, n_outputs])


def _check_input(operator, n_outputs):
    """Check the operator's one input and ``n_outputs`` outputs; return the
    number of rows (None when it varies)."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(
        operator, good_input_types=[FloatTensorType, DoubleTensorType, Int64TensorType]
    )
    n_features = operator.raw_operator.coefs_[0].shape[0]
    shape = operator.inputs[0].type.shape
    if len(shape) != 2 or shape[1] not in (None, n_features):
        raise ValueError(
            f"{type(operator.raw_operator).__name__} takes {n_features} "
            f"features, (n_samples, {n_features}); the ONNX input has shape "
            f"{list(shape)}."
        )
    return operator.inputs[0].get_first_dimension()


def _output_type(operator):
    """The float outputs' skl2onnx type: float64 for float64 features, as
    ``predict`` and ``predict_proba`` return them, float32 otherwise."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


# ----------------------------------------------------------------------
# The graph
# ----------------------------------------------------------------------
class _Graph:
    """Adds nodes and constants to skl2onnx's container under fresh names."""

    def __init__(self, scope, container):
        self.scope = scope
        self.container = container

    def node(self, op_type, inputs, output=None, **attributes):
        """Add one node; return the name of its (first) output."""
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            output,
            name=self.scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output

    def constant(self, value, onnx_type=None):
        """Add ``value`` (an array) as an initializer; return its name."""
        from onnx import TensorProto

        value = np.asarray(value)
        if onnx_type is None:
            onnx_type = {
                np.dtype(np.float32): TensorProto.FLOAT,
                np.dtype(np.int64): TensorProto.INT64,
            }[value.dtype]
        name = self.scope.get_unique_variable_name("constant")
        self.container.add_initializer(
            name, onnx_type, list(value.shape), value.ravel().tolist()
        )
        return name

    def cast(self, name, onnx_type, output=None):
        return self.node("Cast", [name], output, to=onnx_type)

    def activation(self, kind, x):
        """``kind`` (sknoise's or scikit-learn's name) applied to ``x``."""
        if kind in ("linear", "identity"):
            return x
        if kind in _ONE_NODE:
            return self.node(_ONE_NODE[kind], [x])
        if kind == "softmax":
            return self.node("Softmax", [x], axis=1)
        if kind == "selu":
            # Keras' constants (ONNX's defaults too).
            return self.node("Selu", [x], alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
        if kind == "gelu":
            # Keras' exact GELU, x (1 + erf(x / sqrt 2)) / 2: ONNX's own
            # Gelu needs opset 20, Erf only opset 9.
            scaled = self.node("Mul", [x, self.constant(np.float32([2**-0.5]))])
            one_plus = self.node(
                "Add", [self.node("Erf", [scaled]), self.constant(np.float32([1]))]
            )
            half_x = self.node("Mul", [x, self.constant(np.float32([0.5]))])
            return self.node("Mul", [half_x, one_plus])
        if kind == "swish":
            return self.node("Mul", [x, self.node("Sigmoid", [x])])
        raise ValueError(
            f"The activation {kind!r} has no ONNX form in sknoise's converter; "
            f"refit with one of {sorted(ACTIVATIONS & _ONNX_ACTIVATIONS)}."
        )


def _forward(graph, operator):
    """The network's outputs, float32, from the operator's input."""
    from onnx import TensorProto

    model = operator.raw_operator
    x = graph.cast(operator.inputs[0].full_name, TensorProto.FLOAT)
    n_layers = len(model.coefs_)
    for i, (kernel, bias) in enumerate(
        zip(model.coefs_, model.intercepts_, strict=True)
    ):
        x = graph.node("MatMul", [x, graph.constant(kernel)])
        x = graph.node("Add", [x, graph.constant(bias)])
        last = i == n_layers - 1
        x = graph.activation(model.out_activation_ if last else model.activation, x)
    return x


def _to_output_type(graph, operator, name, output):
    """Write ``name`` (float32) to ``output``, in the type of
    :func:`_output_type`."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    doubles = _output_type(operator) is DoubleTensorType
    graph.cast(name, TensorProto.DOUBLE if doubles else TensorProto.FLOAT, output)


def _convert_classifier(scope, operator, container):
    """skl2onnx's converter: labels and probabilities as ``predict`` and
    ``predict_proba`` give them."""
    from onnx import TensorProto

    model = operator.raw_operator
    graph = _Graph(scope, container)
    label, probabilities = (output.full_name for output in operator.outputs)
    raw = _forward(graph, operator)
    if _is_multilabel(model):
        _to_output_type(graph, operator, raw, probabilities)
        above = graph.node("Greater", [raw, graph.constant(np.float32([0.5]))])
        graph.cast(above, TensorProto.INT64, label)
        return
    if len(model.classes_) == 2:
        # One sigmoid unit: the columns are (1 - p, p), as predict_proba's.
        negative = graph.node("Sub", [graph.constant(np.float32([1])), raw])
        raw = graph.node("Concat", [negative, raw], axis=1)
    _to_output_type(graph, operator, raw, probabilities)
    # The first of equal probabilities wins, as in predict's argmax.
    index = graph.node("ArgMax", [raw], axis=1, keepdims=0)
    if scope.get_options(model, dict(nocl=False))["nocl"]:
        graph.node("Identity", [index], label)
        return
    classes = _class_labels(model)
    onnx_type = TensorProto.INT64 if classes.dtype == np.int64 else TensorProto.STRING
    graph.node("Gather", [graph.constant(classes, onnx_type), index], label, axis=0)


def _convert_regressor(scope, operator, container):
    """skl2onnx's converter: the predictions, (n_samples, n_outputs_)."""
    graph = _Graph(scope, container)
    raw = _forward(graph, operator)
    _to_output_type(graph, operator, raw, operator.outputs[0].full_name)
