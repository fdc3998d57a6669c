"""Image grids: rows of images (or heatmaps of rows that are not images) and square grids, drawn as
one tiled picture per axes; and the checks every picture shares (image shape, row count, a model's
abilities).

The helpers here that other picture modules use have public names; only :func:`image_rows`,
:func:`image_grid` and :data:`MAX_IMAGES` are re-exported by :mod:`aekit.plots`.

Example
-------
>>> import numpy as np
>>> fig = image_rows({"noise": np.random.rand(5, 64)}, (1, 8, 8))
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np

# Figures are made directly, not through pyplot: no backend is chosen, no global state is touched
# (a notebook keeps its own backend), and saving renders with Agg.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

CELL = 0.9  # inches per image in a grid: digits stay legible, 10 columns fit a page
# images in one picture at most: more would take gigabytes to draw and show nothing one could see
MAX_IMAGES = 1024


def model_name(estimator: object) -> str:
    """The class name that titles a model's pictures."""
    return type(estimator).__name__


def at_most_max_images(count: int, what: str) -> None:
    """Refuse ``count`` ``what`` (images, rows) over :data:`MAX_IMAGES` in one picture."""
    if count > MAX_IMAGES:
        raise ValueError(f"{count} {what} are too many for one picture: at most {MAX_IMAGES}")


def require_method(est: object, method: str, picture: str, ability: str) -> None:
    """Refuse, in a sentence, a model that lacks the method ``picture`` is drawn with."""
    if not hasattr(est, method):
        raise ValueError(f"{picture} needs a model that {ability}; {model_name(est)} does not")


def checked_image_shape(estimator: object, image_shape: Sequence[int] | None) -> tuple[int, int, int]:
    """(C, H, W) from the argument or the estimator, checked against its number of features."""
    shape = image_shape if image_shape is not None else getattr(estimator, "image_shape_", None)
    if shape is None:
        raise ValueError(f"{model_name(estimator)} was fitted on rows that are not images (if they are, give "
                         "image_shape=(channels, height, width))")
    shape = tuple(int(s) for s in shape)
    shape = (1, *shape) if len(shape) == 2 else shape
    n_features = getattr(estimator, "n_features_in_", math.prod(shape))
    if len(shape) != 3 or math.prod(shape) != n_features:
        raise ValueError(f"image_shape={image_shape!r} does not fit {n_features} features as "
                         "(channels, height, width)")
    return shape


def display_shape(estimator: object, image_shape: Sequence[int] | None) -> tuple[int, int, int] | None:
    """(C, H, W) for a model of images (or the ``image_shape`` given), None for a model of rows of
    other features, whose pictures are heatmaps (see :func:`image_rows`)."""
    if image_shape is None and getattr(estimator, "image_shape_", None) is None:
        return None
    return checked_image_shape(estimator, image_shape)


def display_range(X: ArrayLike, shape: tuple[int, int, int] | None) -> tuple:
    """The values drawn darkest and brightest: one range for images (pixels share a grey scale),
    each feature's own for other rows (their units differ)."""
    return (np.min(X), np.max(X)) if shape is not None else (np.min(X, 0), np.max(X, 0))


def scaled_to_unit(images: np.ndarray, low: ArrayLike, high: ArrayLike) -> np.ndarray:
    """Map [low, high] onto [0, 1] (clipped); a constant image shows as black rather than dividing by 0."""
    span = np.asarray(high, dtype=np.float64) - low
    return np.clip((images - low) / np.where(span > 0, span, 1.0), 0.0, 1.0)


def first_rows(X: ArrayLike, n: int) -> np.ndarray:
    """The first ``n`` rows of ``X`` as float32, refusing an empty picture."""
    if n < 1 or len(X) == 0:
        raise ValueError(f"nothing to show: n={n} and {len(X)} rows of data")
    return np.asarray(X[:n], dtype=np.float32)


