"""TensorFlow's start-up chatter is filtered; real messages still get through."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from sknoise._backend import filter_tensorflow_noise
from tests._backends import each_backend

TENSORFLOW_STARTUP = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1795344925.316672    1994 port.cc:153] oneDNN custom operations are on.
I0000 00:00:1795344925.317532    1994 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1795344925.692763    1994 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 AVX512F AVX512_VNNI FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1795344946.659735    2042 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error
I0000 00:00:1795356019.580235    9083 service.cc:153] XLA service 0x55786ee4bfa0 initialized for platform Host (this does not guarantee that XLA will be used). Devices:
I0000 00:00:1795356019.580300    9083 service.cc:161]   StreamExecutor [0]: Host, Default Version (Driver: 0.0.0; Runtime: 0.0.0; Toolkit: 0.0.0; DNN: 0.0.0)
I0000 00:00:1795356019.693176    9083 dump_mlir_util.cc:269] disabling MLIR crash reproducer, set env var `MLIR_CRASH_REPRODUCER_DIRECTORY` to enable.
I0000 00:00:1795356021.271966    9083 device_compiler.h:208] Compiled cluster using XLA!  This line is logged at most once for the lifetime of the process.
"""  # noqa: E501


def test_filter_drops_known_startup_lines_only():
    real = "UserWarning: something the user must see\n"
    assert filter_tensorflow_noise(TENSORFLOW_STARTUP + real) == real


def test_cuinit_failure_is_kept_when_a_driver_exists():
    line = "E0000 00:00:1.0    2042 cuda_platform.cc:52] failed call to cuInit: X\n"
    assert filter_tensorflow_noise(line) == line


FIT = """
import numpy as np
import sknoise
X = np.random.default_rng(0).normal(size=(20, 2))
sknoise.NoisyMLPClassifier(nodes=4, epochs=2).fit(X, [0, 1] * 10)
"""

# sys.stderr replaced by an object without a file descriptor, as a script's
# contextlib.redirect_stderr does: TensorFlow's C++ logging still writes to
# the process's descriptor 2.
REDIRECTED_FIT = """
import contextlib, io
with contextlib.redirect_stderr(io.StringIO()):
""" + textwrap.indent(FIT, "    ")


@pytest.mark.parametrize("script", [FIT, REDIRECTED_FIT], ids=["plain", "redirected"])
def test_import_and_default_fit_print_no_tensorflow_log_lines(script):
    script += "print('done')\n"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert result.stdout.strip() == "done"
    assert result.stderr == "", result.stderr


def test_retracing_warning_is_dropped_inside_the_guard_only(caplog):
    import logging

    from sknoise._backend import quiet_tensorflow

    logger = logging.getLogger("tensorflow")
    message = "5 out of the last 13 calls to <f> triggered tf.function retracing."
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with quiet_tensorflow():
            logger.warning(message)
            logger.warning("a real TensorFlow warning")
        logger.warning(message)
    assert [r.getMessage() for r in caplog.records] == [
        "a real TensorFlow warning",
        message,
    ]


def test_retracing_warning_of_other_threads_is_kept(caplog):
    import logging
    import threading

    from sknoise._backend import quiet_tensorflow

    logger = logging.getLogger("tensorflow")
    message = "5 out of the last 13 calls to <f> triggered tf.function retracing."
    other = threading.Thread(target=logger.warning, args=(message,))
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with quiet_tensorflow():
            other.start()
            other.join()
    assert [r.getMessage() for r in caplog.records] == [message]


def test_a_quiet_block_leaves_the_stderr_descriptor_alone(monkeypatch, tmp_path):
    from sknoise._backend import quiet_tensorflow

    # A stream with a real descriptor, as a terminal's stderr has (pytest's
    # capture has none).
    with open(tmp_path / "stderr", "w") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        before = os.fstat(stream.fileno())
        with quiet_tensorflow():
            inside = os.fstat(stream.fileno())
    assert (inside.st_dev, inside.st_ino) == (before.st_dev, before.st_ino)


