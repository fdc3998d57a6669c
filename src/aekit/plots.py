"""Pure plotting functions: each takes fitted estimators or data and returns a matplotlib Figure.

The caller decides where figures go; nothing here writes files or shows windows.
"""

import matplotlib

matplotlib.use("Agg")  # no screen is assumed; figures are saved, not shown

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def loss_curve(history, title="training"):
    """Every loss term per epoch, training solid and validation dashed, on a log scale if positive."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    epochs = [r["epoch"] for r in history]
    terms = [k for k in history[0] if k not in ("epoch", "time", "loss") and not k.startswith("val_")] if history else []
    # With a single term the total is that term: one curve says it.
    names = ["loss", *terms] if len(terms) > 1 else ["loss"] if history else []
    for i, name in enumerate(names):
        color = f"C{i}"
        ax.plot(epochs, [r[name] for r in history], color=color, label=name)
        if f"val_{name}" in history[0]:
            ax.plot(epochs, [r[f"val_{name}"] for r in history], color=color, linestyle="--",
                    label=f"val_{name}")
    values = [r[k] for r in history for k in r if k not in ("epoch", "time")]
    if values and min(values) > 0:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per example")
    ax.set_title(title)
    if names:
        ax.legend(fontsize="small")
    return fig


def _as_images(rows, image_shape):
    """(N, C*H*W) -> (N, H, W) or (N, H, W, C) for imshow, clipped to [0, 1]."""
    images = np.clip(rows.reshape(len(rows), *image_shape), 0, 1)
    return images[:, 0] if image_shape[0] == 1 else images.transpose(0, 2, 3, 1)


def image_rows(rows_by_label, image_shape, title=None):
    """A grid with one labelled row of images per entry of ``rows_by_label`` (label -> (N, D) array)."""
    n_rows = len(rows_by_label)
    n_cols = max(len(v) for v in rows_by_label.values())
    fig = Figure(figsize=(n_cols * 0.9 + 1.2, n_rows * 0.9 + 0.4), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, (label, rows) in enumerate(rows_by_label.items()):
        images = _as_images(np.asarray(rows), image_shape)
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(False)
            if c < len(images):
                ax.imshow(images[c], cmap="gray" if images.ndim == 3 else None, vmin=0, vmax=1)
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def reconstruction_grid(estimator, X, image_shape, n=10):
    """First ``n`` rows of ``X`` above their reconstructions (data expected in [0, 1])."""
    X = np.asarray(X[:n], dtype=np.float32)
    return image_rows({"input": X, "reconstruction": estimator.reconstruct(X)}, image_shape,
                      title=f"{type(estimator).__name__} reconstructions")
