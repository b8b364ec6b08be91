"""Everyday use: import, one-row predictions, the first fit and mid-sized epochs.

What a user waits for outside the published experiments, measured on every
installed Keras backend beside scikit-learn's ``MLPClassifier`` in the same
run:

* *import*: ``import sknoise`` in a fresh process beyond ``import keras`` in
  another (medians over the run's fresh processes), and how much of it is
  TensorFlow's import on the JAX backend;
* *predict*: one ``predict_proba`` call on a single row, median over many
  calls, sknoise and ``MLPClassifier`` fitted on the same data in the same
  process;
* *first fit*: the first ``fit`` in a fresh process (one epoch on the data
  below), which traces and compiles the training loop, in three processes
  one after another: without the compilation cache, with an empty cache
  (the first process fills it) and with that cache (the second process);
  with how much of it was tracing and how much the backend's compiler;
* *per epoch*: milliseconds per epoch on ``make_classification`` data of
  50,000 rows and 50 features, 100 hidden units, batch 200, the slope
  between the fastest of five short and of five long fits, sknoise against
  ``MLPClassifier`` with the same width and batch (with its default BLAS
  threads and with one, whichever is faster).

Each backend runs in fresh processes of its own. Run
``python -m benchmarks.everyday --help`` for the options.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

from benchmarks import _common

ROWS, FEATURES, NODES, BATCH = 50_000, 50, 100, 200
QUICK_ROWS = 5_000
CACHE_VARIABLE = "SKNOISE_COMPILATION_CACHE"
FIRST_FIT_DONE = "everyday benchmark: first fit done"
# TensorFlow logs each XLA compilation's time with TF_CPP_VMODULE below.
TF_COMPILE = re.compile(r"Compilation of XLA executable time: .*?\((\d+) us\)")
FIRST_FITS = ("no cache", "cache, first process", "cache, second process")
COLUMNS = (
    "Columns: *sknoise* and *reference* are the two sides of a comparison "
    "(scikit-learn's MLPClassifier, or Keras' own import, or the first fit "
    "without the cache); *ratio* divides the first by the second. The first "
    "fits are one epoch in a fresh process, the cache the opt-in "
    "SKNOISE_COMPILATION_CACHE (JAX only: TensorFlow keeps compiling); their "
    "*detail* splits them into JAX's tracing and lowering and the backend's "
    "compiler (on JAX from its monitoring events, where a program loaded "
    "from the cache counts as loaded, and the first-time work they do not "
    "cover, such as dispatching Keras' weight initialisers; on TensorFlow "
    "the XLA compile time it logs, and the rest of the first fit beyond a "
    "second identical fit, mostly tracing), and gives that second fit's "
    "time. *met* says whether the target holds in this run."
)


# ---------------------------------------------------------------------------
# One fresh process: what it measures
# ---------------------------------------------------------------------------
def make_data(rows):
    from sklearn.datasets import make_classification

    X, y = make_classification(
        rows, FEATURES, n_informative=10, random_state=0, class_sep=0.8
    )
    return X.astype("float32"), y


def sknoise_model(epochs):
    from sknoise import NoisyMLPClassifier

    return NoisyMLPClassifier(
        nodes=NODES, batch_size=BATCH, epochs=epochs, random_state=0
    )


def sklearn_model(epochs):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(NODES,),
        batch_size=BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )


def fit_quietly(model, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def single_row_seconds(model, row, calls):
    """Median seconds of one ``predict_proba`` call on one row."""
    for _ in range(5):
        model.predict_proba(row)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        model.predict_proba(row)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def per_epoch(run, short, long, repeats):
    """Seconds per epoch: the slope from the fastest of ``repeats`` short
    fits to the fastest long one, after a warm-up fit.

    The fastest run is the one other work on the machine disturbed least;
    scikit-learn's two BLAS threads in particular slow down many times over
    when the cores are busy.
    """
    run(short)
    shorts, longs = [], []
    for _ in range(repeats):
        with _common.Stopwatch() as watch:
            run(short)
        shorts.append(watch.seconds)
        with _common.Stopwatch() as watch:
            run(long)
        longs.append(watch.seconds)
    return (min(longs) - min(shorts)) / (long - short)


class JaxCompilations:
    """JAX's compilation events and durations, from its monitoring hooks."""

    def __init__(self):
        import jax

        self.events, self.seconds = {}, {}
        jax.monitoring.register_event_listener(self._event)
        jax.monitoring.register_event_duration_secs_listener(self._duration)

    def _event(self, event, **kwargs):
        name = event.rsplit("/", 1)[-1]
        self.events[name] = self.events.get(name, 0) + 1

    def _duration(self, event, seconds, **kwargs):
        name = event.rsplit("/", 1)[-1]
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self._event(event)

    def summary(self):
        programs = self.events.get("backend_compile_duration", 0)
        loaded = self.events.get("cache_hits", 0)
        return {
            "trace_s": self.seconds.get("jaxpr_trace_duration", 0.0)
            + self.seconds.get("jaxpr_to_mlir_module_duration", 0.0),
            "compile_s": self.seconds.get("backend_compile_duration", 0.0),
            "programs": programs,
            "loaded": loaded,
            "compiled": programs - loaded,
        }


