"""
A first fit: what noise does to a decision surface
==================================================

The published circles problem has 30 training points, few enough that a
network of 400 hidden units learns them by heart. We train the grid
article's network twice, without noise and with Gaussian noise on its hidden
pre-activations, and draw the predicted probability of class 1 over the
input plane.
"""

# %%
# The data: 30 training points and 70 test points of two noisy circles.
import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoise import NoisyMLPClassifier
from sknoise.datasets import load_published_circles
from sknoise.plotting import plot_decision_surface, plot_learning_curves

X_train, y_train, X_test, y_test = load_published_circles(split="train_test_split")
print(X_train.shape, X_test.shape)

# %%
# Two models that differ only in ``noise_amount``. The inputs are
# standardised first, because noise has a fixed scale. Each fit records the
# test set's loss and accuracy per epoch (``validation_data`` is only
# scored, it does not influence training).
EPOCHS = 1500
models = {}
for noise_amount in (0.0, 0.1):
    scaler = StandardScaler().fit(X_train)
    clf = NoisyMLPClassifier(
        nodes=400,
        noise_site="hidden",
        noise_amount=noise_amount,
        epochs=EPOCHS,
        random_state=0,
    )
    clf.fit(
        scaler.transform(X_train),
        y_train,
        validation_data=(scaler.transform(X_test), y_test),
    )
    models[noise_amount] = make_pipeline(scaler, clf)
    print(
        f"noise_amount={noise_amount}: "
        f"train accuracy {models[noise_amount].score(X_train, y_train):.3f}, "
        f"test accuracy {models[noise_amount].score(X_test, y_test):.3f}"
    )

# %%
# Without noise the surface bends around single training points (circles);
# with noise it is smoother. Test points are crosses.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for ax, (noise_amount, model) in zip(axes, models.items(), strict=True):
    plot_decision_surface(
        model,
        X_train,
        y_train,
        X_test,
        y_test,
        ax=ax,
        resolution=100,
        title=f"hidden noise {noise_amount}",
    )

# %%
# The learning curves: the noise-free network drives its training loss to
# zero while its test loss rises; noise keeps the two closer.
for noise_amount, model in models.items():
    plot_learning_curves(model[-1].history_, title=f"hidden noise {noise_amount}")
plt.show()
