"""Milliseconds per epoch: sknoise against its peers, side by side.

The published setup: ``make_circles(100, noise=0.1, random_state=1)``, the
first 30 points train (70 validate), 500 hidden units with Gaussian noise of
standard deviation 0.1 on the pre-activation, Adam, batch size 32 (one batch
per epoch). Timed on every installed Keras backend, each in a subprocess of
its own (a process holds one backend):

* ``scikeras``: a stock scikeras ``KerasClassifier`` around the same Keras
  network (with ``keras.layers.GaussianNoise``), trained by Keras' ``fit``;
* ``sknoise``: ``NoisyMLPClassifier`` (compiled loop), and with
  ``noise_amount=0``;
* ``sklearn``: ``MLPClassifier(hidden_layer_sizes=(500,))``, Adam, same
  batch and epochs, ``tol=0``, no L2 penalty; with validation data it is a
  ``partial_fit`` loop that scores the validation set after every epoch;
* ``floor``: a minimal hand-written compiled loop of the same computation
  (dense, noise, relu, dense, sigmoid cross-entropy, hand-written Adam), with
  sknoise's noise source and with the backend's own normal generator.

A time per epoch is the slope between a short and a long fit, so fixed costs
(building, compiling, validating input) drop out; they are reported apart as
the time of one published 5000-epoch fit. Contenders timed with the same fit
lengths (the compiled loops; scikeras; scikit-learn) take turns at each
repeat, so that a slow spell of the machine does not fall on one of them.
Finally the whole published grid search (4 x 6 candidates, 5-fold CV, 5000
epochs: 121 fits) is timed with sknoise. Run
``python -m benchmarks.speed --help`` for the options.
"""

import argparse
import json
import os
import sys
import warnings

import joblib

from benchmarks import _cli, _datasets, _report, _timing, _workers
from benchmarks._floor import NODES, NOISE, floor_runner

BATCH = 32
PUBLISHED_EPOCHS = 5000
GRID = {"nodes": [50, 100, 300, 500], "noise_amount": [0.001, 0.01, 0.1, 0.2, 0.7, 1]}
QUICK_GRID = {"nodes": [50, 500], "noise_amount": [0.01, 0.1]}
FIT_COLUMN = f"one {PUBLISHED_EPOCHS}-epoch fit (s)"
# What the table's columns mean, written under its header.
COLUMNS = (
    "Columns: *ms/epoch* is the slope, milliseconds per training epoch. "
    "*x floor* divides it by that of the hand-written loop with sknoise's "
    "noise on the same backend, *x sklearn MLP* by that of scikit-learn's "
    "MLPClassifier with the same validation setting; *speed-up vs scikeras* "
    "divides stock scikeras' time per epoch (same validation setting) by "
    "it. *fixed cost (s)* is the intercept of the line through the short and "
    "the long fit's times: building, compiling and checking the input, paid "
    "once per fit; within 0.01 s of zero it is below the timing noise, and "
    f"can come out slightly negative. *{FIT_COLUMN}* is the fixed cost plus "
    f"{PUBLISHED_EPOCHS} epochs at the slope: the estimated time of one fit "
    "of the published setup."
)


