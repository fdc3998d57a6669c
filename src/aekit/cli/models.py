"""Verbs over models: train, encode, decode, reconstruct, evaluate, plot, info, list."""

import inspect
import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.base import is_classifier

from .. import plots, registry
from .._fileio import atomic_write, atomic_write_text
from ..apps.classifier import mask_labels
from ..apps.retrieval import DATA as INDEX_DATA
from ..apps.retrieval import CodeIndex
from ..datasets.stream import row_blocks
from ..noise import NOISE_KINDS
from ..saving import load as load_model
from ..training import distributed
from ..training.checkpoint import FILENAME as CHECKPOINT_FILE
from ._common import (
    add_data_options,
    add_model_data_out,
    history_csv,
    labels,
    load_data,
    output_folder,
    parse_set,
    picture_rows,
    positive_int,
    require,
    save_figure,
    save_npy,
)
from .classify import data_labels
from .parsing import CLIError, Parser


def _classifier_autoencoder(estimator, pairs):
    """``--set autoencoder=NAME`` (a registry name, default "ae") makes the autoencoder a classifier
    pre-trains, so that ``--set autoencoder__KEY=VALUE`` can set its parameters; returns the other pairs."""
    names = [pair.partition("=")[2] for pair in pairs if pair.startswith("autoencoder=")]
    if names or any(pair.startswith("autoencoder__") for pair in pairs):
        estimator.set_params(autoencoder=registry.get(names[-1] if names else "ae")())
    return [pair for pair in pairs if not pair.startswith("autoencoder=")]


def cmd_train(args):
    estimator = registry.get(args.model)()
    classifier = is_classifier(estimator)
    params = parse_set(_classifier_autoencoder(estimator, args.set or []) if classifier else args.set, estimator)
    # rows on disk train in blocks (a classifier's labels then come from --labels)
    bunch = load_data(args, stream=True)
    out = output_folder(args.out)
    for option in ("epochs", "device", "precision", "compile", "log_dir", "log_every"):
        value = getattr(args, option)
        if value is not None:
            if option not in estimator.get_params():
                raise CLIError(f"--{option.replace('_', '-')}: {args.model} has no {option} parameter")
            params[option] = value
    params.setdefault("random_state", args.seed)
    params.setdefault("image_shape", bunch.image_shape)
    params.setdefault("verbose", not args.quiet)
    params.setdefault("checkpoint_dir", str(out / "checkpoints"))
    if classifier:
        y = data_labels(args, bunch)
        try:
            fit_args = (bunch.data, y if args.labeled is None else mask_labels(y, args.labeled, args.seed))
        except ValueError as exc:
            raise CLIError(f"--labeled {args.labeled}: {exc}") from None
    elif params.get("conditional"):  # a conditional VAE or GAN trains on the labels
        fit_args = (bunch.data, data_labels(args, bunch))
    else:
        for option in ("labeled", "labels"):
            if getattr(args, option) is not None:
                raise CLIError(f"--{option} applies to classifiers and conditional models, not to {args.model}")
        # TensorBoard's projector shows the labels the data has
        fit_args = (bunch.data, bunch.target) if params.get("log_dir") and bunch.target is not None else (bunch.data,)
    estimator.set_params(**params)
    # a mistyped --out would otherwise start over without a word (without checkpoint_dir, fit refuses resume)
    if args.resume and estimator.checkpoint_dir and not any(Path(estimator.checkpoint_dir).rglob(CHECKPOINT_FILE)):
        warnings.warn(f"--resume: no checkpoint in {estimator.checkpoint_dir}; training from the first epoch",
                      RuntimeWarning, stacklevel=2)
    # started by torchrun, every process trains and rank 0 alone writes files and reports
    writer = distributed.rank() == 0
    try:
        estimator.fit(*fit_args, resume=args.resume)
    except BaseException:
        # a stopped run still leaves its curves (they show why); pictures of the data can wait
        if writer:
            write_record(estimator, out)
        raise
    if not writer:
        return
    estimator.save(out)
    # a classifier has no decoder, a conditional model decodes a row with its class: their pictures
    # are those that need no data (curves, filters, samples)
    write_record(estimator, out, *(() if classifier or params.get("conditional") else (bunch.data, labels(bunch))))
    last = estimator.history_[-1] if estimator.history_ else {}
    losses = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k.endswith("loss"))
    print(f"trained {type(estimator).__name__} for {_epochs(estimator.history_)}{losses and ': ' + losses}; "
          f"saved to {out}")


def write_record(estimator, out, X=None, y=None):
    """history.csv and every picture that suits the estimator and data (see ``plots.pictures``)."""
    X, y = picture_rows(X, y)
    if getattr(estimator, "history_", None):
        atomic_write_text(out / "history.csv", history_csv(estimator.history_))
    for name, draw in plots.pictures(estimator, X, y).items():
        save_figure(draw(), out / f"{name}.png")


