"""Where a benchmark's fits run: a pool forked from a server that has
imported sknoise's training stack, joblib's workers, or a Dask cluster."""

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading


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
TRAINING_MODULE = "sknoise._compiled"


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


def _indexed(pair):
    index, job = pair
    return index, job()


# XLA's CPU flag for matrix products in one thread (JAX and TensorFlow
# alike): the only thread setting XLA has ("intra_op_parallelism_threads",
# often written beside it, is no XLA flag and was ignored).
ONE_XLA_THREAD = "--xla_cpu_multi_thread_eigen=false"


def prepare_workers(n_jobs):
    """Set up the worker processes started from here for ``n_jobs``.

    Every worker compiles the same training loops, unless sknoise's
    compilation cache (on by default, JAX only) has them from an earlier
    run. And when fits run side by side the workers already fill the cores, so each
    compiled program's own threads only contend with the other workers':
    with one XLA thread per worker the published grid's fits took 19.9 s
    instead of 23.4 s on two cores, with identical scores. XLA reads its
    flags when a process first computes, so the workers started after this
    get them, and so does this process if it has not computed yet (the
    scripts' main processes compute little).
    """
    import joblib

    if joblib.effective_n_jobs(n_jobs) > 1:
        use_one_xla_thread()


def use_one_xla_thread():
    """Add :data:`ONE_XLA_THREAD` to ``XLA_FLAGS`` (once) for this process
    and those started from it; it applies from a process's first
    computation."""
    flags = os.environ.get("XLA_FLAGS", "")
    if ONE_XLA_THREAD not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {ONE_XLA_THREAD}".strip()


def run_json_process(command, env, what):
    """Run ``command``, a fresh process, with the environment ``env``.

    Returns the records it printed, one JSON object per line of its
    output, and its standard error. Where it fails, this process shows that
    standard error and exits, naming ``what`` failed.
    """
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"{what} failed")
    lines = result.stdout.splitlines()
    return [json.loads(line) for line in lines if line[:1] == "{"], result.stderr
