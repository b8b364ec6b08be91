"""Wall-clock timing: a stopwatch, and seconds per epoch from fits of two
lengths."""

import time

import numpy as np


class Stopwatch:
    """Wall-clock seconds of a ``with`` block, in ``.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start


def per_epoch(runs, short, long, repeats, *, fastest=False):
    """Seconds per epoch (slope) and the fixed cost of each run.

    ``runs`` maps names to ``run(epochs)``, which trains once for that many
    epochs. Each runs once first to warm up (imports, compilation), then
    ``repeats`` times at each length, the runs taking turns: a slow spell of
    the shared machine then falls on all of them alike, not on one, and the
    ratios between them hold. Returns ``{name: (slope, fixed)}``.

    By default the slope and the fixed cost are medians over the repeats.
    ``fastest=True`` takes them from the fastest short and the fastest long
    run instead: the runs other work on the machine disturbed least, for
    contenders that such work slows many times over (scikit-learn's BLAS
    threads on busy cores).
    """
    for run in runs.values():
        run(short)
    times = {name: ([], []) for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            for length, taken in zip((short, long), times[name], strict=True):
                with Stopwatch() as watch:
                    run(length)
                taken.append(watch.seconds)
    measured = {}
    for name, (shorts, longs) in times.items():
        shorts, longs = np.array(shorts), np.array(longs)
        if fastest:
            shorts, longs = shorts.min(keepdims=True), longs.min(keepdims=True)
        slopes = (longs - shorts) / (long - short)
        fixed = shorts - slopes * short
        measured[name] = (float(np.median(slopes)), float(np.median(fixed)))
    return measured