def _epochs(history):
    """"12 epochs", or with each phase's share ("23 epochs (pretrain: 20, head: 3)") for a model
    trained in phases, whose --epochs sets one phase only; an ensemble's summed over its networks
    ("2 networks, 14 epochs (...)")."""
    phases = Counter(record.get("phase") for record in history)
    total = f"{len(history)} epoch{'s' * (len(history) != 1)}"
    members = len({record["member"] for record in history if "member" in record})
    if members > 1:
        total = f"{members} networks, {total}"
    if len(phases) < 2:
        return total
    return total + " (" + ", ".join(f"{phase}: {count}" for phase, count in phases.items()) + ")"


PLOT_KINDS = ("reconstructions", "filters", "loss-curves", "gan-monitor", "code-histogram", "latent-scatter",
              "denoising", "samples", "manifold", "interpolation", "traversal")
# option of `aekit plot` -> the parameter of the plotting function it feeds
_PLOT_OPTIONS = {"data": "X", "n": "n", "noise": "kind", "noise_level": "level"}


def _interpolation(estimator, X):
    """Between the first two rows of the data, as the picture `aekit train` writes."""
    if len(X) < 2:
        raise CLIError(f"interpolation needs two rows of --data, got {len(X)}")
    return plots.interpolation(estimator, X[0], X[1])


def _traversal(estimator, X):
    """Of the first row of the data, as the picture `aekit train` writes."""
    return plots.traversal(estimator, X[0])


def cmd_plot(args):
    draw = {"interpolation": _interpolation, "traversal": _traversal}.get(args.kind)
    draw = draw or getattr(plots, args.kind.replace("-", "_"))
    accepted = inspect.signature(draw).parameters
    for option, parameter in _PLOT_OPTIONS.items():
        if getattr(args, option) is not None and parameter not in accepted:
            raise CLIError(f"--{option.replace('_', '-')} does not apply to `aekit plot {args.kind}`")
    if "X" in accepted and args.data is None:
        raise CLIError(f"`aekit plot {args.kind}` needs --data")
    estimator = load_model(args.model, device=args.device or "auto")
    given = {"n": args.n, "kind": args.noise, "level": args.noise_level}
    kwargs = {k: v for k, v in given.items() if v is not None}
    if "X" in accepted:
        bunch = load_data(args, stream=True, model=estimator)
        kwargs["X"], y = picture_rows(bunch.data, labels(bunch) if "y" in accepted else None)
        if "y" in accepted:
            kwargs["y"] = y
    save_figure(draw(estimator, **kwargs), args.out)
    print(f"wrote {args.out}")


def _transform_verb(method, doing):
    def run(args):
        estimator = load_model(args.model, device=args.device or "auto")
        require(estimator, method, args.model, doing)
        # codes are data of their own (inverse_transform checks their width); rows on disk are read in blocks
        rows = method != "inverse_transform"
        result = getattr(estimator, method)(load_data(args, stream=rows, model=estimator if rows else None).data)
        atomic_write(args.out, lambda tmp: save_npy(tmp, result))
        print(f"wrote {args.out} with shape {result.shape}")
    return run


def cmd_evaluate(args):
    estimator = load_model(args.model, device=args.device or "auto")
    bunch = load_data(args, stream=True, model=estimator)
    X = bunch.data
    if is_classifier(estimator):
        report = {"rows": len(X), "accuracy": float(estimator.score(X, data_labels(args, bunch)))}
    elif args.labels is not None:
        raise CLIError(f"--labels applies to classifiers; {args.model} is a {type(estimator).__name__}")
    elif not hasattr(estimator, "reconstruct"):
        raise CLIError(f"{args.model}: a {type(estimator).__name__} does not reconstruct rows, so there is "
                       "nothing to evaluate; `aekit sample` draws from it")
    else:
        # per block: rows on disk are read a block at a time
        squared = np.concatenate([np.square(estimator.reconstruct(block) - block).sum(1)
                                  for _, block in row_blocks(X)])
        report = {
            "rows": len(X),
            estimator._score_meaning(): float(-estimator.score_samples(X).mean()),
            "squared_error_per_example (original units)": float(squared.mean()),
            "mse_per_feature (original units)": float(squared.mean() / estimator.n_features_in_),
        }
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{k}: {v:.6g}" if isinstance(v, float)
                                                                   else f"{k}: {v}" for k, v in report.items()))


def _mapping(estimator):
    """What a model maps to what, in words: rows to codes, to classes for a classifier, and for a
    generator only (the GAN) latent draws to rows."""
    features = f"{estimator.n_features_in_} features"
    if hasattr(estimator, "classes_"):
        return f"{features} -> {len(estimator.classes_)} classes"
    if not hasattr(estimator, "transform"):
        return f"{estimator.latent} latent -> {features}"
    # a wrapper (the anomaly detector) codes with the autoencoder it holds
    return f"{features} -> {getattr(estimator, 'latent', None) or estimator.autoencoder_.latent} codes"


