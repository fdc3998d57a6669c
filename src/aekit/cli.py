"""The ``aekit`` command: a thin map of verbs onto the Python API.

Every error prints one line (``aekit: error: ...``) and exits with status 2; set AEKIT_DEBUG=1 to
see the traceback instead.
"""

import argparse
import ast
import csv
import io as _stringio
import json
import os
import sys
from pathlib import Path

import numpy as np

from . import datasets, registry
from ._fileio import atomic_write, atomic_write_text
from .io import load as load_model


class CLIError(Exception):
    """A user mistake on the command line; shown as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(message)


def _parse_set(pairs, estimator):
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


def _load_data(args):
    return datasets.load(args.data, split=args.split, label_column=args.label_column)


def _save_figure(figure, path):
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=100))


def _save_npy(path, array):
    # np.save on a name would append ".npy" to the temporary name; a file object keeps it.
    with open(path, "wb") as f:
        np.save(f, array)


def _history_csv(history):
    columns = list(dict.fromkeys(k for record in history for k in record))
    out = _stringio.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def cmd_train(args):
    from . import plots

    estimator = registry.get(args.model)()
    params = _parse_set(args.set, estimator)
    bunch = _load_data(args)
    out = Path(args.out)
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.device is not None:
        params["device"] = args.device
    params.setdefault("random_state", args.seed)
    params.setdefault("image_shape", bunch.image_shape)
    params.setdefault("checkpoint_dir", str(out / "checkpoints"))
    params.setdefault("verbose", not args.quiet)
    estimator.set_params(**params)
    try:
        estimator.fit(bunch.data, resume=args.resume)
    finally:
        if getattr(estimator, "history_", None):
            atomic_write_text(out / "history.csv", _history_csv(estimator.history_))
            _save_figure(plots.loss_curve(estimator.history_, type(estimator).__name__), out / "loss.png")
    estimator.save(out)
    if bunch.image_shape is not None:
        _save_figure(plots.reconstruction_grid(estimator, bunch.data, bunch.image_shape), out / "reconstructions.png")
    last = estimator.history_[-1] if estimator.history_ else {}
    losses = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k.endswith("loss"))
    print(f"trained {type(estimator).__name__} for {len(estimator.history_)} epochs ({losses}); saved to {out}")


def _transform_verb(method):
    def run(args):
        estimator = load_model(args.model, device=args.device or "auto")
        result = getattr(estimator, method)(_load_data(args).data)
        atomic_write(args.out, lambda tmp: _save_npy(tmp, result))
        print(f"wrote {args.out} with shape {result.shape}")
    return run


def cmd_evaluate(args):
    estimator = load_model(args.model, device=args.device or "auto")
    X = _load_data(args).data
    errors = -estimator.score_samples(X)
    squared = np.square(estimator.reconstruct(X) - X)
    report = {
        "rows": len(X),
        f"reconstruction_loss ({estimator.loss}, per example)": float(errors.mean()),
        "squared_error_per_example (original units)": float(squared.sum(1).mean()),
        "mse_per_feature (original units)": float(squared.mean()),
    }
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{k}: {v:.6g}" if isinstance(v, float)
                                                                   else f"{k}: {v}" for k, v in report.items()))


def cmd_info(args):
    estimator = load_model(args.path, device="cpu")
    n_weights = sum(t.numel() for t in estimator.model_.state_dict().values())
    print(f"{type(estimator).__name__} ({getattr(type(estimator), '_registry_name', '?')}), "
          f"{estimator.n_features_in_} features -> {estimator.latent} codes, {n_weights} weights")
    print(f"image_shape: {estimator.image_shape_}, scaler: {estimator.scaler_.to_dict().get('kind')}")
    if estimator.history_:
        last = estimator.history_[-1]
        print(f"trained {len(estimator.history_)} epochs; last: "
              + ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "epoch"))
    print("params: " + json.dumps({k: v for k, v in estimator.get_params().items()}, default=str))


def cmd_list(args):
    for name, cls in registry.names().items():
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name:12s} {cls.__name__:28s} {summary}")


def _add_data_options(parser):
    parser.add_argument("--data", required=True, help="built-in name (digits, mnist5k, fashion-mnist, mnist) "
                        "or a path (.npy, .npz, .csv, IDX, image folder)")
    parser.add_argument("--split", choices=("train", "test"), help="the fixed, seeded split of the data set")
    parser.add_argument("--label-column", help="CSV column holding labels (excluded from features)")


def build_parser():
    parser = _Parser(prog="aekit", description="Autoencoders made practical.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    train = verbs.add_parser("train", help="train a model and save it with its history and pictures")
    train.add_argument("model", help="registry name (see `aekit list`)")
    _add_data_options(train)
    train.add_argument("--out", required=True, help="folder for the model, history.csv, PNGs, checkpoints/")
    train.add_argument("--epochs", type=int, help="number of epochs (default: the model's)")
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--seed", type=int, default=0, help="random_state (default 0: runs are reproducible)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="any estimator parameter")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    for verb, method, text in (("encode", "transform", "write codes"),
                               ("decode", "inverse_transform", "decode codes (--data is a codes .npy)"),
                               ("reconstruct", "reconstruct", "write reconstructions")):
        sub = verbs.add_parser(verb, help=text)
        sub.add_argument("--model", required=True, help="model folder written by `aekit train`")
        _add_data_options(sub)
        sub.add_argument("--out", required=True, help="output .npy file")
        sub.add_argument("--device")
        sub.set_defaults(run=_transform_verb(method))

    evaluate = verbs.add_parser("evaluate", help="print reconstruction errors of a model on data")
    evaluate.add_argument("--model", required=True)
    _add_data_options(evaluate)
    evaluate.add_argument("--device")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=cmd_evaluate)

    info = verbs.add_parser("info", help="describe a saved model")
    info.add_argument("path")
    info.set_defaults(run=cmd_info)

    verbs.add_parser("list", help="registered models").set_defaults(run=cmd_list)
    return parser


def main(argv=None):
    """Entry point of ``aekit`` and ``python -m aekit``; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
    except KeyboardInterrupt:
        print("aekit: interrupted; finished epochs are in the checkpoint (resume with --resume)", file=sys.stderr)
        return 130
    except Exception as exc:  # every failure is reported as one line; AEKIT_DEBUG shows the traceback
        if os.environ.get("AEKIT_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"aekit: error: {message}", file=sys.stderr)
        return 2
    return 0
