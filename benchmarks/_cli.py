"""The command line every benchmark shares, and where its results go.

A benchmark owns its process, so it may choose the Keras backend; that has to
happen before Keras is first imported, hence before a fit. Scripts therefore
call :func:`select_backend` first.
"""

import argparse
import importlib.util
import os
from pathlib import Path

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


# Where results go. Every run writes to LOCAL_DIR, which git ignores, so that
# running a benchmark never changes the checkout; ``--record`` refreshes the
# committed results in RESULTS_DIR instead, and only a run with the
# published settings may (``--out`` chooses any other directory).
LOCAL_DIR = RESULTS_DIR / "local"


# Options that change how a run is spread over processes, or where it writes,
# not what it measures: a run may differ from a published one in these and
# still refresh its results.
NOT_SETTINGS = frozenset({"out", "record", "n_jobs", "dask", "scheduler"})


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

    def start(self, argv=None):
        """Parse ``argv``, choose this process's Keras backend (before any
        import of Keras) and the output directory: what a one-backend
        script does first. Returns ``(args, backend, out)``."""
        args = self.parse_args(argv)
        backend = select_backend(args.backend)
        return args, backend, self.output_dir(args, [backend])

    def output_dir(self, args, backends):
        """The directory a run writes to: the one decision for every script,
        announced with the backends the run uses.

        An explicit ``--out`` always wins. Otherwise a run writes to
        ``LOCAL_DIR`` (ignored by git), or with ``--record`` to
        ``RESULTS_DIR``, the committed results, which only a run with the
        published settings on the published backends may refresh.
        """
        if args.out is not None:
            out = args.out
        elif not args.record:
            out = LOCAL_DIR
        elif self.is_published(args, backends):
            out = RESULTS_DIR
        else:
            self.error(
                "--record refreshes the committed results in benchmarks/results/, "
                "which only the published settings make (on the "
                f"{' and '.join(self.published_backends or backends)} backend): "
                "drop the options that differ, or drop --record"
            )
        names = " and ".join(backends)
        print(f"Keras backend: {names}; results go to {out}", flush=True)
        return out


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
        help="Directory for the results (default: benchmarks/results/local/, "
        "which git ignores).",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="Write the results over the committed ones in benchmarks/results/ "
        "(only with the published settings).",
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
