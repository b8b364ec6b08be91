"""Diagrams of where each noise site acts, for the user guide.

``draw(site)`` draws a one-hidden-layer network and its training step as a
row of boxes and marks, in red, where ``noise_site=site`` perturbs it. The
user guide calls it from ``.. plot::`` directives, so the diagrams are drawn
by matplotlib at build time and need no other tool.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

NOISE = "#c0392b"
PLAIN = "#34495e"

# name -> (x centre, y centre, label)
BOXES = {
    "input": (0.0, 0.0, "input\n$x$"),
    "dense": (2.4, 0.0, "hidden layer\n$Wx + b$"),
    "act": (4.8, 0.0, "activation\nact$(\\cdot)$"),
    "output": (7.2, 0.0, "output layer\n$W'h + b'$"),
    "loss": (9.6, 0.0, "loss"),
    "target": (9.6, 1.5, "target $y$"),
    "optimizer": (4.8, -1.6, "optimizer\n$W, b, W', b'$"),
}
WIDTH, HEIGHT = 1.8, 0.8

# site -> (boxes outlined in red, arrows carrying noise, label, label position)
SITES = {
    "input": ((), (("input", "dense"),), "$x + \\sigma\\varepsilon$", (1.2, 0.5)),
    "hidden": ((), (("dense", "act"),), "$+\\ \\sigma\\varepsilon$", (3.6, 0.5)),
    "activation": ((), (("act", "output"),), "$+\\ \\sigma\\varepsilon$", (6.0, 0.5)),
    "weights": (
        ("dense", "output"),
        (),
        "$W + \\sigma\\varepsilon$,  $b + \\sigma\\varepsilon$ at every step",
        (4.8, 0.55),
    ),
    "gradients": (
        (),
        (("loss", "optimizer"),),
        "$g_t + \\mathcal{N}(0,\\ \\eta\\,/\\,(1 + t)^{0.55})$",
        (9.3, -2.0),
    ),
    "labels": (
        (),
        (("target", "loss"),),
        "$(1 - \\varepsilon)\\,\\mathrm{onehot} + \\varepsilon / K$  or  "
        "$y + \\sigma\\varepsilon$",
        (6.0, 1.35),
    ),
}
FLOW = [
    ("input", "dense"),
    ("dense", "act"),
    ("act", "output"),
    ("output", "loss"),
    ("target", "loss"),
    ("loss", "optimizer"),
]


def _anchor(name, towards):
    """The point on box ``name``'s edge that faces box ``towards``."""
    x, y, _ = BOXES[name]
    tx, ty, _ = BOXES[towards]
    if abs(tx - x) >= abs(ty - y) * 2:
        return (x + WIDTH / 2 * (1 if tx > x else -1), y)
    return (x, y + HEIGHT / 2 * (1 if ty > y else -1))


def draw(site, ax=None):
    """Draw the network and mark where ``site`` adds noise.

    Parameters
    ----------
    site : str
        One of ``sknoise.NOISE_SITES``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.
    """
    noisy_boxes, noisy_arrows, label, (lx, ly) = SITES[site]
    if ax is None:
        _, ax = plt.subplots(figsize=(8.0, 2.9))
    for name, (x, y, text) in BOXES.items():
        colour = NOISE if name in noisy_boxes else PLAIN
        ax.add_patch(
            FancyBboxPatch(
                (x - WIDTH / 2, y - HEIGHT / 2),
                WIDTH,
                HEIGHT,
                boxstyle="round,pad=0.03",
                facecolor="white",
                edgecolor=colour,
                linewidth=2.5 if name in noisy_boxes else 1.2,
            )
        )
        ax.text(x, y, text, ha="center", va="center", fontsize=9, color=colour)
    for start, end in FLOW:
        noisy = (start, end) in noisy_arrows
        connection = "arc3,rad=-0.25" if end == "optimizer" else "arc3"
        ax.add_patch(
            FancyArrowPatch(
                _anchor(start, end),
                _anchor(end, start),
                arrowstyle="-|>",
                mutation_scale=12,
                connectionstyle=connection,
                color=NOISE if noisy else PLAIN,
                linewidth=2.5 if noisy else 1.0,
            )
        )
    ax.annotate(
        "gradients",
        (7.9, -1.45),
        fontsize=8,
        color=NOISE if site == "gradients" else PLAIN,
        ha="center",
    )
    ax.text(lx, ly, label, ha="center", va="bottom", fontsize=10, color=NOISE)
    ax.set_xlim(-1.0, 10.6)
    ax.set_ylim(-2.2, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f'noise_site="{site}"', fontsize=10, family="monospace")
    return ax
