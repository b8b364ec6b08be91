"""ONNX parity: onnxruntime against the estimators' own predictions.

Each case fits a small network on every installed Keras backend (each in a
fresh process of its own) and converts it to ONNX in the two ways the how-to
guide shows:

* *Keras*: ``export_model().export(path, format="onnx")`` (tf2onnx on
  TensorFlow, jax2onnx on JAX) of an estimator fitted on X as it is;
* *skl2onnx*: ``skl2onnx.to_onnx`` of ``Pipeline([StandardScaler(),
  estimator])`` after ``sknoise.onnx.register_converters()``.

Reported, on held-out rows: the largest absolute difference between what
onnxruntime computes and ``predict_proba`` (classifiers; the Keras model's
one sigmoid column ``p`` of a binary classifier as ``(1 - p, p)``) or
``predict`` (regressors), whether skl2onnx's labels all equal
``predict``'s, and the largest output: float32, which both sides compute in,
resolves a value ``v`` only to about ``1e-7 * |v|``, so a regressor's
predictions of tens differ in the sixth decimal. The sparse cases fit on a
CSR matrix (the pipeline's scaler then with ``with_mean=False``) and give
onnxruntime the same rows dense. Needs the ``onnx`` extra. Run ``python -m
benchmarks.onnx_parity --help`` for the options.
"""

import argparse
import importlib.metadata
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from benchmarks import _cli, _report, _workers

N_TRAIN, N_TEST, N_FEATURES = 400, 200, 8
NODES = (32, 16)
EPOCHS, QUICK_EPOCHS = 100, 5
#: case -> (estimator, target kind, sparse X)
CASES = {
    "binary, int labels": ("classifier", "binary int", False),
    "binary, string labels": ("classifier", "binary str", False),
    "multiclass, int labels": ("classifier", "multiclass int", False),
    "multiclass, string labels": ("classifier", "multiclass str", False),
    "multilabel": ("classifier", "multilabel", False),
    "regression, 1 output": ("regressor", "1 output", False),
    "regression, 2 outputs": ("regressor", "2 outputs", False),
    "binary, string labels, sparse X": ("classifier", "binary str", True),
    "multiclass, int labels, sparse X": ("classifier", "multiclass int", True),
    "regression, 1 output, sparse X": ("regressor", "1 output", True),
}
ONNX_PACKAGES = ("onnx", "onnxruntime", "skl2onnx", "tf2onnx", "jax2onnx")


def make_data(seed):
    """Features (dense, unscaled) and every kind of target."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    X = rng.normal(size=(n, N_FEATURES)) * rng.uniform(0.5, 3, N_FEATURES)
    X = (X + rng.normal(size=N_FEATURES)).astype(np.float32)
    score = X[:, 0] - X[:, 1] / 2 + np.sin(X[:, 2])
    thirds = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    targets = {
        "binary int": (score > np.median(score)).astype(int),
        "binary str": np.where(score > np.median(score), "spam", "ham"),
        "multiclass int": thirds * 10 - 5,
        "multiclass str": np.array(["low", "mid", "high"])[thirds],
        "multilabel": np.column_stack([score > 0, X[:, 3] > 0, X[:, 4] > X[:, 5]]),
        "1 output": score,
        "2 outputs": np.column_stack([score, X[:, 3] * X[:, 4]]),
    }
    targets["multilabel"] = targets["multilabel"].astype(int)
    return X, targets


def expected(estimator, X):
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.predict(X).reshape(X.shape[0], -1)


def onnx_outputs(onnx_bytes, X):
    import onnxruntime

    session = onnxruntime.InferenceSession(
        onnx_bytes, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def keras_difference(estimator, X_fit, X_dense, directory):
    """Keras' export of ``export_model()`` against the estimator."""
    path = Path(directory) / "model.onnx"
    estimator.export_model().export(path, format="onnx", verbose=False)
    (outputs,) = onnx_outputs(path.read_bytes(), X_dense)
    if hasattr(estimator, "predict_proba") and outputs.shape[1] == 1:
        outputs = np.column_stack([1 - outputs[:, 0], outputs[:, 0]])
    return float(np.abs(outputs - expected(estimator, X_fit)).max())


def skl2onnx_difference(pipeline, X_fit, X_dense):
    """skl2onnx's conversion of the pipeline against it: the largest
    difference and whether every label equals ``predict``'s."""
    import skl2onnx

    is_classifier = hasattr(pipeline, "predict_proba")
    options = {id(pipeline[-1]): {"zipmap": False}} if is_classifier else None
    onnx_model = skl2onnx.to_onnx(pipeline, X_dense[:1], options=options)
    outputs = onnx_outputs(onnx_model.SerializeToString(), X_dense)
    if not is_classifier:
        return float(np.abs(outputs[0] - expected(pipeline, X_fit)).max()), None
    labels_equal = outputs[0].tolist() == pipeline.predict(X_fit).tolist()
    difference = float(np.abs(outputs[1] - expected(pipeline, X_fit)).max())
    return difference, labels_equal


