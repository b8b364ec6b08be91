"""What a compiled fit shows while it runs, and how long each compiled call
is so that it can be shown.

The compiled loop (:mod:`._compiled`) runs many epochs per call to the
backend and can report only between calls. A silent fit makes calls as long
as possible; a verbose one makes each call last about
``SECONDS_PER_UPDATE``, measured as it goes, so that progress appears while
a long fit runs at a cost of one call's dispatch per update. How many
epochs a call runs never changes the result: shuffles and noise are keyed by
the epoch and the step, and early stopping's state is carried across calls.

``verbose=1`` shows a tqdm bar on stderr where tqdm is installed and stderr
takes it, and a line per update on stdout otherwise (without tqdm, with
``sys.stderr`` None, or once writing the bar fails); ``verbose=2`` prints a
line for every epoch. What a fit shows never makes it fail.
"""

import sys
import time

#: Epochs of the first call of a verbose fit: short, as it may include
#: compiling the loop, so that the first report comes soon.
FIRST_CALL_EPOCHS = 10

#: The time a verbose fit aims to spend in each compiled call.
SECONDS_PER_UPDATE = 0.5


class Progress:
    """Shows a fit's epochs as compiled calls return them.

    Parameters
    ----------
    verbose : int
        0 silent, 1 a bar or a line per update, 2 a line per epoch.
    epochs : int
        The epochs the fit asks for.
    keys : list of str
        The history keys, in the order of each epoch's logs.
    longest_call : int
        The most epochs one compiled call can run.
    """

    def __init__(self, verbose, epochs, keys, *, longest_call):
        self.verbose = verbose
        self.epochs = epochs
        self.keys = keys
        self.longest_call = longest_call
        self.done = 0
        self.seconds_per_epoch = None
        self._call_started = None
        self.bar = _tqdm_bar(epochs) if verbose == 1 else None

    def next_call(self, remaining):
        """Epochs to run in the next compiled call, ``remaining`` left."""
        if not self.verbose:
            epochs = self.longest_call
        elif self.seconds_per_epoch is None:
            epochs = FIRST_CALL_EPOCHS
        else:
            epochs = int(SECONDS_PER_UPDATE / self.seconds_per_epoch)
        self._call_started = time.perf_counter()
        return max(1, min(epochs, self.longest_call, remaining))

    def show(self, chunk):
        """Show the epochs of the call that returned ``chunk``, their logs
        (one row per epoch, in the order of ``keys``)."""
        if len(chunk):
            # The latest call's rate: the first call's includes compiling,
            # the next one corrects it.
            elapsed = time.perf_counter() - self._call_started
            self.seconds_per_epoch = max(elapsed / len(chunk), 1e-9)
        first = self.done
        self.done += len(chunk)
        if not self.verbose or not len(chunk):
            return
        if self.bar is not None:
            try:
                self.bar.set_postfix_str(
                    self._logs(chunk[-1], "=", ", "), refresh=False
                )
                self.bar.update(len(chunk))
                return
            except Exception:  # a stream that fails: lines from now on
                self.bar = None
        shown = range(len(chunk)) if self.verbose >= 2 else [len(chunk) - 1]
        for i in shown:
            logs = self._logs(chunk[i], ": ", " - ")
            print(f"Epoch {first + i + 1}/{self.epochs} - {logs}")

    def close(self):
        """End the bar, if any (also when the fit stops early or raises)."""
        if self.bar is not None:
            try:
                self.bar.close()
            except Exception:  # a stream that fails: the fit has ended well
                pass

    def _logs(self, row, assign, separator):
        return separator.join(
            f"{key}{assign}{value:.4f}"
            for key, value in zip(self.keys, row, strict=True)
        )


def _tqdm_bar(epochs):
    """A tqdm bar of ``epochs`` on stderr, or None without tqdm or a usable
    stderr."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    if sys.stderr is None:  # pythonw, ``2>&-``: tqdm would write to None
        return None
    try:
        # Plain tqdm, not tqdm.auto: in a notebook without ipywidgets the
        # latter warns; the text bar works in both.
        return tqdm(total=epochs, unit="epoch", leave=True)
    except Exception:  # a stream that fails at the bar's first line
        return None
