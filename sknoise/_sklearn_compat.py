"""The private scikit-learn names sknoise relies on, imported in one place.

scikit-learn's parameter-validation machinery, ``_check_sample_weight`` and
``_align_api_if_sparse`` are private, so a scikit-learn release may move or
change them; when one does, this module is the only one to adapt (as
imbalanced-learn does with its ``utils/_sklearn_compat.py``).
"""

import sys

import scipy.sparse as sp
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight as check_sample_weight

# Sparse results in the sparse interface scikit-learn returns (scipy
# matrices, or arrays under ``sklearn.set_config(sparse_interface=...)``), as
# its LabelBinarizer gives the sparse predictions of a sparse multilabel y.
try:
    from sklearn.utils._sparse import _align_api_if_sparse as sparse_result
except ImportError:  # scikit-learn < 1.9: always scipy matrices

    def sparse_result(X):
        return sp.csr_matrix(X) if sp.issparse(X) else X


__all__ = [
    "Interval",
    "InvalidParameterError",
    "KerasInstance",
    "StrOptions",
    "check_sample_weight",
    "sparse_result",
    "validate_params",
]


class KerasInstance(HasMethods):
    """Constraint: an instance of the Keras class ``keras.<path>``, checked
    without importing Keras.

    An object of a Keras class exists only once Keras is imported, so with
    no ``keras`` module loaded nothing satisfies the constraint, nor while
    another thread is still importing it and the class is not defined yet.
    (It derives from ``HasMethods`` because scikit-learn accepts the
    constraint objects of its own classes only.)
    """

    def __init__(self, path):
        super().__init__([])
        self.path = path

    def is_satisfied_by(self, val):
        cls = sys.modules.get("keras")
        for name in self.path.split("."):
            cls = getattr(cls, name, None)
        return isinstance(cls, type) and isinstance(val, cls)

    def __str__(self):
        return f"an instance of 'keras.{self.path}'"