def probe(args):
    """In this fresh process, on its backend: one JSON line per case."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
    from sknoise._backend import import_keras
    from sknoise.onnx import register_converters

    register_converters()
    backend = import_keras().backend.backend()
    X, targets = make_data(args.seed)
    params = {
        "nodes": NODES,
        "epochs": QUICK_EPOCHS if args.quick else EPOCHS,
        "random_state": args.seed,
    }
    estimators = {"classifier": NoisyMLPClassifier, "regressor": NoisyMLPRegressor}
    for case, (kind, target, sparse) in CASES.items():
        Estimator = estimators[kind]
        y_train = targets[target][:N_TRAIN]
        X_train, X_test = X[:N_TRAIN], X[N_TRAIN:]
        if sparse:
            # Half the entries zero; the ONNX graphs take the rows dense.
            zeros = np.random.default_rng(args.seed).random(X.shape) < 0.5
            X_sparse = sp.csr_matrix(np.where(zeros, 0, X))
            X_train, X_test = X_sparse[:N_TRAIN], X_sparse[N_TRAIN:]
        X_dense = X_test.toarray() if sparse else X_test
        estimator = Estimator(**params).fit(X_train, y_train)
        with tempfile.TemporaryDirectory() as directory:
            keras = keras_difference(estimator, X_test, X_dense, directory)
        scaler = StandardScaler(with_mean=not sparse)
        pipeline = Pipeline([("scale", scaler), ("mlp", Estimator(**params))])
        pipeline.fit(X_train, y_train)
        skl, labels_equal = skl2onnx_difference(pipeline, X_test, X_dense)
        record = {"case": case, "backend": backend, "keras": keras, "skl2onnx": skl}
        record["labels_equal"] = labels_equal
        record["largest"] = float(np.abs(expected(estimator, X_test)).max())
        print(json.dumps(record), flush=True)
    print(json.dumps({"environment": _report.environment(backend)}), flush=True)


def measure_backend(backend, args):
    command = [sys.executable, "-m", "benchmarks.onnx_parity", "--probe"]
    command += ["--seed", str(args.seed)] + ["--quick"] * args.quick
    env = {**os.environ, "KERAS_BACKEND": backend}
    records, _ = _workers.run_json_process(command, env, f"the {backend} process")
    return records


def summarise(records):
    """One row per case: a column per conversion and backend, then whether
    skl2onnx's labels equal predict's on every backend."""
    cases = {}
    for record in records:
        if "case" in record:
            cases.setdefault(record["case"], {})[record["backend"]] = record
    rows = []
    for case, by_backend in cases.items():
        row = {"case": case}
        for conversion, key in (("Keras export", "keras"), ("skl2onnx", "skl2onnx")):
            for backend, record in by_backend.items():
                row[f"{conversion}, {backend}"] = record[key]
        labels = [record["labels_equal"] for record in by_backend.values()]
        row["labels equal"] = "n/a" if labels[0] is None else all(labels)
        row["largest output"] = max(r["largest"] for r in by_backend.values())
        rows.append(row)
    return rows


def build_parser():
    # The committed table compares both backends.
    parser = _cli.base_parser(__doc__.splitlines()[0], published_backends=_cli.BACKENDS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    measured = _report.probe_or_measure(build_parser(), argv, measure_backend, probe)
    if measured is None:
        return
    args, out, records, run_facts = measured
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ONNX_PACKAGES
    )
    epochs = QUICK_EPOCHS if args.quick else EPOCHS
    _report.write_timing_report(
        summarise(records),
        out,
        "onnx_parity",
        "# ONNX parity: onnxruntime against predict_proba and predict",
        [
            f"Data: {N_TRAIN} training and {N_TEST} held-out rows, {N_FEATURES} "
            f"unscaled features; nodes={NODES}, epochs={epochs}, "
            f"random_state={args.seed}.",
            *run_facts,
            f"ONNX packages: {versions}.",
        ],
        "Columns: the largest absolute difference over the held-out rows, per "
        "conversion and backend; labels equal: skl2onnx's labels are "
        "predict's on every row and backend; largest output: the largest "
        "absolute value of predict_proba or predict (float32's steps there "
        "are up to 1.2e-7 times it).",
    )


if __name__ == "__main__":
    main()
