"""Pure plotting functions: each takes a fitted estimator (and data) and returns a matplotlib Figure.

The caller decides where figures go; nothing here writes files or shows windows. :func:`pictures`
says which of them suit a given model and data set (``aekit train`` writes those).

Example
-------
>>> from aekit import Autoencoder
>>> from aekit.datasets import load
>>> digits = load("digits")
>>> ae = Autoencoder(hidden=(16,), latent=2, image_shape=(1, 8, 8), epochs=1).fit(digits.data)
>>> fig = latent_scatter(ae, digits.data, digits.target)
>>> sorted(pictures(ae, digits.data, digits.target))
['filters', 'latent-scatter', 'loss-curves', 'reconstructions']
"""

import math

import matplotlib
import numpy as np
# Figures are made directly, not through pyplot: no backend is chosen, no global state is touched
# (a notebook keeps its own backend), and saving renders with Agg.
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator
from torch import nn

from .noise import corrupt

_CELL = 0.9  # inches per image in a grid: digits stay legible, 10 columns fit a page
# images in one picture at most: more would take gigabytes to draw and show nothing one could see
MAX_IMAGES = 1024
_NOT_TERMS = ("epoch", "time", "phase")
# Monitors logged beside the losses (the GAN's discriminator accuracies and class fractions).
_MONITOR_PREFIXES = ("d_acc", "class_")
# Up to this many distinct labels get a colour each and a legend; more are drawn on a colour scale.
_MAX_LEGEND_CLASSES = 20


def _name(estimator):
    return type(estimator).__name__


def _at_most_max_images(count, what):
    if count > MAX_IMAGES:
        raise ValueError(f"{count} {what} are too many for one picture: at most {MAX_IMAGES}")


def _require(est, method, picture, ability):
    """Refuse, in a sentence, a model that lacks the method ``picture`` is drawn with."""
    if not hasattr(est, method):
        raise ValueError(f"{picture} needs a model that {ability}; {_name(est)} does not")


# ---- images ---------------------------------------------------------------------------------------
def _image_shape(estimator, image_shape):
    """(C, H, W) from the argument or the estimator, checked against its number of features."""
    shape = image_shape if image_shape is not None else getattr(estimator, "image_shape_", None)
    if shape is None:
        raise ValueError(f"{_name(estimator)} was fitted on rows that are not images (if they are, give "
                         "image_shape=(channels, height, width))")
    shape = tuple(int(s) for s in shape)
    shape = (1, *shape) if len(shape) == 2 else shape
    n_features = getattr(estimator, "n_features_in_", math.prod(shape))
    if len(shape) != 3 or math.prod(shape) != n_features:
        raise ValueError(f"image_shape={image_shape!r} does not fit {n_features} features as "
                         "(channels, height, width)")
    return shape


def _display_shape(estimator, image_shape):
    """(C, H, W) for a model of images (or the ``image_shape`` given), None for a model of rows of
    other features, whose pictures are heatmaps (see :func:`image_rows`)."""
    if image_shape is None and getattr(estimator, "image_shape_", None) is None:
        return None
    return _image_shape(estimator, image_shape)


def _display_range(X, shape):
    """The values drawn darkest and brightest: one range for images (pixels share a grey scale),
    each feature's own for other rows (their units differ)."""
    return (np.min(X), np.max(X)) if shape is not None else (np.min(X, 0), np.max(X, 0))