def cmd_info(args):
    if (args.path is None) == (args.model is None):
        raise CLIError("give one model folder: `aekit info DIR` or `aekit info --model DIR`")
    folder = Path(args.path or args.model)
    if (folder / INDEX_DATA).is_file():
        index = CodeIndex.load(folder, device="cpu")
        print(f"{index!r}, built with the model below" if index.estimator is not None else
              f"{index!r}, of codes given directly (no model)")
        if index.estimator is None:
            return
        estimator = index.estimator
    else:
        estimator = load_model(folder, device="cpu")
    n_weights = sum(t.numel() for t in estimator.model_.state_dict().values())
    print(f"{type(estimator).__name__} ({getattr(type(estimator), '_registry_name', '?')}), "
          f"{_mapping(estimator)}, {n_weights} weights")
    print(f"image_shape: {estimator.image_shape_}, scaler: {estimator.scaler_.to_dict().get('kind')}")
    if estimator.history_:
        last = estimator.history_[-1]
        print(f"trained {_epochs(estimator.history_)}; last: "
              + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in last.items() if k != "epoch"))
    print("params: " + json.dumps({k: v for k, v in estimator.get_params().items()}, default=str))


def cmd_list(args):
    for name, cls in registry.names().items():
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name:12s} {cls.__name__:28s} {summary}")



def _add_labels_option(parser):
    parser.add_argument("--labels", metavar="FILE.npy",
                        help="classifiers: one label per row of --data (-1 for an unlabelled row in training), "
                             "for data without labels of its own (.npy files, shard folders)")


def add_train(train: Parser) -> None:
    """The options of ``aekit train``."""
    train.add_argument("model", help="registry name (see `aekit list`)")
    add_data_options(train)
    train.add_argument("--out", required=True, help="folder for the model, history.csv, PNGs, checkpoints/")
    train.add_argument("--epochs", type=int, help="number of epochs (default: the model's; a classifier's "
                       "joint phase, or its head's with unlabelled=pretrain)")
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--precision", choices=("32", "bf16-mixed", "16-mixed"),
                       help="mixed precision of the forward passes (default: 32, full float32)")
    train.add_argument("--compile", action="store_const", const=True, help="train through torch.compile")
    train.add_argument("--seed", type=int, default=0, help="random_state (default 0: runs are reproducible)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="any estimator parameter")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints")
    train.add_argument("--labeled", type=positive_int, metavar="N",
                       help="classifiers: keep N of the data's labels (seeded, as many per class as possible); "
                            "the other rows are unlabelled")
    _add_labels_option(train)
    train.add_argument("--log-dir", metavar="DIR", help="write TensorBoard event files there (losses, learning "
                       "rates, pictures, the codes for the projector); needs pip install 'aekit[tensorboard]'")
    train.add_argument("--log-every", type=positive_int, metavar="N",
                       help="with --log-dir: epochs between pictures (default 5)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)


def _transform_options(method, doing):
    """The options of ``aekit encode``, ``decode`` or ``reconstruct``: one estimator ``method``."""
    def add(parser: Parser) -> None:
        add_model_data_out(parser, out_help="output .npy file")
        parser.add_argument("--device")
        parser.set_defaults(run=_transform_verb(method, doing))
    return add


def add_evaluate(evaluate: Parser) -> None:
    """The options of ``aekit evaluate``."""
    evaluate.add_argument("--model", required=True)
    add_data_options(evaluate)
    evaluate.add_argument("--device")
    evaluate.add_argument("--json", action="store_true")
    _add_labels_option(evaluate)
    evaluate.set_defaults(run=cmd_evaluate)


def add_plot(plot: Parser) -> None:
    """The options of ``aekit plot``."""
    plot.add_argument("kind", choices=PLOT_KINDS,
                      help="loss-curves, gan-monitor, filters, samples and manifold need no --data; "
                           "interpolation goes between its first two rows, traversal sweeps its first")
    add_model_data_out(plot, out_help="output .png file", data_required=False)
    plot.add_argument("--n", type=positive_int, help="images or rows to show (reconstructions, denoising, filters)")
    plot.add_argument("--noise", choices=NOISE_KINDS, help="denoising: noise to apply (default: the model's)")
    plot.add_argument("--noise-level", type=float, help="denoising: its level (default: the model's)")
    plot.add_argument("--device")
    plot.set_defaults(run=cmd_plot)


def add_info(info: Parser) -> None:
    """The options of ``aekit info``."""
    info.add_argument("path", nargs="?", help="model folder written by `aekit train` (or an index folder)")
    info.add_argument("--model", help="the same, as the other verbs take it")
    info.set_defaults(run=cmd_info)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {
    "train": add_train,
    "encode": _transform_options("transform", "encode rows"),
    "decode": _transform_options("inverse_transform", "decode codes"),
    "reconstruct": _transform_options("reconstruct", "reconstruct rows"),
    "evaluate": add_evaluate,
    "plot": add_plot,
    "info": add_info,
    "list": lambda parser: parser.set_defaults(run=cmd_list),
}
