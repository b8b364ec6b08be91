import os

# Tests own their process: keep TensorFlow's C++ logging to warnings and up.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
