"""A folder of images (anything Pillow reads: PNG, JPEG, ...), with one subfolder per class or none.

Images become grayscale when every one of them is, else RGB, and are resized to one common size so
that they stack into a single (N, C, H, W) array. Pixel values (8-bit) are divided by 255.
"""

from collections import Counter
from numbers import Integral
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.utils import Bunch

from ._bunch import make_bunch

_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def _visible(path, root):
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _files(folder):
    return sorted(p for p in folder.iterdir() if p.is_file() and _visible(p, folder))


def _check_image_size(image_size):
    if image_size is None:
        return None
    if (isinstance(image_size, tuple | list) and len(image_size) == 2
            and all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in image_size)):
        return int(image_size[0]), int(image_size[1])
    raise ValueError(f"image_size must be (height, width) with two positive integers, got {image_size!r}")


def _list_images(path):
    """The image files and their class numbers (None when unlabelled) and class names."""
    classes = sorted(p for p in path.iterdir() if p.is_dir() and _visible(p, path))
    loose = _files(path)
    if not classes:
        if not loose:
            raise ValueError(f"{path}: empty folder: no images and no class subfolders")
        return loose, None, None
    if loose:
        raise ValueError(f"{path}: has class subfolders and also loose files such as {loose[0].name!r}; "
                         f"put every image in the subfolder of its class")
    files, target = [], []
    for k, folder in enumerate(classes):
        found = sorted(p for p in folder.rglob("*") if p.is_file() and _visible(p, folder))
        if not found:
            raise ValueError(f"{folder}: class folder has no images")
        files += found
        target += [k] * len(found)
    return files, target, [c.name for c in classes]


def _open(file):
    try:
        return Image.open(file)
    except OSError as e:  # includes PIL.UnidentifiedImageError
        raise ValueError(f"{file}: not an image Pillow can read ({e})") from None


def read_image_folder(path: Path, image_size: tuple[int, int] | None = None) -> Bunch:
    """All images under ``path`` as one checked Bunch with ``image_shape`` (C, H, W).

    Parameters
    ----------
    path : pathlib.Path
        A folder of images, or a folder of class subfolders of images (sorted subfolder names
        become classes 0..K-1 and ``target_names``). Every visible file must be an image.
    image_size : (int, int) or None
        (height, width) to resize to; by default the most common size among the files (the first
        in sorted file order on a tie).

    Examples
    --------
    >>> b = read_image_folder(Path("faces"), image_size=(32, 32))  # doctest: +SKIP
    >>> b.image_shape  # doctest: +SKIP
    (1, 32, 32)
    """
    size = _check_image_size(image_size)
    files, target, names = _list_images(path)
    # a first pass over headers only (Pillow opens lazily) fixes the mode and size before decoding
    modes, sizes = [], []
    for file in files:
        with _open(file) as im:
            modes.append(im.mode)
            sizes.append(im.size)
    mode = "L" if all(m in _GRAY_MODES for m in modes) else "RGB"
    width, height = (size[1], size[0]) if size else Counter(sizes).most_common(1)[0][0]
    pixels = np.empty((len(files), height, width, 1 if mode == "L" else 3), dtype=np.uint8)
    for i, file in enumerate(files):
        with _open(file) as im:
            try:
                im = im.convert(mode)
            except OSError as e:  # a truncated or corrupt file fails only when decoded
                raise ValueError(f"{file}: not an image Pillow can read ({e})") from None
            if im.size != (width, height):
                im = im.resize((width, height), Image.Resampling.BILINEAR)
            pixels[i] = np.asarray(im).reshape(height, width, -1)
    # (N, H, W, C) -> (N, C, H, W), the layout image_shape promises
    images = pixels.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
    return make_bunch(images, target, source=str(path), name=path.name, target_names=names)
