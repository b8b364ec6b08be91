"""Noise against the other regularizers, on five data sets and two depths.

Every method is one setting of ``NoisyMLPClassifier`` in a ``Pipeline`` after
a ``StandardScaler``: the baseline (no regularization); noise at each site
(input, hidden, activation, weights, gradients, labels); L2 (``alpha``), L1
(``l1``), ``dropout``, ``max_norm``; and early stopping. Each method is tuned
by an inner stratified 3-fold ``GridSearchCV`` over a small grid and scored
on the held-out part of a repeated outer split, the same outer splits for
every method:

* ``circles``: the published circles; the first outer split is the published
  one (first 30 points train, 70 test), the others are stratified random
  30/70 splits;
* ``ring``: ``sknoise.datasets.make_ring(200)``, a blob inside a noisy ring;
* ``breast_cancer``, ``wine``, ``digits``: scikit-learn's bundled data sets;
  the last three use a repeated stratified 3-fold outer CV.

Each data set is run with one hidden layer of 100 units and with three.
Epochs are set per data set so that the baseline can overfit. The table
gives mean +- std of outer accuracy per method; the best method of each
column is in bold, and methods the Nadeau-Bengio corrected resampled t-test
cannot tell from it (p >= 0.05) are marked ``~``: they tie within the noise.
The same test against the baseline marks a method that beats it (↑) or
loses to it (↓): the direct answer to "does this regularizer help here?".

    python -m benchmarks.regularizers [--quick] [--repeats N] [--n-jobs N]
"""

import functools
import json
from pathlib import Path

import numpy as np

from benchmarks import _cli, _report, _stats, _timing, _workers

# name -> (fixed parameters, grid tuned by the inner CV). Noise amounts are
# on standardised inputs; "gradients" is a variance, "labels" a smoothing.
METHODS = {
    "baseline": ({"noise_site": None}, {}),
    "input noise": ({"noise_site": "input"}, {"noise_amount": [0.1, 0.3]}),
    "hidden noise": ({"noise_site": "hidden"}, {"noise_amount": [0.1, 0.5]}),
    "activation noise": ({"noise_site": "activation"}, {"noise_amount": [0.1, 0.5]}),
    "weight noise": ({"noise_site": "weights"}, {"noise_amount": [0.02, 0.1]}),
    "gradient noise": ({"noise_site": "gradients"}, {"noise_amount": [1e-3, 1e-2]}),
    "label noise": ({"noise_site": "labels"}, {"noise_amount": [0.05, 0.2]}),
    "L2": ({"noise_site": None}, {"alpha": [0.03, 1.0]}),
    "L1": ({"noise_site": None}, {"l1": [0.003, 0.03]}),
    "dropout": ({"noise_site": None}, {"dropout": [0.2, 0.5]}),
    "max-norm": ({"noise_site": None}, {"max_norm": [1.0, 3.0]}),
    "early stopping": (
        {"noise_site": None, "early_stopping": True, "validation_fraction": 0.2},
        {"n_iter_no_change": [20, 100]},
    ),
}
# name -> (epochs, batch_size): the baseline overfits within these.
DATASETS = {
    "circles": (2000, 32),
    "ring": (400, 32),
    "breast_cancer": (150, 32),
    "wine": (300, 32),
    "digits": (100, 64),
}
DEPTHS = {1: (100,), 3: (100, 100, 100)}
# Suffix of a cell whose method differs from the baseline (p < 0.05).
BASELINE_MARKS = {"": "", "better": " ↑", "worse": " ↓"}
FIGURE_MARKERS = {"": "o", "better": "^", "worse": "v"}
INNER_FOLDS = 3
OUTER_FOLDS = 3


def load(name):
    """Features and labels of a data set (unscaled: the Pipeline scales)."""
    from sklearn import datasets

    from sknoise.datasets import load_published_circles, make_ring

    if name == "circles":
        X_train, y_train, X_test, y_test = load_published_circles("first30")
        return np.vstack([X_train, X_test]), np.concatenate([y_train, y_test])
    if name == "ring":
        return make_ring(200, random_state=0)
    return getattr(datasets, f"load_{name}")(return_X_y=True)


