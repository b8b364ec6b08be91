"""Where Gaussian noise is injected, and how the sites are spelled.

A *noise site* names one place in the network where zero-mean Gaussian noise
of standard deviation ``noise_amount`` is added during training:

``"input"``
    to the features, before the first hidden layer;
``"hidden"``
    to the pre-activation of every hidden layer (Dense -> noise -> activation);
``"activation"``
    to the output of every hidden activation (Dense -> activation -> noise).

Users may combine sites as a tuple (``("input", "hidden")``) or as a string
joined with ``+`` (``"input+hidden"``); ``None`` means no noise. Every form is
reduced to one canonical tuple so that ``GridSearchCV`` grids may mix them.
"""

NOISE_SITES = ("input", "hidden", "activation")

_ALLOWED = (
    "None, one of 'input', 'hidden', 'activation', or a combination of them "
    "given as a tuple such as ('input', 'hidden') or a string such as "
    "'input+hidden'"
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
