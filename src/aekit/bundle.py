"""The one layer that writes and reads every saved thing of aekit: a *bundle*.

A bundle is a folder holding ``config.json`` (JSON: what the thing is, its settings, its format
version, the SHA-256 of its tensors) and one ``.safetensors`` file of tensors. Models, code indexes
and the reference classifier's cache are bundles; the codec's model hash uses the same digest.

Nothing here ever unpickles: tensors are read with safetensors, everything else is JSON, and a
pickle or ``torch.save`` archive given in place of a bundle is refused after reading its first
bytes. All the files of a write (of one bundle, or of several written together) are renamed into
place only once every one of them is written in full, so a crash or a full disk leaves the earlier
files as they were. Every problem on reading is a ValueError naming the file.

Example
-------
>>> import torch
>>> from aekit import bundle
>>> kind = bundle.Kind("example", "data.safetensors", "data_sha256")
>>> bundle.write(bundle.encode("runs/example", kind, {"size": 3}, {"x": torch.ones(3)}))  # doctest: +SKIP
>>> config, tensors = bundle.read("runs/example", kind)  # doctest: +SKIP
>>> config["size"], tensors["x"].tolist()  # doctest: +SKIP
(3, [1.0, 1.0, 1.0])
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_bytes

from ._fileio import atomic_write_files
from ._version import __version__

CONFIG = "config.json"
VERSION_KEY = "format_version"
# First bytes of pickle (protocol 2+) and of zip archives (torch.save): refused, never opened.
PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")


@dataclass(frozen=True)
class Kind:
    """One kind of bundle: what it is called in messages and how its folder is laid out.

    Parameters
    ----------
    name : str
        What the folder holds, for messages ("model", "code index").
    tensors : str
        File name of the tensors, beside ``config.json``.
    checksum : str
        The ``config.json`` entry holding the SHA-256 (hex) of the tensors file.
    version : int, default=1
        The format version written; a bundle of a newer one is refused.
    """

    name: str
    tensors: str
    checksum: str
    version: int = 1


class Bundle(NamedTuple):
    """A bundle encoded in memory: its ``config`` and its files' contents by path."""

    config: dict
    files: dict


# ---- shared helpers -------------------------------------------------------------------------------
def cpu_tensors(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` (a ``state_dict()``) as detached, contiguous CPU tensors: what safetensors writes."""
    return {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}


def tensor_bytes(state: Mapping[str, torch.Tensor]) -> bytes:
    """The safetensors serialisation of ``state`` (tensors anywhere: they are copied to the CPU)."""
    return safetensors_bytes(cpu_tensors(state))


def digest(*parts: bytes) -> str:
    """SHA-256 (hex) of ``parts`` one after the other.

    Example
    -------
    >>> digest(b"ab", b"c") == digest(b"abc")
    True
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()


def require(config: Mapping, folder, *entries: str) -> None:
    """Raise ValueError naming ``folder``'s ``config.json`` when any of ``entries`` is missing."""
    missing = set(entries) - set(config)
    if missing:
        raise ValueError(f"{Path(folder) / CONFIG}: missing entries {sorted(missing)}")


# ---- writing --------------------------------------------------------------------------------------
def encode(folder, kind: Kind, config: Mapping, tensors: Mapping[str, torch.Tensor | np.ndarray]) -> Bundle:
    """The files of a bundle of ``kind`` in ``folder``, in memory: nothing is written yet.

    ``config`` (JSON values) gets the format version, the aekit version and the tensors' checksum;
    ``tensors`` may be torch tensors anywhere or numpy arrays.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file: a {kind.name} is saved into a folder")
    data = tensor_bytes({name: torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray)
                         else value for name, value in tensors.items()})
    config = {VERSION_KEY: kind.version, "aekit_version": __version__, **config, kind.checksum: digest(data)}
    return Bundle(config, {folder / kind.tensors: data, folder / CONFIG: json.dumps(config, indent=2).encode()})


def write(*bundles: Bundle) -> None:
    """Write the files of ``bundles`` as one step: none is renamed into place before all are written."""
    atomic_write_files({path: data for b in bundles for path, data in b.files.items()})


# ---- reading --------------------------------------------------------------------------------------
def _refuse_pickle(path):
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(PICKLE_MAGIC):
        raise ValueError(f"{path}: looks like a pickle/torch.save file; aekit never unpickles files "
                         "(it could run arbitrary code). Give the folder written by save().")


def read_config(folder, kind: Kind) -> dict:
    """``config.json`` of the bundle in ``folder``, checked: present, a JSON object, of a format
    version this aekit reads. Its entries are the caller's to check (see :func:`require`)."""
    folder = Path(folder)
    if not folder.exists():
        raise ValueError(f"{folder}: no such {kind.name} folder")
    if folder.is_file():
        _refuse_pickle(folder)
        raise ValueError(f"{folder}: expected a {kind.name} folder holding {CONFIG} and {kind.tensors}")
    config_path = folder / CONFIG
    if not config_path.exists():
        raise ValueError(f"{folder}: no {CONFIG} here; is this a folder written by aekit's save()?")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{config_path}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{config_path}: not valid JSON for a {kind.name} (a {type(config).__name__}, "
                         "expected an object)")
    require(config, folder, VERSION_KEY)
    version = config[VERSION_KEY]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{config_path}: {VERSION_KEY} must be an integer, got {version!r}")
    if version > kind.version:
        raise ValueError(f"{config_path}: format version {version} was written by aekit "
                         f"{config.get('aekit_version')}; this aekit ({__version__}) reads up to "
                         f"{kind.version}: upgrade aekit")
    return config


def read_tensors(folder, kind: Kind, config: Mapping) -> dict[str, torch.Tensor]:
    """The tensors of the bundle in ``folder`` (CPU), after checking them against ``config``'s checksum."""
    folder = Path(folder)
    require(config, folder, kind.checksum)
    path = folder / kind.tensors
    if not path.is_file():
        raise ValueError(f"{folder}: {kind.tensors} is missing")
    data = path.read_bytes()
    if digest(data) != config[kind.checksum]:
        raise ValueError(f"{path}: contents do not match the checksum in {CONFIG} "
                         "(the file is truncated or was changed after saving)")
    try:
        return safetensors_load(data)
    except SafetensorError as exc:
        # only now: a safetensors header length may begin with a pickle's first byte
        _refuse_pickle(path)
        raise ValueError(f"{path}: not a safetensors file ({exc})") from None


def read(folder, kind: Kind) -> tuple[dict, dict[str, torch.Tensor]]:
    """``(config, tensors)`` of the bundle of ``kind`` in ``folder``, checked (see :func:`read_config`
    and :func:`read_tensors`)."""
    config = read_config(folder, kind)
    return config, read_tensors(folder, kind, config)


__all__ = ["CONFIG", "Bundle", "Kind", "cpu_tensors", "digest", "encode", "read", "read_config", "read_tensors",
           "require", "tensor_bytes", "write"]
