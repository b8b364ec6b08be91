"""Compiled training loops kept on disk for later processes: on by default.

Every new training signature traces and compiles sknoise's training loop
(:mod:`._compiled.program`), a second or more, in every process: a
notebook's first fit, each worker of a parallel search, each Dask worker. On
the JAX backend sknoise therefore keeps every compiled loop in a directory,
keyed by the training signature and by everything else the program depends
on -- sknoise's own code, the Keras, JAX and jaxlib versions, their numeric
settings and the processor -- so that a later process with a known
signature loads the program (milliseconds) instead of tracing and compiling
it. Only sknoise's programs are kept: JAX's own persistent cache, which
would store every ``jax.jit`` program of the process, is left as the user
set it.

``SKNOISE_COMPILATION_CACHE`` chooses the directory: unset, ``1`` (or
``true``, ``yes``, ``on``) for :func:`default_directory`, a path for another,
``0`` (or empty, ``false``, ``no``, ``off``) for no cache. It is read at
each new training signature, so :func:`enable_compilation_cache` (which sets
it for this process and the processes it starts) takes effect at once.

The cache must never cost a fit. Entries are written to a temporary file
and renamed into place, so concurrent writers (the workers of a search)
never leave half an entry; each entry carries a checksum, so a damaged one
(a truncated file, a full disk) is a miss and is replaced; a directory that
cannot be created, read or written is the same as no cache; and the
directory is bounded to :data:`MAX_BYTES`, least recently used entries
first out. :func:`clear_compilation_cache` empties it.

TensorFlow keeps no compiled loop on disk: its XLA cache
(``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=...``) is read once, when
TensorFlow first lists its devices, keys its entries by a per-process
function number, so that a process hits only when it traces the same loops
in the same order, and makes every later fit of a signature fail when an
entry is truncated; a ``tf.function`` has no serialised executable to keep
instead.
"""

import functools
import hashlib
import importlib.metadata
import logging
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

#: The environment variable that chooses the directory (see the module
#: docstring).
ENVIRONMENT_VARIABLE = "SKNOISE_COMPILATION_CACHE"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})
#: The most the directory holds; the least recently used entries go first.
MAX_BYTES = 512 * 2**20
#: Begins every entry, then the payload's SHA-256 and the payload.
_MAGIC = b"sknoise compiled loop 1\n"
_SUFFIX = ".loop"
# Entries being written, and how old one is when its writer is surely gone.
_INCOMING = ".incoming-"
_ABANDONED_SECONDS = 3600
_DIGEST_SIZE = hashlib.sha256().digest_size


def default_directory():
    """``$XDG_CACHE_HOME/sknoise/compiled``, or ``~/.cache/sknoise/compiled``."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "sknoise" / "compiled"


def directory_from_environment():
    """The directory ``SKNOISE_COMPILATION_CACHE`` asks for, or None for no
    cache; unset means the default directory."""
    value = os.environ.get(ENVIRONMENT_VARIABLE)
    if value is None or value.strip().lower() in _ON:
        return default_directory()
    if value.strip().lower() in _OFF:
        return None
    return Path(value.strip()).expanduser()


@functools.cache
def _code_digest():
    """A digest of sknoise's source: a changed module (a development
    checkout, an upgrade) makes new keys, never a stale program."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def _processor():
    """What the compiled code was made for: the architecture and, on Linux,
    the processor's model and instruction-set extensions."""
    facts = [platform.machine()]
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return tuple(facts)
    first = text.split("\n\n", 1)[0]
    for line in first.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("vendor_id", "cpu family", "model", "flags", "Features"):
            facts.append(f"{key.strip()}={value.strip()}")
    return tuple(facts)


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def entry_key(program, backend_facts):
    """The key of a compiled ``program`` (the text of its training
    signature) given the ``backend_facts`` its compilation depends on."""
    digest = hashlib.sha256()
    for part in (
        _MAGIC,
        _code_digest(),
        _processor(),
        [(name, _version(name)) for name in ("keras", "jax", "jaxlib")],
        os.environ.get("XLA_FLAGS", ""),
        backend_facts,
        program,
    ):
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _usable_directory():
    """The cache directory, created if needed, or None: no cache asked
    for, or a setting that names no usable directory (warned once)."""
    directory = directory_from_environment()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        _unusable(directory, error)
        return None
    if not directory.is_dir():
        _unusable(directory, NotADirectoryError(f"{directory} is not a directory"))
        return None
    return directory


def _unusable(directory, error):
    if ENVIRONMENT_VARIABLE in os.environ:
        _warn_once(
            f"{ENVIRONMENT_VARIABLE}={os.environ[ENVIRONMENT_VARIABLE]!r} names "
            f"no directory sknoise can use ({error}), so sknoise compiles "
            f"without the cache. Set {ENVIRONMENT_VARIABLE} to a directory, or "
            f"{ENVIRONMENT_VARIABLE}=0 to turn the cache off."
        )
    else:  # the default directory, which nobody asked for: say nothing
        logger.debug("no compilation cache in %s: %s", directory, error)


# Once per message and process, whatever the warning filters: a service
# fitting all day would otherwise repeat it at every new signature.
@functools.cache
def _warn_once(message):
    warnings.warn(message, RuntimeWarning, stacklevel=4)


