"""What showing progress costs a fit: verbose against silent, in one process.

A verbose compiled fit returns to Python about every half second to report
(see ``sknoise._progress``), where a silent one runs up to 1000 epochs per
call. This script times fits of each verbosity side by side, taking turns
in this process, with their output captured (so the terminal's speed is not
measured, the formatting is), beside scikit-learn's ``MLPClassifier`` with
``verbose=False`` and ``True`` on the same data, epochs and batch size:

* ``published``: the 30 published points, 5000 epochs of one batch;
* ``long fit``: 50,000 points in batches of 32 (1563 steps per epoch), 30
  epochs: seconds of training, so that a verbose fit makes a call about
  every half second.

    python -m benchmarks.progress [--quick] [--repeats R] [--backend jax|tensorflow]
"""

import contextlib
import io
import statistics
import sys

from benchmarks import _cli, _datasets, _report, _timing

VERBOSITIES = {
    "sknoise verbose=0": (0, True),
    "sknoise verbose=1 (tqdm bar)": (1, True),
    "sknoise verbose=1 (lines, no tqdm)": (1, False),
    "sknoise verbose=2": (2, True),
}


@contextlib.contextmanager
def tqdm_hidden(hidden):
    """Make ``import tqdm`` fail inside the block if ``hidden``."""
    if not hidden:
        yield
        return
    saved = sys.modules.get("tqdm")
    sys.modules["tqdm"] = None
    try:
        yield
    finally:
        if saved is None:
            del sys.modules["tqdm"]
        else:
            sys.modules["tqdm"] = saved


def cases(quick, seed):
    """Each case's data and its epochs and batch size."""
    from sknoise.datasets import make_circles

    X, y, _, _ = _datasets.published_circles()
    n_big = 5000 if quick else 50_000
    big_X, big_y = make_circles(n_samples=n_big, noise=0.1, random_state=seed)[:2]
    return {
        "published": (X, y, 500 if quick else 5000, 32),
        "long fit": (big_X.astype("float32"), big_y, 3 if quick else 30, 32),
    }


def contenders(epochs, batch_size, seed):
    """Name -> (fit of (X, y), hide tqdm) for each contender of a case."""
    from sklearn.neural_network import MLPClassifier

    from sknoise import NoisyMLPClassifier

    def sknoise_fit(verbose):
        model = NoisyMLPClassifier(
            100,
            epochs=epochs,
            batch_size=batch_size,
            verbose=verbose,
            random_state=seed,
        )
        return model.fit

    def sklearn_fit(verbose):
        # No early end: every contender runs all its epochs.
        model = MLPClassifier(
            (100,), max_iter=epochs, batch_size=batch_size, tol=0.0,
            n_iter_no_change=epochs, verbose=verbose, random_state=seed,
        )  # fmt: skip
        return model.fit

    fits = {name: (sknoise_fit(v), hide) for name, (v, hide) in VERBOSITIES.items()}
    fits["scikit-learn verbose=False"] = (sklearn_fit(False), False)
    fits["scikit-learn verbose=True"] = (sklearn_fit(True), False)
    return fits


def time_turns(fits, X, y, repeats):
    """Median seconds of each fit, the contenders taking turns, output
    captured; one untimed fit each first (compiling, caches)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    seconds = {name: [] for name in fits}
    for turn in range(repeats + 1):
        for name, (fit, hide) in fits.items():
            sink = io.StringIO()
            with (
                tqdm_hidden(hide),
                contextlib.redirect_stdout(sink),
                contextlib.redirect_stderr(sink),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore", ConvergenceWarning)
                with _timing.Stopwatch() as watch:
                    fit(X, y)
            if turn:
                seconds[name].append(watch.seconds)
    return {name: statistics.median(times) for name, times in seconds.items()}


def rows_of(case, epochs, medians):
    """Table rows: each contender's time and its ratio to its silent peer."""
    rows = []
    for name, seconds in medians.items():
        silent = "sknoise verbose=0" if name.startswith("sknoise") else None
        silent = silent or "scikit-learn verbose=False"
        rows.append(
            {
                "case": case,
                "epochs": epochs,
                "contender": name,
                "fit (s)": round(seconds, 3),
                "vs silent": round(seconds / medians[silent], 3),
            }
        )
    return rows


def build_parser():
    # Either backend's run is published: the file name says which.
    parser = _cli.base_parser(__doc__.splitlines()[0], published_backends=None)
    parser.add_argument("--repeats", type=int, default=None, help="Turns (3).")
    return parser


def main(argv=None):
    args, backend, out = build_parser().start(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    rows = []
    with _timing.Stopwatch() as watch:
        for case, (X, y, epochs, batch_size) in cases(args.quick, args.seed).items():
            print(f"timing {case} ...", flush=True)
            fits = contenders(epochs, batch_size, args.seed)
            rows += rows_of(case, epochs, time_turns(fits, X, y, repeats))
    for row in rows:
        print(f"{row['case']:12} {row['contender']:36} {row['fit (s)']:8.3f} s "
              f"{row['vs silent']:6.3f}x")  # fmt: skip
    settings = {"repeats": repeats, "quick": args.quick, "seed": args.seed}
    settings["rows"] = {
        case: len(y) for case, (_, y, _, _) in cases(args.quick, args.seed).items()
    }
    title = "Progress: what verbose costs a fit (medians of turns in one process)"
    lines = _report.header(title, backend, settings, watch.seconds)
    csv_path, md_path = _report.write_table(rows, out, f"progress_{backend}", lines)
    print(f"wrote {csv_path} and {md_path}")


if __name__ == "__main__":
    main()
