"""Figures of the published experiments: learning curves, decision surfaces,
and grid-search heat maps.

matplotlib is an optional dependency, imported when a function here is
called. It comes with the ``bench`` extra: sknoise installs from a clone of
its repository, so run ``pip install ".[bench]"`` at the clone's root (or
install matplotlib alone).

Each function draws on the ``ax`` it is given, or on a new figure, and
returns the axes so that the caller decides where the figure goes
(``fig.savefig``) and no display is needed.
"""

import numpy as np

__all__ = ["plot_decision_surface", "plot_grid_heatmap", "plot_learning_curves"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "sknoise.plotting needs matplotlib: pip install matplotlib, or "
            "pip install '.[bench]' in a clone of the sknoise repository."
        ) from error
    return plt


def _axes(ax, ncols=1, width=5.0):
    if ax is not None:
        return ax
    plt = _pyplot()
    _, axes = plt.subplots(1, ncols, figsize=(width * ncols, 4), layout="constrained")
    return axes


def plot_learning_curves(history, axes=None, title=None):
    """Per-epoch loss and accuracy, training against validation.

    Parameters
    ----------
    history : dict of str to list of float
        A fitted estimator's ``history_``: ``loss`` and optionally
        ``accuracy``, ``val_loss``, ``val_accuracy``.
    axes : sequence of matplotlib Axes, optional
        Where to draw: one axes for the loss and, when ``history`` has an
        accuracy, a second one for it. New ones by default.
    title : str, optional
        Title of the figure.

    Returns
    -------
    axes : list of matplotlib Axes
        The axes drawn on, the loss first.

    See Also
    --------
    plot_decision_surface : What the trained classifier predicts.

    Examples
    --------
    >>> from sknoise.plotting import plot_learning_curves
    >>> history = {"loss": [0.7, 0.5, 0.4], "val_loss": [0.7, 0.6, 0.6]}
    >>> [ax.get_ylabel() for ax in plot_learning_curves(history)]
    ['loss']
    """
    metrics = [key for key in ("loss", "accuracy") if key in history]
    axes = list(np.atleast_1d(_axes(axes, ncols=len(metrics))))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric in zip(axes, metrics, strict=True):
        ax.plot(epochs, history[metric], label="train", linewidth=1)
        if "val_" + metric in history:
            ax.plot(epochs, history["val_" + metric], label="test", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    if title:
        axes[0].figure.suptitle(title)
    return axes


def plot_decision_surface(
    estimator,
    X_train,
    y_train,
    X_test=None,
    y_test=None,
    *,
    ax=None,
    resolution=200,
    margin=0.5,
    title=None,
):
    """Predicted probability of the positive class over the input plane.

    The estimator's ``predict_proba`` is evaluated on a dense grid covering
    the data (plus ``margin``); training points are drawn as circles, test
    points as crosses, coloured by their class.

    Parameters
    ----------
    estimator : fitted binary classifier with ``predict_proba``
        Trained on two features.
    X_train, y_train : array-like
        Training points and labels.
    X_test, y_test : array-like, optional
        Test points and labels.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    resolution : int, default=200
        Grid points per axis.
    margin : float, default=0.5
        Extra room around the data, in data units.
    title : str, optional
        Title of the axes.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    See Also
    --------
    sknoise.datasets.load_published_circles : Two-feature data to draw.

    Examples
    --------
    >>> from sklearn.datasets import make_circles
    >>> from sknoise import NoisyMLPClassifier
    >>> from sknoise.plotting import plot_decision_surface
    >>> X, y = make_circles(n_samples=60, noise=0.1, random_state=1)
    >>> clf = NoisyMLPClassifier(16, epochs=5, random_state=0).fit(X, y)
    >>> plot_decision_surface(clf, X, y, resolution=20).get_xlabel()
    'x1'
    """
    ax = _axes(ax)
    points = [np.asarray(X_train)] + (
        [np.asarray(X_test)] if X_test is not None else []
    )
    X_all = np.vstack(points)
    low, high = X_all.min(axis=0) - margin, X_all.max(axis=0) + margin
    xx, yy = np.meshgrid(
        np.linspace(low[0], high[0], resolution),
        np.linspace(low[1], high[1], resolution),
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    proba = estimator.predict_proba(grid)[:, 1].reshape(xx.shape)
    image = ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 21), cmap="RdBu_r")
    ax.figure.colorbar(image, ax=ax, label="P(class 1)")
    cmap = {"cmap": "RdBu_r", "vmin": 0, "vmax": 1, "edgecolors": "k"}
    ax.scatter(*np.asarray(X_train).T, c=y_train, marker="o", label="train", **cmap)
    if X_test is not None:
        ax.scatter(*np.asarray(X_test).T, c=y_test, marker="X", label="test", **cmap)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def plot_grid_heatmap(
    mean, std, row_values, column_values, *, row_label, column_label, ax=None,
    title=None,
):  # fmt: skip
    """A heat map of scores, each cell annotated ``mean +- std``.

    Parameters
    ----------
    mean, std : array-like of shape (n_rows, n_columns)
        Score and its spread per cell.
    row_values, column_values : sequence
        The parameter values of the rows and columns.
    row_label, column_label : str
        The parameters' names.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    title : str, optional
        Title of the axes.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Its ``cv_results_`` hold the scores.

    Examples
    --------
    >>> from sknoise.plotting import plot_grid_heatmap
    >>> ax = plot_grid_heatmap([[0.8, 0.7]], [[0.1, 0.1]], [50], [0.01, 0.1],
    ...                        row_label="nodes", column_label="noise_amount")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('noise_amount', 'nodes')
    """
    ax = _axes(ax, width=7.0)
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    image = ax.imshow(mean, cmap="viridis", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label="mean CV accuracy")
    ax.set_xticks(range(len(column_values)), [str(v) for v in column_values])
    ax.set_yticks(range(len(row_values)), [str(v) for v in row_values])
    ax.set_xlabel(column_label)
    ax.set_ylabel(row_label)
    middle = np.nanmean(mean)
    for (i, j), value in np.ndenumerate(mean):
        colour = "black" if value > middle else "white"
        text = f"{value:.3f}\n± {std[i, j]:.3f}"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)
    if title:
        ax.set_title(title)
    return ax