def load(key):
    """The payload stored under ``key``, or None (no cache, no entry, or a
    damaged entry, which is removed)."""
    directory = _usable_directory()
    if directory is None:
        return None
    path = directory / f"{key}{_SUFFIX}"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(_MAGIC) + _DIGEST_SIZE
    payload = data[header:]
    if data[: len(_MAGIC)] != _MAGIC or (
        data[len(_MAGIC) : header] != hashlib.sha256(payload).digest()
    ):
        logger.debug("damaged compilation cache entry %s: removed", path)
        _remove(path)
        return None
    try:
        os.utime(path)  # recently used: evicted last
    except OSError:
        pass
    return payload


def store(key, payload):
    """Keep ``payload`` under ``key``, if there is a usable cache; never
    raises."""
    directory = _usable_directory()
    if directory is None:
        return
    entry = _MAGIC + hashlib.sha256(payload).digest() + payload
    try:
        handle, incoming = tempfile.mkstemp(dir=directory, prefix=_INCOMING)
    except OSError as error:  # read-only, removed meanwhile...
        logger.debug("could not keep a compiled loop in %s: %s", directory, error)
        return
    try:
        try:
            written = memoryview(entry)
            while written:
                written = written[os.write(handle, written) :]
        finally:
            os.close(handle)
        # Atomic: readers see the whole entry or none.
        os.replace(incoming, directory / f"{key}{_SUFFIX}")
    except OSError as error:  # full...
        logger.debug("could not keep a compiled loop in %s: %s", directory, error)
        _remove(Path(incoming))
        return
    _evict(directory, MAX_BYTES)


def _entries(directory):
    """The entries of ``directory`` as (mtime, size, path), oldest first."""
    found = []
    for path in directory.glob(f"*{_SUFFIX}"):
        try:
            stat = path.stat()
        except OSError:  # removed by another process meanwhile
            continue
        found.append((stat.st_mtime, stat.st_size, path))
    return sorted(found)


def _evict(directory, max_bytes):
    """Remove the least recently used entries until ``directory`` holds at
    most ``max_bytes``, and what writers stopped midway left behind."""
    entries = _entries(directory)
    total = sum(size for _, size, _ in entries)
    for _, size, path in entries:
        if total <= max_bytes:
            break
        _remove(path)
        total -= size
    for path in directory.glob(f"{_INCOMING}*"):
        try:
            abandoned = path.stat().st_mtime < time.time() - _ABANDONED_SECONDS
        except OSError:
            continue
        if abandoned:
            _remove(path)


def _remove(path):
    try:
        path.unlink()
    except OSError:
        pass


def clear_compilation_cache(directory=None):
    """Remove every compiled training loop kept on disk.

    Parameters
    ----------
    directory : str, path-like or None, default=None
        The cache's directory; None for the one in use (see
        :func:`enable_compilation_cache`).

    Returns
    -------
    n_removed : int
        The number of compiled loops removed.

    See Also
    --------
    enable_compilation_cache : Where the compiled loops are kept.

    Examples
    --------
    >>> import sknoise
    >>> sknoise.clear_compilation_cache("/tmp/no-such-sknoise-cache")
    0
    """
    root = (
        Path(directory).expanduser()
        if directory is not None
        else directory_from_environment()
    )
    if root is None or not root.is_dir():
        return 0
    entries = [path for _, _, path in _entries(root)]
    for path in entries:
        _remove(path)
    return len(entries)


def enable_compilation_cache(directory=None):
    """Keep compiled training loops in ``directory``, for later processes.

    The cache is on by default (in :func:`default_directory`); this chooses
    another directory, or turns the cache back on after
    ``SKNOISE_COMPILATION_CACHE=0``. Every new data shape or network
    structure compiles sknoise's training loop, a second or more, again in
    every process; with the cache, a later process (a new session, a worker
    of a parallel search) loads the compiled program instead of tracing and
    compiling it. It sets the environment variable
    ``SKNOISE_COMPILATION_CACHE`` to ``directory``, so that processes started
    afterwards (joblib's workers) use it too. Only the JAX backend keeps
    compiled loops (see the how-to guide): on TensorFlow this has no effect
    on this process.

    Anyone who can write to ``directory`` can make this process run the
    programs they put there, so keep it private.

    Parameters
    ----------
    directory : str, path-like or None, default=None
        The cache's directory, created if missing. None uses
        ``$XDG_CACHE_HOME/sknoise/compiled`` (``~/.cache/sknoise/compiled``).

    Returns
    -------
    directory : pathlib.Path
        The cache's directory, absolute.

    See Also
    --------
    clear_compilation_cache : Empty the cache.
    NoisyMLPClassifier : Its ``fit`` compiles the training loop.

    Examples
    --------
    >>> import sknoise
    >>> sknoise.enable_compilation_cache()  # doctest: +SKIP
    PosixPath('/home/me/.cache/sknoise/compiled')
    """
    root = Path(directory) if directory is not None else default_directory()
    root = root.expanduser().absolute()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ[ENVIRONMENT_VARIABLE] = str(root)
    return root
