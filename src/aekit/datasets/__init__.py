"""Data sets as float32 matrices: built-in sets, array files, CSV, IDX files and image folders.

``load(name_or_path, split=None)`` returns a :class:`sklearn.utils.Bunch` with ``data``
(n_samples, n_features) float32, ``target`` int64 or None, ``image_shape`` (C, H, W) or None,
``name``, ``feature_names`` and ``target_names``. Every source passes the same checks.

Splits
------
``split=None`` gives every row. ``split="train"`` / ``"test"`` give a fixed split:

* ``mnist`` and ``fashion-mnist``: the official files (60,000 ``train-*`` / 10,000 ``t10k-*``);
  ``split=None`` is the two joined, train first.
* everything else: ``sklearn.model_selection.train_test_split(rows, test_size=0.2,
  random_state=0)``, stratified by the labels when there are labels, every class has at least two
  rows and there are at least as many rows as classes on each side; rows come in the order that
  call returns them. ``mnist5k`` gives 4,000 train / 1,000 test rows, ``digits`` 1,437 / 360.

Values
------
Built-in sets, IDX files with uint8 pixels and image folders are scaled into [0, 1]; ``.npy``,
``.npz`` and ``.csv`` values are kept as they are (see :class:`Scaler` for scaling).

Data larger than memory
-----------------------
``open_rows(path)`` opens a ``.npy`` file, or a folder of ``.npy`` shards, as a :class:`RowStream`
that reads rows from disk in blocks; estimators train on it without loading it (see
:mod:`aekit.datasets.stream`).

Errors
------
Every problem with an argument or a file is a ``ValueError`` whose message names the file (or
data set) and the problem: unknown name, bad ``split``, empty data, NaN or infinite values,
non-numeric cells, ragged rows, wrong dimensions, a missing label column, a truncated IDX file,
a label count that differs from the row count, a file that is not an image. A built-in set whose
files are missing (``mnist``, ``fashion-mnist``) raises ``FileNotFoundError`` saying where it
looked: ``$AEKIT_DATA/<name>/``, ``$AEKIT_DATA/``, then ``/usr/share/datasets/<name>/`` (where
Debian's ``dataset-fashion-mnist`` package puts Fashion-MNIST).

Examples
--------
>>> from aekit.datasets import load, Scaler
>>> digits = load("digits", split="test")
>>> digits.data.shape, digits.target[:3]
((360, 64), array([7, 6, 3]))
>>> X = Scaler("standard").fit_transform(digits.data)
"""

from ._builtin import BUILTIN, builtin_names
from ._load import load
from .scaling import Scaler
from .stream import RowStream, open_rows
from .synthetic import make_superposition

__all__ = ["BUILTIN", "RowStream", "Scaler", "builtin_names", "load", "make_superposition", "open_rows"]
