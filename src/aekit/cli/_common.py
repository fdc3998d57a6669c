"""What the verbs of the ``aekit`` command share: data options, model options, writers."""

import argparse
import ast
import csv
import io
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .. import datasets
from .._fileio import atomic_write
from .parsing import CLIError

# rows of a streamed data set that pictures show
_PICTURE_ROWS = 1000


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


def load_data(args, stream=False, model=None, model_source=None):
    """The Bunch of ``--data``; with ``stream``, rows that ``_streamed`` says stay on disk are a
    :class:`aekit.datasets.RowStream` in ``data``, read while training. With ``model``, the fitted
    estimator read from ``model_source`` (default: ``--model``), rows of another width than it was
    trained on are refused in words that name both."""
    bunch = _load_data(args, stream)
    trained_on = getattr(model, "n_features_in_", None)
    width = bunch.data.n_features if isinstance(bunch.data, datasets.RowStream) else bunch.data.shape[1]
    if trained_on is not None and width != trained_on:
        raise CLIError(f"--data {args.data} has {width} features per row, but "
                       f"{model_source or f'--model {args.model}'} was trained on rows of {trained_on}")
    return bunch


def _load_data(args, stream):
    if not (stream and _streamed(args.data)):
        return datasets.load(args.data, split=args.split, label_column=args.label_column)
    for option in ("split", "label_column"):
        if getattr(args, option) is not None:
            raise CLIError(f"--{option.replace('_', '-')}: {args.data} is read from disk in blocks while training, "
                           "without a split or labels")
    rows = datasets.open_rows(args.data)
    return Bunch(data=rows, target=None, image_shape=rows.image_shape, name=rows.source.name,
                 feature_names=None, target_names=None)


def _streamed(data):
    """A .npy file over ``STREAM_BYTES`` (1 GiB), or a folder holding .npy files only."""
    path = Path(data).expanduser()
    if data in datasets.BUILTIN or not path.exists():
        return False
    if path.is_dir():
        files = [p for p in path.iterdir() if not p.name.startswith(".")]
        return bool(files) and all(p.suffix.lower() == ".npy" for p in files)
    return path.suffix.lower() == ".npy" and path.stat().st_size > datasets.stream.STREAM_BYTES


def save_figure(figure, path):
    # a tight box: the constrained layout leaves horizontal row labels (image_rows) cut at the edge
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))


def save_npy(path, array):
    # np.save on a name would append ".npy" to the temporary name; a file object keeps it.
    with open(path, "wb") as f:
        np.save(f, array)


def history_csv(history):
    columns = list(dict.fromkeys(k for record in history for k in record))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def labels(bunch):
    """The data set's labels, as class names where it has them (legends then read "cat", not 3)."""
    if bunch.target is None or not bunch.get("target_names"):
        return bunch.target
    return np.asarray(bunch.target_names)[bunch.target]


def output_folder(path):
    """``--out`` of a verb that writes a folder (created if need be), refused when it names a file."""
    if Path(path).exists() and not Path(path).is_dir():
        raise CLIError(f"--out {path} is a file; give a folder (it is created if need be)")
    return Path(path)


def require(estimator, method, model, doing):
    """A one-line error when the saved model ``model`` has no ``method`` for what the verb asks."""
    if not hasattr(estimator, method):
        hint = "; `aekit sample` draws from it" if hasattr(estimator, "sample") else ""
        raise CLIError(f"--model {model}: {type(estimator).__name__} cannot {doing}{hint}")


def picture_rows(X, y=None):
    """``(X, y)`` with at most ``_PICTURE_ROWS`` rows: a seeded sample of larger data (kept in order,
    labels with their rows; for rows on disk, contiguous pieces spread over the file). A picture
    shows a few hundred points at most; encoding every row of a large set for it takes longer than
    an epoch, and a file on disk may not fit in memory."""
    if isinstance(X, datasets.RowStream):
        return X.split(_PICTURE_ROWS, random_state=0)[0].read(), None
    if X is None or len(X) <= _PICTURE_ROWS:
        return X, y
    kept = np.sort(np.random.RandomState(0).choice(len(X), _PICTURE_ROWS, replace=False))
    return X[kept], None if y is None else np.asarray(y)[kept]


def positive_int(text):
    value = int(text)
    if value < 1:
        # argparse shows the message of this error type only
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_data_options(parser, required=True):
    parser.add_argument("--data", required=required, help="built-in name (digits, mnist5k, fashion-mnist, "
                        "mnist) or a path (.npy, .npz, .csv, IDX, image folder); a .npy file over 1 GiB, or a "
                        "folder of .npy shards, is read from disk in blocks instead of loaded (by every verb "
                        "but decode); pictures draw from a seeded sample of 1,000 rows")
    parser.add_argument("--split", choices=("train", "test"), help="the fixed, seeded split of the data set")
    parser.add_argument("--label-column", help="CSV column holding labels (excluded from features)")




def add_model_data_out(parser: argparse.ArgumentParser, out_help: str,
                       model_help: str = "model folder written by `aekit train`", data_required: bool = True) -> None:
    """``--model`` (required), the data options and ``--out`` (required): what a verb that applies a
    saved model to rows takes first."""
    parser.add_argument("--model", required=True, help=model_help)
    add_data_options(parser, required=data_required)
    parser.add_argument("--out", required=True, help=out_help)
