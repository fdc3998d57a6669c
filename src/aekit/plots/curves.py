"""Training curves: every loss term per epoch (one panel per training phase), and a GAN's monitor
(discriminator accuracies, the share of each class among its samples).

Example
-------
>>> fig = loss_curves([{"epoch": 1, "loss": 2.0, "val_loss": 2.5}, {"epoch": 2, "loss": 1.0, "val_loss": 1.4}])
"""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator
from sklearn.base import BaseEstimator

from .grids import model_name

# Entries of a history record that are not loss terms.
_NOT_TERMS = ("epoch", "time", "phase", "member")
# Monitors logged beside the losses (the GAN's discriminator accuracies and class fractions).
_MONITOR_PREFIXES = ("d_acc", "class_")


def _history_and_title(est_or_history, title, fallback):
    """An estimator's ``history_`` (or the list given) and the title: ``title``, else the estimator's
    class name, else ``fallback`` for a bare list."""
    if hasattr(est_or_history, "history_"):
        return est_or_history.history_, title or model_name(est_or_history)
    return est_or_history, title or fallback


def has_gan_monitor(history: Sequence[dict]) -> bool:
    """Whether ``history`` is a GAN's, which logs the discriminator's accuracies every epoch."""
    return bool(history) and "d_acc_real" in history[0]


def _phases(history):
    """Consecutive records grouped by their ``"phase"`` (None when records have none), an ensemble's as
    "member k: phase"."""
    groups = []
    for record in history:
        phase = record.get("phase")
        if "member" in record:
            phase = f"member {record['member']}: {phase}"
        if not groups or groups[-1][0] != phase:
            groups.append((phase, []))
        groups[-1][1].append(record)
    return groups


class _PlainLogFormatter(LogFormatter):
    """LogFormatter's choice of ticks to label, written as plain numbers ("0.6" rather than "6e-01")."""

    def __call__(self, x, pos=None):
        return f"{x:g}" if super().__call__(x, pos) else ""


def loss_curves(est_or_history: BaseEstimator | Sequence[dict], *, title: str | None = None) -> Figure:
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


def gan_monitor(est_or_history: BaseEstimator | Sequence[dict], *, title: str | None = None) -> Figure:
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
    if not has_gan_monitor(history):
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

