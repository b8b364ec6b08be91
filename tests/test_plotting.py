"""sknoise.plotting draws headless (Agg) figures with labelled axes."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sknoise import NoisyMLPClassifier
from sknoise.plotting import (
    plot_decision_surface,
    plot_grid_heatmap,
    plot_learning_curves,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_learning_curves_train_and_test_per_metric():
    history = {
        "loss": [0.7, 0.5, 0.4],
        "accuracy": [0.5, 0.7, 0.8],
        "val_loss": [0.7, 0.6, 0.65],
        "val_accuracy": [0.5, 0.6, 0.6],
    }
    loss_ax, accuracy_ax = plot_learning_curves(history, title="model")
    assert (loss_ax.get_xlabel(), loss_ax.get_ylabel()) == ("epoch", "loss")
    assert accuracy_ax.get_ylabel() == "accuracy"
    for ax, key in ((loss_ax, "loss"), (accuracy_ax, "accuracy")):
        train, test = ax.get_lines()
        np.testing.assert_array_equal(train.get_ydata(), history[key])
        np.testing.assert_array_equal(test.get_ydata(), history["val_" + key])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert loss_ax.figure.get_suptitle() == "model"


def test_learning_curves_without_validation_or_accuracy():
    (ax,) = plot_learning_curves({"loss": [1.0, 0.5]})
    assert len(ax.get_lines()) == 1


def test_decision_surface_covers_the_data_and_draws_the_points():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    clf = NoisyMLPClassifier(8, epochs=5, random_state=0).fit(X[:30], y[:30])
    ax = plot_decision_surface(clf, X[:30], y[:30], X[30:], y[30:], resolution=20)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    low, high = ax.get_xlim()
    assert low <= X[:, 0].min() and high >= X[:, 0].max()
    offsets = [collection.get_offsets() for collection in ax.collections[-2:]]
    assert [len(o) for o in offsets] == [30, 10]
    # The colour bar is the probability of the positive class.
    assert ax.figure.axes[-1].get_ylabel() == "P(class 1)"


def test_grid_heatmap_annotates_every_cell():
    mean = [[0.8, 0.7, 0.6], [0.75, 0.65, 0.5]]
    std = [[0.1, 0.05, 0.2], [0.1, 0.1, 0.1]]
    ax = plot_grid_heatmap(
        mean, std, [50, 100], [0.01, 0.1, 1], row_label="nodes",
        column_label="noise_amount", title="grid",
    )  # fmt: skip
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 6
    assert "0.800\n± 0.100" in texts
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1", "1"]
    assert ax.get_title() == "grid"
