"""The compiled training loop: many epochs in one call to the backend.

Keras' ``fit`` pays tens of milliseconds of Python and dispatch overhead per
epoch; the published experiments (5000 epochs on 30 points) are made of
almost nothing else. This module runs up to ``EPOCHS_PER_CALL`` whole epochs
inside one compiled program instead -- ``jax.jit`` on JAX, ``tf.function``
with XLA on TensorFlow -- with the semantics of Keras ``fit`` for sknoise's
networks:

* mini-batches of ``batch_size`` rows, reshuffled every epoch (the last batch
  may be short; its loss is the mean over its own rows, as in Keras);
* the model's optimizer with its state; layers, losses, metrics and the
  optimizer's update are Keras' own (``model.stateless_call`` and
  ``optimizer.stateless_apply`` on JAX; on TensorFlow, whose optimizers have
  no stateless form, the loop updates the variables of a private copy of the
  network in place);
* fresh noise at every step (the noise layers' seed generators advance),
  and the training-step noise sites: noisy targets ("labels") and annealed
  gradient noise ("gradients"), keyed by the optimizer's step count;
* the losses layers add (weight penalties);
* per-epoch ``loss`` and metric (training-mode forward passes, as Keras logs
  them) and ``val_*`` entries when validation data are given;
* optional early stopping: stop once the monitored quantity has not improved
  by ``tol`` for ``patience`` epochs, then restore the best weights.

The compiled function is pure: it takes the variables' values and returns
new ones (:mod:`.program`). It is built once per *training signature*
-- the network structure, the optimizer's static configuration, the loss,
the batch and data shapes -- and kept in :data:`loop_cache`, so fits that
differ only in data values, ``noise_amount``, ``learning_rate``,
penalty strengths or dropout rate (all held in variables or passed as
values) reuse it without tracing again; ``loop_cache.traces`` counts the
traces, for tests.

The package's modules: :mod:`.driver` runs a fit's epochs, call by call;
:mod:`.cache` keys and keeps the compiled loops; :mod:`.program` is the
traced epochs; :mod:`.step_jax` and :mod:`.step_tensorflow` one optimizer
step each.
"""

from .cache import loop_cache
from .driver import train

__all__ = ["loop_cache", "train"]
