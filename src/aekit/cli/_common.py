"""What every verb of the ``aekit`` command shares: the one-line error type, data options, writers."""

import argparse
import ast
import csv
import io as _stringio

import numpy as np

from .. import datasets
from .._fileio import atomic_write, atomic_write_text


class CLIError(Exception):
    """A user mistake on the command line; shown as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(message)


def parse_set(pairs, estimator):
    """``["key=value", ...]`` -> params, values read as Python literals when they parse as one."""
    known = estimator.get_params()
    params = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep:
            raise CLIError(f"--set expects key=value, got {pair!r}")
        if key not in known:
            raise CLIError(f"--set {key}: {type(estimator).__name__} has no parameter {key!r}; "
                           f"known: {', '.join(sorted(known))}")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    return params


def load_data(args):
    return datasets.load(args.data, split=args.split, label_column=args.label_column)


def save_figure(figure, path):
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))


def save_npy(path, array):
    # np.save on a name would append ".npy" to the temporary name; a file object keeps it.
    with open(path, "wb") as f:
        np.save(f, array)


def history_csv(history):
    columns = list(dict.fromkeys(k for record in history for k in record))
    out = _stringio.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def labels(bunch):
    """The data set's labels, as class names where it has them (legends then read "cat", not 3)."""
    if bunch.target is None or not bunch.get("target_names"):
        return bunch.target
    return np.asarray(bunch.target_names)[bunch.target]


def write_record(estimator, out, X=None, y=None):
    """history.csv and every picture that suits the estimator and data (see ``plots.pictures``)."""
    from .. import plots

    if getattr(estimator, "history_", None):
        atomic_write_text(out / "history.csv", history_csv(estimator.history_))
    for name, draw in plots.pictures(estimator, X, y).items():
        save_figure(draw(), out / f"{name}.png")


def positive_int(text):
    value = int(text)
    if value < 1:
        # argparse shows the message of this error type only
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_data_options(parser, required=True):
    parser.add_argument("--data", required=required, help="built-in name (digits, mnist5k, fashion-mnist, "
                        "mnist) or a path (.npy, .npz, .csv, IDX, image folder)")
    parser.add_argument("--split", choices=("train", "test"), help="the fixed, seeded split of the data set")
    parser.add_argument("--label-column", help="CSV column holding labels (excluded from features)")


