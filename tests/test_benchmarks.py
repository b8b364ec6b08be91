"""The benchmarks' statistics agree with scikit-learn's own tools."""

import numpy as np
from sklearn.model_selection import GridSearchCV

from benchmarks import _common, grid_search


def test_grid_evaluation_matches_gridsearchcv():
    X, y, _, _ = _common.published_split()
    grid = {"nodes": [8, 16], "noise_amount": [0.01, 0.5]}
    candidates, scores = grid_search.cross_validate_grid(
        X, y, grid, epochs=20, seed=0, repeats=1, n_jobs=1
    )
    search = GridSearchCV(grid_search.make_estimator({}, 20, 0), grid, cv=5)
    search.fit(X, y)
    assert candidates == search.cv_results_["params"]
    np.testing.assert_allclose(
        scores.mean(axis=1), search.cv_results_["mean_test_score"]
    )
    np.testing.assert_allclose(scores.std(axis=1), search.cv_results_["std_test_score"])
    best = int(np.argmax(scores.mean(axis=1)))
    assert candidates[best] == search.best_params_


def test_corrected_comparison_flags_only_real_differences():
    rng = np.random.default_rng(0)
    n_splits = 50
    best = 0.8 + rng.normal(0, 0.05, n_splits)
    same = best + rng.normal(0, 0.01, n_splits)
    worse = best - 0.2 + rng.normal(0, 0.01, n_splits)
    scores = np.vstack([best, same, worse])
    half_widths, p_values = grid_search.corrected_comparison(
        scores, 0, n_train=24, n_test=6, repeats=10
    )
    assert p_values[0] == 1.0
    assert p_values[1] > 0.05
    assert p_values[2] < 0.001
    # The correction widens the naive interval: n_test / n_train = 0.25 dominates.
    naive = 2.01 * scores.std(axis=1, ddof=1) / np.sqrt(n_splits)
    assert np.all(half_widths > 3 * naive)


def test_grid_evaluation_is_reproducible_with_a_seed():
    X, y, _, _ = _common.published_split()
    grid = {"nodes": [8], "noise_amount": [0.1, 1.0]}

    def run(seed):
        return grid_search.cross_validate_grid(
            X, y, grid, epochs=15, seed=seed, repeats=2, n_jobs=1
        )[1]

    first = run(seed=3)
    np.testing.assert_array_equal(first, run(seed=3))
    assert first.shape == (2, 10)
