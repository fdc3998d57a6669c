"""Verbs over classifiers: predict (``aekit train classifier`` and ``aekit evaluate`` serve them too)."""

from pathlib import Path

import numpy as np
from sklearn.base import is_classifier

from .._fileio import atomic_write, atomic_write_text
from ..saving import load as load_model
from ._common import add_model_data_out, history_csv, load_data, save_npy
from .parsing import CLIError, Parser

_OUTPUTS = (".npy", ".csv")


def data_labels(args, bunch):
    """The labels of ``--data``, or of ``--labels`` where the verb has it; a classifier cannot be
    trained or scored without them."""
    path = getattr(args, "labels", None)
    if path is None:
        if bunch.target is None:
            raise CLIError(f"--data {args.data} has no labels (for a CSV, name the column with --label-column; "
                           "for rows in .npy files, give --labels)")
        return bunch.target
    if bunch.target is not None:
        raise CLIError(f"--labels: --data {args.data} has labels of its own")
    try:
        y = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CLIError(f"--labels {path}: not a readable .npy file of labels ({exc})") from None
    if y.ndim != 1 or len(y) != len(bunch.data):
        raise CLIError(f"--labels {path}: expected one label per row of --data ({len(bunch.data)}), "
                       f"got an array of shape {y.shape}")
    return y


def cmd_predict(args):
    if Path(args.out).suffix not in _OUTPUTS:
        raise CLIError(f"--out {args.out}: give a file ending in {' or '.join(_OUTPUTS)}")
    estimator = load_model(args.model, device=args.device or "auto")
    if not is_classifier(estimator):
        raise CLIError(f"--model {args.model} is a {type(estimator).__name__}, not a classifier "
                       "(train one with `aekit train classifier`)")
    X = load_data(args, stream=True, model=estimator).data
    if args.proba:
        result = estimator.predict_proba(X)
        rows = [{f"p_{c}": p for c, p in zip(estimator.classes_, row)} for row in result]
    else:
        result = estimator.predict(X)
        rows = [{"label": label} for label in result]
    if args.out.endswith(".csv"):
        atomic_write_text(args.out, history_csv(rows))
    else:
        atomic_write(args.out, lambda tmp: save_npy(tmp, result))
    print(f"wrote {args.out} with {'probabilities' if args.proba else 'labels'} of {len(X)} rows")


def add_predict(predict: Parser) -> None:
    """The options of ``aekit predict``."""
    add_model_data_out(predict, out_help="output .npy or .csv file (CSV: a header, one row per row)",
                       model_help="classifier folder written by `aekit train classifier`")
    predict.add_argument("--proba", action="store_true", help="class probabilities (columns p_<class>) instead")
    predict.add_argument("--device")
    predict.set_defaults(run=cmd_predict)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"predict": add_predict}
