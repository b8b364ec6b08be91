"""How many threads training may use: as many as NumPy's BLAS may.

Parallel searches keep their workers from oversubscribing the cores by
limiting each worker's threads: joblib's process workers get
``OMP_NUM_THREADS`` and its siblings set to their share of the cores
(``inner_max_num_threads``), Dask's workers get 1, and users set the same
variables or call threadpoolctl's ``threadpool_limits``. All of these limit
NumPy's BLAS, and none reaches the thread pools of XLA (JAX, and
TensorFlow's compiled loop) or TensorFlow, which by default use every core:
two workers on two cores then run four busy threads, and each fit takes
about half as long again (``python -m benchmarks.cold_start`` measures it).

So sknoise gives those pools the limit NumPy's BLAS has when sknoise starts
Keras (a process's first fit). TensorFlow's intra- and inter-op pools get
that many threads. XLA has no flag for a number of threads, only one that
computes its matrix products in the calling thread
(``--xla_cpu_multi_thread_eigen=false``): under a limit sknoise sets it for
the moment the backend initialises its CPU client (``XLA_FLAGS`` is read
then, and restored after, so the user's environment is left as it was).
Nothing is limited when BLAS may use every CPU, when the user's
``XLA_FLAGS`` already choose how XLA multi-threads, when the user sized
TensorFlow's pools, or when the backend had started before sknoise did.
"""

import contextlib
import os

#: The limit applied when sknoise started Keras (None: none, or not yet).
applied_limit = None
#: The XLA flag sknoise sets under a thread limit, unless the user's
#: ``XLA_FLAGS`` set it already.
ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false"
_XLA_THREAD_FLAG = "xla_cpu_multi_thread_eigen"


def available_cpus():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_limit():
    """The threads NumPy's BLAS (or OpenMP) may use, where that is fewer
    than :func:`available_cpus`; else None."""
    from threadpoolctl import threadpool_info

    counts = [
        library["num_threads"]
        for library in threadpool_info()
        if library.get("user_api") in ("blas", "openmp")
    ]
    limit = min(counts, default=None)
    if limit is None or limit >= available_cpus():
        return None
    return max(1, limit)


@contextlib.contextmanager
def limited_xla_threads(limit):
    """``XLA_FLAGS`` with :data:`ONE_THREAD_XLA` added for the block, if
    there is a ``limit`` and the user's flags do not choose already; the
    variable as it was afterwards. Yields whether it added the flag."""
    before = os.environ.get("XLA_FLAGS")
    if limit is None or _XLA_THREAD_FLAG in (before or ""):
        yield False
        return
    os.environ["XLA_FLAGS"] = f"{before or ''} {ONE_THREAD_XLA}".strip()
    try:
        yield True
    finally:
        if before is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = before


def limit_tensorflow_threads(limit):
    """Give TensorFlow's intra- and inter-op pools ``limit`` threads, unless
    the user chose their sizes or TensorFlow's runtime has started."""
    if limit is None:
        return
    import tensorflow as tf

    threading = tf.config.threading
    if threading.get_intra_op_parallelism_threads() or (
        threading.get_inter_op_parallelism_threads()
    ):
        return
    try:
        threading.set_intra_op_parallelism_threads(limit)
        threading.set_inter_op_parallelism_threads(limit)
    except RuntimeError:  # started already: its pools are what they are
        pass
