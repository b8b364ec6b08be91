"""Parallel searches (joblib's processes, a Dask cluster) and flat memory."""

import gc
import os

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from benchmarks.memory import resident_mib
from sknoise import NoisyMLPClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 2)).astype("float32")
y = (X[:, 0] * X[:, 1] > 0).astype(int)
GRID = {"nodes": [4, 8], "noise_amount": [0.05, 0.5]}


def search():
    estimator = NoisyMLPClassifier(epochs=10, batch_size=8, random_state=0)
    return GridSearchCV(estimator, GRID, cv=3)


@pytest.fixture(scope="module")
def serial_scores():
    return search().fit(X, y).cv_results_["mean_test_score"]


def test_process_parallel_search_matches_serial(serial_scores):
    parallel = search().set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial_scores
    )


def _search_on_dask(processes):
    """The search on a local Dask cluster of two workers: processes (each
    imports Keras and compiles, as on a real cluster) or threads of this
    one."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            fitted = search().fit(X, y)
        # The fits ran on the cluster's workers.
        assert len(client.scheduler_info()["workers"]) == 2
    return fitted.cv_results_["mean_test_score"]


def test_dask_search_matches_serial(serial_scores):
    np.testing.assert_array_equal(_search_on_dask(processes=False), serial_scores)


@pytest.mark.slow
def test_dask_cluster_of_processes_search_matches_serial(serial_scores):
    # Dask's nanny writes its workers' variables (OMP_NUM_THREADS=1 among
    # them) into this process's environment before it spawns them: give the
    # environment back, or every later test in this process runs under a
    # BLAS thread limit.
    environment = dict(os.environ)
    try:
        scores = _search_on_dask(processes=True)
    finally:
        os.environ.clear()
        os.environ.update(environment)
    np.testing.assert_array_equal(scores, serial_scores)


def test_memory_stays_flat_over_many_fits():
    def fit_some(n):
        for seed in range(n):
            NoisyMLPClassifier(8, epochs=5, random_state=seed).fit(X, y).predict(X)
        gc.collect()

    fit_some(10)
    before = resident_mib()
    fit_some(50)
    # Stock scikeras grows ~6.5 MiB per fit (over 300 MiB here); sknoise
    # measured ~0.1 MiB per fit. The bound leaves room for allocator noise.
    assert resident_mib() - before < 50
