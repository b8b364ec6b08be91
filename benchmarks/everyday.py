"""Everyday use: import, one-row predictions, the first fit and mid-sized epochs.

What a user waits for outside the published experiments, measured on every
installed Keras backend beside scikit-learn's ``MLPClassifier`` in the same
run:

* *import*: ``import sknoise`` in a fresh process against
  ``import sklearn.neural_network`` in another (medians over the run's fresh
  processes), and which of Keras, TensorFlow and JAX it loaded;
* *serving*: a fresh process that only loads a fitted model with
  ``joblib.load`` and calls ``predict_proba`` once, for sknoise and for a
  ``MLPClassifier`` of the same size: its time from the first import, its
  peak resident memory and which of Keras, TensorFlow and JAX it loaded;
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
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks import _cli, _report, _timing, _workers

ROWS, FEATURES, NODES, BATCH = 50_000, 50, 100, 200
QUICK_ROWS = 5_000
CACHE_VARIABLE = "SKNOISE_COMPILATION_CACHE"
FIRST_FIT_DONE = "everyday benchmark: first fit done"
# TensorFlow logs each XLA compilation's time with TF_CPP_VMODULE below.
TF_COMPILE = re.compile(r"Compilation of XLA executable time: .*?\((\d+) us\)")
FIRST_FITS = ("no cache", "cache, first process", "cache, second process")
HEAVY_MODULES = ("keras", "tensorflow", "jax")
# Fresh interpreters that do one thing each, as a user's script or a
# predict-only service would, and print one JSON line: the seconds from
# their first import, the peak resident memory and the heavy modules loaded.
_PROCESS_RECORD = f"""
import json, resource, sys
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
loaded = [module for module in {HEAVY_MODULES!r} if module in sys.modules]
print(json.dumps({{"seconds": seconds, "peak_rss_mib": peak_kib / 1024,
                  "loaded": loaded}}))
