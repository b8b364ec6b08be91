"""The published grid search of nodes x noise_amount, reproduced and settled.

The setup of "Noise: it's not always annoying": circles data split 30/70 by
``train_test_split(test_size=0.7, random_state=42)``; a network with Gaussian
noise on the hidden pre-activation, Adam, batch 32, 5000 epochs; 5-fold
stratified CV on the 30 training points over nodes [50, 100, 300, 500] x
noise_amount [0.001, 0.01, 0.1, 0.2, 0.7, 1]. The folds and the choice of the
best candidate are those of ``GridSearchCV(estimator, grid, cv=5)`` (the
tests check that the two agree); the fits run as separate jobs so that a
progress bar can count them.

One run of 5-fold CV scores each fold on 6 points, so it cannot rank most of
the cells. ``--repeats N`` repeats the 5-fold CV N times over reshuffled
folds and reports, per cell, a 95% confidence interval of its mean accuracy
and whether it is distinguishable from the best cell, by the corrected
resampled t-test of Nadeau and Bengio (2003, "Inference for the
Generalization Error"), which widens the naive interval for the overlap
between the training sets of different folds.

    python -m benchmarks.grid_search [--quick] [--repeats N] [--n-jobs N]
"""

import functools
import os

import numpy as np

from benchmarks import _cli, _datasets, _report, _stats, _timing, _workers

GRID = {"nodes": [50, 100, 300, 500], "noise_amount": [0.001, 0.01, 0.1, 0.2, 0.7, 1]}
QUICK_GRID = {"nodes": [50, 100], "noise_amount": [0.01, 0.1]}
N_SPLITS = 5
# The published table, read with each value on the parameters printed before
# it (see shared/reference/seed-experiments.md): (mean, std) per cell.
PUBLISHED = {
    50: [(0.767, 0.133), (0.767, 0.133), (0.767, 0.133), (0.767, 0.082),
         (0.700, 0.067), (0.633, 0.125)],
    100: [(0.800, 0.163), (0.800, 0.163), (0.767, 0.133), (0.800, 0.125),
          (0.767, 0.170), (0.667, 0.105)],
    300: [(0.833, 0.149), (0.800, 0.163), (0.767, 0.133), (0.833, 0.105),
          (0.667, 0.105), (0.633, 0.125)],
    500: [(0.800, 0.163), (0.800, 0.163), (0.800, 0.125), (0.833, 0.105),
          (0.600, 0.133), (0.600, 0.133)],
}  # fmt: skip


def published_cell(nodes, noise_amount):
    """The published (mean, std) of a cell, or None outside the grid."""
    if nodes not in PUBLISHED or noise_amount not in GRID["noise_amount"]:
        return None
    return PUBLISHED[nodes][GRID["noise_amount"].index(noise_amount)]


def make_estimator(params, epochs, seed):
    from sknoise import NoisyMLPClassifier

    return NoisyMLPClassifier(
        noise_site="hidden", batch_size=32, epochs=epochs, random_state=seed, **params
    )


# The network widths this process has trained: its first fit of each also
# traces a training loop and compiles it (or loads it from the cache).
_TRAINED_WIDTHS = set()


def fit_and_score(params, train, test, data, epochs, seed):
    """Accuracy on ``test`` rows of a model fitted on ``train`` rows, with
    the fit's time, whether it was this process's first of its width, and
    the process."""
    X, y = data
    width = params.get("nodes")
    first = width not in _TRAINED_WIDTHS
    with _timing.Stopwatch() as watch:
        model = make_estimator(params, epochs, seed).fit(X[train], y[train])
    _TRAINED_WIDTHS.add(width)
    fit = {"seconds": watch.seconds, "first": first, "process": os.getpid()}
    return model.score(X[test], y[test]), {**fit, "width": width}


def cross_validate_grid(X, y, grid, *, epochs, seed, repeats, n_jobs):
    """Scores of every candidate on every split, shape (n_candidates, n_splits),
    and a record of each fit (see :func:`fit_and_score`).

    ``repeats=1`` uses ``StratifiedKFold(5)`` without shuffling, the folds of
    ``GridSearchCV(cv=5)``; more repeats use ``RepeatedStratifiedKFold``.
    """
    from sklearn.model_selection import (
        ParameterGrid,
        RepeatedStratifiedKFold,
        StratifiedKFold,
    )

    candidates = list(ParameterGrid(grid))
    if repeats == 1:
        cv = StratifiedKFold(n_splits=N_SPLITS)
    else:
        cv = RepeatedStratifiedKFold(
            n_splits=N_SPLITS, n_repeats=repeats, random_state=seed
        )
    splits = list(cv.split(X, y))
    jobs = [
        functools.partial(fit_and_score, params, train, test, (X, y), epochs, seed)
        for params in candidates
        for train, test in splits
    ]
    scores, fits = zip(*_workers.run_jobs(jobs, n_jobs, "grid search"), strict=True)
    scores = np.array(scores).reshape(len(candidates), len(splits))
    return candidates, scores, list(fits)


