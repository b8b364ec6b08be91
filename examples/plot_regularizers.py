"""
Noise against the other regularizers
====================================

The classic regularizers are parameters of the same estimator: an L2 penalty
(``alpha``), an L1 penalty (``l1``), ``dropout``, a ``max_norm`` constraint
and ``early_stopping``. Here each of them, and hidden and input noise, is
set to one reasonable strength and trained on a blob inside a ring
(:func:`sknoise.datasets.make_ring`) with few training points, and scored on
many held-out points. The regularizers benchmark tunes each method instead.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoise import NoisyMLPClassifier
from sknoise.datasets import make_ring

X, y = make_ring(400, radius=2.5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=40, stratify=y, random_state=0
)

# %%
# One setting per method; everything else is shared.
METHODS = {
    "none": {},
    "hidden noise": {"noise_site": "hidden", "noise_amount": 0.2},
    "input noise": {"noise_site": "input", "noise_amount": 0.3},
    "L2 (alpha)": {"alpha": 1.0},
    "L1": {"l1": 0.03},
    "dropout": {"dropout": 0.5},
    "max_norm": {"max_norm": 1.0},
    "early stopping": {
        "early_stopping": True,
        "validation_fraction": 0.2,
        "n_iter_no_change": 100,
    },
}
SEEDS = range(2)
results = {}
for name, params in METHODS.items():
    accuracies = []
    for seed in SEEDS:
        settings = {"noise_site": None, "epochs": 1000, **params}
        clf = NoisyMLPClassifier(nodes=(100, 100), random_state=seed, **settings)
        model = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
        accuracies.append((model.score(X_train, y_train), model.score(X_test, y_test)))
    results[name] = np.mean(accuracies, axis=0)
    print(f"{name:>15}: train {results[name][0]:.3f}, test {results[name][1]:.3f}")

# %%
# Training accuracy against test accuracy per method. The unregularised
# network fits its 40 points almost perfectly; every regularizer gives up
# some training accuracy, and whether that buys test accuracy depends on its
# strength. One untuned setting per method, as here, is a demonstration, not
# a ranking: tune each one (:class:`~sklearn.model_selection.GridSearchCV`),
# as the regularizers benchmark does, before comparing them.
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
positions = np.arange(len(results))
train, test = np.array(list(results.values())).T
ax.bar(positions - 0.2, train, width=0.4, label="train", color="lightgrey")
ax.bar(positions + 0.2, test, width=0.4, label="test", color="tab:blue")
ax.set_xticks(positions, list(results), rotation=30, ha="right")
ax.set_ylim(0.5, 1.1)
ax.set_ylabel("accuracy (mean over seeds)")
ax.legend(loc="upper center", ncols=2)
plt.show()
