"""Wall-clock timing."""

import time


class Stopwatch:
    """Wall-clock seconds of a ``with`` block, in ``.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