"""
IMPORT_SCRIPT = "import time; start = time.perf_counter()\nimport {module}\n"
SERVE_SCRIPT = """import time; start = time.perf_counter()
import sys
import joblib
import numpy as np
model = joblib.load(sys.argv[1])
model.predict_proba(np.load(sys.argv[2]))
"""
IMPORTS = {"sknoise": "sknoise", "sklearn": "sklearn.neural_network"}
# What sknoise adds to scikit-learn's import, measured inside one process:
# the difference of two fresh processes' times is as noisy as either.
SKNOISE_AFTER_SKLEARN = "import sklearn.neural_network\n" + IMPORT_SCRIPT.format(
    module="sknoise"
)
PROCESS_REPEATS = 5
COLUMNS = (
    "Columns: *sknoise* and *reference* are the two sides of a comparison "
    "(scikit-learn's MLPClassifier or its import, or the first fit without "
    "the cache); *ratio* divides the first by the second. The first "
    "fits are one epoch in a fresh process that has imported Keras, the cache "
    "the opt-in "
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


def fastest_per_epoch(run, short, long, repeats):
    """Seconds per epoch of ``run`` from its fastest short and long fits
    (see :func:`benchmarks._timing.per_epoch`)."""
    return _timing.per_epoch({"run": run}, short, long, repeats, fastest=True)["run"][0]


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
    """Run in a fresh process: time the first fit; with ``--probe full``
    also predictions and epochs, and save both fitted models to
    ``--models`` for the serving processes. Prints one JSON line."""
    import keras

    backend = keras.backend.backend()
    record = {"backend": backend, "probe": args.probe}
    jax_compilations = JaxCompilations() if backend == "jax" else None
    X, y = make_data(QUICK_ROWS if args.quick else ROWS)
    with _timing.Stopwatch() as first:
        model = sknoise_model(epochs=1).fit(X, y)
    sys.stderr.write(FIRST_FIT_DONE + "\n")
    sys.stderr.flush()
    record["first_fit_s"] = first.seconds
    if jax_compilations is not None:
        record.update(jax_compilations.summary())
    with _timing.Stopwatch() as second:
        sknoise_model(epochs=1).fit(X, y)
    record["second_fit_s"] = second.seconds
    if args.probe == "full":
        calls = 50 if args.quick else 500
        reference = fit_quietly(sklearn_model(epochs=1), X, y)
        save_models(args.models, {"sknoise": model, "sklearn": reference}, X[:1])
        record["predict_s"] = single_row_seconds(model, X[:1], calls)
        record["sklearn_predict_s"] = single_row_seconds(reference, X[:1], calls)
        short, long = (1, 4) if args.quick else (2, 10)
        repeats = 1 if args.quick else 5
        runs = {
            "epoch_s": lambda epochs: sknoise_model(epochs).fit(X, y),
            "sklearn_epoch_s": lambda epochs: fit_quietly(sklearn_model(epochs), X, y),
        }
        for key, run in runs.items():
            record[key] = fastest_per_epoch(run, short, long, repeats)
        # Its BLAS threads wait on each other, which a busy machine turns
        # into seconds: one thread is also timed, and the faster one counts.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            record["sklearn_epoch_one_thread_s"] = fastest_per_epoch(
                runs["sklearn_epoch_s"], short, long, repeats
            )
        record["environment"] = _report.environment(backend)
    print(json.dumps(record), flush=True)


def save_models(directory, models, rows):
    """``joblib.dump`` each model to ``directory`` and ``rows`` beside them."""
    import joblib

    directory = Path(directory)
    for name, model in models.items():
        joblib.dump(model, directory / f"{name}.joblib")
    np.save(directory / "rows.npy", rows)


# ---------------------------------------------------------------------------
# The parent: fresh processes, one after another, and the table
# ---------------------------------------------------------------------------
def backend_environment(backend):
    """This process's environment for a child on ``backend``, without any
    compilation cache."""
    env = {**os.environ, "KERAS_BACKEND": backend, CACHE_VARIABLE: "0"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    return env


def run_script(backend, script, *argv):
    """A fresh ``python -c script argv...``: its JSON record."""
    command = [sys.executable, "-c", script + _PROCESS_RECORD, *map(str, argv)]
    what = f"the {backend} process {script.splitlines()[-1]!r}"
    records, _ = _workers.run_json_process(command, backend_environment(backend), what)
    return records[-1]


def run_probe(backend, kind, cache_dir, args, models=None):
    """One fresh process measuring ``kind`` ("full" or "first fit")."""
    command = [sys.executable, "-m", "benchmarks.everyday", "--probe", kind]
    command += ["--quick"] * args.quick
    if models is not None:
        command += ["--models", str(models)]
    env = backend_environment(backend)
    if cache_dir is not None:
        env[CACHE_VARIABLE] = str(cache_dir)
    # TensorFlow logs its XLA compile times at this level.
    env.update(TF_CPP_MIN_LOG_LEVEL="0", TF_CPP_VMODULE="device_compiler=1")
    records, stderr = _workers.run_json_process(
        command, env, f"the {backend} {kind} process"
    )
    record = records[-1]
    if backend == "tensorflow":
        first_fit_log = stderr.split(FIRST_FIT_DONE)[0]
        compiles = [int(us) / 1e6 for us in TF_COMPILE.findall(first_fit_log)]
        record["compile_s"] = sum(compiles)
        record["compiled"] = len(compiles)
        record["loaded"] = 0
        record["trace_s"] = (
            record["first_fit_s"] - record["second_fit_s"] - record["compile_s"]
        )
    return record


def measure_backend(backend, args):
    """The three first fits (the first also measuring the rest and saving
    the models), then the imports and the serving processes, sknoise's and
    scikit-learn's taking turns."""
    records = []
    cache_dir = tempfile.mkdtemp(prefix="sknoise-everyday-")
    models = tempfile.mkdtemp(prefix="sknoise-everyday-models-")
    try:
        for name in FIRST_FITS:
            kind = "full" if name == "no cache" else "first fit"
            directory = None if name == "no cache" else cache_dir
            print(f"  {backend}: first fit, {name} ...", flush=True)
            record = run_probe(backend, kind, directory, args, models=models)
            records.append({**record, "run": name})
        print(f"  {backend}: imports and serving processes ...", flush=True)
        rows = Path(models) / "rows.npy"
        for _ in range(1 if args.quick else PROCESS_REPEATS):
            increment = run_script(backend, SKNOISE_AFTER_SKLEARN)
            records.append({**increment, "backend": backend, "run": "sknoise after"})
            for contender, module in IMPORTS.items():
                imported = run_script(backend, IMPORT_SCRIPT.format(module=module))
                path = Path(models) / f"{contender}.joblib"
                served = run_script(backend, SERVE_SCRIPT, path, rows)
                records += [
                    {**imported, "backend": backend, "run": f"import {contender}"},
                    {**served, "backend": backend, "run": f"serve {contender}"},
                ]
        return records
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        shutil.rmtree(models, ignore_errors=True)


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
    """The table: eight rows per backend."""
    table = []
    for backend in dict.fromkeys(r["backend"] for r in records):
        mine = [r for r in records if r["backend"] == backend]
        runs = {r["run"]: r for r in mine}
        table += process_rows(backend, mine)
        table.append(predict_row(backend, runs["no cache"]))
        table += first_fit_rows(backend, runs)
        table.append(epoch_row(backend, runs["no cache"], rows_label))
    for row in table:
        for key in ("sknoise", "reference", "ratio"):
            if isinstance(row[key], float):
                row[key] = round(row[key], 4)
    return table


