"""scikit-learn's own estimator checks, run on both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor

# Small and fast, yet able to fit the checks' toy problems.
FAST = {"nodes": 16, "epochs": 30, "batch_size": 64, "learning_rate": 0.01}

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch SGD with reshuffling cannot make a weight of 2 equal to a "
        "repeated row"
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "as on dense data: mini-batch SGD with reshuffling cannot make a weight "
        "of 2 equal to a repeated row"
    ),
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [NoisyMLPClassifier(**FAST), NoisyMLPRegressor(**FAST)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
