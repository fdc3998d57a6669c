"""``aekit sample``: new instances from a generative model (VAE or GAN), as a picture or an array."""

from pathlib import Path

from .. import plots
from .._fileio import atomic_write
from ..saving import load as load_model
from ._common import positive_int, save_figure, save_npy
from .parsing import CLIError, Parser


def cmd_sample(args):
    estimator = load_model(args.model, device=args.device or "auto")
    if not hasattr(estimator, "sample"):
        raise CLIError(f"{args.model}: {type(estimator).__name__} does not generate; "
                       "sample needs a VAE or a GAN")
    suffix = Path(args.out).suffix.lower()
    if suffix == ".npy":
        rows = estimator.sample(args.n, random_state=args.seed)
        atomic_write(args.out, lambda tmp: save_npy(tmp, rows))
    elif suffix == ".png":
        if args.n > plots.MAX_IMAGES:
            raise CLIError(f"--n {args.n}: a .png shows at most {plots.MAX_IMAGES} samples; "
                           "write a .npy for more")
        save_figure(plots.samples(estimator, args.n, random_state=args.seed), args.out)
    else:
        raise CLIError(f"--out {args.out}: give a .png (a grid of images) or a .npy (the rows)")
    print(f"wrote {args.n} samples to {args.out}")


def add_sample(sample: Parser) -> None:
    """The options of ``aekit sample``."""
    sample.add_argument("--model", required=True, help="model folder written by `aekit train`")
    sample.add_argument("--n", type=positive_int, default=64, help="how many (default 64)")
    sample.add_argument("--out", required=True, help="grid.png or rows.npy")
    sample.add_argument("--seed", type=int, default=0, help="random_state of the draw (default 0)")
    sample.add_argument("--device")
    sample.set_defaults(run=cmd_sample)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"sample": add_sample}
