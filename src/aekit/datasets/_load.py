"""``load``: one entry point from a built-in name or a path to a checked Bunch."""

import os
from pathlib import Path

from sklearn.utils import Bunch

from ._builtin import BUILTIN, builtin_names
from ._bunch import check_split, split_rows
from ._files import read_csv, read_npy, read_npz
from ._idx import IDX_NAME, read_idx
from ._images import read_image_folder

# suffix -> (reader, the keyword options it uses); an option given for a source that ignores it is
# an error, not a silent no-op
_BY_SUFFIX = {
    ".npy": (read_npy, ()),
    ".npz": (read_npz, ()),
    ".csv": (read_csv, ("label_column",)),
}
_IDX = (read_idx, ())
_FOLDER = (read_image_folder, ("image_size",))


def _reader(path):
    if path.is_dir():
        return _FOLDER
    if IDX_NAME.search(path.name):
        return _IDX
    if path.suffix.lower() in _BY_SUFFIX:
        return _BY_SUFFIX[path.suffix.lower()]
    raise ValueError(f"{path}: unsupported file type; expected .npy, .npz, .csv, an IDX file "
                     f"(*-idx3-ubyte[.gz]) or a folder of images")


_USED_BY = {"label_column": "CSV files", "image_size": "folders of images"}


def _reject_unused(options, used, source):
    for option, value in options.items():
        if value is not None and option not in used:
            raise ValueError(f"{option} does not apply to {source}; it is only for {_USED_BY[option]}")


def load(name_or_path: str | os.PathLike, split: str | None = None, *, label_column: str | int | None = None,
         image_size: tuple[int, int] | None = None) -> Bunch:
    """Load a built-in data set or a data file as float32 rows, with labels when it has them.

    Parameters
    ----------
    name_or_path : str or path-like
        A built-in name (see :func:`builtin_names`), which wins over a file of the same name
        (write ``./digits`` for that), or a path to a ``.npy``, ``.npz``, ``.csv`` or IDX file or to
        a folder of images.
    split : {None, "train", "test"}
        None for all rows; otherwise the fixed split described in :mod:`aekit.datasets`.
    label_column : str or int, optional
        CSV only: the column that holds the labels, by header name or index (negative counts from
        the end). The other columns are features.
    image_size : (int, int), optional
        Image folders only: (height, width) to resize every image to.

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (n_samples, n_features) float32, C-contiguous; ``target`` int64 (n_samples,) or
        None; ``image_shape`` (C, H, W) or None; ``name``; ``feature_names`` (CSV header) and
        ``target_names`` (class names) or None.

    Raises
    ------
    ValueError
        An unknown name, an invalid argument, or a file that fails a check; the message names
        the file and the problem.
    FileNotFoundError
        A built-in data set whose files are not on disk (``mnist``, ``fashion-mnist``); the
        message says where it looked and how to get them.

    Examples
    --------
    >>> train = load("digits", split="train")
    >>> train.data.shape, train.image_shape
    ((1437, 64), (1, 8, 8))
    """
    check_split(split)
    options = {"label_column": label_column, "image_size": image_size}
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        _reject_unused(options, (), f"the built-in data set {name_or_path!r}")
        return BUILTIN[name_or_path](split)
    if not isinstance(name_or_path, str | os.PathLike):
        raise TypeError(f"name_or_path must be a name or a path, got {type(name_or_path).__name__}")
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise ValueError(f"unknown data set {str(name_or_path)!r}: not a built-in name "
                         f"({', '.join(builtin_names())}) and no such file or folder")
    reader, used = _reader(path)
    _reject_unused(options, used, f"{path}")
    return split_rows(reader(path, **{k: options[k] for k in used}), split)
