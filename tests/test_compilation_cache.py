"""The compilation cache, on by default: a later process traces and compiles
nothing, and no state of the cache's directory ever costs a fit.

The fits that use it run in fresh processes started here (the parent's own
loops are cached in memory); what they compiled is read from sknoise's
trace count. The directory's failure cases are tried on the store itself.
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import pytest

import sknoise
from sknoise import _compilation_cache

ENV = _compilation_cache.ENVIRONMENT_VARIABLE
needs_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="JAX is not installed"
)

# A fresh process fits a small network and reports its trace count, its
# probabilities and any warning, as JSON.
FIT = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        from sknoise import NoisyMLPClassifier
        from sknoise._compiled import loop_cache

        rng = np.random.default_rng(0)
        X = rng.normal(size=(50, 3)).astype("float32")
        y = (X[:, 0] > 0).astype(int)
        optimizer = "adam"
        if sys.argv[1:] == ["mine"]:
            import keras

            class Mine(keras.optimizers.Adam):
                pass

            optimizer = Mine
        clf = NoisyMLPClassifier(nodes=4, epochs=2, optimizer=optimizer,
                                 random_state=0).fit(X, y)
    print(json.dumps({"traces": loop_cache.traces,
                      "proba": clf.predict_proba(X).tolist(),
                      "warnings": [str(w.message) for w in caught
                                   if "compilation cache" in str(w.message)
                                   or "SKNOISE" in str(w.message)]}))
    """
)


