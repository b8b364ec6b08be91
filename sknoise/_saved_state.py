"""The fitted state as plain data, the form files hold it in.

skops rebuilds only the types the user trusts, and trusts builtins and NumPy
arrays without being asked. An estimator's state therefore names sknoise's
private fitted objects -- the NumPy inference network, the kept structure,
the seeds and the target encoder -- as dicts, tuples, strings and arrays,
and loading rebuilds them: a user trusts the estimator's type alone, and
loading builds no type the file names beyond it. Pickle and joblib save the
same state. Files of earlier versions hold the objects themselves; they load
as they are.
"""

import dataclasses

from ._config import KeptState, NetworkStructure, Seeds
from ._inference import InferenceNetwork
from ._targets import (
    ClassifierTargetEncoder,
    MultilabelTargetEncoder,
    RegressorTargetEncoder,
)

#: The target encoders by the name a saved state gives them: loading
#: builds one of these, whatever the file says.
TARGET_ENCODERS = {
    encoder.__name__: encoder
    for encoder in (
        ClassifierTargetEncoder,
        MultilabelTargetEncoder,
        RegressorTargetEncoder,
    )
}


def to_plain(state):
    """An estimator's ``state`` with its private fitted objects as plain data.

    Parameters
    ----------
    state : dict
        The estimator's attributes, as ``__getstate__`` collected them; not
        changed.

    Returns
    -------
    plain : dict
        The same attributes, the objects among them replaced by dicts of
        builtins and arrays that :func:`from_plain` turns back into them.
    """
    plain = dict(state)
    if "_forward" in state:
        plain["_forward"] = {"layers": list(state["_forward"].layers)}
    if "_kept" in state:
        kept = state["_kept"]
        plain["_kept"] = {
            "structure": {
                field.name: getattr(kept.structure, field.name)
                for field in dataclasses.fields(NetworkStructure)
            },
            "optimizer": kept.optimizer,
        }
    if "_seeds" in state:
        plain["_seeds"] = state["_seeds"]._asdict()
    if "target_encoder_" in state:
        encoder = state["target_encoder_"]
        plain["target_encoder_"] = {
            "type": type(encoder).__name__,
            "attributes": dict(encoder.__getstate__()),
        }
    return plain


def from_plain(plain):
    """The estimator's state with its private fitted objects rebuilt.

    Parameters
    ----------
    plain : dict
        A state written by :func:`to_plain`, or by an earlier version, which
        holds the objects themselves (kept as they are).

    Returns
    -------
    state : dict
        The attributes to set on the estimator.
    """
    state = dict(plain)
    forward = plain.get("_forward")
    if isinstance(forward, dict):
        state["_forward"] = InferenceNetwork(
            [tuple(layer) for layer in forward["layers"]]
        )
    kept = plain.get("_kept")
    if isinstance(kept, dict):
        state["_kept"] = KeptState(
            NetworkStructure(**kept["structure"]), kept["optimizer"]
        )
    seeds = plain.get("_seeds")
    if isinstance(seeds, dict):
        state["_seeds"] = Seeds(**seeds)
    encoder = plain.get("target_encoder_")
    if isinstance(encoder, dict):
        encoder_type = TARGET_ENCODERS[encoder["type"]]
        rebuilt = encoder_type.__new__(encoder_type)
        rebuilt.__setstate__(encoder["attributes"])
        state["target_encoder_"] = rebuilt
    return state
