"""Verbs of anomaly detection: ``aekit anomaly score`` (training is ``aekit train anomaly``)."""

import numpy as np

from .._fileio import atomic_write
from ..apps.anomaly import AnomalyDetector
from ..saving import load as load_model
from ._common import add_model_data_out, load_data
from .parsing import CLIError, Parser


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


def add_anomaly(anomaly: Parser) -> None:
    """The actions of ``aekit anomaly``: ``score``."""
    actions = anomaly.add_subparsers(dest="action", required=True, parser_class=Parser)
    score = actions.add_parser("score", help="write each row's score (higher is more normal) and its label "
                               "(1 inlier, -1 outlier) as CSV")
    add_model_data_out(score, out_help="output .csv file (columns score,label)",
                       model_help="folder written by `aekit train anomaly`")
    score.add_argument("--device")
    score.set_defaults(run=cmd_score)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"anomaly": add_anomaly}
