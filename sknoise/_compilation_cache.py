"""Reuse compiled training loops across processes: the backend's persistent
compilation cache, opt-in.

Every new training signature compiles sknoise's training loop
(:mod:`._compiled.program`), in every process: each worker of a parallel search
and each new session pays it again. JAX can keep the compiled programs on
disk and load them in the next process; sknoise turns that on only when asked,
by :func:`enable_compilation_cache` or by the environment variable
``SKNOISE_COMPILATION_CACHE`` (``1`` for the default directory, or a
directory; ``0`` or empty for off), read when sknoise first loads Keras and
again before each new training loop is compiled; one that names no usable
directory is warned about, once, and fits run without the cache. Without
either, nothing is configured.

TensorFlow has a persistent cache for ``tf.function(jit_compile=True)`` too
(``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=...``), but sknoise does
not use it: its flags are read once, when TensorFlow first lists its devices
(sknoise's first use of Keras does), its entries are keyed by a per-process function
number, so a process hits only when it traces the same loops in the same
order, and a truncated entry (a process stopped while writing it) makes every
later fit of that signature fail instead of compiling again.
"""

import os
import warnings
from pathlib import Path

from ._backend import import_keras

#: The environment variable that opts in: ``1`` (or ``true``, ``yes``,
#: ``on``) for :func:`default_directory`, a directory, or ``0`` / empty
#: (or ``false``, ``no``, ``off``) for no cache.
ENVIRONMENT_VARIABLE = "SKNOISE_COMPILATION_CACHE"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})
#: Cache directories the variable asked for that could not be used, each
#: warned about once.
_UNUSABLE = set()


def default_directory():
    """``$XDG_CACHE_HOME/sknoise/xla``, or ``~/.cache/sknoise/xla``."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "sknoise" / "xla"


def directory_from_environment():
    """The cache directory ``SKNOISE_COMPILATION_CACHE`` asks for, or None."""
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if value.lower() in _OFF:
        return None
    if value.lower() in _ON:
        return default_directory()
    return Path(value).expanduser()


def _backend_directory(root, backend):
    """Where one backend's entries go: a folder of ``root`` per backend."""
    return Path(root) / backend


def _use_jax_cache(directory, *, replace):
    """Point JAX's persistent compilation cache at ``directory``.

    A directory the user (or an earlier call) gave JAX already is kept,
    unless ``replace``. Returns the directory JAX uses.
    """
    import jax

    current = jax.config.jax_compilation_cache_dir
    target = str(directory)
    if current == target:
        return Path(current)
    if current is not None and not replace:
        return Path(current)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    jax.config.update("jax_compilation_cache_dir", target)
    # JAX stores only programs that took a second or more to compile by
    # default; a small network's loop can compile faster than that.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    if current is not None:
        # JAX opens its cache once per process: a new directory needs a reset.
        from jax.experimental.compilation_cache import compilation_cache

        compilation_cache.reset_cache()
    return directory


def apply_environment():
    """Use the cache ``SKNOISE_COMPILATION_CACHE`` asks for, if any.

    Called by sknoise's first use of Keras (``import_keras``) and before
    each new training loop is compiled; a cache directory the user
    already gave JAX wins. Does nothing on TensorFlow.

    A directory that cannot be created (the variable names a file, or a
    place this process may not write) gives a RuntimeWarning naming the
    variable, and fits run without the cache: it only saves compile time,
    and a long-lived service must not lose its fits over an environment
    setting.
    """
    directory = directory_from_environment()
    if directory is None or import_keras().backend.backend() != "jax":
        return
    try:
        _use_jax_cache(_backend_directory(directory, "jax"), replace=False)
    except OSError as error:
        # Warn, not raise (see the docstring); once per setting, not at
        # every compiled loop (Python's own once-only registry is reset
        # whenever a library changes the warning filters).
        if directory in _UNUSABLE:
            return
        _UNUSABLE.add(directory)
        warnings.warn(
            f"{ENVIRONMENT_VARIABLE}={os.environ[ENVIRONMENT_VARIABLE]!r} names "
            f"no usable cache directory ({error}); sknoise compiles without "
            "the cache. Point it at a directory this process can create and "
            f"write, or set {ENVIRONMENT_VARIABLE}=0 to turn the cache off.",
            RuntimeWarning,
            stacklevel=2,
        )


def enable_compilation_cache(directory=None):
    """Keep compiled training loops on disk, for later processes to reuse.

    Every new data shape or network structure compiles sknoise's training
    loop, which takes seconds, again in every process. With the cache on,
    a later process (a new session, a worker of a parallel search) loads
    the compiled program from ``directory`` instead of compiling it: the
    first fit of a known signature only traces the loop. On the JAX backend
    this turns on JAX's persistent compilation cache for the whole process
    (every ``jax.jit`` program is stored, sknoise's or not); entries go to
    the ``jax`` folder of ``directory``, which grows until it is deleted.
    It also sets the environment variable ``SKNOISE_COMPILATION_CACHE`` to
    ``directory``, so that processes started afterwards (joblib's workers)
    use it too. On TensorFlow, sknoise uses no persistent cache (see the
    how-to guide): this warns and only sets the variable.

    Anyone who can write to ``directory`` can make this process run the
    programs they put there, so keep it private.

    Parameters
    ----------
    directory : str, path-like or None, default=None
        The cache's root directory, created if missing. None uses
        ``$XDG_CACHE_HOME/sknoise/xla`` (``~/.cache/sknoise/xla``).

    Returns
    -------
    directory : pathlib.Path
        The cache's root directory, absolute.

    See Also
    --------
    NoisyMLPClassifier : Its ``fit`` compiles the training loop.

    Examples
    --------
    >>> import sknoise
    >>> sknoise.enable_compilation_cache()  # doctest: +SKIP
    PosixPath('/home/me/.cache/sknoise/xla')
    """
    root = Path(directory) if directory is not None else default_directory()
    root = root.expanduser().absolute()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ[ENVIRONMENT_VARIABLE] = str(root)
    backend = import_keras().backend.backend()
    if backend == "jax":
        _use_jax_cache(_backend_directory(root, "jax"), replace=True)
    else:
        warnings.warn(
            f"sknoise keeps no compiled training loops on disk on the {backend} "
            "backend, only on JAX: this call only sets "
            f"{ENVIRONMENT_VARIABLE} for the processes started after it.",
            UserWarning,
            stacklevel=2,
        )
    return root