def fit_fresh(cache, *argv):
    """Run :data:`FIT` in a fresh JAX process with ``SKNOISE_COMPILATION_CACHE``
    set to ``cache`` (None: unset); its report."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop(ENV, None)
    if cache is not None:
        env[ENV] = str(cache)
    result = subprocess.run(
        [sys.executable, "-c", FIT, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def entries(directory):
    return sorted(directory.glob("*.loop"))


@needs_jax
def test_a_later_process_loads_the_loop_and_traces_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = fit_fresh(cache)
    assert first["traces"] == 1 and len(entries(cache)) == 1
    second = fit_fresh(cache)
    assert second["traces"] == 0, "the second process traced the loop again"
    assert second["proba"] == first["proba"]  # the same program, bit for bit
    assert first["warnings"] == second["warnings"] == []
    # A damaged entry (a writer stopped midway, a full disk) is a miss,
    # replaced by a sound one, and costs no warning.
    (entry,) = entries(cache)
    entry.write_bytes(entry.read_bytes()[:1000])
    third = fit_fresh(cache)
    assert third["traces"] == 1 and third["proba"] == first["proba"]
    assert third["warnings"] == []
    monkeypatch.setenv(ENV, str(cache))
    assert _compilation_cache.load(entry.stem) is not None


@needs_jax
def test_a_users_optimizer_class_is_never_kept(tmp_path):
    # Its code may change under the same name: a later process must trace it.
    report = fit_fresh(tmp_path / "cache", "mine")
    assert report["traces"] == 1 and entries(tmp_path / "cache") == []


def test_off_nothing_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(ENV, "0")
    _compilation_cache.store("k", b"program")
    assert _compilation_cache.load("k") is None
    assert list(tmp_path.iterdir()) == []


def test_a_setting_that_names_no_directory_warns_once(tmp_path, monkeypatch):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setenv(ENV, str(not_a_directory))
    with pytest.warns(RuntimeWarning) as caught:
        _compilation_cache.store("k", b"program")
        assert _compilation_cache.load("k") is None
    (message,) = [str(warning.message) for warning in caught]
    assert f"{ENV}='{not_a_directory}'" in message and f"{ENV}=0" in message
    assert not_a_directory.read_text() == ""


def test_the_environment_variable_names_a_directory_or_the_default(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    default = tmp_path / "sknoise" / "compiled"
    for value, expected in [
        ("1", default),
        ("on", default),
        ("True", default),
        ("", None),
        ("0", None),
        ("off", None),
        (str(tmp_path / "mine"), tmp_path / "mine"),
    ]:
        monkeypatch.setenv(ENV, value)
        assert _compilation_cache.directory_from_environment() == expected, value
    # On by default.
    monkeypatch.delenv(ENV)
    assert _compilation_cache.directory_from_environment() == default


def test_enabling_sets_the_variable_for_later_processes(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)  # restored after the test
    root = sknoise.enable_compilation_cache(tmp_path / "cache")
    assert root == (tmp_path / "cache").absolute() and root.is_dir()
    assert os.environ[ENV] == str(root)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv(ENV, str(directory))
    return directory


def test_entries_round_trip_and_are_cleared(cache):
    assert _compilation_cache.load("k") is None
    _compilation_cache.store("k", b"program")
    _compilation_cache.store("j", b"other")
    assert _compilation_cache.load("k") == b"program"
    assert sknoise.clear_compilation_cache() == 2
    assert _compilation_cache.load("k") is None and list(cache.iterdir()) == []


def test_a_damaged_entry_is_a_miss_and_removed(cache):
    _compilation_cache.store("k", b"a compiled program" * 100)
    (entry,) = entries(cache)
    for damaged in (entry.read_bytes()[:-1], b"", b"x" * 5000):
        entry.write_bytes(damaged)
        assert _compilation_cache.load("k") is None
        assert not entry.exists()
        _compilation_cache.store("k", b"a compiled program" * 100)
    assert _compilation_cache.load("k") == b"a compiled program" * 100


def test_concurrent_writers_never_leave_half_an_entry(cache):
    payloads = [bytes([i]) * (50_000 * (i + 1)) for i in range(4)]
    seen, stop = [], threading.Event()

    def write(payload):
        for _ in range(30):
            _compilation_cache.store("k", payload)

    def read():
        while not stop.is_set():
            seen.append(_compilation_cache.load("k"))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    stop.set()
    reader.join(timeout=60)
    assert all(value is None or value in payloads for value in seen)
    assert _compilation_cache.load("k") in payloads
    assert sorted(p.name for p in cache.iterdir()) == ["k.loop"]


@pytest.mark.parametrize("failing", ["mkstemp", "write"])
def test_a_read_only_or_full_directory_costs_nothing(cache, monkeypatch, failing):
    _compilation_cache.store("old", b"kept before")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    module = _compilation_cache.tempfile if failing == "mkstemp" else os
    monkeypatch.setattr(module, failing, fail)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _compilation_cache.store("new", b"never kept")
    assert _compilation_cache.load("new") is None
    assert _compilation_cache.load("old") == b"kept before"
    # Nothing half-written is left behind.
    assert sorted(p.name for p in cache.iterdir()) == ["old.loop"]


def test_the_directory_stays_bounded_least_recently_used_first(cache, monkeypatch):
    monkeypatch.setattr(_compilation_cache, "MAX_BYTES", 3500)
    for i, name in enumerate("abc"):
        _compilation_cache.store(name, bytes(1000))
        os.utime(cache / f"{name}.loop", (1000 + i, 1000 + i))
    assert _compilation_cache.load("a") is not None  # a is used: now the newest
    _compilation_cache.store("d", bytes(1000))
    assert [p.stem for p in entries(cache)] == ["a", "c", "d"]
    total = sum(p.stat().st_size for p in cache.iterdir())
    assert total <= 3500


def test_a_key_changes_with_the_program_and_what_it_depends_on(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)  # other tests may set it
    key = _compilation_cache.entry_key("signature", ("cpu",))
    assert key == _compilation_cache.entry_key("signature", ("cpu",))
    assert key != _compilation_cache.entry_key("other signature", ("cpu",))
    assert key != _compilation_cache.entry_key("signature", ("gpu",))
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    assert key != _compilation_cache.entry_key("signature", ("cpu",))
    monkeypatch.delenv("XLA_FLAGS")
    # sknoise's own code: a development checkout's edit makes new keys.
    monkeypatch.setattr(_compilation_cache, "_code_digest", lambda: "edited")
    assert key != _compilation_cache.entry_key("signature", ("cpu",))
