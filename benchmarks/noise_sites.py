"""Where should the noise go? Every noise site on both published setups.

Two setups from the source material, each trained with the 70 test points as
validation data (for the learning curves):

* ``grid article``: ``train_test_split(test_size=0.7, random_state=42)`` of
  the circles, 400 hidden units, 5000 epochs, noise 0.1 at every site; the
  article published one run of each model (baseline 0.5857, input 0.642,
  hidden 0.671, input+hidden 0.6857 test accuracy);
* ``tutorial``: the first 30 of the circles train, 500 hidden units, 4000
  epochs, input noise 0.01 and hidden or activation noise 0.1 (input+hidden
  uses 0.1 at both sites: an estimator has one ``noise_amount``).

Each model is trained with ``--seeds`` seeds (default 20) and reported as
mean +- std of train and test accuracy beside the published single run. The
first seed of each model also draws its learning curves and its decision
surface (predicted probability over the input plane).

    python -m benchmarks.noise_sites [--quick] [--seeds N] [--n-jobs N]
"""

import functools

import numpy as np

from benchmarks import _cli, _datasets, _report, _timing, _workers

# (setup, variant) -> (noise_site, noise_amount, published test accuracy)
SETUPS = {
    "grid article": {
        "data": "published_split",
        "nodes": 400,
        "epochs": 5000,
        "variants": {
            "baseline": (None, 0.0, 0.5857),
            "input": ("input", 0.1, 0.642),
            "hidden": ("hidden", 0.1, 0.671),
            "activation": ("activation", 0.1, None),
            "input+hidden": ("input+hidden", 0.1, 0.6857),
        },
    },
    "tutorial": {
        "data": "published_circles",
        "nodes": 500,
        "epochs": 4000,
        "variants": {
            "baseline": (None, 0.0, None),
            "input": ("input", 0.01, None),
            "hidden": ("hidden", 0.1, None),
            "activation": ("activation", 0.1, None),
            "input+hidden": ("input+hidden", 0.1, None),
        },
    },
}


def fit_variant(setup, variant, seed, epochs, keep_model):
    """Train one model; return its accuracies and the model if asked."""
    from sknoise import NoisyMLPClassifier

    config = SETUPS[setup]
    X_train, y_train, X_test, y_test = getattr(_datasets, config["data"])()
    site, amount, _ = config["variants"][variant]
    model = NoisyMLPClassifier(
        config["nodes"],
        noise_site=site,
        noise_amount=amount,
        epochs=epochs,
        batch_size=32,
        random_state=seed,
    ).fit(X_train, y_train, validation_data=(X_test, y_test))
    result = {
        "train": model.score(X_train, y_train),
        "test": model.score(X_test, y_test),
    }
    return result, (model if keep_model else None)


def save_figures(setup, variant, model, out_dir):
    """Learning curves and decision surface of one model, as two PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sknoise.plotting import plot_decision_surface, plot_learning_curves

    X_train, y_train, X_test, y_test = getattr(_datasets, SETUPS[setup]["data"])()
    stem = f"noise_sites_{setup.replace(' ', '_')}_{variant.replace('+', '_')}"
    title = f"{setup}: {variant}"
    axes = plot_learning_curves(model.history_, title=title)
    axes[0].figure.savefig(out_dir / f"{stem}_curves.png", dpi=80)
    plt.close(axes[0].figure)
    ax = plot_decision_surface(
        model, X_train, y_train, X_test, y_test, resolution=150, title=title
    )
    ax.figure.savefig(out_dir / f"{stem}_surface.png", dpi=80)
    plt.close(ax.figure)


def build_parser():
    parser = _cli.base_parser(__doc__.splitlines()[0])
    _cli.add_parallel_arguments(parser)
    parser.add_argument("--seeds", type=int, default=None, help="Seeds per model.")
    return parser


def summary_row(setup, variant, results):
    """One model's train and test accuracy over its seeds, printed too."""
    scores = [result for result, _ in results]
    train = np.array([s["train"] for s in scores])
    test = np.array([s["test"] for s in scores])
    site, amount, published = SETUPS[setup]["variants"][variant]
    print(
        f"{setup:13s} {variant:13s} train {train.mean():.3f} +- {train.std():.3f}"
        f"  test {test.mean():.3f} +- {test.std():.3f}"
        + (f"  (published {published})" if published else "")
    )
    return {
        "setup": setup,
        "model": variant,
        "noise": f"{site}={amount}" if site else "none",
        "train mean": round(float(train.mean()), 4),
        "train std": round(float(train.std()), 4),
        "test mean": round(float(test.mean()), 4),
        "test std": round(float(test.std()), 4),
        "published test": published if published is not None else "",
    }


def main(argv=None):
    args, backend, out = build_parser().start(argv)
    n_seeds = args.seeds or (2 if args.quick else 20)
    models = [
        (setup, variant) for setup in SETUPS for variant in SETUPS[setup]["variants"]
    ]
    out.mkdir(parents=True, exist_ok=True)

    with _timing.Stopwatch() as watch, _workers.parallel_backend(args):
        jobs = [
            functools.partial(
                fit_variant,
                setup,
                variant,
                args.seed + seed,
                100 if args.quick else SETUPS[setup]["epochs"],
                seed == 0,
            )
            for setup, variant in models
            for seed in range(n_seeds)
        ]
        results = _workers.run_jobs(jobs, args.n_jobs, "noise sites")
        for (setup, variant), start in zip(
            models, range(0, len(jobs), n_seeds), strict=True
        ):
            save_figures(setup, variant, results[start][1], out)

    rows = [
        summary_row(setup, variant, results[start : start + n_seeds])
        for (setup, variant), start in zip(
            models, range(0, len(jobs), n_seeds), strict=True
        )
    ]
    settings = {
        "seeds": n_seeds,
        "first seed": args.seed,
        "epochs": "100 (quick)" if args.quick else "5000 / 4000",
        "batch_size": 32,
        "optimizer": "adam, learning_rate 0.001",
    }
    lines = _report.header("Noise sites", backend, settings, watch.seconds)
    csv_path, md_path = _report.write_table(rows, out, "noise_sites", lines)
    print(f"wrote {csv_path}, {md_path} and PNGs in {watch.seconds:.0f} s")


if __name__ == "__main__":
    main()
