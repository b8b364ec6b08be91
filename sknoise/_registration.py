"""sknoise's layers registered with Keras whenever Keras is imported.

``import sknoise`` loads no Keras: most processes using sknoise only predict,
in NumPy. It registers a post-import hook on ``keras`` instead
(:func:`register_when_keras_is_imported`), which defines sknoise's layers
(:mod:`._layers`) as soon as Keras is imported, by sknoise's first fit or by
the user, so that ``keras.saving.load_model`` reads a saved ``model_``.

The hook runs inside whoever's ``import keras``, holding that import's
lock: it and ``_layers`` take no lock of sknoise's and import no Keras (the
lock order of :mod:`._backend`); ``_layers`` takes the module from
``sys.modules``, where it is by then.
"""

import warnings

import wrapt


def register_when_keras_is_imported():
    """Register sknoise's layers with Keras as soon as Keras is imported;
    at once if it already is."""
    wrapt.register_post_import_hook(_on_keras_import, "keras")


def _on_keras_import(module):
    """Keras has just been imported by this thread, which holds its import
    lock (another thread's ``import keras`` waits for this): register
    sknoise's layers."""
    try:
        from . import _layers  # noqa: F401  (defining them registers them)
    except Exception as error:  # never break somebody else's import keras
        warnings.warn(
            f"sknoise could not register its layers with Keras ({error!r}): "
            "keras.saving.load_model will not read a saved sknoise model_.",
            RuntimeWarning,
            stacklevel=2,
        )
