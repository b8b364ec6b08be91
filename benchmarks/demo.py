"""Fit, cross-validate and compare noisy and noise-free networks.

A short tour of sknoise on the published circles problem: 100 points of
``make_circles(noise=0.1, random_state=1)``, the first 30 for training and
the other 70 for testing. Each model is scored by 5-fold stratified CV on the
training points and, once refitted on all of them, on the 70 held-out points.

    python -m benchmarks.demo [--epochs N] [--nodes N] [--seed N]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import numpy as np
    from sklearn.datasets import make_circles
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    import sknoise

    X, y = make_circles(n_samples=100, noise=0.1, random_state=1)
    X_train, y_train, X_test, y_test = X[:30], y[:30], X[30:], y[30:]
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=args.seed)
    variants = {
        "no noise": {"noise_amount": 0.0},
        "input noise 0.01": {"noise_site": "input", "noise_amount": 0.01},
        "hidden noise 0.1": {"noise_site": "hidden", "noise_amount": 0.1},
    }
    import keras

    print(
        f"sknoise {sknoise.__version__}, Keras {keras.__version__} "
        f"({keras.backend.backend()} backend); nodes={args.nodes}, "
        f"epochs={args.epochs}, seed={args.seed}"
    )
    print(f"{'model':<18} {'5-fold CV accuracy':>20} {'test accuracy':>14} {'time':>7}")
    for name, params in variants.items():
        start = time.perf_counter()
        model = sknoise.NoisyMLPClassifier(
            nodes=args.nodes, epochs=args.epochs, random_state=args.seed, **params
        )
        scores = cross_val_score(model, X_train, y_train, cv=cv)
        test_accuracy = model.fit(X_train, y_train).score(X_test, y_test)
        elapsed = time.perf_counter() - start
        print(
            f"{name:<18} {np.mean(scores):>12.3f} ({np.std(scores):.3f})"
            f" {test_accuracy:>14.3f} {elapsed:>6.0f}s"
        )


if __name__ == "__main__":
    main()
