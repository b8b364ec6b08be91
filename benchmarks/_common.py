"""Helpers shared by the benchmark scripts.

A benchmark owns its process, so it may choose the Keras backend; that has to
happen before Keras is first imported, hence before ``sknoise`` is. Scripts
therefore call :func:`select_backend` first and import ``sknoise`` after.
"""

import argparse
import contextlib
import csv
import importlib.metadata
import importlib.util
import multiprocessing
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BACKENDS = ("jax", "tensorflow")


def installed_backends():
    """The Keras backends importable here, fastest first."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def select_backend(requested=None):
    """Set ``KERAS_BACKEND`` for this process and return the backend's name.

    ``requested`` None picks the fastest installed backend (JAX, then
    TensorFlow). It must run before Keras is imported.
    """
    available = installed_backends()
    backend = requested or available[0]
    if backend not in available:
        raise SystemExit(f"Keras backend {backend!r} is not installed here.")
    os.environ["KERAS_BACKEND"] = backend
    # Quiet TensorFlow's C++ start-up logging in benchmark output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return backend


# Where results go. The committed results are those of the published
# settings; a run with other settings (--quick, another seed, fewer seeds...)
# writes to SCRATCH_DIR, which git ignores, unless --out says otherwise.
SCRATCH_DIR = RESULTS_DIR / "scratch"
# Options that change how a run is spread over processes, not what it
# measures: a run may differ from a published one in these and still
# refresh its results.
NOT_SETTINGS = frozenset({"out", "n_jobs", "dask", "scheduler"})


class BenchmarkParser(argparse.ArgumentParser):
    """An argument parser that also knows which runs made the committed results.

    ``published_runs`` are the command-line arguments (without ``--out``)
    of the runs whose results are committed in ``benchmarks/results/``, run
    on the Keras backends ``published_backends`` (None: any backend, when
    the file names say which). See :meth:`output_dir`.
    """

    def __init__(
        self,
        description,
        *,
        published_runs=((),),
        published_backends=("jax",),
        not_settings=NOT_SETTINGS,
    ):
        super().__init__(description=description)
        self.published_runs = [list(run) for run in published_runs]
        self.published_backends = published_backends
        self.not_settings = frozenset(not_settings)

    def settings(self, args):
        """The options of ``args`` that decide what a run measures.

        ``backend`` is left out: which backends a run uses is decided when
        it starts (the fastest installed one by default), so
        :meth:`output_dir` compares the backends themselves.
        """
        ignored = self.not_settings | {"backend"}
        return {key: value for key, value in vars(args).items() if key not in ignored}

    def is_published(self, args, backends):
        """Whether ``args``, run on ``backends``, reproduces a committed result."""
        if self.published_backends is not None and sorted(backends) != sorted(
            self.published_backends
        ):
            return False
        settings = self.settings(args)
        return any(
            settings == self.settings(self.parse_args(run))
            for run in self.published_runs
        )

    def output_dir(self, args, backends):
        """The directory a run writes to: the one decision for every script.

        An explicit ``--out`` always wins. Otherwise a run with the published
        settings, on the published backends, writes to ``RESULTS_DIR`` (it
        is meant to refresh the committed results) and any other run to
        ``SCRATCH_DIR``, so that a ``--quick`` or experimental run never
        overwrites the committed results by accident.
        """
        if args.out is not None:
            return args.out
        if self.is_published(args, backends):
            return RESULTS_DIR
        print(
            f"not the published settings: writing to {SCRATCH_DIR} "
            "(--out DIR to choose)",
            flush=True,
        )
        return SCRATCH_DIR


def base_parser(description, **published):
    """A :class:`BenchmarkParser` with the options every benchmark shares.

    ``published`` (``published_runs``, ``published_backends``,
    ``not_settings``) says which runs produced the committed results.
    """
    parser = BenchmarkParser(description, **published)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI-sized run: few epochs and candidates, same code path.",
    )
    parser.add_argument("--seed", type=int, default=0, help="Random seed.")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend (default: the fastest installed one).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="Directory for the results (default: benchmarks/results/ for a run "
        "with the published settings, which refreshes the committed results; "
        "benchmarks/results/scratch/, ignored by git, for any other run, such "
        "as --quick).",
    )
    return parser


def add_parallel_arguments(parser):
    """``--n-jobs``, and ``--dask`` / ``--scheduler`` to run fits on Dask."""
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="Parallel fits (default -1: one per CPU; on Dask, every worker). "
        "The results do not depend on it.",
    )
    parser.add_argument(
        "--dask",
        action="store_true",
        help="Run the fits on a local Dask cluster (one worker per CPU).",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="Run the fits on the Dask cluster at ADDRESS (e.g. tcp://host:8786); "
        "its workers need sknoise installed and KERAS_BACKEND set alike.",
    )


@contextlib.contextmanager
def parallel_backend(args):
    """Where :func:`run_jobs` runs its jobs inside this block.

    On Dask (``--dask`` or ``--scheduler``) through joblib, on the
    cluster's workers. On this machine with more than one job, in a pool
    of processes forked from a "fork server" (see :mod:`multiprocessing`)
    that imports sknoise's training stack once (see :func:`_forked_pool`);
    otherwise, and
    where the fork server is not available (Windows), through joblib. Enter
    the block right after :func:`select_backend`, before importing sknoise,
    so that the server starts first, with the settings of
    :func:`prepare_workers`, and its import overlaps this process's.
    """
    global _local_pool
    prepare_workers(args.n_jobs)
    if args.dask or args.scheduler:
        with _dask_cluster(args):
            yield
        return
    n_jobs = effective_n_jobs(args)
    if n_jobs == 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    with _forked_pool(n_jobs) as pool:
        _local_pool = pool
        try:
            yield
        finally:
            _local_pool = None


# The pool of processes of the ``parallel_backend`` block running now.
_local_pool = None
# Settings a fork server takes at its start (sknoise reads them when it
# imports Keras), as they were then; None until this process has started one.
_IMPORT_SETTINGS = ("KERAS_BACKEND", "SKNOISE_COMPILATION_CACHE")
_server_settings = None
#: What a compiled fit imports: sknoise, Keras, its backend and the loop.
TRAINING_MODULE = "sknoise._training"


@contextlib.contextmanager
def _forked_pool(n_jobs):
    """A process pool of ``n_jobs`` workers forked from the fork server,
    which imports sknoise's training stack once.

    ``import sknoise`` alone loads no Keras, so the server imports
    :data:`TRAINING_MODULE`, the compiled training loop, which loads Keras
    and its backend: a worker then starts with them imported, instead of
    spending 3-4 s importing them at its first fit (as joblib's workers
    do). The server only imports, never computes: its only threads besides
    the main one are BLAS's idle pools, as after importing NumPy and SciPy,
    so forking it is safe on JAX and TensorFlow alike. The server lives as
    long as this process, with the settings of its start: a later pool
    that asks for another Keras backend or compilation cache is refused
    (``XLA_FLAGS``, read when a worker first computes, is passed on). An
    interrupt or a failed job stops every worker at once.
    """
    import concurrent.futures
    import multiprocessing.forkserver

    global _server_settings
    settings = {name: os.environ.get(name) for name in _IMPORT_SETTINGS}
    if _server_settings is None:
        multiprocessing.set_forkserver_preload([TRAINING_MODULE])
        multiprocessing.forkserver.ensure_running()
        _server_settings = settings
    elif settings != _server_settings:
        raise RuntimeError(
            f"this process's fork server imported sknoise with {_server_settings}, "
            f"not {settings}: run with these settings in a new process"
        )
    context = multiprocessing.get_context("forkserver")
    pool = concurrent.futures.ProcessPoolExecutor(
        n_jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.environ.get("XLA_FLAGS"),),
    )
    try:
        yield pool
    except BaseException:
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown()


def wait_for_workers():
    """Wait until the worker pool of the :func:`parallel_backend` block can
    run a job, i.e. its fork server has imported what it preloads; return at
    once where the block has no such pool."""
    if _local_pool is not None:
        _local_pool.submit(int).result()


def _stop_workers(pool):
    """Stop the jobs of ``pool`` now, running ones too: the jobs already
    handed to a worker cannot be cancelled, so the workers are stopped."""
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
        return
    workers = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()


def _start_worker(xla_flags):
    """Set up a worker of :func:`_forked_pool` before its first job.

    It takes this run's ``XLA_FLAGS`` (the server has those of its start),
    and exits when the process that made the pool does: a worker waiting
    on the pool's queue would otherwise outlive a killed run, and keep the
    fork server alive too.
    """
    if xla_flags is None:
        os.environ.pop("XLA_FLAGS", None)
    else:
        os.environ["XLA_FLAGS"] = xla_flags
    parent = multiprocessing.parent_process()
    threading.Thread(target=_exit_after, args=(parent,), daemon=True).start()


def _exit_after(process):
    process.join()
    os._exit(1)


@contextlib.contextmanager
def _dask_cluster(args):
    """Route joblib's jobs (``run_jobs``' and scikit-learn's ``n_jobs``) to
    the Dask cluster at ``--scheduler``, or to a local one."""
    import joblib
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if args.scheduler:
            client = stack.enter_context(Client(args.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(threads_per_worker=1, dashboard_address=None)
            )
            client = stack.enter_context(Client(cluster))
        workers = len(client.scheduler_info()["workers"])
        print(f"running on Dask: {client.scheduler.address}, {workers} workers")
        stack.enter_context(joblib.parallel_config(backend="dask", n_jobs=-1))
        yield


def measure_backends(parser, args, measure):
    """Run ``measure(backend, args)`` (a list of records, each backend in
    processes of its own) on ``--backend`` or on every installed backend.

    Returns the output directory, the records, and the lines for the
    result's header that say where and how long it ran.
    """
    backends = [args.backend] if args.backend else installed_backends()
    out = parser.output_dir(args, backends)
    records = []
    with Stopwatch() as watch:
        for backend in backends:
            print(f"timing the {backend} backend ...", flush=True)
            records += measure(backend, args)
    recorded = next(r["environment"] for r in records if "environment" in r)
    versions = ", ".join(f"{k} {v}" for k, v in recorded.items() if k != "backend")
    run_facts = [
        f"Environment: {versions}",
        f"Wall time of this benchmark: {watch.seconds:.0f} s.",
    ]
    return out, records, run_facts


def write_timing_report(rows, out, name, title, facts_lines, columns):
    """Write a timing benchmark's table under its title, facts and the
    explanation of its columns; print it and where it went."""
    header = [title, "", *facts(*facts_lines), "", columns]
    csv_path, md_path = write_table(rows, out, name, header)
    print(md_path.read_text())
    print(f"wrote {csv_path} and {md_path}")


def environment(backend):
    """Versions and machine facts to record beside every result."""
    packages = ("sknoise", "scikit-learn", "keras", "scikeras", "tensorflow", "jax")
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "backend": backend,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        **versions,
    }


def published_circles():
    """The first-30-points split of the published circles (see
    :func:`sknoise.datasets.load_published_circles`)."""
    from sknoise.datasets import load_published_circles

    return load_published_circles("first30")


def published_split():
    """The grid-search article's ``train_test_split`` of the same circles."""
    from sknoise.datasets import load_published_circles

    return load_published_circles("train_test_split")