def predict_row(backend, full):
    """One-row ``predict_proba`` against scikit-learn's, in one process."""
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
    return row


def first_fit_rows(backend, runs):
    """The three first fits, each against the one without the cache."""
    no_cache = runs["no cache"]["first_fit_s"]
    rows = []
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
        rows.append(row)
    return rows


def epoch_row(backend, full, rows_label):
    """Milliseconds per epoch against the faster of scikit-learn's two."""
    threads, one_thread = full["sklearn_epoch_s"], full["sklearn_epoch_one_thread_s"]
    reference = min(threads, one_thread)
    if full["epoch_s"] <= 0:
        # A slope at or below zero (--quick's short fits) measures nothing.
        met = "not measured: below the timing noise"
    else:
        met = "yes" if full["epoch_s"] / reference <= 0.5 else "no"
    row = _row(
        backend,
        f"per epoch, {rows_label} (ms)",
        full["epoch_s"] * 1e3,
        reference * 1e3,
        "<= 0.5x sklearn",
        met,
    )
    row["detail"] = (
        f"reference: MLPClassifier, the faster of its default BLAS threads "
        f"({threads * 1e3:.0f} ms) and one thread ({one_thread * 1e3:.0f} ms); "
        f"{NODES} units, batch {BATCH}"
    )
    return row


def _median_process(records, run):
    """The median seconds and peak memory of the fresh processes ``run``,
    and the heavy modules any of them loaded."""
    mine = [r for r in records if r["run"] == run]
    loaded = sorted({module for r in mine for module in r["loaded"]})
    return {
        "seconds": statistics.median(r["seconds"] for r in mine),
        "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in mine),
        "loaded": ", ".join(loaded) or "none of keras, tensorflow, jax",
    }


def process_rows(backend, records):
    """The import row and the two serving rows of one backend."""
    ours, theirs = (_median_process(records, f"import {c}") for c in IMPORTS)
    extra = _median_process(records, "sknoise after")["seconds"]
    row = _row(backend, "import sknoise (s)", ours["seconds"], theirs["seconds"])
    row.update(
        target="<= sklearn + 0.3 s",
        met="yes" if extra <= 0.3 else "no",
        detail=(
            f"reference: import sklearn.neural_network; sknoise loaded "
            f"{ours['loaded']}; medians of fresh processes; after "
            f"sklearn.neural_network in the same process, import sknoise took "
            f"{extra:.3f} s more (the target's measure)"
        ),
    )
    rows = [row]
    ours, theirs = (_median_process(records, f"serve {c}") for c in IMPORTS)
    for key, measure in (
        ("seconds", "joblib.load + first predict_proba (s)"),
        ("peak_rss_mib", "joblib.load + first predict_proba, peak RSS (MiB)"),
    ):
        row = _row(backend, measure, ours[key], theirs[key], "<= 1.5x sklearn")
        row["met"] = "yes" if ours[key] <= 1.5 * theirs[key] else "no"
        row["detail"] = (
            f"reference: MLPClassifier of the same size; sknoise's process "
            f"loaded {ours['loaded']}, scikit-learn's {theirs['loaded']}; "
            "medians of fresh processes"
        )
        rows.append(row)
    return rows


def build_parser():
    # The committed table would time every installed backend.
    parser = _cli.base_parser(__doc__.splitlines()[0], published_backends=_cli.BACKENDS)
    parser.add_argument(
        "--probe", choices=("full", "first fit"), help=argparse.SUPPRESS
    )
    parser.add_argument("--models", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    measured = _report.probe_or_measure(build_parser(), argv, measure_backend, probe)
    if measured is None:
        return
    args, out, records, run_facts = measured
    rows_label = f"{QUICK_ROWS if args.quick else ROWS:,} x {FEATURES}"
    rows = summarise(records, rows_label)
    _report.write_timing_report(
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
            "Before import sknoise stopped loading Keras (issue 21): "
            "everyday_before_light_imports.md.",
        ],
        COLUMNS,
    )


if __name__ == "__main__":
    main()
