"""``aekit demo`` (train the whole family and write the report) and ``aekit report`` (rebuild it)."""

import sys

from tqdm.auto import tqdm

from ..report import build_report, run_demo
from ._common import output_folder
from .parsing import Parser


def cmd_demo(args):
    output_folder(args.out)
    only = [name.strip() for name in args.only.split(",")] if args.only else None
    # a live line (stage, model in training, elapsed) on a terminal; the stage lines alone elsewhere
    live = sys.stderr.isatty() and not args.quiet
    stage = ""
    with tqdm(total=None, bar_format="{desc} [{elapsed}]", file=sys.stderr, disable=not live) as bar:
        def progress(message):
            nonlocal stage
            if message.startswith("["):  # a new stage: its line stays, with the time left
                if not args.quiet:
                    tqdm.write(message, file=sys.stderr)
                stage, message = message.split(" (about")[0], ""
            bar.set_description_str(f"{stage}: training {message}" if message else stage)
        path = run_demo(args.data, args.out, quick=args.quick, only=only, retrain=args.retrain, progress=progress)
    print(f"wrote {path}")


def cmd_report(args):
    print(f"wrote {build_report(args.dir)}")


def add_demo(demo: Parser) -> None:
    """The options of ``aekit demo``."""
    demo.add_argument("--data", default="mnist5k", help="mnist5k (default), digits, fashion-mnist or a path")
    demo.add_argument("--out", default="runs/demo", help="folder for models, figures and the report")
    demo.add_argument("--quick", action="store_true", help="a small slice of the data, few epochs (~1 minute)")
    demo.add_argument("--only", help="comma-separated stages, e.g. pca,vae (see the report's sections)")
    demo.add_argument("--retrain", action="store_true", help="train again even where models are saved")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.set_defaults(run=cmd_demo)


def add_report(report: Parser) -> None:
    """The options of ``aekit report``."""
    report.add_argument("dir", help="the --out folder of `aekit demo`")
    report.set_defaults(run=cmd_report)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"demo": add_demo, "report": add_report}