def start_up_seconds(fits):
    """Per process, the seconds its first fit of each width took beyond the
    median fit of that width in the run: tracing and compiling (or loading)
    the training loops, and importing Keras where no fork server did."""
    widths = {fit["width"] for fit in fits}
    typical = {
        width: np.median([f["seconds"] for f in fits if f["width"] == width])
        for width in widths
    }
    extra = {}
    for fit in fits:
        if fit["first"]:
            cost = fit["seconds"] - typical[fit["width"]]
            extra[fit["process"]] = extra.get(fit["process"], 0.0) + cost
    return sorted(extra.values(), reverse=True)


def build_parser():
    # The committed results: grid_search.* and grid_search_repeats10.*.
    parser = _cli.base_parser(
        __doc__.splitlines()[0], published_runs=[[], ["--repeats", "10"]]
    )
    _cli.add_parallel_arguments(parser)
    parser.add_argument(
        "--repeats", type=int, default=1, help="Repeats of the 5-fold CV."
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="Epochs per fit (5000; quick 100)."
    )
    return parser


def run_search(args, grid, epochs):
    """The grid's cross-validation and the refit of the best candidate, with
    where the time went (a dict)."""
    # Entered first: the workers' fork server (if any) imports sknoise's
    # training stack while this process loads the data.
    with _workers.parallel_backend(args):
        with _timing.Stopwatch() as load_watch:
            X_train, y_train, X_test, y_test = _datasets.published_split()
        # No fit can start before the fork server has imported Keras.
        with _timing.Stopwatch() as workers_watch:
            _workers.wait_for_workers()
        with _timing.Stopwatch() as search_watch:
            candidates, scores, fits = cross_validate_grid(
                X_train, y_train, grid, epochs=epochs, seed=args.seed,
                repeats=args.repeats, n_jobs=args.n_jobs,
            )  # fmt: skip
        best = int(np.argmax(scores.mean(axis=1)))  # the first, as GridSearchCV
        # The refit runs in a worker too, which has imported and compiled.
        data = (np.vstack([X_train, X_test]), np.r_[y_train, y_test])
        train = np.arange(len(y_train))
        test = np.arange(len(y_train), len(data[1]))
        refit = functools.partial(
            fit_and_score, candidates[best], train, test, data, epochs, args.seed
        )
        with _timing.Stopwatch() as refit_watch:
            [(test_accuracy, _)] = _workers.run_jobs([refit], args.n_jobs, "refit")
    return {
        "candidates": candidates,
        "scores": scores,
        "fits": fits,
        "best": best,
        "test_accuracy": test_accuracy,
        "n_train": len(y_train),
        "seconds": {
            "load": load_watch.seconds,
            "workers": workers_watch.seconds,
            "search": search_watch.seconds,
            "refit": refit_watch.seconds,
        },
    }


def time_line(run, n_jobs):
    """Where the time of ``run`` went, in one sentence."""
    seconds, fits = run["seconds"], run["fits"]
    start_up = start_up_seconds(fits)
    return (
        "Where the time went: loading the data (importing scikit-learn and "
        f"sknoise, which loads no Keras) {seconds['load']:.1f} s, waiting "
        "for the workers (their fork server importing Keras and the backend) "
        f"{seconds['workers']:.1f} s more, "
        f"the {len(fits)} fits {seconds['search']:.1f} s "
        f"({n_jobs} at once; in each process the first "
        "fit of each width, tracing and compiling or loading its training "
        "loop, took "
        + ", ".join(f"{extra:.1f}" for extra in start_up)
        + " s more than the median fit of its width), the refit "
        f"{seconds['refit']:.1f} s."
    )


