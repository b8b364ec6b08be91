"""Scripts that reproduce and extend the published noise experiments.

Run each as ``python -m benchmarks.NAME --help`` from the repository root.
"""
