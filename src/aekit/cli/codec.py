"""Verbs of the codec: compress rows into a checked container with a saved model, and decompress."""

import inspect
from pathlib import Path

from .._fileio import atomic_write, atomic_write_bytes
from ..apps import codec
from ..saving import load as load_model
from ._common import add_model_data_out, load_data, save_npy
from .parsing import CLIError, Parser

_DEFAULT_BITS = inspect.signature(codec.compress).parameters["bits"].default


def cmd_compress(args):
    estimator = load_model(args.model, device=args.device or "auto")
    # rows on disk are encoded block by block: only the codes are held in memory
    X = load_data(args, stream=True, model=estimator).data
    data = codec.compress(estimator, X, bits=args.bits)
    atomic_write_bytes(args.out, data)
    per_row = f" ({len(data) / len(X):.1f} per row)" if len(X) else ""
    how = (f"{args.bits} bits per code" if codec.read_header(data).bits != codec.OWN_MODEL
           else "integer codes under the model's own entropy model")
    print(f"wrote {args.out}: {len(X)} rows in {len(data)} bytes{per_row}, {how}")


def cmd_decompress(args):
    path = Path(args.input)
    if not path.is_file():
        raise CLIError(f"{path}: no such file")
    estimator = load_model(args.model, device=args.device or "auto")
    try:
        X = codec.decompress(estimator, path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    atomic_write(args.out, lambda tmp: save_npy(tmp, X))
    print(f"wrote {args.out} with shape {X.shape}")


def add_compress(compress: Parser) -> None:
    """The options of ``aekit compress``."""
    add_model_data_out(compress, out_help="output file (e.g. codes.aek)")
    compress.add_argument("--bits", type=int, default=_DEFAULT_BITS,
                          help=f"quantisation bits per code dimension, 2 to 16 (default {_DEFAULT_BITS}); not used "
                               "by models with integer codes of their own (rdae, vqvae)")
    compress.add_argument("--device")
    compress.set_defaults(run=cmd_compress)


def add_decompress(decompress: Parser) -> None:
    """The options of ``aekit decompress``."""
    decompress.add_argument("--model", required=True, help="the model folder that compressed it")
    decompress.add_argument("--in", dest="input", metavar="FILE", required=True,
                            help="file written by `aekit compress`")
    decompress.add_argument("--out", required=True, help="output .npy file")
    decompress.add_argument("--device")
    decompress.set_defaults(run=cmd_decompress)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"compress": add_compress, "decompress": add_decompress}