def outer_splits(name, y, repeats, seed):
    """The outer (train, test) index pairs of a data set."""
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedShuffleSplit

    if name == "circles":
        # The published split first, then random splits of the same sizes.
        published = (np.arange(30), np.arange(30, len(y)))
        shuffled = StratifiedShuffleSplit(
            n_splits=OUTER_FOLDS * repeats - 1, train_size=30, random_state=seed
        )
        return [published, *shuffled.split(np.zeros(len(y)), y)]
    cv = RepeatedStratifiedKFold(
        n_splits=OUTER_FOLDS, n_repeats=repeats, random_state=seed
    )
    return list(cv.split(np.zeros(len(y)), y))


def evaluate(dataset, depth, method, train, test, *, epochs, quick, seed):
    """Tune ``method`` on the ``train`` rows, score it on the ``test`` rows."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sknoise import NoisyMLPClassifier

    X, y = load(dataset)
    fixed, grid = METHODS[method]
    if quick:  # one candidate: the same code path, a fraction of the fits
        grid = {key: values[:1] for key, values in grid.items()}
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "mlp",
                NoisyMLPClassifier(
                    DEPTHS[depth],
                    epochs=epochs,
                    batch_size=DATASETS[dataset][1],
                    random_state=seed,
                    **fixed,
                ),
            ),
        ]
    )
    chosen = {}
    if grid:
        search = GridSearchCV(
            model,
            {f"mlp__{key}": values for key, values in grid.items()},
            cv=StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed),
        )
        model = search.fit(X[train], y[train]).best_estimator_
        chosen = {key[len("mlp__") :]: v for key, v in search.best_params_.items()}
    else:
        model.fit(X[train], y[train])
    return {
        "accuracy": model.score(X[test], y[test]),
        "train_accuracy": model.score(X[train], y[train]),
        "chosen": chosen,
    }


def summarise(rows, splits):
    """Per column (data set, depth): mean, std, best method and ties."""
    from collections import defaultdict

    scores, gaps = defaultdict(dict), defaultdict(dict)
    for row in rows:
        column = (row["dataset"], row["depth"])
        scores[column].setdefault(row["method"], []).append(row["accuracy"])
        gaps[column].setdefault(row["method"], []).append(
            row["train_accuracy"] - row["accuracy"]
        )
    summary = {}
    for column, by_method in scores.items():
        methods = list(by_method)
        matrix = np.array([by_method[m] for m in methods])
        means = matrix.mean(axis=1)
        best, baseline = int(np.argmax(means)), methods.index("baseline")
        train, test = splits[column][0]
        sizes = len(train), len(test)
        _, p_values = _stats.corrected_comparison(matrix, best, *sizes)
        # The question a user asks of a regularizer: does it beat no regularizer?
        _, p_baseline = _stats.corrected_comparison(matrix, baseline, *sizes)
        summary[column] = {
            method: {
                "mean": float(means[i]),
                "std": float(matrix[i].std()),
                "p": float(p_values[i]),
                "p_baseline": float(p_baseline[i]),
                "vs_baseline": (
                    ""
                    if p_baseline[i] >= 0.05
                    else ("better" if means[i] > means[baseline] else "worse")
                ),
                "gap": float(np.mean(gaps[column][method])),
                "mark": "best" if i == best else ("tie" if p_values[i] >= 0.05 else ""),
            }
            for i, method in enumerate(methods)
        }
    return summary


def table_lines(summary):
    """Markdown: one table per depth, one row per method, one column per data set.

    Two tables of six columns fit a page where one of eleven did not.
    """
    lines = []
    for depth in dict.fromkeys(k for _, k in summary):
        columns = [column for column in summary if column[1] == depth]
        layers = f"{depth} hidden layer{'s' * (depth > 1)} of {DEPTHS[depth][0]} units"
        lines += [
            f"**{layers[0].upper()}{layers[1:]}:**",
            "",
            "| method | " + " | ".join(d for d, _ in columns) + " |",
            "|---|" + "---|" * len(columns),
        ]
        for method in METHODS:
            cells = []
            for column in columns:
                cell = summary[column][method]
                text = f"{cell['mean']:.3f} +- {cell['std']:.3f}"
                if cell["mark"] == "best":
                    text = f"**{text}**"
                elif cell["mark"] == "tie":
                    text = f"~ {text}"
                text += BASELINE_MARKS[cell["vs_baseline"]]
                cells.append(text)
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        # How much the unregularized network overfits each problem.
        gaps = [f"{summary[column]['baseline']['gap']:+.3f}" for column in columns]
        lines.append("| *baseline train - test gap* | " + " | ".join(gaps) + " |")
        lines.append("")
    return lines[:-1]


# Marker colour per mark of summarise(): the best method, a tie with it,
# or a method the test tells from it.
FIGURE_COLOURS = {"best": "tab:red", "tie": "tab:orange", "": "tab:gray"}


def figure_legend_handles():
    """Legend entries for every colour and marker that save_figure draws."""
    from matplotlib.lines import Line2D

    def entry(label, colour="black", marker="o", **style):
        return Line2D(
            [], [], color=colour, marker=marker, linestyle="none", label=label, **style
        )

    return [
        entry("best of the panel", FIGURE_COLOURS["best"]),
        entry("ties with the best (p >= 0.05)", FIGURE_COLOURS["tie"]),
        entry("below the best (p < 0.05)", FIGURE_COLOURS[""]),
        entry("same as the baseline", "white", FIGURE_MARKERS[""], mec="black"),
        entry("better than the baseline (p < 0.05)", "white", FIGURE_MARKERS["better"],
              mec="black"),
        entry("worse than the baseline (p < 0.05)", "white", FIGURE_MARKERS["worse"],
              mec="black"),
        Line2D([], [], color="lightgray", label="+- std over the outer splits"),
    ]  # fmt: skip


def save_figure(summary, path):
    """One panel per (data set, depth): mean +- std accuracy per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(summary)
    n_cols = -(-len(columns) // 2)
    # A figure of one or two data sets is too narrow for a 4-column legend.
    legend_cols = 4 if n_cols >= 3 else 2
    legend_rows = -(-len(figure_legend_handles()) // legend_cols)
    fig, axes = plt.subplots(
        2,
        n_cols,
        figsize=(3.2 * max(n_cols, 2), 7 + 0.2 * legend_rows),
        sharey=True,
        squeeze=False,
    )
    methods = list(METHODS)
    positions = np.arange(len(methods))
    for ax, column in zip(axes.T.ravel(), columns, strict=False):
        cells = [summary[column][m] for m in methods]
        colours = [FIGURE_COLOURS[c["mark"]] for c in cells]
        ax.errorbar(
            [c["mean"] for c in cells],
            positions,
            xerr=[c["std"] for c in cells],
            fmt="none",
            ecolor="lightgray",
        )
        for verdict, marker in FIGURE_MARKERS.items():
            shown = [i for i, c in enumerate(cells) if c["vs_baseline"] == verdict]
            ax.scatter(
                [cells[i]["mean"] for i in shown],
                positions[shown],
                c=[colours[i] for i in shown],
                marker=marker,
                zorder=3,
            )
        dataset, depth = column
        ax.set_title(f"{dataset}, {depth} layer{'s' * (depth > 1)}", fontsize=9)
        ax.set_xlabel("outer test accuracy", fontsize=8)
    for ax in axes.ravel()[len(columns) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(positions, methods, fontsize=8)
    # The panels share their y axis: invert it once, to list the methods
    # from the top in the order of the table.
    axes[0, 0].invert_yaxis()
    fig.legend(
        handles=figure_legend_handles(),
        loc="upper center",
        ncol=legend_cols,
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.035 * legend_rows - 0.01))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_rows(path):
    """The per-split rows of a results CSV, as main() builds them."""
    import csv

    with open(path, newline="") as handle:
        return [
            {
                **row,
                "depth": int(row["depth"]),
                "split": int(row["split"]),
                "accuracy": float(row["accuracy"]),
                "train_accuracy": float(row["train_accuracy"]),
            }
            for row in csv.DictReader(handle)
        ]


def redraw(path, out, repeats, seed):
    """Draw the figure of a results CSV, and print its table, without fitting.

    The statistical test needs the outer splits' sizes only; they are
    rebuilt from the data sets, ``repeats`` and ``seed``.
    """
    rows = read_rows(path)
    datasets = list(dict.fromkeys(row["dataset"] for row in rows))
    splits = {
        (name, depth): outer_splits(name, load(name)[1], repeats, seed)
        for name in datasets
        for depth in DEPTHS
    }
    summary = summarise(rows, splits)
    out.mkdir(parents=True, exist_ok=True)
    png_path = out / "regularizers.png"
    save_figure(summary, png_path)
    print("\n".join(table_lines(summary)))
    print(f"drew {png_path} from {path}")
    return summary


def build_parser():
    parser = _cli.base_parser(__doc__.splitlines()[0])
    _cli.add_parallel_arguments(parser)
    parser.add_argument(
        "--repeats", type=int, default=2, help="Repeats of the outer 3-fold CV."
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(DATASETS),
        default=None,
        help="Data sets to run (default: all; quick: circles).",
    )
    parser.add_argument(
        "--redraw",
        metavar="CSV",
        type=Path,
        default=None,
        help="Fit nothing: draw the figure from the per-split rows of an earlier "
        "run (its regularizers.csv; same --repeats and --seed) into the output "
        "directory, e.g. --redraw benchmarks/results/regularizers.csv --out "
        "benchmarks/results.",
    )
    return parser


def make_jobs(splits, args):
    """The evaluation of every (data set, depth, method, outer split), and
    its key.

    Grouped by data set, depth and method: a worker's compiled loops are
    reused by the next fits of the same network and data shape.
    """
    keys, jobs = [], []
    for dataset, pairs in splits.items():
        epochs = 5 if args.quick else DATASETS[dataset][0]
        for depth in DEPTHS:
            for method in METHODS:
                for index, (train, test) in enumerate(pairs):
                    keys.append((dataset, depth, method, index))
                    job = functools.partial(
                        evaluate, dataset, depth, method, train, test,
                        epochs=epochs, quick=args.quick, seed=args.seed,
                    )  # fmt: skip
                    jobs.append(job)
    return keys, jobs


def split_rows(keys, results):
    """One row per method, data set, depth and outer split."""
    return [
        {
            "dataset": dataset,
            "depth": depth,
            "method": method,
            "split": index,
            "accuracy": round(float(result["accuracy"]), 4),
            "train_accuracy": round(float(result["train_accuracy"]), 4),
            "chosen": json.dumps(result["chosen"]),
        }
        for (dataset, depth, method, index), result in zip(keys, results, strict=True)
    ]


def main(argv=None):
    args, backend, out = build_parser().start(argv)
    if args.redraw:
        redraw(args.redraw, out, args.repeats, args.seed)
        return
    datasets = args.datasets or (["circles"] if args.quick else list(DATASETS))
    repeats = 1 if args.quick else args.repeats

    # Entered first, so that the workers' fork server imports sknoise
    # while this process loads the data.
    with _timing.Stopwatch() as watch, _workers.parallel_backend(args):
        splits = {
            name: outer_splits(name, load(name)[1], repeats, args.seed)
            for name in datasets
        }
        if args.quick:
            splits = {name: pairs[:2] for name, pairs in splits.items()}
        keys, jobs = make_jobs(splits, args)
        results = _workers.run_jobs(jobs, args.n_jobs, "regularizers")

    rows = split_rows(keys, results)
    summary = summarise(rows, {(d, k): splits[d] for d in datasets for k in DEPTHS})
    settings = {
        "datasets": {d: DATASETS[d] for d in datasets},
        "depths": DEPTHS,
        "outer splits": {d: len(splits[d]) for d in datasets},
        "inner folds": INNER_FOLDS,
        "quick": args.quick,
        "seed": args.seed,
        "n_jobs": _workers.effective_n_jobs(args),
        "methods": METHODS,
    }
    title = "Noise against the other regularizers"
    lines = _report.header(title, backend, settings, watch.seconds)
    lines += [
        "",
        "Outer test accuracy, mean +- std over the outer splits; **best**, "
        "~ ties with the best (corrected resampled t-test, p >= 0.05); "
        "↑ / ↓ better / worse than the baseline (the same test, p < 0.05). "
        "(dataset, epochs, batch size) as in Settings.",
        "",
        *table_lines(summary),
        "",
        "One row per outer split follows; `chosen` is the grid point the "
        "inner CV picked.",
    ]
    csv_path, md_path = _report.write_table(rows, out, "regularizers", lines)
    png_path = out / "regularizers.png"
    save_figure(summary, png_path)
    print("\n".join(table_lines(summary)))
    print(f"wrote {csv_path}, {md_path} and {png_path} in {watch.seconds:.0f} s")


if __name__ == "__main__":
    main()
