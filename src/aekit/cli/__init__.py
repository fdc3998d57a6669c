"""The ``aekit`` command: a thin map of verbs onto the Python API.

Every error prints one line (``aekit: error: ...``) and exits with status 2; set AEKIT_DEBUG=1 to
see the traceback instead. A warning prints one line too (``aekit: warning: ...``).

``VERBS`` names each verb's module and one-line help. A verb's module (and with it torch,
scikit-learn, matplotlib) is imported only when that verb runs, so that ``aekit --version`` and
``aekit --help`` answer at once; the module's ``ADD_OPTIONS`` adds the verb's options to its parser.
"""

import importlib
import os
import sys
import warnings
from collections.abc import Collection, Sequence

from .._version import __version__
from .parsing import CLIError, Parser

# verb -> (module of aekit.cli that runs it, the help line `aekit --help` shows), in the order shown
VERBS = {
    "train": ("models", "train a model and save it with its history and pictures"),
    "encode": ("models", "write codes"),
    "decode": ("models", "decode codes (--data is a codes .npy)"),
    "reconstruct": ("models", "write reconstructions"),
    "evaluate": ("models", "print reconstruction errors of a model on data (a classifier's accuracy)"),
    "plot": ("models", "draw a picture of a saved model as a PNG"),
    "info": ("models", "describe a saved model or index"),
    "list": ("models", "registered models"),
    "compress": ("codec", "compress rows with a saved autoencoder (lossy)"),
    "decompress": ("codec", "decode a file written by `aekit compress`"),
    "predict": ("classify", "write a classifier's predicted labels (or probabilities)"),
    "sample": ("generate", "draw new instances from a VAE or GAN (.png grid or .npy rows)"),
    "demo": ("demo", "train every model on one data set and write report.html"),
    "report": ("demo", "rebuild report.html and metrics.json from a demo folder"),
    "index": ("index", "nearest-neighbour search over a model's codes"),
    "anomaly": ("anomaly", "score rows with a detector from `aekit train anomaly`"),
    "export": ("export", "write a model's encoder, decoder or scorer as an ONNX graph"),
}


def verb_module(verb: str):
    """The module of ``aekit.cli`` that adds and runs ``verb``.

    Imported here, when the verb runs, rather than at the top: this is the command's dispatch
    (``VERBS`` is its table), and it keeps torch and scikit-learn out of ``aekit --version``.
    """
    return importlib.import_module(f"{__name__}.{VERBS[verb][0]}")


def build_parser(verbs: Collection[str] | None = None) -> Parser:
    """The parser of ``aekit``. The verbs in ``verbs`` (default: all) get their options, which
    imports their modules; the others are listed with their help line only."""
    parser = Parser(prog="aekit", description="Autoencoders made practical.")
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    subparsers = parser.add_subparsers(dest="verb", required=True, parser_class=Parser)
    for verb, (_, text) in VERBS.items():
        sub = subparsers.add_parser(verb, help=text)
        if verbs is None or verb in verbs:
            verb_module(verb).ADD_OPTIONS[verb](sub)
    return parser


def _verb_in(argv):
    """The verb of a command line: its first word that is not an option (``aekit`` itself takes no
    option with a value), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def _warning_line(message, category, filename, lineno, line=None):
    # a user of the command reads what to do, not the library's file and source line
    return f"aekit: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``aekit`` and ``python -m aekit``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(verbs={_verb_in(argv)}).parse_args(argv)
        formatwarning, warnings.formatwarning = warnings.formatwarning, _warning_line
        try:
            args.run(args)
        finally:
            warnings.formatwarning = formatwarning
        sys.stdout.flush()  # here, so that a reader gone away is caught below, not at exit
    except BrokenPipeError:
        # stdout's reader stopped reading (`aekit info DIR | head -1`): as other tools, say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
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


def __getattr__(name):
    # PLOT_KINDS lives with `aekit plot`, whose module imports torch: looked up when first asked for
    if name == "PLOT_KINDS":
        return verb_module("plot").PLOT_KINDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["VERBS", "CLIError", "PLOT_KINDS", "build_parser", "main"]
