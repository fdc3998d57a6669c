"""The ``aekit`` command: a thin map of verbs onto the Python API.

Every error prints one line (``aekit: error: ...``) and exits with status 2; set AEKIT_DEBUG=1 to
see the traceback instead. A warning prints one line too (``aekit: warning: ...``). Each module
named in ``VERB_MODULES`` adds its verbs through ``add_verbs``.
"""

import importlib
import os
import sys
import warnings

from .._version import __version__
from ._common import CLIError, _Parser
from .models import PLOT_KINDS

VERB_MODULES = (
    "models",
    "codec",
    "classify",
    "generate",
    "demo",
    "index",
    "anomaly",
)


def build_parser():
    parser = _Parser(prog="aekit", description="Autoencoders made practical.")
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for name in VERB_MODULES:
        importlib.import_module(f"{__name__}.{name}").add_verbs(verbs)
    return parser


def _warning_line(message, category, filename, lineno, line=None):
    # a user of the command reads what to do, not the library's file and source line
    return f"aekit: warning: {message}\n"


def main(argv=None):
    """Entry point of ``aekit`` and ``python -m aekit``; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
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


__all__ = ["CLIError", "PLOT_KINDS", "build_parser", "main"]