def probe(args):
    """Run in a fresh process: time the imports and the first fit; with
    ``--probe full`` also predictions and epochs; with ``--probe keras``
    only ``import keras``, then TensorFlow's. Prints one JSON line."""
    if args.probe == "keras":
        with _common.Stopwatch() as keras_import:
            import keras
        with _common.Stopwatch() as tensorflow_import:
            import tensorflow  # noqa: F401
        record = {
            "backend": keras.backend.backend(),
            "probe": args.probe,
            "import_keras_s": keras_import.seconds,
            "import_tensorflow_s": tensorflow_import.seconds,
        }
        print(json.dumps(record), flush=True)
        return
    # sknoise first, so that its time includes the Keras import it does
    # itself (and TensorFlow's on that backend only).
    with _common.Stopwatch() as sknoise_import:
        import sknoise  # noqa: F401
    import keras

    backend = keras.backend.backend()
    record = {
        "backend": backend,
        "probe": args.probe,
        "import_sknoise_s": sknoise_import.seconds,
    }
    jax_compilations = JaxCompilations() if backend == "jax" else None
    X, y = make_data(QUICK_ROWS if args.quick else ROWS)
    with _common.Stopwatch() as first:
        model = sknoise_model(epochs=1).fit(X, y)
    sys.stderr.write(FIRST_FIT_DONE + "\n")
    sys.stderr.flush()
    record["first_fit_s"] = first.seconds
    if jax_compilations is not None:
        record.update(jax_compilations.summary())
    with _common.Stopwatch() as second:
        sknoise_model(epochs=1).fit(X, y)
    record["second_fit_s"] = second.seconds
    if args.probe == "full":
        calls = 50 if args.quick else 500
        reference = fit_quietly(sklearn_model(epochs=1), X, y)
        record["predict_s"] = single_row_seconds(model, X[:1], calls)
        record["sklearn_predict_s"] = single_row_seconds(reference, X[:1], calls)
        short, long = (1, 4) if args.quick else (2, 10)
        repeats = 1 if args.quick else 5
        record["epoch_s"] = per_epoch(
            lambda epochs: sknoise_model(epochs).fit(X, y), short, long, repeats
        )
        record["sklearn_epoch_s"] = per_epoch(
            lambda epochs: fit_quietly(sklearn_model(epochs), X, y),
            short,
            long,
            repeats,
        )
        # Its BLAS threads wait on each other, which a busy machine turns
        # into seconds: one thread is also timed, and the faster one counts.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            record["sklearn_epoch_one_thread_s"] = per_epoch(
                lambda epochs: fit_quietly(sklearn_model(epochs), X, y),
                short,
                long,
                repeats,
            )
        record["environment"] = _common.environment(backend)
    print(json.dumps(record), flush=True)


# ---------------------------------------------------------------------------
# The parent: fresh processes, one after another, and the table
# ---------------------------------------------------------------------------
def run_probe(backend, kind, cache_dir, args):
    """One fresh process measuring ``kind`` ("full", "first fit", "keras")."""
    command = [sys.executable, "-m", "benchmarks.everyday", "--probe", kind]
    command += ["--quick"] * args.quick
    env = {**os.environ, "KERAS_BACKEND": backend}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.pop(CACHE_VARIABLE, None)
    if cache_dir is not None:
        env[CACHE_VARIABLE] = str(cache_dir)
    # TensorFlow logs its XLA compile times at this level.
    env.update(TF_CPP_MIN_LOG_LEVEL="0", TF_CPP_VMODULE="device_compiler=1")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"the {backend} {kind} process failed")
    record = json.loads(result.stdout.splitlines()[-1])
    if backend == "tensorflow" and kind != "keras":
        first_fit_log = result.stderr.split(FIRST_FIT_DONE)[0]
        compiles = [int(us) / 1e6 for us in TF_COMPILE.findall(first_fit_log)]
        record["compile_s"] = sum(compiles)
        record["compiled"] = len(compiles)
        record["loaded"] = 0
        record["trace_s"] = (
            record["first_fit_s"] - record["second_fit_s"] - record["compile_s"]
        )
    return record


def measure_backend(backend, args):
    """Keras' import alone, then the three first fits (the first also
    measuring the rest), in turn."""
    print(f"  {backend}: import keras ...", flush=True)
    records = [
        {**run_probe(backend, "keras", None, args), "run": "keras"}
        for _ in range(1 if args.quick else 3)
    ]
    cache_dir = tempfile.mkdtemp(prefix="sknoise-everyday-")
    try:
        for name in FIRST_FITS:
            kind = "full" if name == "no cache" else "first fit"
            directory = None if name == "no cache" else cache_dir
            print(f"  {backend}: first fit, {name} ...", flush=True)
            records.append({**run_probe(backend, kind, directory, args), "run": name})
        return records
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def _detail(record):
    second = f"; second fit {record['second_fit_s']:.2f} s"
    if record["backend"] == "jax":
        other = (
            record["first_fit_s"]
            - record["trace_s"]
            - record["compile_s"]
            - record["second_fit_s"]
        )
        return (
            f"trace+lower {record['trace_s']:.2f} s, compile or load "
            f"{record['compile_s']:.2f} s, other first-time work {other:.2f} s "
            "(JAX dispatch its events leave out, Keras set-up); "
            f"programs compiled {record['compiled']}, loaded {record['loaded']}"
            + second
        )
    return (
        f"XLA compile {record['compile_s']:.2f} s ({record['compiled']} "
        f"programs), rest beyond a second fit {record['trace_s']:.2f} s" + second
    )


