"""The ``index`` verb: build a code index of data with a saved model, and query it."""

import csv
import io

from .._fileio import atomic_write, atomic_write_text
from ..apps.retrieval import METRICS, CodeIndex
from ..saving import load as load_model
from ._common import (
    add_data_options,
    add_model_data_out,
    load_data,
    output_folder,
    positive_int,
    require,
    save_npy,
)
from .parsing import CLIError, Parser


def cmd_build(args):
    output_folder(args.out)
    estimator = load_model(args.model, device=args.device or "auto")
    require(estimator, "transform", args.model, "encode rows")
    given = {"metric": args.metric, "binary_bits": args.bits, "approximate": args.approximate or None}
    index = CodeIndex(estimator, **{k: v for k, v in given.items() if v is not None})
    index.add(load_data(args, stream=True, model=estimator).data)
    index.save(args.out)
    print(f"indexed {len(index)} rows as {index.dim_}-dimensional codes ({index.metric}); saved to {args.out}")


def _results_csv(distances, ids):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["query", "rank", "id", "distance"])
    for query, (row_ids, row_distances) in enumerate(zip(ids, distances)):
        for rank, (id_, distance) in enumerate(zip(row_ids, row_distances), 1):
            writer.writerow([query, rank, id_, distance])
    return out.getvalue()


def cmd_query(args):
    out = args.out
    if out is not None and not out.endswith((".npy", ".csv")):
        raise CLIError(f"--out {out}: expected a .npy (ids) or .csv (ids and distances) file")
    index = CodeIndex.load(args.index, device=args.device or "auto")
    distances, ids = index.search(load_data(args, stream=True, model=index.estimator,
                                             model_source=f"the model of --index {args.index}").data, args.k)
    if out is None:
        print(_results_csv(distances, ids), end="")
    elif out.endswith(".npy"):
        atomic_write(out, lambda tmp: save_npy(tmp, ids))
        print(f"wrote {out} with the ids of the {args.k} nearest items of {len(ids)} queries")
    else:
        atomic_write_text(out, _results_csv(distances, ids))
        print(f"wrote {out} with ids and distances of the {args.k} nearest items of {len(ids)} queries")


def add_index(index: Parser) -> None:
    """The actions of ``aekit index``: ``build`` and ``query``."""
    actions = index.add_subparsers(dest="action", required=True, parser_class=Parser)

    build = actions.add_parser("build", help="encode data with a model and save a searchable index")
    add_model_data_out(build, out_help="folder for the index (the model is copied into it)")
    build.add_argument("--metric", choices=METRICS,
                       help="default euclidean; hamming binarises the codes (semantic hashing)")
    build.add_argument("--bits", type=positive_int, help="hamming: expected bits per item (the code width)")
    build.add_argument("--approximate", action="store_true", help="inverted-file search, for large collections")
    build.add_argument("--device")
    build.set_defaults(run=cmd_build)

    query = actions.add_parser("query", help="the nearest indexed rows of each query row")
    query.add_argument("--index", required=True, help="folder written by `aekit index build`")
    add_data_options(query)
    query.add_argument("--k", type=positive_int, default=10, help="neighbours per query (default 10)")
    query.add_argument("--out", help=".npy (ids) or .csv (query, rank, id, distance); default: print the CSV")
    query.add_argument("--device")
    query.set_defaults(run=cmd_query)


# verb -> what adds its options to its parser (see aekit.cli.VERBS)
ADD_OPTIONS = {"index": add_index}