def test_on_jax_import_leaves_tensorflow_out_and_fits_keep_it_quiet():
    pytest.importorskip("jax")
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        import sknoise
        print("after import:", "tensorflow" in sys.modules)
        X = np.random.default_rng(0).normal(size=(20, 2))
        clf = sknoise.NoisyMLPClassifier(nodes=4, epochs=2, random_state=0)
        clf.fit(X, [0, 1] * 10)
        print("after a compiled fit:", "tensorflow" in sys.modules)
        import keras
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
        clf.set_params(optimizer=keras.optimizers.Adam(schedule)).fit(X, [0, 1] * 10)
        print("after a fit with a schedule:", "tensorflow" in sys.modules)
        clf.set_params(training_loop="keras").fit(X, [0, 1] * 10)
        print("after a Keras fit:", "tensorflow" in sys.modules)
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env,
        timeout=600, check=True,
    )  # fmt: skip
    # A compiled fit never needs TensorFlow. Keras imports it, when
    # installed, the first time it serialises an object (a learning-rate
    # schedule, a layer to save) and scikeras imports it: quietly, then.
    assert run.stdout.split("\n")[:4] == [
        "after import: False",
        "after a compiled fit: False",
        "after a fit with a schedule: True",
        "after a Keras fit: True",
    ]
    assert "cuda" not in run.stderr.lower() and "I0000" not in run.stderr, run.stderr


# Streams a process may have instead of a terminal: sys.stderr None (pythonw,
# ``2>&-``, some services), a closed descriptor 2, a stream without a
# descriptor, one that fails. The first fit starts Keras under
# a capture of descriptor 2 and replays what it does not filter: a line
# written there while Keras is imported (by a hook of the user's) is real
# output, kept where it can go.
ODD_STREAMS = """
import errno, io, json, os, sys, traceback
import numpy as np
import wrapt

kind = sys.argv[1]


class NoDescriptor:
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass


class Failing(io.TextIOBase):
    def write(self, text):
        raise OSError(errno.EPIPE, "Broken pipe")


if kind == "None":
    sys.stderr = None
elif kind == "no descriptor":
    sys.stderr = NoDescriptor()
elif kind == "failing":
    sys.stderr = Failing()
elif kind == "closed descriptor":
    os.close(2)
# "started without descriptor 2": Python has set sys.stderr to None.


def user_line(module):
    try:
        os.write(2, b"a line written while Keras is imported\\n")
    except OSError:
        pass


import sknoise

wrapt.register_post_import_hook(user_line, "keras")
X = np.random.default_rng(0).normal(size=(20, 2))
outcomes = {}
for loop in ("compiled", "keras"):
    for verbose in (0, 1, 2):
        try:
            sknoise.NoisyMLPClassifier(
                nodes=2, epochs=2, verbose=verbose, training_loop=loop
            ).fit(X, [0, 1] * 10)
            outcomes[f"{loop}, verbose={verbose}"] = "fitted"
        except Exception:
            outcomes[f"{loop}, verbose={verbose}"] = traceback.format_exc()
text = "".join(sys.stderr.parts) if kind == "no descriptor" else None
print(json.dumps({"outcomes": outcomes, "stream": text}))
"""


@pytest.mark.parametrize("backend", each_backend())
@pytest.mark.parametrize(
    "kind",
    [
        # pythonw, services and 2>&- (the test command runs these two; CI,
        # with --slow, the rarer kinds too).
        "None",
        "closed descriptor",
        *(
            pytest.param(kind, marks=pytest.mark.slow)
            for kind in ("started without descriptor 2", "no descriptor", "failing")
        ),
    ],
)
def test_fits_work_whatever_stderr_is_and_keep_real_output(kind, backend):
    command = [sys.executable, "-c", ODD_STREAMS, kind]
    if kind == "started without descriptor 2":
        command = ["sh", "-c", 'exec "$0" "$@" 2>&-', *command]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": backend},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    fits = [f"{loop}, verbose={v}" for loop in ("compiled", "keras") for v in range(3)]
    assert report["outcomes"] == dict.fromkeys(fits, "fitted")
    line = "a line written while Keras is imported\n"
    if kind == "no descriptor":
        # Replayed through the user's stream, which keeps it.
        assert line in report["stream"]
    elif kind in ("None", "failing"):
        # No stream to take it: to descriptor 2, where it was written.
        assert line in result.stderr
