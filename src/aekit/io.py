"""Saving and loading fitted estimators: a folder with ``config.json`` and ``model.safetensors``.

Nothing here ever unpickles: weights are read with safetensors, everything else is JSON, and the
class is looked up by name in the registry. ``config.json`` records the SHA-256 of the weights so
that a truncated or altered weights file is refused instead of half-loaded.
"""

import hashlib
import json
from pathlib import Path

from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_bytes

from . import registry
from ._fileio import atomic_write_files
from ._version import __version__
from .datasets.scaling import Scaler
from .devices import resolve_device
from .estimators._base import _json_params

FORMAT_VERSION = 1
CONFIG, WEIGHTS = "config.json", "model.safetensors"
# First bytes of pickle (protocol 2+) and of zip archives (torch.save): refused, never opened.
_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")


def save(estimator, path):
    """Write a fitted estimator to the folder ``path`` (created if needed).

    Example
    -------
    >>> ae.save("runs/ae")  # doctest: +SKIP
    >>> same = aekit.load("runs/ae")  # doctest: +SKIP
    """
    if not hasattr(estimator, "model_"):
        raise ValueError(f"{type(estimator).__name__} is not fitted: call fit before save")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file: a model is saved into a folder")
    state = {k: v.detach().cpu().contiguous() for k, v in estimator.model_.state_dict().items()}
    weights = safetensors_bytes(state)
    config = {
        "class": type(estimator).__name__,
        "model": getattr(type(estimator), "_registry_name", None),
        "format_version": FORMAT_VERSION,
        "aekit_version": __version__,
        "params": _json_params(estimator),
        "n_features_in": int(estimator.n_features_in_),
        "image_shape": list(estimator.image_shape_) if estimator.image_shape_ else None,
        "scaler": estimator.scaler_.to_dict(),
        "history": estimator.history_,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    if hasattr(estimator, "_extra_state"):
        # fitted values beyond the weights (a threshold, class labels, code ranges), as JSON
        config["state"] = estimator._extra_state()
    atomic_write_files({path / WEIGHTS: weights, path / CONFIG: json.dumps(config, indent=2).encode()})


def _read_config(path):
    config_path = path / CONFIG
    if path.is_file():
        with open(path, "rb") as f:
            head = f.read(4)
        if head.startswith(_PICKLE_MAGIC):
            raise ValueError(f"{path}: looks like a pickle/torch.save file; aekit never unpickles files "
                             "(it could run arbitrary code). Give the folder written by save().")
        raise ValueError(f"{path}: expected a model folder holding {CONFIG} and {WEIGHTS}")
    if not config_path.exists():
        raise ValueError(f"{path}: no {CONFIG} here; is this a folder written by aekit's save()?")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{config_path}: not valid JSON ({exc})") from None
    if "data_sha256" in config:  # what CodeIndex.save writes
        built_with_model = config.get("model_weights_sha256") is not None
        model = f"its model is in {path / 'model'}" if built_with_model else "it was built without one"
        raise ValueError(f"{path}: a code index, not a model; {model} (`aekit index query --index` searches it)")
    missing = {"class", "format_version", "params", "weights_sha256", "scaler", "n_features_in"} - set(config)
    if missing:
        raise ValueError(f"{config_path}: missing entries {sorted(missing)}")
    if config["format_version"] > FORMAT_VERSION:
        raise ValueError(f"{config_path}: format version {config['format_version']} was written by aekit "
                         f"{config.get('aekit_version')}; this aekit ({__version__}) reads up to "
                         f"{FORMAT_VERSION}: upgrade aekit")
    return config


def load(path, device="auto"):
    """Rebuild a fitted estimator saved by :func:`save`; it gives the same outputs as the original.

    Raises ValueError naming the file when it is missing, truncated, altered, a pickle, or from a
    newer format.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such model folder")
    config = _read_config(path)
    weights_path = path / WEIGHTS
    if not weights_path.exists():
        raise ValueError(f"{path}: {WEIGHTS} is missing")
    weights = weights_path.read_bytes()
    if hashlib.sha256(weights).hexdigest() != config["weights_sha256"]:
        raise ValueError(f"{weights_path}: contents do not match the checksum in {CONFIG} "
                         "(the file is truncated or was changed after saving)")
    state = safetensors_load(weights)

    cls = registry.get(config["class"])
    estimator = _rebuild(cls, config["params"], path / CONFIG)
    estimator.n_features_in_ = config["n_features_in"]
    estimator.image_shape_ = tuple(config["image_shape"]) if config.get("image_shape") else None
    estimator.scaler_ = Scaler.from_dict(config["scaler"])
    estimator.history_ = config.get("history", [])
    net = estimator._build_net(estimator.n_features_in_, estimator.image_shape_)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{weights_path}: weights do not fit the configured network ({exc})") from None
    estimator.model_ = net.to(resolve_device(device)).eval()
    estimator.n_parameters_ = sum(p.numel() for p in net.parameters())
    if hasattr(estimator, "_set_extra_state"):
        estimator._set_extra_state(config.get("state") or {})
    return estimator


def _rebuild(cls, json_params, config_path):
    """An unfitted ``cls`` from the JSON form of its parameters (see ``_json_params``)."""
    def decode(value):
        if isinstance(value, list):
            return tuple(value)
        if isinstance(value, dict) and set(value) == {"estimator", "params"}:
            return _rebuild(registry.get(value["estimator"]), value["params"], config_path)
        return value

    params = {k: decode(v) for k, v in json_params.items()}
    unknown = set(params) - set(cls().get_params())
    if unknown:
        raise ValueError(f"{config_path}: parameters {sorted(unknown)} are unknown to {cls.__name__}")
    return cls(**params)


__all__ = ["load", "save"]
