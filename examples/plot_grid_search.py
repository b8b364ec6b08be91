"""
Grid search over nodes and noise_amount
=======================================

A small version of the published grid search:
:class:`~sklearn.model_selection.GridSearchCV` tunes the
width of the hidden layer and the amount of hidden noise by 5-fold
cross-validation on the 30 training points of the circles, and
:func:`sknoise.plotting.plot_grid_heatmap` draws the mean CV accuracy of
every cell.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoise import NoisyMLPClassifier
from sknoise.datasets import load_published_circles
from sknoise.plotting import plot_grid_heatmap

X_train, y_train, X_test, y_test = load_published_circles(split="train_test_split")

# %%
# The estimator is the last step of a pipeline, so its parameters take the
# step's name as a prefix. The compiled training loop is built once per
# network width and reused for every noise amount and fold.
NODES = [50, 300]
NOISE = [0.01, 0.1, 0.7]
model = make_pipeline(
    StandardScaler(),
    NoisyMLPClassifier(noise_site="hidden", epochs=1000, random_state=0),
)
search = GridSearchCV(
    model,
    {
        "noisymlpclassifier__nodes": NODES,
        "noisymlpclassifier__noise_amount": NOISE,
    },
    cv=5,
)
search.fit(X_train, y_train)
print("best:", search.best_params_, f"CV accuracy {search.best_score_:.3f}")
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

# %%
# ``cv_results_`` lists the candidates with the last parameter varying
# fastest, here ``noise_amount``; reshape the scores into the grid.
shape = (len(NODES), len(NOISE))
mean = search.cv_results_["mean_test_score"].reshape(shape)
std = search.cv_results_["std_test_score"].reshape(shape)
plot_grid_heatmap(
    mean,
    std,
    NODES,
    NOISE,
    row_label="nodes",
    column_label="noise_amount",
    title="Mean CV accuracy (std across folds)",
)
plt.show()

# %%
# Each fold scores 6 points, so these cells differ by multiples of 1/6 per
# fold; the spreads are wide and one run of the grid cannot rank most cells.
# The benchmarks' ``--repeats 10`` run repeats the cross-validation to tell
# which differences are real.