def result_rows(run, repeats):
    """One row per candidate: its scores beside the published ones and,
    with repeats, its confidence interval and comparison with the best."""
    candidates, scores, best = run["candidates"], run["scores"], run["best"]
    means, stds = scores.mean(axis=1), scores.std(axis=1)
    if repeats > 1:
        n_test = run["n_train"] // N_SPLITS
        half, p_values = _stats.corrected_comparison(
            scores, best, run["n_train"] - n_test, n_test
        )
    rows = []
    for i, (params, mean, std) in enumerate(zip(candidates, means, stds, strict=True)):
        nodes, noise = params["nodes"], params["noise_amount"]
        pub = published_cell(nodes, noise)
        row = {
            "nodes": nodes,
            "noise_amount": noise,
            "mean": round(float(mean), 4),
            "std": round(float(std), 4),
            "published mean": pub[0] if pub else "",
            "published std": pub[1] if pub else "",
        }
        if repeats > 1:
            row["ci95 low"] = round(float(mean - half[i]), 4)
            row["ci95 high"] = round(float(mean + half[i]), 4)
            row["p vs best"] = round(float(p_values[i]), 4)
            row["differs from best"] = "best" if i == best else (
                "yes" if p_values[i] < 0.05 else "no"
            )  # fmt: skip
        rows.append(row)
    return rows


def main(argv=None):
    args, backend, out = build_parser().start(argv)
    epochs = args.epochs or (100 if args.quick else 5000)
    grid = QUICK_GRID if args.quick else GRID
    with _timing.Stopwatch() as watch:
        run = run_search(args, grid, epochs)
    candidates, scores, best = run["candidates"], run["scores"], run["best"]
    means, stds = scores.mean(axis=1), scores.std(axis=1)
    n_jobs = _workers.effective_n_jobs(args)
    timing = time_line(run, n_jobs)

    print(f"Best: {means[best]:f} using {candidates[best]}")
    for params, mean, std in zip(candidates, means, stds, strict=True):
        print(f"{mean:f} ({std:f}) with: {params}")
    accuracy = run["test_accuracy"]
    print(f"Refitted best model: accuracy {accuracy:.4f} on the 70 test points")

    settings = {
        "epochs": epochs,
        "folds": N_SPLITS,
        "repeats": args.repeats,
        "seed": args.seed,
        "n_jobs": n_jobs,
        "dask": args.scheduler or ("local cluster" if args.dask else "no"),
        "grid": grid,
    }
    title = "Grid search of nodes x noise_amount (hidden noise)"
    lines = _report.header(title, backend, settings, watch.seconds)
    lines += ["", timing]
    lines += [
        "",
        f"Best: {means[best]:f} using {candidates[best]}; the refitted best model "
        f"scores {accuracy:.4f} on the 70 test points.",
        "",
        "Mean CV accuracy (std across folds), reproduced | published:",
        "",
        *table_lines(grid, candidates, means, stds),
    ]
    name = "grid_search" if args.repeats == 1 else f"grid_search_repeats{args.repeats}"
    rows = result_rows(run, args.repeats)
    csv_path, md_path = _report.write_table(rows, out, name, lines)
    png_path = out / f"{name}.png"
    save_heatmap(grid, means, stds, png_path, args.repeats)
    print("\n".join(table_lines(grid, candidates, means, stds)))
    print(timing)
    print(f"wrote {csv_path}, {md_path} and {png_path} in {watch.seconds:.0f} s")


def table_lines(grid, candidates, means, stds):
    """The nodes x noise_amount table, each cell beside its published value."""
    cells = {
        (c["nodes"], c["noise_amount"]): f"{m:.3f} ({s:.3f})"
        for c, m, s in zip(candidates, means, stds, strict=True)
    }
    lines = [
        "| nodes \\ noise_amount | "
        + " | ".join(map(str, grid["noise_amount"]))
        + " |",
        "|---" * (len(grid["noise_amount"]) + 1) + "|",
    ]
    for nodes in grid["nodes"]:
        row = []
        for noise in grid["noise_amount"]:
            pub = published_cell(nodes, noise)
            beside = f" \\| {pub[0]:.3f} ({pub[1]:.3f})" if pub else ""
            row.append(cells[(nodes, noise)] + beside)
        lines.append(f"| {nodes} | " + " | ".join(row) + " |")
    return lines


def save_heatmap(grid, means, stds, path, repeats):
    import matplotlib

    matplotlib.use("Agg")
    from sknoise.plotting import plot_grid_heatmap

    shape = (len(grid["nodes"]), len(grid["noise_amount"]))
    ax = plot_grid_heatmap(
        means.reshape(shape),
        stds.reshape(shape),
        grid["nodes"],
        grid["noise_amount"],
        row_label="nodes",
        column_label="noise_amount",
        title=f"Mean CV accuracy ± std ({N_SPLITS}-fold x {repeats})",
    )
    ax.figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