# ---------------------------------------------------------------------------
# The contenders, measured inside a worker process with one backend
# ---------------------------------------------------------------------------
def scikeras_runner(data, validation):
    import keras
    from scikeras.wrappers import KerasClassifier

    X, y, X_val, y_val = data

    def build():
        model = keras.Sequential(
            [
                keras.Input((X.shape[1],)),
                keras.layers.Dense(NODES),
                keras.layers.GaussianNoise(NOISE),
                keras.layers.Activation("relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(
            optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"]
        )
        return model

    def run(epochs):
        clf = KerasClassifier(build, batch_size=BATCH, epochs=epochs, verbose=0)
        extra = {"validation_data": (X_val, y_val)} if validation else {}
        clf.fit(X, y, **extra)

    return run


def sknoise_runner(data, validation, noise_amount=NOISE):
    from sknoise import NoisyMLPClassifier

    X, y, X_val, y_val = data

    def run(epochs):
        clf = NoisyMLPClassifier(
            NODES,
            noise_amount=noise_amount,
            noise_site="hidden",
            batch_size=BATCH,
            epochs=epochs,
            random_state=0,
        )
        clf.fit(X, y, validation_data=(X_val, y_val) if validation else None)

    return run


def sklearn_runner(data, validation):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier

    X, y, X_val, y_val = data

    def run(epochs):
        clf = MLPClassifier(
            hidden_layer_sizes=(NODES,),
            solver="adam",
            alpha=0.0,
            batch_size=BATCH,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # batch_size 32 > 30 rows: scikit-learn clips it, as Keras does.
            warnings.filterwarnings("ignore", message="Got `batch_size`")
            if not validation:
                clf.fit(X, y)
                return
            for _ in range(epochs):
                clf.partial_fit(X, y, classes=[0, 1])
                log_loss(y_val, clf.predict_proba(X_val))

    return run


def grid_search_seconds(data, quick, n_jobs):
    from sklearn.model_selection import GridSearchCV

    from sknoise import NoisyMLPClassifier

    X, y, _, _ = data
    _workers.prepare_workers(n_jobs)
    grid = QUICK_GRID if quick else GRID
    epochs = 500 if quick else PUBLISHED_EPOCHS
    search = GridSearchCV(
        NoisyMLPClassifier(noise_site="hidden", epochs=epochs, random_state=0),
        grid,
        cv=5,
        n_jobs=n_jobs,
    )
    with _timing.Stopwatch() as watch:
        search.fit(X, y)
    n_fits = len(search.cv_results_["params"]) * 5 + 1
    return watch.seconds, n_fits, epochs


def worker(args):
    """Measure every contender on this process's backend; print JSON lines."""
    backend = _cli.select_backend(args.backend)
    data = _datasets.published_circles()
    # (short, long, repeats) per kind of contender. A compiled loop's runs
    # take a fraction of a second, so nine repeats steady their medians (and
    # the noisy / noise-free ratio) at little cost.
    if args.quick:
        fast, slow, mlp = (200, 1000, 1), (5, 25, 1), (50, 250, 1)
    else:
        fast, slow, mlp = (1000, PUBLISHED_EPOCHS, 9), (20, 120, 3), (200, 1000, 3)
    contenders = [
        ("scikeras", "no", slow, lambda: scikeras_runner(data, False)),
        ("scikeras", "yes", slow, lambda: scikeras_runner(data, True)),
        ("sknoise", "no", fast, lambda: sknoise_runner(data, False)),
        ("sknoise", "yes", fast, lambda: sknoise_runner(data, True)),
        ("sknoise, noise 0", "no", fast, lambda: sknoise_runner(data, False, 0.0)),
        ("sklearn MLP", "no", mlp, lambda: sklearn_runner(data, False)),
        ("sklearn MLP", "yes", mlp, lambda: sklearn_runner(data, True)),
        ("floor, sknoise noise", "no", fast, lambda: floor_runner(data, "sknoise")),
        ("floor, backend noise", "no", fast, lambda: floor_runner(data, "backend")),
        ("floor, noise 0", "no", fast, lambda: floor_runner(data, None)),
    ]
    # Contenders timed with the same lengths take turns (see _timing.per_epoch).
    measured = {}
    for lengths in dict.fromkeys(lengths for *_, lengths, _ in contenders):
        runs = {
            (name, validation): make()
            for name, validation, their_lengths, make in contenders
            if their_lengths == lengths
        }
        measured.update(_timing.per_epoch(runs, *lengths))
    for name, validation, _, _ in contenders:
        seconds, fixed = measured[name, validation]
        record = {
            "backend": backend,
            "contender": name,
            "validation": validation,
            "ms_per_epoch": seconds * 1e3,
            "fixed_s": fixed,
        }
        print(json.dumps(record), flush=True)
    if not args.skip_grid:
        seconds, n_fits, epochs = grid_search_seconds(data, args.quick, args.n_jobs)
        record = {"backend": backend, "grid_s": seconds, "fits": n_fits}
        print(json.dumps({**record, "epochs": epochs}), flush=True)
    print(json.dumps({"environment": _report.environment(backend)}), flush=True)


def run_backend(backend, args):
    """Run a worker for ``backend`` and collect its records."""
    command = [sys.executable, "-m", "benchmarks.speed", "--worker"]
    command += ["--backend", backend, "--n-jobs", str(args.n_jobs)]
    command += ["--quick"] * args.quick + ["--skip-grid"] * args.skip_grid
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    records, _ = _workers.run_json_process(command, env, f"the {backend} worker")
    return records


def summarise(records):
    """Rows of the speed table with their ratios, one per backend/contender."""
    rows = []
    by_key = {
        (r["backend"], r["contender"], r["validation"]): r
        for r in records
        if "contender" in r
    }
    for (backend, name, validation), record in by_key.items():
        ms = record["ms_per_epoch"]
        fixed = record["fixed_s"]
        floor = by_key[(backend, "floor, sknoise noise", "no")]["ms_per_epoch"]
        mlp = by_key[(backend, "sklearn MLP", validation)]["ms_per_epoch"]
        stock = by_key[(backend, "scikeras", validation)]["ms_per_epoch"]
        rows.append(
            {
                "backend": backend,
                "contender": name,
                "validation data": validation,
                "ms/epoch": round(ms, 4),
                "x floor": round(ms / floor, 2),
                "x sklearn MLP": round(ms / mlp, 3),
                "speed-up vs scikeras": round(stock / ms, 1),
                "fixed cost (s)": round(fixed, 2),
                FIT_COLUMN: round(fixed + ms * PUBLISHED_EPOCHS / 1e3, 2),
            }
        )
    return rows


def build_parser():
    # The committed table times every backend, and the grid on every CPU.
    parser = _cli.base_parser(
        __doc__.splitlines()[0],
        published_backends=_cli.BACKENDS,
        not_settings=_cli.NOT_SETTINGS - {"n_jobs"},
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="Jobs of the timed grid search (default -1: one per CPU).",
    )
    parser.add_argument(
        "--skip-grid", action="store_true", help="Do not time the grid search."
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    measured = _report.probe_or_measure(
        build_parser(), argv, run_backend, worker, probe_option="worker"
    )
    if measured is None:
        return
    args, out, records, run_facts = measured
    rows = summarise(records)
    grids = [r for r in records if "grid_s" in r]
    grid_lines = [
        f"Grid search on {grid['backend']}: {grid['fits']} fits of "
        f"{grid['epochs']} epochs in {grid['grid_s']:.1f} s "
        f"(n_jobs={args.n_jobs}, {joblib.effective_n_jobs(args.n_jobs)} at once; "
        "GridSearchCV.fit alone, in a process that has already imported Keras "
        "and trained the 500-unit network; with more than one job, fresh "
        "worker processes import Keras and compile, or load from the "
        "compilation cache, each width's loop)."
        for grid in grids
    ]
    _report.write_timing_report(
        rows,
        out,
        "speed",
        "# Speed: milliseconds per epoch on the published setup",
        [
            f"Settings: nodes={NODES}, hidden noise {NOISE}, Adam, batch {BATCH}, "
            "30 training points (70 for validation); per-epoch times are slopes "
            "between a short and a long fit, medians over repeats (compiled "
            "loops: 1000 and 5000 epochs, 9 repeats; the others 3), the "
            "contenders of one kind taking turns at each repeat"
            + (" (--quick: short fits, one repeat)." if args.quick else "."),
            *run_facts,
            *grid_lines,
        ],
        COLUMNS,
    )


if __name__ == "__main__":
    main()
