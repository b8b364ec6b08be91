"""
Noise sites compared on the published circles
=============================================

Where should the noise go? This trains the grid article's network (400
hidden units, noise 0.1) with noise at each site of
:data:`sknoise.NOISE_SITES` that acts on the network's values, and with
none, on the article's split of the circles, with a few seeds each. The
noise-sites benchmark (:doc:`benchmarks </benchmarks>`) trains this network
at the same sites except ``weights``, on unscaled inputs, with 20 seeds and
5000 epochs; weight noise is compared there in the regularizers benchmark.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoise import NoisyMLPClassifier
from sknoise.datasets import load_published_circles
from sknoise.plotting import plot_decision_surface

X_train, y_train, X_test, y_test = load_published_circles(split="train_test_split")

SITES = [None, "input", "hidden", "activation", "input+hidden", "weights"]
SEEDS = range(3)
EPOCHS = 1500


def make_model(site, seed):
    """The article's network with noise at ``site``."""
    return make_pipeline(
        StandardScaler(),
        NoisyMLPClassifier(
            nodes=400,
            noise_site=site,
            noise_amount=0.1,
            epochs=EPOCHS,
            random_state=seed,
        ),
    )


# %%
# Train every site with every seed; keep the first seed's model to draw.
scores, first = {}, {}
for site in SITES:
    models = [make_model(site, seed).fit(X_train, y_train) for seed in SEEDS]
    first[site] = models[0]
    scores[site] = [model.score(X_test, y_test) for model in models]
    print(
        f"{site or 'no noise':>13}: test accuracy "
        f"{np.mean(scores[site]):.3f} +- {np.std(scores[site]):.3f}"
    )

# %%
# Mean test accuracy over the seeds, with one standard deviation.
names = [site or "none" for site in SITES]
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.bar(
    names,
    [np.mean(scores[site]) for site in SITES],
    yerr=[np.std(scores[site]) for site in SITES],
    capsize=4,
    color=["grey"] + ["tab:blue"] * (len(SITES) - 1),
)
ax.set_ylim(0.5, 0.8)
ax.set_ylabel("test accuracy")
ax.set_xlabel("noise_site")
plt.show()

# %%
# What each first-seed model predicts over the plane.
fig, axes = plt.subplots(2, 3, figsize=(13, 7), layout="constrained")
for ax, site in zip(axes.ravel(), SITES, strict=True):
    plot_decision_surface(
        first[site],
        X_train,
        y_train,
        X_test,
        y_test,
        ax=ax,
        resolution=80,
        title=f"noise_site={site!r}",
    )
plt.show()
