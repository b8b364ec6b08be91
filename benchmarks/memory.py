"""Resident memory over many fits in one process: does training leak?

Fits ``--fits`` small models (default 200) one after another in this process,
as a long grid search does, and reports the resident set size (RSS) after 10
fits and at the end. A stock scikeras ``KerasClassifier`` of the same network
can be run instead (``--stock``) for comparison. The result is printed and
written as ``memory_<contender>_<backend>.csv`` and ``.md`` (contender
``sknoise`` or ``scikeras``), so that runs of both contenders on both
backends sit side by side. Fit ``i`` of sknoise uses ``random_state=seed + i``
(``--seed``); the stock contender takes no seed, because scikeras'
``random_state`` imports TensorFlow and sets global seeds, which would
change what is measured on JAX.

    python -m benchmarks.memory [--fits N] [--backend jax|tensorflow] [--stock]
"""

import gc
import resource

import numpy as np

from benchmarks import _cli, _datasets, _report, _timing


def resident_mib():
    """Current resident set size of this process, in MiB (Linux)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def make_sknoise(seed):
    from sknoise import NoisyMLPClassifier

    return NoisyMLPClassifier(32, noise_amount=0.1, epochs=20, random_state=seed)


def make_stock(_seed):
    import keras
    from scikeras.wrappers import KerasClassifier

    def build():
        model = keras.Sequential(
            [
                keras.Input((2,)),
                keras.layers.Dense(32),
                keras.layers.GaussianNoise(0.1),
                keras.layers.Activation("relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    return KerasClassifier(build, epochs=20, batch_size=32, verbose=0)


def measure(make, n_fits, X, y, seed):
    """RSS after 10 fits and after ``n_fits`` fits, fit ``i`` made by
    ``make(seed + i)``."""
    after_ten = None
    for index in range(n_fits):
        model = make(seed + index).fit(X, y)
        model.predict(X)
        del model
        if index + 1 == 10:
            gc.collect()
            after_ten = resident_mib()
    gc.collect()
    return after_ten, resident_mib()


def build_parser():
    # Both contenders on any backend are published runs: the file name says
    # which one ran where.
    parser = _cli.base_parser(
        __doc__.splitlines()[0],
        published_runs=[[], ["--stock"]],
        published_backends=None,
    )
    parser.add_argument("--fits", type=int, default=None, help="Fits (200).")
    parser.add_argument(
        "--stock", action="store_true", help="Measure stock scikeras instead."
    )
    return parser


def main(argv=None):
    args, backend, out = build_parser().start(argv)
    n_fits = args.fits or (30 if args.quick else 200)
    X, y, _, _ = _datasets.published_circles()
    X = np.repeat(X, 4, axis=0)
    y = np.repeat(y, 4)
    contender = "scikeras" if args.stock else "sknoise"
    with _timing.Stopwatch() as watch:
        after_ten, final = measure(
            make_stock if args.stock else make_sknoise, n_fits, X, y, args.seed
        )
    growth = final - after_ten
    per_fit = growth / (n_fits - 10) * 1024
    print(
        f"{backend} {contender}: RSS {after_ten:.0f} MiB after 10 fits, "
        f"{final:.0f} MiB after {n_fits}; growth {growth:.1f} MiB "
        f"({per_fit:.0f} KiB per fit) in {watch.seconds:.0f} s"
    )
    row = {
        "backend": backend,
        "contender": contender,
        "fits": n_fits,
        "RSS after 10 fits (MiB)": round(after_ten, 1),
        "RSS at the end (MiB)": round(final, 1),
        "growth (MiB)": round(growth, 1),
        "growth per fit (KiB)": round(per_fit),
    }
    settings = {"fits": n_fits, "epochs": 20, "rows": len(y), "quick": args.quick}
    if not args.stock:
        settings["seed"] = args.seed
    title = f"Memory: resident size over {n_fits} fits ({contender})"
    lines = _report.header(title, backend, settings, watch.seconds)
    name = f"memory_{contender}_{backend}"
    csv_path, md_path = _report.write_table([row], out, name, lines)
    print(f"wrote {csv_path} and {md_path}")


if __name__ == "__main__":
    main()