def _scaled_to_unit(images, low, high):
    """Map [low, high] onto [0, 1] (clipped); a constant image shows as black rather than dividing by 0."""
    span = np.asarray(high, dtype=np.float64) - low
    return np.clip((images - low) / np.where(span > 0, span, 1.0), 0.0, 1.0)


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
    _at_most_max_images(len(images), "images")
    picture, boxes = _mosaic(images, n_cols, max(1, images.shape[2] // 8) if gap else 0)
    # nearest: small images (8x8 digits, 3x3 kernels) stay crisp pixels instead of blurs
    artist = ax.imshow(picture, vmin=0, vmax=1, interpolation="nearest")
    artist.tiles = boxes
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(False)


def image_rows(rows_by_label, image_shape, title=None, value_range=None):
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
    fig = Figure(figsize=(n_cols * _CELL + 1.3, len(rows) * _CELL + (0.5 if title else 0.1)), layout="constrained")
    for ax, (label, images) in zip(fig.subplots(len(rows), 1, squeeze=False)[:, 0], rows.items()):
        _show_tiled(ax, _scaled_to_unit(images, *value_range), n_cols)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def _feature_rows(rows_by_label, title, value_range):
    rows = {label: np.asarray(v, dtype=np.float64).reshape(len(v), -1) for label, v in rows_by_label.items()}
    heights = [len(v) for v in rows.values()]
    _at_most_max_images(sum(heights), "rows")
    everything = np.concatenate(list(rows.values()))
    low, high = value_range if value_range is not None else (everything.min(0), everything.max(0))
    n_features = everything.shape[1]
    fig = Figure(figsize=(min(12.0, 3.5 + 0.3 * n_features), min(12.0, 1.2 + 0.15 * sum(heights) + 0.3 * len(rows))),
                 layout="constrained")
    axes = fig.subplots(len(rows), 1, squeeze=False, sharex=True, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (label, values) in zip(axes, rows.items()):
        image = ax.imshow(_scaled_to_unit(values, low, high), vmin=0, vmax=1, cmap="viridis", aspect="auto",
                          interpolation="nearest")
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_yticks([])
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("feature")
    fig.colorbar(image, ax=list(axes), label="each feature scaled: its lowest value 0, highest 1")
    if title:
        fig.suptitle(title)
    return fig


def _first(X, n):
    """The first ``n`` rows of ``X`` as float32, refusing an empty picture."""
    if n < 1 or len(X) == 0:
        raise ValueError(f"nothing to show: n={n} and {len(X)} rows of data")
    return np.asarray(X[:n], dtype=np.float32)


def reconstructions(est, X, n=10, image_shape=None):
    """The first ``n`` rows of ``X`` above their reconstructions.

    Both rows share one grey scale, the range of ``X``, so that a faint reconstruction looks faint.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
        Data in the original units.
    n : int
    image_shape : (C, H, W), optional
        Default: ``est.image_shape_``; one of the two is needed.

    Example
    -------
    >>> fig = reconstructions(ae, digits.data, n=8)  # doctest: +SKIP
    """
    _require(est, "reconstruct", "reconstructions", "reconstructs rows")
    shape = _display_shape(est, image_shape)
    first = _first(X, n)
    return image_rows({"input": first, "reconstruction": est.reconstruct(first)}, shape,
                      title=f"{_name(est)}: reconstructions", value_range=_display_range(X, shape))


def denoising(est, X, kind=None, level=None, n=10, random_state=0, image_shape=None):
    """Rows of clean inputs, corrupted copies, and the model's reconstructions of the corrupted copies.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
        Clean data in the original units; its per-feature range bounds the noise (as in training).
    kind : {"gaussian", "masking", "salt_and_pepper"}, optional
        Default: the noise the model was trained with.
    level : float, optional
        Default: the model's ``noise_level``.
    n : int
        Number of columns (the first ``n`` rows of ``X``).
    random_state : int or None
        Seed of the corruption.
    image_shape : (C, H, W), optional
        Default: ``est.image_shape_``.

    Example
    -------
    >>> fig = denoising(dae, digits.data, "masking", 0.5)  # doctest: +SKIP
    """
    _require(est, "reconstruct", "denoising", "reconstructs rows")
    shape = _display_shape(est, image_shape)
    kind = kind if kind is not None else getattr(est, "noise", None)
    level = level if level is not None else getattr(est, "noise_level", None)
    if kind is None or level is None:
        raise ValueError(f"{_name(est)} was trained without noise: give the kind and level of noise to apply")
    first = _first(X, n)
    noisy = corrupt(first, kind, level, random_state=random_state, low=np.min(X, 0), high=np.max(X, 0))
    return image_rows({"clean": first, "corrupted": noisy, "denoised": est.reconstruct(noisy)}, shape,
                      title=f"{_name(est)}: {kind.replace('_', '-')} noise, level {level:g}",
                      value_range=_display_range(X, shape))


def _first_weight_layer(est):
    _require(est, "transform", "filters", "encodes rows")
    for module in est.model_.encoder.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            return module
    raise ValueError(f"{_name(est)}: the encoder has no linear or convolutional layer")


def filters(est, n=64, image_shape=None):
    """The first encoder layer's weights for ``n`` hidden units, each shown as an image.

    For a dense first layer the weights of a unit form an image of the input's shape: the pattern
    that excites the unit most. For a convolutional one they are its kernels. Each image is scaled to
    its own range (black lowest, white highest), since only the pattern matters.

    Parameters
    ----------
    est : fitted autoencoder
    n : int
        Units to show (the first ``n``; fewer if the layer has fewer).
    image_shape : (C, H, W), optional
        Dense first layers only; default ``est.image_shape_``.

    Example
    -------
    >>> fig = filters(ae, n=16)  # doctest: +SKIP
    """
    layer = _first_weight_layer(est)
    weights = layer.weight.detach().cpu().double().numpy()
    if isinstance(layer, nn.Conv2d):
        images, what = weights, (f"{weights.shape[2]}x{weights.shape[3]} kernels", "channels")
    else:
        images, what = weights.reshape(len(weights), *_image_shape(est, image_shape)), ("weights", "units")
    total = len(images)
    images = _first(images, n)
    flat = images.reshape(len(images), -1)
    images = _scaled_to_unit(images, flat.min(1)[:, None, None, None], flat.max(1)[:, None, None, None])
    shown = f"{len(images)} of {total}" if len(images) < total else f"all {total}"
    n_cols = math.ceil(math.sqrt(len(images)))
    # cells grow in a small grid, so that the figure is wide enough for its title
    return _image_grid(images, f"{_name(est)}\nfirst-layer {what[0]} of {shown} {what[1]}",
                       n_cols, cell=max(0.8 * _CELL, 4.0 / n_cols))


def _image_grid(images, title, n_cols, cell=_CELL, gap=True):
    """Images (N, C, H, W) with values in [0, 1] in rows of ``n_cols``; ``gap=False`` tiles them edge
    to edge (a decoded manifold reads as one picture)."""
    n_rows = math.ceil(len(images) / n_cols)
    fig = Figure(figsize=(n_cols * cell, n_rows * cell + 0.7), layout="constrained")
    _show_tiled(fig.subplots(), images, n_cols, gap)
    fig.suptitle(title)
    return fig


# ---- generative models ----------------------------------------------------------------------------
def _as_images(est, flat):
    """Decoded rows as (N, C, H, W) in [0, 1]; rows already in [0, 1] keep their grey values (a faint
    sample stays faint), others are stretched over their range."""
    shape = _image_shape(est, None)
    inside = flat.min() >= 0 and flat.max() <= 1
    low, high = (0.0, 1.0) if inside else (flat.min(), flat.max())
    return _scaled_to_unit(flat.reshape(len(flat), *shape), low, high)


def samples(est, n=64, random_state=0):
    """``n`` new instances drawn from a generative model (VAE or GAN) in a near-square grid.

    Example
    -------
    >>> fig = samples(vae, n=36)  # doctest: +SKIP
    """
    if not hasattr(est, "sample"):
        raise ValueError(f"{_name(est)} does not generate: samples need a VariationalAutoencoder or a GAN")
    if n < 1:
        raise ValueError(f"nothing to show: n={n}")
    drawn, title = est.sample(n, random_state=random_state), f"{_name(est)}: {n} samples"
    if _display_shape(est, None) is None:
        return image_rows({"samples": drawn}, None, title=title)
    return _image_grid(_as_images(est, drawn), title, math.ceil(math.sqrt(n)))


def interpolation(est, a, b, steps=10):
    """Decoded points on the straight line between the codes of images ``a`` and ``b``.

    Example
    -------
    >>> fig = interpolation(vae, X[0], X[1])  # doctest: +SKIP
    """
    _require(est, "interpolate", "interpolation", "encodes and decodes rows")
    ends = np.stack([np.ravel(a), np.ravel(b)]).astype(np.float32)
    return image_rows({"inputs": ends, "interpolation": est.interpolate(a, b, steps)}, _display_shape(est, None),
                      title=f"{_name(est)}: from one code to another in {steps} steps")


def traversal(est, x, dims=None, values=None):
    """One row per latent dimension in ``dims``: the code of ``x`` with that dimension swept over
    ``values`` (default: 9 points over the range the dimension takes on the training data), the
    others held fixed. Dimensions that matter change the image; dead ones do not.

    Example
    -------
    >>> fig = traversal(vae, X[0], dims=range(8))  # doctest: +SKIP
    """
    _require(est, "traverse", "traversal", "encodes and decodes rows")
    dims = list(range(min(est.latent, 8)) if dims is None else dims)
    if not dims or not all(0 <= d < est.latent for d in dims):
        raise ValueError(f"dims={dims} must be latent dimensions of {_name(est)} (0 to {est.latent - 1})")
    rows = {}
    for dim in dims:
        sweep = values if values is not None else np.linspace(*est.code_range_[:, dim], 9)
        rows[f"z{dim}"] = est.traverse(x, dim, sweep)
    return image_rows(rows, _display_shape(est, None), title=f"{_name(est)}: one latent dimension at a time")


def manifold(est, n=15, extent=None):
    """The decoded grid over a 2-D latent space: ``n`` x ``n`` codes spaced evenly over
    [-extent, extent] in each dimension (default: the range of the training codes; for a GAN,
    whose codes are draws from N(0, I), 3).

    Example
    -------
    >>> fig = manifold(VariationalAutoencoder(latent=2).fit(X))  # doctest: +SKIP
    """
    _require(est, "inverse_transform", "manifold", "decodes codes")
    if est.latent != 2:
        raise ValueError(f"manifold needs a model with latent=2, {_name(est)} has latent={est.latent}")
    if n < 2:
        raise ValueError(f"manifold needs n >= 2 points per axis, got {n}")
    if extent is None and not hasattr(est, "transform"):
        extent = 3.0
    ranges = [(-extent, extent)] * 2 if extent is not None else est.code_range_.T
    axis_0, axis_1 = np.linspace(*ranges[0], n), np.linspace(*ranges[1], n)[::-1]  # high values at the top
    codes = np.stack(np.meshgrid(axis_0, axis_1), -1).reshape(-1, 2).astype(np.float32)
    images = _as_images(est, est.inverse_transform(codes))
    return _image_grid(images, f"{_name(est)}: decoded 2-D latent space", n, cell=0.45, gap=False)


# ---- training -------------------------------------------------------------------------------------
def _history_and_title(est_or_history, title, fallback):
    """An estimator's ``history_`` (or the list given) and the title: ``title``, else the estimator's
    class name, else ``fallback`` for a bare list."""
    if hasattr(est_or_history, "history_"):
        return est_or_history.history_, title or _name(est_or_history)
    return est_or_history, title or fallback


def _has_gan_monitor(history):
    """Whether ``history`` is a GAN's, which logs the discriminator's accuracies every epoch."""
    return bool(history) and "d_acc_real" in history[0]


def _phases(history):
    """Consecutive records grouped by their ``"phase"`` (None when records have none)."""
    groups = []
    for record in history:
        phase = record.get("phase")
        if not groups or groups[-1][0] != phase:
            groups.append((phase, []))
        groups[-1][1].append(record)
    return groups


class _PlainLogFormatter(LogFormatter):
    """LogFormatter's choice of ticks to label, written as plain numbers ("0.6" rather than "6e-01")."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def loss_curves(est_or_history, *, title=None):
    """Every loss term per epoch, training solid and validation dashed; one panel per training phase.

    Phases are the ``"phase"`` values of the history records (greedy pre-training logs
    ``"layer 1"``, ``"layer 2"``, ... then ``"fine-tune"``); each gets its own axes, since the loss of
    a hidden layer's codes is not on the scale of the data's. A term keeps its colour in every panel.
    The y-axis is logarithmic where all values are positive.

    Parameters
    ----------
    est_or_history : fitted estimator or list of dict
        An estimator's ``history_`` or the list itself (one dict per epoch).
    title : str, optional
        Default: the estimator's class name.

    Example
    -------
    >>> fig = loss_curves([{"epoch": 1, "loss": 2.0, "val_loss": 2.5}, {"epoch": 2, "loss": 1.0, "val_loss": 1.4}])
    """
    history, title = _history_and_title(est_or_history, title, "training")
    if not history:
        raise ValueError("no training history to plot (the model has not finished an epoch)")
    terms = list(dict.fromkeys(k for r in history for k in r if k not in _NOT_TERMS
                               and not k.startswith(("val_", *_MONITOR_PREFIXES))))
    parts = [t for t in terms if t != "loss"]
    # With a single term the total is that term: one curve says it.
    names = (["loss"] if "loss" in terms else []) + (parts if len(parts) > 1 or "loss" not in terms else [])
    colors = {name: f"C{i}" for i, name in enumerate(names)}

    groups = _phases(history)
    # the legend beside the panels takes about 1.8 inches
    fig = Figure(figsize=(1.8 + max(4.5, 3.2 * len(groups)), 4), layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, (phase, records) in zip(axes, groups):
        epochs = [r["epoch"] for r in records]
        values = []
        for name in names:
            for key, style, label in ((name, "-", name), (f"val_{name}", "--", f"{name} (validation)")):
                ys = [r.get(key, np.nan) for r in records]
                if not np.isnan(ys).all():
                    # a marker makes a single epoch visible
                    ax.plot(epochs, ys, linestyle=style, color=colors[name], label=label,
                            marker="o" if len(records) == 1 else None)
                    values += ys
        values = np.asarray(values, dtype=np.float64)
        if len(values) and np.nanmin(values) > 0:
            ax.set_yscale("log")
            # plain numbers ("0.5", "6") rather than 5x10^-1 on the labelled ticks
            ax.yaxis.set_major_formatter(_PlainLogFormatter())
            ax.yaxis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        if phase is not None:
            ax.set_title(phase)
    axes[0].set_ylabel("loss term")
    # one legend beside the panels: it covers no curve, and a term looks the same in every panel
    handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="outside right upper", fontsize="small")
    fig.suptitle(title)
    return fig


def gan_monitor(est_or_history, *, title=None):
    """A GAN's health per epoch: the discriminator's accuracy on real and on generated rows and, when
    the GAN was trained with a ``monitor_classifier``, the share of each class among its samples.

    Accuracies near 1 on both mean the discriminator is winning; a class share falling towards 0 is
    mode collapse. The dotted line in the class panel is an even share.

    Example
    -------
    >>> fig = gan_monitor([{"epoch": 1, "d_acc_real": 0.9, "d_acc_fake": 0.8},
    ...                    {"epoch": 2, "d_acc_real": 0.8, "d_acc_fake": 0.7}])
    """
    history, title = _history_and_title(est_or_history, title, "GAN")
    if not _has_gan_monitor(history):
        raise ValueError("no GAN monitor to plot: the history has no d_acc_real (a fitted GAN's history_ has)")
    classes = [k for k in history[0] if k.startswith("class_") and k != "class_coverage"]
    epochs = [r["epoch"] for r in history]
    fig = Figure(figsize=(5.5 * (1 + bool(classes)), 4), layout="constrained")
    axes = fig.subplots(1, 1 + bool(classes), squeeze=False)[0]
    marker = "o" if len(history) == 1 else None
    for key, label in (("d_acc_real", "real rows"), ("d_acc_fake", "generated rows")):
        axes[0].plot(epochs, [r[key] for r in history], label=label, marker=marker)
    axes[0].set_ylim(0, 1.02)
    axes[0].set_ylabel("discriminator accuracy")
    axes[0].legend(fontsize="small")
    if classes:
        for key in classes:
            axes[1].plot(epochs, [r[key] for r in history], label=key.removeprefix("class_"), marker=marker)
        axes[1].axhline(1 / len(classes), color="grey", linestyle=":")
        axes[1].set_ylim(bottom=0)
        axes[1].set_ylabel("share of samples per class")
        axes[1].legend(fontsize="small", ncols=2, title="class")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
    fig.suptitle(title)
    return fig


# ---- codes ----------------------------------------------------------------------------------------
def code_histogram(est, X, bins=50):
    """How active the code units are: all activations pooled, and each unit's mean activation.

    The left panel, on a log count scale, shows the spike at zero that a sparse code has; the right
    one shows whether the activity is spread over all units or concentrated in a few (and, for a
    target sparsity, the target). Both are annotated with the fraction of exact zeros and the mean.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
    bins : int

    Example
    -------
    >>> fig = code_histogram(sparse_ae, digits.data)  # doctest: +SKIP
    """
    _require(est, "transform", "code-histogram", "encodes rows")
    codes = est.transform(X).astype(np.float64)
    zeros, mean = float((codes == 0).mean()), float(codes.mean())
    unit_means = np.sort(codes.mean(0))[::-1]
    fig = Figure(figsize=(10, 4), layout="constrained")
    pooled, units = fig.subplots(1, 2)
    pooled.hist(codes.ravel(), bins=bins, color="C0")
    pooled.set_yscale("log")
    pooled.set_xlabel("code activation")
    pooled.set_ylabel("count (all units, log scale)")
    box = {"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"}
    pooled.text(0.97, 0.95, f"exact zeros: {zeros:.1%}\nmean activation: {mean:.3g}", transform=pooled.transAxes,
                ha="right", va="top", bbox=box)
    units.bar(np.arange(len(unit_means)), unit_means, width=1.0, color="C1")
    # a unit that is zero on every row is dead: a sparsity penalty that is too strong kills units
    dead = int((codes == 0).all(0).sum())
    units.text(0.97, 0.95, f"units never active: {dead} of {codes.shape[1]}", transform=units.transAxes,
               ha="right", va="top", bbox=box)
    target = getattr(est, "sparsity_target", None) if getattr(est, "sparsity", None) in ("kl", "squared") else None
    if target is not None:
        units.axhline(target, color="k", linestyle="--", linewidth=1, label=f"target {target:g}")
        units.legend(fontsize="small", loc="center right")
    units.set_xlabel("code unit (sorted by mean activation)")
    units.set_ylabel("mean activation")
    units.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"{_name(est)}: {codes.shape[1]} code units on {len(codes)} rows")
    return fig


def latent_scatter(est, X, y=None):
    """The codes of ``X`` as points: directly for 2-D codes, else their first two principal components.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
    y : array-like, optional
        One label per row (numbers or names). Up to 20 distinct labels get a colour each and a legend;
        more are coloured on a scale with a colour bar.

    Example
    -------
    >>> fig = latent_scatter(ae, digits.data, digits.target)  # doctest: +SKIP
    """
    _require(est, "transform", "latent-scatter", "encodes rows")
    codes = est.transform(X)
    if codes.shape[1] == 2:
        points, axis_labels, how = codes, ("code 1", "code 2"), "codes"
    elif codes.shape[1] > 2:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(codes)
        points = pca.transform(codes)
        axis_labels = [f"principal component {i + 1} ({r:.0%} of variance)"
                       for i, r in enumerate(pca.explained_variance_ratio_)]
        how = f"{codes.shape[1]}-D codes, PCA"
    else:
        # one code unit: spread the points vertically so that their density shows
        jitter = np.random.RandomState(0).uniform(-1, 1, len(codes))
        points, axis_labels, how = np.column_stack([codes[:, 0], jitter]), ("code 1", "jitter"), "1-D codes"

    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.add_subplot()
    # small, slightly transparent markers: thousands of points must not become one blot
    style = {"s": 8 if len(points) < 2000 else 3, "alpha": 0.7, "linewidths": 0}
    if y is None:
        ax.scatter(points[:, 0], points[:, 1], color="C0", **style)
    else:
        y = np.asarray(y)
        if len(y) != len(points):
            raise ValueError(f"y has {len(y)} labels for {len(points)} rows")
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) <= _MAX_LEGEND_CLASSES:
            cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
            sc = ax.scatter(points[:, 0], points[:, 1], c=index, cmap=cmap, vmin=-0.5,
                            vmax=cmap.N - 0.5, **style)
            handles, _ = sc.legend_elements(num=None)
            ax.legend(handles, [str(c) for c in classes], title="label", fontsize="small",
                      loc="center left", bbox_to_anchor=(1.0, 0.5))
        else:
            numeric = y.dtype.kind in "biuf"
            sc = ax.scatter(points[:, 0], points[:, 1], c=y if numeric else index, cmap="viridis", **style)
            fig.colorbar(sc, ax=ax, label="label" if numeric else "label (sorted)")
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(f"{_name(est)}: {how}, {len(points)} rows")
    return fig


def code_heatmap(codes, row_labels=None, title=None):
    """Codes (n_rows, n_units) as a grid of cells, each annotated with its value: for a handful of
    rows and units, such as the 8-3-8 encoder's three hidden values per input.

    Example
    -------
    >>> fig = code_heatmap(np.random.rand(8, 3), [f"input {i}" for i in range(8)])
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.size == 0:
        raise ValueError(f"codes must be a non-empty (rows, units) array, got shape {codes.shape}")
    n_rows, n_units = codes.shape
    fig = Figure(figsize=(1.0 * n_units + 2.5, 0.4 * n_rows + 1.2), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(codes, cmap="viridis", aspect="auto")
    for (r, c), value in np.ndenumerate(codes):
        # dark text on the bright half of the colour map, light on the dark half
        bright = image.norm(value) > 0.5
        ax.text(c, r, f"{value:.2f}", ha="center", va="center", color="black" if bright else "white")
    ax.set_xticks(range(n_units), [f"unit {u}" for u in range(n_units)])
    ax.set_yticks(range(n_rows), row_labels if row_labels is not None else range(n_rows))
    fig.colorbar(image, ax=ax)
    if title:
        ax.set_title(title)
    return fig


# ---- applications ---------------------------------------------------------------------------------
def neighbours(index, queries, database, k=8, image_shape=None, n=6):
    """Each of the first ``n`` query images followed by its ``k`` nearest stored items.

    Parameters
    ----------
    index : aekit.CodeIndex
        Holds the items of ``database`` with ids 0, 1, ... (their row numbers).
    queries, database : arrays of flat images (rows)
    image_shape : (C, H, W), optional
        Default: the index's estimator's ``image_shape_``.

    Example
    -------
    >>> fig = neighbours(index, X_test, X_train)  # doctest: +SKIP
    """
    shape = _display_shape(index.estimator, image_shape)
    first = _first(queries, n)
    _, ids = index.search(first, k)
    rows = {f"query {i}": np.concatenate([first[i:i + 1], np.asarray(database)[found[found >= 0]]])
            for i, found in enumerate(ids)}
    return image_rows(rows, shape, title=f"{k} nearest neighbours ({index.metric}) after each query",
                      value_range=_display_range(database, shape))


def roc(scores_by_name, is_outlier, title="ROC: outliers found against normal rows flagged"):
    """ROC curves of outlier scores (higher = more normal, as ``score_samples`` gives), with their AUCs.

    Example
    -------
    >>> fig = roc({"detector": detector.score_samples(X_test)}, y_test != 0)  # doctest: +SKIP
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    is_outlier = np.asarray(is_outlier, dtype=bool)
    if is_outlier.all() or not is_outlier.any():
        raise ValueError("is_outlier must mark some rows as outliers and some as normal")
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, scores in scores_by_name.items():
        anomaly = -np.asarray(scores, dtype=np.float64)
        false_pos, true_pos, _ = roc_curve(is_outlier, anomaly)
        ax.plot(false_pos, true_pos, label=f"{name} (AUC {roc_auc_score(is_outlier, anomaly):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("normal rows flagged (false positive rate)")
    ax.set_ylabel("outliers found (true positive rate)")
    ax.legend(loc="lower right")
    ax.set_title(title)
    return fig


def rate_distortion(curves, title="Rate and distortion"):
    """Bytes per row against PSNR for each codec: ``curves`` maps a name to (bytes, psnr) points.

    Example
    -------
    >>> fig = rate_distortion({"aekit": [(20, 18.1), (40, 19.0)], "JPEG": [(300, 17.5)]})
    """
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, points in curves.items():
        size, quality = np.asarray(sorted(points), dtype=np.float64).T
        ax.plot(size, quality, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("bytes per row (log scale)")
    ax.set_ylabel("PSNR (dB)")
    ax.legend()
    ax.set_title(title)
    return fig


# ---- which pictures suit a model ------------------------------------------------------------------
def pictures(est, X=None, y=None):
    """The pictures that say something about a fitted ``est`` and data ``X`` (labels ``y``).

    Returns a dict name -> function of no arguments that draws the Figure, in a stable order, so
    that a caller draws (and holds in memory) one at a time. The names are those of ``aekit plot``:

    - ``"loss-curves"`` when there is a history, and ``"gan-monitor"`` for a GAN's;
    - ``"samples"`` from a generative model, with ``"manifold"`` for images in a 2-D latent space;
    - ``"filters"`` for image data (``est.image_shape_``);
    - with data: ``"reconstructions"``; ``"interpolation"`` and ``"traversal"`` for a VAE;
      ``"denoising"`` when the model was trained with noise; ``"latent-scatter"`` when ``y`` is
      given; ``"code-histogram"`` when the model has a sparsity penalty. Rows that are not images
      are drawn as heatmaps (see :func:`image_rows`);
    - without data, only the pictures that need none.

    Example
    -------
    >>> for name, draw in pictures(ae, digits.data, digits.target).items():  # doctest: +SKIP
    ...     draw().savefig(f"{name}.png")
    """
    out = {}
    if getattr(est, "history_", None):
        out["loss-curves"] = lambda: loss_curves(est)
        if _has_gan_monitor(est.history_):
            out["gan-monitor"] = lambda: gan_monitor(est)
    if not hasattr(est, "model_"):
        return out
    is_image = getattr(est, "image_shape_", None) is not None
    if hasattr(est, "sample"):
        out["samples"] = lambda: samples(est)
        if is_image and getattr(est, "latent", None) == 2 and hasattr(est, "transform"):
            out["manifold"] = lambda: manifold(est)
    if not hasattr(est, "transform"):  # a generator only (the GAN): nothing to encode
        return out
    if is_image:
        out["filters"] = lambda: filters(est)
    if X is None:
        return out
    out["reconstructions"] = lambda: reconstructions(est, X)
    if hasattr(est, "sample") and len(X) >= 2:
        out["interpolation"] = lambda: interpolation(est, X[0], X[1])
        out["traversal"] = lambda: traversal(est, X[0])
    if getattr(est, "noise", None) is not None:
        out["denoising"] = lambda: denoising(est, X)
    if y is not None:
        out["latent-scatter"] = lambda: latent_scatter(est, X, y)
    if getattr(est, "sparsity", None) is not None:
        out["code-histogram"] = lambda: code_histogram(est, X)
    return out