def _row(backend, measure, value, reference, target="", met=""):
    ratio = value / reference if reference else ""
    return {
        "backend": backend,
        "measure": measure,
        "sknoise": value,
        "reference": reference,
        "ratio": ratio,
        "target": target,
        "met": met,
        "detail": "",
    }


def summarise(records, rows_label):
    """The table: six rows per backend."""
    table = []
    for backend in dict.fromkeys(r["backend"] for r in records):
        mine = [r for r in records if r["backend"] == backend]
        runs = {r["run"]: r for r in mine}
        full = runs["no cache"]
        keras_runs = [r for r in mine if r["run"] == "keras"]
        sknoise_import = statistics.median(
            r["import_sknoise_s"] for r in mine if "import_sknoise_s" in r
        )
        keras_import = statistics.median(r["import_keras_s"] for r in keras_runs)
        tensorflow_import = statistics.median(
            r["import_tensorflow_s"] for r in keras_runs
        )
        extra = sknoise_import - keras_import
        row = _row(backend, "import sknoise beyond keras (s)", extra, keras_import)
        if backend == "jax":
            row.update(target="<= 0.8 s", met="yes" if extra <= 0.8 else "no")
        row["detail"] = (
            f"reference: import keras; import sknoise {sknoise_import:.2f} s; "
            f"import tensorflow after keras {tensorflow_import:.2f} s; medians "
            "of fresh processes"
        )
        table.append(row)

        ratio = full["predict_s"] / full["sklearn_predict_s"]
        row = _row(
            backend,
            "one-row predict_proba (ms)",
            full["predict_s"] * 1e3,
            full["sklearn_predict_s"] * 1e3,
            "<= 3x sklearn",
            "yes" if ratio <= 3 else "no",
        )
        row["detail"] = "reference: MLPClassifier, same process"
        table.append(row)

        no_cache = full["first_fit_s"]
        for name in FIRST_FITS:
            record = runs[name]
            row = _row(
                backend,
                f"first fit, {name} (s)",
                record["first_fit_s"],
                no_cache if name != "no cache" else "",
            )
            if name == "cache, second process":
                row["target"] = "compiles nothing"
                row["met"] = "yes" if record["compiled"] == 0 else "no"
            row["detail"] = _detail(record)
            table.append(row)

        threads, one_thread = (
            full["sklearn_epoch_s"],
            full["sklearn_epoch_one_thread_s"],
        )
        reference = min(threads, one_thread)
        ratio = full["epoch_s"] / reference
        if full["epoch_s"] <= 0:
            # A slope at or below zero (--quick's short fits) measures nothing.
            epoch_met = "not measured: below the timing noise"
        else:
            epoch_met = "yes" if ratio <= 0.5 else "no"
        row = _row(
            backend,
            f"per epoch, {rows_label} (ms)",
            full["epoch_s"] * 1e3,
            reference * 1e3,
            "<= 0.5x sklearn",
            epoch_met,
        )
        row["detail"] = (
            f"reference: MLPClassifier, the faster of its default BLAS threads "
            f"({threads * 1e3:.0f} ms) and one thread ({one_thread * 1e3:.0f} ms); "
            f"{NODES} units, batch {BATCH}"
        )
        table.append(row)
    for row in table:
        for key in ("sknoise", "reference", "ratio"):
            if isinstance(row[key], float):
                row[key] = round(row[key], 4)
    return table


def build_parser():
    # The committed table would time every installed backend.
    parser = _common.base_parser(
        __doc__.splitlines()[0], published_backends=_common.BACKENDS
    )
    parser.add_argument(
        "--probe", choices=("full", "first fit", "keras"), help=argparse.SUPPRESS
    )
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.probe:
        probe(args)
        return
    out, records, run_facts = _common.measure_backends(parser, args, measure_backend)
    rows_label = f"{QUICK_ROWS if args.quick else ROWS:,} x {FEATURES}"
    rows = summarise(records, rows_label)
    _common.write_timing_report(
        rows,
        out,
        "everyday",
        "# Everyday use: import, one-row predictions, first fit, epochs",
        [
            f"Data: make_classification, {rows_label}, {NODES} hidden units, "
            f"batch {BATCH}; per-epoch times are slopes between the fastest "
            "short and the fastest long fit"
            + (" (--quick: fewer rows, one repeat)." if args.quick else "."),
            *run_facts,
        ],
        COLUMNS,
    )


if __name__ == "__main__":
    main()
