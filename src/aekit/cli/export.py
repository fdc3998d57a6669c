"""``aekit export``: one part of a saved model as an ONNX graph that takes raw rows."""

from ..export import PARTS
from ..saving import load as load_model
from .parsing import CLIError, Parser

FORMATS = ("onnx",)


def cmd_export(args):
    model = load_model(args.model, device="cpu")
    if not hasattr(model, "to_onnx"):
        raise CLIError(f"--model {args.model}: {type(model).__name__} has no ONNX export")
    model.to_onnx(args.out, part=args.part)
    print(f"wrote the {args.part} of {type(model).__name__} to {args.out} (input 'rows', checked with onnxruntime)")


def add_export(export: Parser) -> None:
    """The options of ``aekit export``."""
    export.add_argument("--model", required=True, help="model folder written by `aekit train`")
    export.add_argument("--format", choices=FORMATS, default="onnx", help="file format (default onnx)")
    export.add_argument("--part", choices=PARTS, default="encoder",
                        help="encoder (rows -> codes), decoder (codes -> rows) or scorer (rows -> score_samples); "
                             "default encoder. The scaler is folded in: the graph takes rows in the model's units")
    export.add_argument("--out", required=True, help="the .onnx file to write")
    export.set_defaults(run=cmd_export)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"export": add_export}
