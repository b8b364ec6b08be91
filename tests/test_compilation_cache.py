"""The opt-in persistent compilation cache: a later process compiles nothing.

The cache is process-wide backend state, so the processes that use it are
started here; what they compiled is read from JAX's own monitoring events
(cache hits and misses), not from timings.
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import keras
import pytest

from sknoise import _compilation_cache, enable_compilation_cache

ENV = _compilation_cache.ENVIRONMENT_VARIABLE

# Run in a fresh process: count JAX's cache events, fit a small network,
# report as JSON. The parent turns the cache on by the public call, checks
# that importing sknoise configured nothing before, and starts the child,
# which gets the cache only through the environment it inherits.
SCRIPT = textwrap.dedent(
    """
    import collections, json, os, subprocess, sys

    import jax

    events = collections.Counter()
    jax.monitoring.register_event_listener(
        lambda event, **kwargs: events.update([event.rsplit("/", 1)[-1]])
    )
    import numpy as np
    import sknoise

    role, directory = sys.argv[1], sys.argv[2]
    record = {"role": role}
    if role == "parent":
        record["configured at import"] = jax.config.jax_compilation_cache_dir
        sknoise.enable_compilation_cache(directory)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    clf = sknoise.NoisyMLPClassifier(nodes=4, epochs=2, random_state=0).fit(X, y)
    record["proba"] = clf.predict_proba(X).tolist()
    record["events"] = dict(events)
    record["files"] = sorted(os.listdir(os.path.join(directory, "jax")))
    record["environment"] = os.environ.get("SKNOISE_COMPILATION_CACHE")
    print(json.dumps(record), flush=True)
    if role == "parent":
        subprocess.run(
            [sys.executable, "-c", sys.argv[3], "child", directory], check=True
        )
    """
)


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="JAX is not installed"
)
def test_a_later_process_loads_every_program_and_compiles_none(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop(ENV, None)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    directory = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, "parent", str(directory), SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    parent, child = (json.loads(line) for line in result.stdout.splitlines())
    # Nothing happens without the opt-in...
    assert parent["configured at import"] is None
    # ...then the first process compiles and stores every program,
    misses = parent["events"].get("cache_misses", 0)
    assert misses >= 1 and parent["events"].get("cache_hits", 0) == 0
    assert len(parent["files"]) == misses
    # and the next one, told by the environment the call set, loads them all.
    assert child["environment"] == parent["environment"] == str(directory)
    assert child["events"].get("cache_misses", 0) == 0
    assert child["events"]["cache_hits"] == misses
    assert child["files"] == parent["files"]
    assert child["proba"] == parent["proba"]


def test_the_environment_variable_names_a_directory_or_the_default(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    default = tmp_path / "sknoise" / "xla"
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
    monkeypatch.delenv(ENV)
    assert _compilation_cache.directory_from_environment() is None


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the TensorFlow backend's answer"
)
def test_tensorflow_keeps_nothing_on_disk_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)  # restored after the test
    with pytest.warns(UserWarning, match="only on JAX"):
        root = enable_compilation_cache(tmp_path / "cache")
    assert root == (tmp_path / "cache").absolute()
    assert os.environ[ENV] == str(root)
    assert list(root.iterdir()) == []


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="JAX is not installed"
)
def test_a_directory_already_given_to_jax_wins_over_the_variable(tmp_path):
    import jax

    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    saved = {name: getattr(jax.config, name) for name in names}
    try:  # nothing compiles meanwhile, so JAX never opens either directory
        jax.config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))
        used = _compilation_cache._use_jax_cache(tmp_path / "other", replace=False)
        assert used == tmp_path / "mine"
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "mine")
        assert getattr(jax.config, names[1]) == saved[names[1]]
        assert not (tmp_path / "other").exists()
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)
