"""Sparse input: a TF-IDF-like CSR matrix, sknoise against scikit-learn's MLP.

Builds a CSR matrix of 100,000 x 50,000 (``--quick``: 5,000 x 5,000) like a
TF-IDF one: feature frequencies Zipf-distributed, rows of varied length
(log-normal, 75 stored entries on average), values term weight times IDF,
rows L2-normalised, and binary labels from a sparse linear rule. Each
contender trains on the first 80% of the rows in a fresh process of its own
(so that its peak resident memory is its own):
``NoisyMLPClassifier(nodes=100, batch_size=200)`` on the fastest installed
Keras backend (``--backend`` to choose) and
``MLPClassifier(hidden_layer_sizes=(100,), batch_size=200, solver="adam")``.

Reported: seconds per epoch (the slope between a 1-epoch and an
``--epochs``-epoch fit after a first one, so that neither start-up nor
compilation counts), the first fit's time,
the time of ``predict`` on the held-out 20%, the process's peak resident
memory beside the memory the matrix itself takes (and would take dense),
held-out accuracy, and each ratio to scikit-learn's. Run
``python -m benchmarks.sparse --help`` for the options.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from benchmarks import _cli, _report, _timing, _workers

FULL_SHAPE = (100_000, 50_000)
QUICK_SHAPE = (5_000, 5_000)
MEAN_ENTRIES = 75
NODES = 100
BATCH = 200
TRAIN_FRACTION = 0.8
CONTENDERS = ("sknoise", "scikit-learn")


def tfidf_like(n_rows, n_features, seed):
    """A TF-IDF-like CSR matrix (float32) and labels with signal in it."""
    rng = np.random.default_rng(seed)
    # Row lengths log-normal around MEAN_ENTRIES; columns drawn with
    # Zipf-like frequencies (p ~ 1 / (rank + 10)), so a few are everywhere.
    lengths = rng.lognormal(np.log(MEAN_ENTRIES) - 0.125, 0.5, n_rows)
    lengths = np.clip(lengths.astype(int), 5, 6 * MEAN_ENTRIES)
    frequency = 1.0 / (np.arange(n_features) + 10.0)
    frequency /= frequency.sum()
    columns = rng.choice(n_features, size=lengths.sum(), p=frequency)
    rows = np.repeat(np.arange(n_rows), lengths)
    counts = sp.csr_matrix(
        (np.ones(len(columns), dtype=np.float32), (rows, columns)),
        shape=(n_rows, n_features),
    )
    counts.sum_duplicates()  # repeated words: a count
    document_frequency = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((1 + n_rows) / (1 + document_frequency)) + 1
    counts.data = (1 + np.log(counts.data)) * idf[counts.indices].astype(np.float32)
    norms = np.sqrt(counts.multiply(counts).sum(axis=1)).A1
    X = sp.csr_matrix(sp.diags(1 / norms, format="csr") @ counts, dtype=np.float32)
    # A sparse linear rule: 5% of the features carry a weight.
    weights = rng.normal(size=n_features) * (rng.random(n_features) < 0.05)
    score = X @ weights
    y = (score > np.median(score)).astype(int)
    return X, y


def make_model(contender, epochs, seed):
    if contender == "sknoise":
        from sknoise import NoisyMLPClassifier

        return NoisyMLPClassifier(
            nodes=NODES, epochs=epochs, batch_size=BATCH, random_state=seed
        )
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(NODES,),
        max_iter=epochs,
        batch_size=BATCH,
        solver="adam",
        random_state=seed,
    )


def peak_mib():
    """This process's peak resident set size, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe(args):
    """One contender's measurements, in this fresh process, as a JSON line."""
    X = sp.load_npz(args.data)
    y = np.load(args.labels)
    n_train = int(TRAIN_FRACTION * X.shape[0])
    X_train, X_test, y_train, y_test = (
        X[:n_train],
        X[n_train:],
        y[:n_train],
        y[n_train:],
    )
    loaded_mib = peak_mib()
    seconds = {}
    with warnings.catch_warnings():
        # scikit-learn warns that a few epochs have not converged: by design.
        warnings.simplefilter("ignore")
        # The first fit (sknoise compiles its loop in it) is timed apart;
        # the slope is taken between the fits after it.
        for name, epochs in (("first", 1), (1, 1), (args.epochs, args.epochs)):
            model = make_model(args.probe, epochs, args.seed)
            with _timing.Stopwatch() as watch:
                model.fit(X_train, y_train)
            seconds[name] = watch.seconds
    with _timing.Stopwatch() as watch:
        predicted = model.predict(X_test)
    record = {
        "contender": args.probe,
        "epoch_s": (seconds[args.epochs] - seconds[1]) / (args.epochs - 1),
        "first_fit_s": seconds["first"],
        "predict_s": watch.seconds,
        "peak_mib": peak_mib(),
        "loaded_mib": loaded_mib,
        "accuracy": float(np.mean(predicted == y_test)),
    }
    print(json.dumps(record), flush=True)