def effective_n_jobs(args):
    """How many fits ``args.n_jobs`` runs at once, as recorded in a result:
    the number of CPUs for -1, or "every Dask worker"."""
    if args.dask or args.scheduler:
        return "every Dask worker"
    import joblib

    return joblib.effective_n_jobs(args.n_jobs)


def run_jobs(jobs, n_jobs, description):
    """Run ``jobs`` (picklable no-argument callables) with a progress bar.

    Inside :func:`parallel_backend` the jobs run where it says; otherwise
    through joblib with ``n_jobs``, in workers set up by
    :func:`prepare_workers`. The bar on stderr counts finished jobs and
    shows the ETA. Returns the results in the order of ``jobs``.
    """
    from tqdm import tqdm

    results = [None] * len(jobs)
    with tqdm(total=len(jobs), desc=description, unit="fit") as bar:
        for index, result in _unordered_results(jobs, n_jobs):
            results[index] = result
            bar.update()
    return results


def _unordered_results(jobs, n_jobs):
    """``(index, result)`` of each job as it finishes."""
    indexed = enumerate(jobs)
    if _local_pool is not None:
        import concurrent.futures

        futures = [_local_pool.submit(_indexed, pair) for pair in indexed]
        return (future.result() for future in concurrent.futures.as_completed(futures))
    from joblib import Parallel, delayed

    prepare_workers(n_jobs)
    tasks = (delayed(_indexed)(pair) for pair in indexed)
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)


