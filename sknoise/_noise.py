"""Where noise is injected, how the sites are spelled, and the noise maths.

A *noise site* names one place where fresh noise of scale ``noise_amount``
(σ below; ε is a standard normal deviate drawn anew at every training step)
acts during training:

``"input"``
    the features, before the first hidden layer: ``x + σε``;
``"hidden"``
    the pre-activation of every hidden layer: ``act(Wx + b + σε)``;
``"activation"``
    the output of every hidden activation: ``act(Wx + b) + σε``;
``"weights"``
    every kernel and bias (weight noise, Graves 2011): each step computes
    its loss and gradients at ``W + σε`` and applies them to ``W``;
``"gradients"``
    the gradients (Neelakantan et al. 2015): ``g_t + N(0, σ_t²)`` with the
    annealed variance ``σ_t² = η / (1 + t)^γ``, ``γ = 0.55``, ``t`` the
    optimizer step and ``η = noise_amount``;
``"labels"``
    the targets: label smoothing for classifiers (Szegedy et al. 2016), the
    targets becoming ``(1 - ε) onehot + ε / K`` with ``ε = noise_amount``;
    Gaussian target noise ``y + σε`` for regressors.

The *noise type* says how ``σε`` is applied at the first four sites and to
regression targets: ``"gaussian"`` adds it, ``"multiplicative"`` multiplies
by ``1 + σε`` (mean-one noise, as in Gaussian dropout, Srivastava et al.
2014). Gradient noise is additive by definition and label smoothing has no
type; ``noise_type`` does not change them.

Users may combine sites as a tuple (``("input", "hidden")``) or as a string
joined with ``+`` (``"input+hidden"``); ``None`` means no noise. Every form is
reduced to one canonical tuple so that ``GridSearchCV`` grids may mix them.
The first four sites are layers of the network (``sknoise._layers``); the
last two act on the training step itself (``sknoise._compiled``).
"""

from ._backend import import_keras
from ._random import standard_normal
from ._seeds import step_words

NOISE_SITES = ("input", "hidden", "activation", "weights", "gradients", "labels")
#: Sites applied by the training step rather than by a layer of the network.
STEP_SITES = frozenset({"gradients", "labels"})
NOISE_TYPES = ("gaussian", "multiplicative")
#: Decay exponent of the annealed gradient-noise variance (Neelakantan et al.).
GRADIENT_NOISE_DECAY = 0.55

_ALLOWED = (
    "None, one of 'input', 'hidden', 'activation', 'weights', 'gradients', "
    "'labels', or a combination of them given as a tuple such as "
    "('input', 'hidden') or a string such as 'input+hidden'"
)


def resolve_noise_sites(noise_site):
    """Canonicalise a ``noise_site`` parameter value.

    Parameters
    ----------
    noise_site : None, str, or tuple/list/set of str
        The user's value.

    Returns
    -------
    tuple of str
        The distinct sites in the fixed order of ``NOISE_SITES``; empty for
        ``None``.

    Raises
    ------
    TypeError
        If ``noise_site`` is neither None, a string, nor a collection of
        strings.
    ValueError
        If a site name is unknown, or the collection is empty.
    """
    if noise_site is None:
        return ()
    if isinstance(noise_site, str):
        names = [part.strip() for part in noise_site.split("+")]
    elif isinstance(noise_site, tuple | list | set | frozenset):
        names = list(noise_site)
        if not all(isinstance(name, str) for name in names):
            raise TypeError(
                f"The 'noise_site' parameter must be {_ALLOWED}. "
                f"Got {noise_site!r}, which holds a non-string entry."
            )
    else:
        raise TypeError(
            f"The 'noise_site' parameter must be {_ALLOWED}. "
            f"Got {noise_site!r} of type {type(noise_site).__name__}."
        )
    unknown = [name for name in names if name not in NOISE_SITES]
    if unknown or not names:
        raise ValueError(
            f"The 'noise_site' parameter must be {_ALLOWED}. Got {noise_site!r}."
        )
    return tuple(site for site in NOISE_SITES if site in names)


def perturb(values, scale, seed, noise_type):
    """``values`` with fresh noise of scale ``scale`` applied.

    Parameters
    ----------
    values : tensor
        What the noise acts on.
    scale : scalar tensor or float
        σ, the noise's standard deviation.
    seed : tensor of shape (2,)
        Seed words of the deviates (see :func:`sknoise._random.random_bits`).
    noise_type : {"gaussian", "multiplicative"}
        ``values + σε`` or ``values * (1 + σε)``.

    Returns
    -------
    tensor
        Of the shape and dtype of ``values``.
    """
    ops = import_keras().ops
    dtype = import_keras().backend.standardize_dtype(values.dtype)
    noise = ops.cast(scale, dtype) * standard_normal(ops.shape(values), seed, dtype)
    if noise_type == "multiplicative":
        return values + values * noise
    return values + noise


def annealed_gradient_noise(gradients, eta, step, seed):
    """Gradients plus N(0, η / (1 + t)^0.55) noise (Neelakantan et al. 2015).

    Parameters
    ----------
    gradients : list of tensor
        One gradient per trainable variable.
    eta : scalar tensor or float
        η, the noise variance at step 0.
    step : scalar tensor
        ``t``, the optimizer's step count before this update.
    seed : scalar tensor
        Seed of the gradient-noise streams (one stream per variable).

    Returns
    -------
    list of tensor
    """
    ops = import_keras().ops
    t = ops.cast(step, "float32")
    scale = ops.sqrt(ops.cast(eta, "float32") / (1.0 + t) ** GRADIENT_NOISE_DECAY)
    # Stream 0 belongs to the label noise.
    return [
        perturb(gradient, scale, step_words(seed, i + 1, step), "gaussian")
        for i, gradient in enumerate(gradients)
    ]


def noisy_target_loss(loss_fn, loss_name, y, predictions, amount, seed, noise_type):
    """Per-sample loss against noisy targets ("labels" site).

    Parameters
    ----------
    loss_fn : callable
        The per-sample Keras loss named ``loss_name``.
    loss_name : str
        ``"binary_crossentropy"`` and ``"sparse_categorical_crossentropy"``
        are smoothed; any other loss (regression) sees ``y`` perturbed.
    y, predictions : tensor
        Encoded targets and network outputs.
    amount : scalar tensor or float
        ε of label smoothing, or σ of the target noise.
    seed : tensor of shape (2,)
        Seed words of the target noise.
    noise_type : {"gaussian", "multiplicative"}
        How regression targets are perturbed.

    Returns
    -------
    tensor
        Per-sample losses.
    """
    keras = import_keras()
    ops = keras.ops
    epsilon = ops.cast(amount, predictions.dtype)
    if loss_name == "binary_crossentropy":
        smoothed = ops.cast(y, predictions.dtype) * (1.0 - epsilon) + 0.5 * epsilon
        return loss_fn(smoothed, predictions)
    if loss_name == "sparse_categorical_crossentropy":
        # Cross-entropy against (1 - ε) onehot + ε / K, split into its two
        # parts so that the targets can stay sparse.
        probabilities = predictions / ops.sum(predictions, axis=-1, keepdims=True)
        tiny = keras.backend.epsilon()
        uniform = -ops.mean(ops.log(ops.clip(probabilities, tiny, 1.0 - tiny)), -1)
        return (1.0 - epsilon) * loss_fn(y, predictions) + epsilon * uniform
    return loss_fn(perturb(y, epsilon, seed, noise_type), predictions)
