"""The compiled loops alive, keyed by training signature."""

import collections
import threading
from dataclasses import dataclass

from .._backend import import_keras
from .._rows import ROW_BUCKET, padded_rows, round_up
from .._targets import METRIC_KEY
from .program import CompiledLoop

keras = import_keras()


class LoopCache:
    """The compiled loops alive, by training signature, and a trace count.

    At most ``size`` loops are kept; the least recently used is dropped.
    Thread-safe: concurrent fits of one signature share one loop.
    """

    def __init__(self, size=16):
        self.size = size
        self.traces = 0
        self._loops = collections.OrderedDict()
        self._lock = threading.Lock()

    def _count_trace(self):
        self.traces += 1

    def get(self, signature, build, *, cacheable):
        """The loop for ``signature``; if new, made with a network from
        ``build`` and kept on disk if ``cacheable`` (see
        :class:`CompiledLoop`)."""
        with self._lock:
            loop = self._loops.pop(signature, None)
            if loop is None:
                loop = CompiledLoop(
                    signature, build, on_trace=self._count_trace, cacheable=cacheable
                )
            self._loops[signature] = loop
            while len(self._loops) > self.size:
                self._loops.popitem(last=False)
        return loop


#: The process's compiled loops.
loop_cache = LoopCache()


@dataclass(frozen=True)
class TrainingSignature:
    """Everything static about a fit: one compiled loop per distinct value.

    Attributes
    ----------
    structure : NetworkStructure
        The network's structure (not its values).
    optimizer : str
        The optimizer's traced settings (``OptimizerSpec.traced_settings``).
    loss, metric : str or None
        Keras names of the per-sample loss and metric functions.
    n_padded, n_features : int
        Shape of the training data as padded (see :func:`padded_rows`).
    y_shape : tuple of int
        Shape of the padded encoded targets.
    batch_size : int
        Rows per step, at most ``n_padded``.
    n_validation : int
        Rows of padded validation data; 0 when there are none.
    monitor : str or None
        History key watched by early stopping; None disables it.
    backend : str
        The Keras backend.
    label_noise, gradient_noise : bool
        Whether the step perturbs the targets, or the gradients.
    noise_type : str
        How target noise is applied to regression targets.
    entry_width : int
        Entries per row of sparse data's padded pairs (training and
        validation alike, see :func:`~sknoise._rows.entry_width`); 0 for
        dense data.
    """

    structure: object
    optimizer: str
    loss: str
    metric: str | None
    n_padded: int
    n_features: int
    y_shape: tuple
    batch_size: int
    n_validation: int
    monitor: str | None
    backend: str
    label_noise: bool = False
    gradient_noise: bool = False
    noise_type: str = "gaussian"
    entry_width: int = 0

    @property
    def history_keys(self):
        keys = ["loss"] + ([METRIC_KEY] if self.metric else [])
        return keys + ["val_" + key for key in keys] * bool(self.n_validation)


def signature_of(plan):
    """The training signature of a :class:`~sknoise._fit.TrainingPlan`: the
    compiled loop's cache key."""
    config, encoder, data = plan.config, plan.encoder, plan.data
    n_samples = data.x.shape[0]
    n_padded = padded_rows(n_samples, config.batch_size)
    n_validation = 0 if data.validation is None else data.validation[0].shape[0]
    stopping = config.early_stopping
    return TrainingSignature(
        structure=plan.structure,
        # From the settings, not from the optimizer's get_config(): on JAX
        # that converts the learning-rate variable with np.array, which
        # NumPy 2 warns about.
        optimizer=repr(config.optimizer.traced_settings()),
        loss=encoder.loss_,
        metric=encoder.metric_,
        n_padded=n_padded,
        n_features=data.x.shape[1],
        y_shape=(n_padded, *data.y.shape[1:]),
        # The effective batch: 64 and 128 on 60 rows are the same program.
        batch_size=min(config.batch_size, n_padded),
        n_validation=round_up(n_validation, ROW_BUCKET),
        monitor=None if stopping is None else stopping.monitor,
        backend=keras.backend.backend(),
        label_noise=config.step_noise.labels > 0,
        gradient_noise=config.step_noise.gradients > 0,
        noise_type=config.step_noise.noise_type,
        entry_width=data.entry_width(),
    )