# XLA's CPU flags for one thread per program (JAX and TensorFlow alike).
ONE_XLA_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def prepare_workers(n_jobs):
    """Set up the worker processes started from here for ``n_jobs``.

    Every worker compiles the same training loops: with sknoise's
    compilation cache (JAX only) a later run loads them instead; it is on
    unless ``SKNOISE_COMPILATION_CACHE`` is set already (``0``: off). And
    when fits run side by side the workers already fill the cores, so each
    compiled program's own threads only contend with the other workers':
    with one XLA thread per worker the published grid's fits took 19.9 s
    instead of 23.4 s on two cores, with identical scores. XLA reads its
    flags when a process first computes, so the workers started after this
    get them, and so does this process if it has not computed yet (the
    scripts' main processes compute little).
    """
    import joblib

    os.environ.setdefault("SKNOISE_COMPILATION_CACHE", "1")
    if joblib.effective_n_jobs(n_jobs) > 1:
        use_one_xla_thread()


def use_one_xla_thread():
    """Add :data:`ONE_XLA_THREAD` to ``XLA_FLAGS`` (once) for this process
    and those started from it; it applies from a process's first
    computation."""
    flags = os.environ.get("XLA_FLAGS", "")
    if ONE_XLA_THREAD not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {ONE_XLA_THREAD}".strip()


