"""The private scikit-learn names sknoise relies on, imported in one place.

scikit-learn's parameter-validation machinery and ``_check_sample_weight``
are private, so a scikit-learn release may move or change them; when one
does, this module is the only one to adapt (as imbalanced-learn does with
its ``utils/_sklearn_compat.py``).
"""

from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import _check_sample_weight as check_sample_weight

__all__ = ["Interval", "StrOptions", "check_sample_weight", "validate_params"]
