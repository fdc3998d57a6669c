"""Verbs of anomaly detection: ``aekit anomaly score`` (training is ``aekit train anomaly``)."""

import numpy as np

from .._fileio import atomic_write
from ..apps.anomaly import AnomalyDetector
from ..saving import load as load_model
from ._common import CLIError, add_data_options, load_data


def cmd_score(args):
    detector = load_model(args.model, device=args.device or "auto")
    if not isinstance(detector, AnomalyDetector):
        raise CLIError(f"--model {args.model}: the saved model is {type(detector).__name__}, not AnomalyDetector; "
                       "train one with `aekit train anomaly`")
    X = load_data(args, stream=True, model=detector).data  # a big .npy file or a folder of shards is read in blocks
    scores = detector.score_samples(X)
    labels = np.where(scores >= detector.offset_, 1, -1)
    table = np.column_stack([scores, labels])
    atomic_write(args.out, lambda tmp: np.savetxt(tmp, table, fmt=["%.9g", "%d"], delimiter=",",
                                                  header="score,label", comments=""))
    n_outliers = int((labels == -1).sum())
    print(f"wrote {args.out}: {len(X)} rows, {n_outliers} outliers ({n_outliers / max(len(X), 1):.1%}; "
          f"label -1, score below {detector.offset_:.6g})")


def add_verbs(verbs):
    """Add ``aekit anomaly score`` to the subparsers ``verbs``."""
    anomaly = verbs.add_parser("anomaly", help="score rows with a detector from `aekit train anomaly`")
    actions = anomaly.add_subparsers(dest="action", required=True, parser_class=type(anomaly))
    score = actions.add_parser("score", help="write each row's score (higher is more normal) and its label "
                               "(1 inlier, -1 outlier) as CSV")
    score.add_argument("--model", required=True, help="folder written by `aekit train anomaly`")
    add_data_options(score)
    score.add_argument("--out", required=True, help="output .csv file (columns score,label)")
    score.add_argument("--device")
    score.set_defaults(run=cmd_score)
