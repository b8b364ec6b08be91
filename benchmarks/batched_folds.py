"""Training many fits of one grid as a single vectorised program: a measurement.

sknoise trains every fit of a search as a program of its own, so the
published grid search (4 widths x 6 noise amounts x 5 folds) runs 120 small
programs, two at a time on this machine. The fits of one width all have the
same shapes (24 training rows each), so they could run as one program with
``jax.vmap``, each with its own rows, weights and noise. This is not built
into sknoise; this script measures what it would give, with the hand-written
loop of ``benchmarks.speed`` (the computation of sknoise's compiled loop,
with its noise source), JAX only.

Per width of the published grid: milliseconds per epoch of one fit alone,
and per fit when ``K`` fits run as one vmapped program (K = 5, the folds of
a candidate; K = 30, the 6 candidates x 5 folds of a width). A time per
epoch is the slope between a short and a long run, as in the speed
benchmark, with one XLA thread per program (as in each worker of the grid
search). The data and noise streams are fixed (``--seed`` changes
nothing): timings do not depend on them.

    python -m benchmarks.batched_folds [--quick]
"""

import numpy as np

from benchmarks import _cli, _datasets, _report, _timing, _workers

WIDTHS = (50, 100, 300, 500)
BATCHES = (1, 5, 30)
N_SPLITS = 5


def stacked_folds(n_fits):
    """Training sets of ``n_fits`` fits, stacked: the 5-fold CV training
    sets of the grid-search split, repeated as many times as needed."""
    from sklearn.model_selection import StratifiedKFold

    X, y, _, _ = _datasets.published_split()
    folds = [(X[train], y[train]) for train, _ in StratifiedKFold(N_SPLITS).split(X, y)]
    chosen = [folds[i % N_SPLITS] for i in range(n_fits)]
    X_stack, y_stack = (np.stack(parts) for parts in zip(*chosen, strict=True))
    if n_fits == 1:
        X_stack, y_stack = X_stack[0], y_stack[0]
    return X_stack, y_stack, None, None


def measure(widths, batches, epochs, repeats):
    """One record per (width, fits per program): ms per epoch per fit."""
    from benchmarks._floor import floor_runner

    records = []
    for width in widths:
        # The batch sizes of one width take turns, as their ratios are the
        # result.
        runs = {
            n_fits: floor_runner(
                stacked_folds(n_fits), "sknoise", nodes=width, folds=n_fits
            )
            for n_fits in batches
        }
        for n_fits, (seconds, _) in _timing.per_epoch(runs, *epochs, repeats).items():
            records.append(
                {"width": width, "fits": n_fits, "ms": seconds * 1e3 / n_fits}
            )
            print(f"width {width}, {n_fits} fits: {records[-1]['ms']:.4f} ms per fit")
    return records


def table_rows(records, batches):
    """Per width: ms per epoch per fit alone and in each batch, and the
    speed-up of each batch over fits one by one."""
    rows = []
    for width in sorted({r["width"] for r in records}):
        per_fit = {r["fits"]: r["ms"] for r in records if r["width"] == width}
        row = {"width": width}
        for n_fits in batches:
            row[f"ms/epoch per fit, {n_fits} in one program"] = round(
                per_fit[n_fits], 4
            )
        for n_fits in batches[1:]:
            row[f"speed-up, {n_fits} fits"] = round(per_fit[1] / per_fit[n_fits], 2)
        rows.append(row)
    return rows


def build_parser():
    return _cli.base_parser(__doc__.splitlines()[0])


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.backend not in (None, "jax"):
        parser.error("--backend: only jax has the vmap this measures")
    backend = _cli.select_backend("jax")
    # One XLA thread per program, as in each worker of the grid search, so
    # that the figures are per core and a batch cannot win by using both.
    _workers.use_one_xla_thread()
    out = parser.output_dir(args, [backend])
    widths = WIDTHS[:2] if args.quick else WIDTHS
    epochs = (100, 500) if args.quick else (1000, 5000)
    repeats = 1 if args.quick else 5
    with _timing.Stopwatch() as watch:
        records = measure(widths, BATCHES, epochs, repeats)
    rows = table_rows(records, BATCHES)
    settings = {
        "widths": list(widths),
        "fits per program": list(BATCHES),
        "epochs (short, long)": epochs,
        "repeats": repeats,
    }
    title = "Fits of one width trained as one vectorised program (jax.vmap)"
    lines = _report.header(title, backend, settings, watch.seconds)
    csv_path, md_path = _report.write_table(rows, out, "batched_folds", lines)
    print(md_path.read_text())
    print(f"wrote {csv_path} and {md_path}")


if __name__ == "__main__":
    main()