def _indexed(pair):
    index, job = pair
    return index, job()


def header(title, backend, settings, seconds):
    """Lines that head a result file: what ran, where, how long.

    The facts are a Markdown list, one item each: consecutive plain lines
    would render as a single paragraph.
    """
    return [
        f"# {title}",
        "",
        *facts(
            "Settings: "
            + ", ".join(f"{key}={value}" for key, value in settings.items()),
            f"Backend: {backend}. Wall time: {seconds:.0f} s.",
            environment_line(backend),
        ),
    ]


def facts(*lines):
    """``lines`` as the items of a Markdown list."""
    return [f"- {line}" for line in lines]


def environment_line(backend):
    """The versions and machine of :func:`environment`, as one line."""
    env = environment(backend)
    return "Environment: " + ", ".join(
        f"{k} {v}" for k, v in env.items() if k != "backend"
    )


class Stopwatch:
    """Wall-clock seconds of a ``with`` block, in ``.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start


def write_table(rows, out_dir, name, header_lines):
    """Write ``rows`` (a list of dicts) as ``name.csv`` and ``name.md``.

    The Markdown file starts with ``header_lines`` (settings, versions) so
    that a result is never separated from how it was produced.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # A small negative number rounded to -0.0 is written as 0.
    rows = [
        {k: v + 0.0 if isinstance(v, float) else v for k, v in row.items()}
        for row in rows
    ]
    columns = list(rows[0])
    with open(out_dir / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = [*header_lines, ""]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[c]) for c in columns) + " |")
    (out_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    return out_dir / f"{name}.csv", out_dir / f"{name}.md"


def _cell(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def corrected_comparison(scores, best, n_train, n_test):
    """Nadeau-Bengio corrected resampled t-test of each row against ``best``.

    ``scores`` has one row per candidate and one column per resampled split
    (the same splits for every row); ``n_train`` and ``n_test`` are the rows
    of a split's two parts. The correction ``1 / n_splits + n_test / n_train``
    accounts for the overlap of the training sets (Nadeau and Bengio, 2003).
    Returns, per candidate, the half-width of the 95% interval of its mean
    score and the two-sided p-value of its difference from the best one.
    """
    from scipy import stats

    n_splits = scores.shape[1]
    correction = 1 / n_splits + n_test / n_train
    t_crit = stats.t.ppf(0.975, n_splits - 1)
    half_widths = t_crit * np.sqrt(correction * scores.var(axis=1, ddof=1))
    p_values = []
    for row in scores:
        diff = row - scores[best]
        spread = np.sqrt(correction * diff.var(ddof=1))
        if spread == 0:
            p_values.append(1.0 if diff.mean() == 0 else 0.0)
            continue
        t_stat = diff.mean() / spread
        p_values.append(float(2 * stats.t.sf(abs(t_stat), n_splits - 1)))
    return half_widths, np.array(p_values)
