"""Comparing trained floats with values recorded on another machine.

A fit's numbers are reproducible bit for bit only on the kind of machine that
recorded them: XLA compiles the training loop for the processor it runs on
(its model and vector extensions decide which instructions, hence which
roundings), NumPy's BLAS picks its kernels the same way for predictions, and
any library release may change either. Where this machine's
:func:`fingerprint` equals the recording's, results must be equal exactly;
elsewhere they must agree to float32 rounding, within :data:`RTOL` and
:data:`ATOL`, which a real change of behaviour (one more epoch, another seed)
exceeds by orders of magnitude (``tests/test_golden.py`` shows both).
"""

import importlib.metadata
import platform
import re
from pathlib import Path

import numpy as np

#: Relative and absolute tolerance between machines. Measured between an
#: Intel Xeon (AVX-512) and an AMD EPYC (AVX2 only): outputs at most 4.8e-7
#: apart, training losses at most 1.2e-6 relative, after up to 300 epochs.
#: One epoch more moves the golden fits' outputs by 1.3e-3 to 0.55, another
#: derivation of the stream seeds those it reaches by 0.09 to 0.46.
RTOL = 2e-5
ATOL = 2e-6

# The processor's vector and fused-multiply-add extensions: what compilers
# and BLAS libraries choose code paths by (x86 "flags", ARM "Features").
_VECTOR_EXTENSIONS = {
    "flags": re.compile(r"^(sse\d\w*|ssse3|avx\w*|fma\w*|f16c|amx_\w+)$"),
    "Features": re.compile(r"^(asimd\w*|sve\w*|sme(\d|f|i|b)?\w*|fphp|bf16|i8mm)$"),
}
_LIBRARIES = ("numpy", "scipy", "keras", "tensorflow", "jax", "jaxlib")


def _cpuinfo():
    """The first processor's entries of /proc/cpuinfo (empty elsewhere)."""
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        return {}
    entries = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            break  # the first processor is enough: they are alike
        key, _, value = line.partition(":")
        entries[key.strip()] = value.strip()
    return entries


def _installed(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def fingerprint(backend):
    """What decides the roundings of a fit on ``backend`` here.

    The processor (vendor, family, model: the compiler's target), its
    vector extensions and the number of CPUs (TensorFlow's reductions split
    by its thread count), the BLAS libraries NumPy and SciPy loaded (with
    the kernel family they chose), and the versions of the numerical
    libraries.
    """
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, which predictions use)
    from threadpoolctl import threadpool_info

    from sknoise._threads import available_cpus

    cpu = _cpuinfo()
    extensions = sorted(
        flag
        for key, pattern in _VECTOR_EXTENSIONS.items()
        for flag in cpu.get(key, "").split()
        if pattern.match(flag)
    )
    blas = sorted(
        f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')}"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    )
    return {
        "backend": backend,
        "machine": platform.machine(),
        "processor": " ".join(
            cpu.get(key, "")
            for key in ("vendor_id", "cpu family", "model", "CPU implementer")
        ).strip()
        or platform.processor(),
        "vector_extensions": extensions,
        "cpus": available_cpus(),
        "blas": blas,
        "versions": {name: _installed(name) for name in _LIBRARIES},
    }


def differences(actual, recorded, *, exact, path="result"):
    """Where ``actual`` differs from ``recorded`` (nested dicts, lists and
    numbers, as JSON holds them): a list of descriptions, empty if none.

    Keys, lengths, integers and strings must be equal in either mode; floats
    must be equal if ``exact``, else within :data:`RTOL` and :data:`ATOL`.
    """
    if isinstance(recorded, dict):
        if not isinstance(actual, dict) or set(actual) != set(recorded):
            return [f"{path}: keys {_keys(actual)} != recorded {_keys(recorded)}"]
        return [
            found
            for key in sorted(recorded)
            for found in differences(
                actual[key], recorded[key], exact=exact, path=f"{path}[{key!r}]"
            )
        ]
    if isinstance(recorded, float) or _is_float_list(recorded):
        return _float_differences(actual, recorded, exact=exact, path=path)
    if isinstance(recorded, list):
        if not isinstance(actual, list) or len(actual) != len(recorded):
            return [f"{path}: length {_length(actual)} != recorded {len(recorded)}"]
        return [
            found
            for i, (a, r) in enumerate(zip(actual, recorded, strict=True))
            for found in differences(a, r, exact=exact, path=f"{path}[{i}]")
        ]
    if actual != recorded:
        return [f"{path}: {actual!r} != recorded {recorded!r}"]
    return []


def _float_differences(actual, recorded, *, exact, path):
    recorded = np.asarray(recorded, dtype=np.float64)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return [f"{path}: {actual!r} is not numbers like the recorded ones"]
    if actual.shape != recorded.shape:
        return [f"{path}: shape {actual.shape} != recorded {recorded.shape}"]
    if exact:
        close = (actual == recorded) | (np.isnan(actual) & np.isnan(recorded))
    else:
        close = np.isclose(actual, recorded, rtol=RTOL, atol=ATOL, equal_nan=True)
    if close.all():
        return []
    gaps = np.abs(actual - recorded)[~close]
    # A NaN against a number has no size: say so rather than print nan.
    worst = (
        ": a NaN against a number"
        if np.isnan(gaps).all()
        else f" {np.nanmax(gaps):.3g}"
    )
    mode = "bit for bit" if exact else f"rtol={RTOL:g}, atol={ATOL:g}"
    return [
        f"{path}: {int((~close).sum())} of {close.size} values differ beyond "
        f"{mode} (largest difference{worst})"
    ]


def _is_float_list(value):
    """A (nested) list of numbers with at least one float: an array."""
    if not isinstance(value, list) or not value:
        return False
    flat = np.asarray(value, dtype=object).ravel()
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in flat)
    return numbers and any(isinstance(v, float) for v in flat)


def _keys(value):
    return sorted(value) if isinstance(value, dict) else type(value).__name__


def _length(value):
    return len(value) if isinstance(value, list) else type(value).__name__


def assert_close_to_recording(actual, recorded):
    """Assert that arrays computed here equal ``recorded`` ones, computed on
    a machine of unknown fingerprint (files in ``tests/data``), to float32
    rounding."""
    np.testing.assert_allclose(actual, recorded, rtol=RTOL, atol=ATOL)