def _mosaic(images, n_cols, gap):
    """Images (N, C, H, W) with values in [0, 1] tiled in rows of ``n_cols`` into one RGB picture,
    white between tiles and in empty cells; also each tile's box (top, left, height, width).

    Three channels are colour; any other number is shown as their mean in grey.
    """
    n, channels, h, w = images.shape
    n_rows = math.ceil(n / n_cols)
    rgb = images.transpose(0, 2, 3, 1) if channels == 3 else np.repeat(images.mean(1)[..., None], 3, -1)
    picture = np.ones((n_rows * (h + gap) - gap, n_cols * (w + gap) - gap, 3))
    boxes = []
    for i, tile in enumerate(rgb):
        top, left = (i // n_cols) * (h + gap), (i % n_cols) * (w + gap)
        picture[top:top + h, left:left + w] = tile
        boxes.append((top, left, h, w))
    return picture, boxes


def _show_tiled(ax, images, n_cols, gap=True):
    """Draw images (N, C, H, W) in [0, 1] as one picture, without ticks or frame.

    One picture instead of an axes per image: matplotlib lays out and draws a hundred axes in
    seconds, one image in milliseconds. The tiles' boxes are kept on the image artist (``tiles``)
    for whoever needs the single images back.
    """
    at_most_max_images(len(images), "images")
    picture, boxes = _mosaic(images, n_cols, max(1, images.shape[2] // 8) if gap else 0)
    # nearest: small images (8x8 digits, 3x3 kernels) stay crisp pixels instead of blurs
    artist = ax.imshow(picture, vmin=0, vmax=1, interpolation="nearest")
    artist.tiles = boxes
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(False)


def image_rows(rows_by_label: Mapping[str, ArrayLike], image_shape: Sequence[int] | None, title: str | None = None,
               value_range: tuple | None = None) -> Figure:
    """A grid with one labelled row of images per entry of ``rows_by_label``; for rows that are not
    images (``image_shape=None``), one labelled heatmap per entry instead, a line per row and a
    column per feature.

    Parameters
    ----------
    rows_by_label : dict
        Row label -> (N, C*H*W) array of flat images (or (N, n_features) rows).
    image_shape : tuple or None
        (C, H, W) of each image; None for rows of features that are not pixels.
    title : str, optional
    value_range : (low, high), optional
        Values shown as black and white in every row; by default the range of all rows together, so
        that rows compare. For heatmaps, ``low`` and ``high`` may be one value per feature, and by
        default each feature spans its own range over all rows (features have different units).

    Example
    -------
    >>> import numpy as np
    >>> fig = image_rows({"noise": np.random.rand(5, 64)}, (1, 8, 8))
    >>> fig = image_rows({"input": np.random.rand(5, 12), "output": np.random.rand(5, 12)}, None)
    """
    if image_shape is None:
        return _feature_rows(rows_by_label, title, value_range)
    rows = {label: np.asarray(v, dtype=np.float64).reshape(len(v), *image_shape)
            for label, v in rows_by_label.items()}
    if value_range is None:
        value_range = (min(v.min() for v in rows.values()), max(v.max() for v in rows.values()))
    n_cols = max(len(v) for v in rows.values())
    fig = Figure(figsize=(n_cols * CELL + 1.3, len(rows) * CELL + (0.5 if title else 0.1)), layout="constrained")
    for ax, (label, images) in zip(fig.subplots(len(rows), 1, squeeze=False)[:, 0], rows.items()):
        _show_tiled(ax, scaled_to_unit(images, *value_range), n_cols)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def _feature_rows(rows_by_label, title, value_range):
    rows = {label: np.asarray(v, dtype=np.float64).reshape(len(v), -1) for label, v in rows_by_label.items()}
    heights = [len(v) for v in rows.values()]
    at_most_max_images(sum(heights), "rows")
    everything = np.concatenate(list(rows.values()))
    low, high = value_range if value_range is not None else (everything.min(0), everything.max(0))
    n_features = everything.shape[1]
    fig = Figure(figsize=(min(12.0, 3.5 + 0.3 * n_features), min(12.0, 1.2 + 0.15 * sum(heights) + 0.3 * len(rows))),
                 layout="constrained")
    axes = fig.subplots(len(rows), 1, squeeze=False, sharex=True, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (label, values) in zip(axes, rows.items()):
        image = ax.imshow(scaled_to_unit(values, low, high), vmin=0, vmax=1, cmap="viridis", aspect="auto",
                          interpolation="nearest")
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_yticks([])
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("feature")
    fig.colorbar(image, ax=list(axes), label="each feature scaled: its lowest value 0, highest 1")
    if title:
        fig.suptitle(title)
    return fig


def image_grid(images: np.ndarray, title: str, n_cols: int, cell: float = CELL, gap: bool = True) -> Figure:
    """Images (N, C, H, W) with values in [0, 1] in rows of ``n_cols``; ``gap=False`` tiles them edge
    to edge (a decoded manifold reads as one picture).

    Example
    -------
    >>> import numpy as np
    >>> fig = image_grid(np.random.rand(9, 1, 8, 8), "nine", n_cols=3)
    """
    n_rows = math.ceil(len(images) / n_cols)
    fig = Figure(figsize=(n_cols * cell, n_rows * cell + 0.7), layout="constrained")
    _show_tiled(fig.subplots(), images, n_cols, gap)
    fig.suptitle(title)
    return fig