def run_contender(contender, backend, data, labels, args):
    command = [sys.executable, "-m", "benchmarks.sparse", "--probe", contender]
    command += ["--data", str(data), "--labels", str(labels)]
    command += ["--epochs", str(args.epochs), "--seed", str(args.seed)]
    env = {**os.environ, "KERAS_BACKEND": backend}
    records, _ = _workers.run_json_process(command, env, f"the {contender} process")
    return records[-1]


def build_parser():
    parser = _cli.base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=3, help="Epochs of the long fit (3)."
    )
    parser.add_argument("--probe", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--labels", help=argparse.SUPPRESS)
    return parser


def time_contenders(X, y, backend, args):
    """Each contender's record, timed in a fresh process of its own on
    ``(X, y)``, which reach it through files."""
    with tempfile.TemporaryDirectory(prefix="sknoise-sparse-") as folder:
        data, labels = Path(folder) / "X.npz", Path(folder) / "y.npy"
        sp.save_npz(data, X, compressed=False)
        np.save(labels, y)
        records = {}
        for contender in CONTENDERS:
            print(f"timing {contender} ...", flush=True)
            records[contender] = run_contender(contender, backend, data, labels, args)
    return records


def table_rows(records, backend):
    """One row per contender, with its ratios to scikit-learn's."""
    reference = records["scikit-learn"]
    return [
        {
            "contender": contender,
            "backend": backend if contender == "sknoise" else "-",
            "fit s/epoch": record["epoch_s"],
            "first 1-epoch fit s": record["first_fit_s"],
            "predict s": record["predict_s"],
            "peak RSS MiB": record["peak_mib"],
            "RSS with data MiB": record["loaded_mib"],
            "held-out accuracy": record["accuracy"],
            "epoch x sklearn": record["epoch_s"] / reference["epoch_s"],
            "predict x sklearn": record["predict_s"] / reference["predict_s"],
            "peak RSS x sklearn": record["peak_mib"] / reference["peak_mib"],
        }
        for contender, record in records.items()
    ]


def data_facts(X, epochs):
    """The result's lines about the matrix and how the epochs are timed."""
    lengths = np.diff(X.indptr)
    n_rows, n_features = X.shape
    csr_mib = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    return _report.facts(
        f"Data: TF-IDF-like CSR, {X.nnz:,} stored entries, "
        f"{lengths.mean():.0f} per row on average, {lengths.max()} at most; "
        f"{csr_mib:.0f} MiB as CSR, {n_rows * n_features * 4 / 2**30:.1f} GiB "
        "if it were dense (float32). Trained on 80% of the rows, accuracy on "
        "the other 20%.",
        "fit s/epoch: the slope between a 1-epoch and a "
        f"{epochs}-epoch fit after a first 1-epoch fit (which includes "
        "sknoise's compilation), each contender in a fresh process; "
        "RSS with data: the process's peak after loading the matrix, before "
        "fitting.",
    )


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the slope needs two fits")
    backend = _cli.select_backend(args.backend)
    if args.probe:
        probe(args)
        return
    out = parser.output_dir(args, [backend])
    n_rows, n_features = QUICK_SHAPE if args.quick else FULL_SHAPE
    with _timing.Stopwatch() as watch:
        X, y = tfidf_like(n_rows, n_features, args.seed)
        records = time_contenders(X, y, backend, args)
    settings = {
        "rows": n_rows,
        "features": n_features,
        "epochs": args.epochs,
        "nodes": NODES,
        "batch_size": BATCH,
        "seed": args.seed,
        "quick": args.quick,
    }
    title = "Sparse input: sknoise against scikit-learn's MLPClassifier"
    lines = _report.header(title, backend, settings, watch.seconds)
    lines += data_facts(X, args.epochs)
    rows = table_rows(records, backend)
    csv_path, md_path = _report.write_table(rows, out, "sparse", lines)
    print(md_path.read_text())
    print(f"wrote {csv_path} and {md_path}")


if __name__ == "__main__":
    main()
