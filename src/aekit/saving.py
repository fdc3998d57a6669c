"""Saving and loading fitted estimators: a folder with ``config.json`` and ``model.safetensors``.

A saved model is a :mod:`aekit.bundle` (checksum, format version, atomic write, no pickle). Its
``config.json`` holds the class and its ``get_params()`` as JSON, the data's shape and scaler, the
training history and the fitted state beyond the weights (``_extra_state``). Loading looks the class
up by name in the registry, so this module knows no estimator class.

Example
-------
>>> ae.save("runs/ae")  # doctest: +SKIP
>>> same = aekit.load("runs/ae")  # doctest: +SKIP
"""

import os
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator

from . import bundle, registry
from .datasets.scaling import Scaler
from .devices import resolve_device

CONFIG, WEIGHTS = bundle.CONFIG, "model.safetensors"
MODEL = bundle.Kind("model", WEIGHTS, "weights_sha256", version=1)
# what load needs besides the bundle's own entries
_ENTRIES = ("class", "params", "scaler", "n_features_in")


# ---- parameters as JSON ---------------------------------------------------------------------------
def params_to_json(estimator: BaseEstimator) -> dict:
    """``get_params(deep=False)`` as JSON values: tuples become lists, a registered aekit estimator
    ``{"estimator": name, "params": {...}}`` (see :func:`estimator_to_json`), and what JSON cannot
    hold (a RandomState, a callable, another object) None.

    Example
    -------
    >>> from aekit import Autoencoder
    >>> params_to_json(Autoencoder(hidden=(8,)))["hidden"]
    [8]
    """
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if isinstance(value, BaseEstimator) and hasattr(type(value), "_registry_name"):
            value = estimator_to_json(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        elif not (value is None or isinstance(value, str | bool | int | float | list)):
            value = None
        params[name] = value
    return params


def estimator_to_json(estimator: BaseEstimator) -> dict:
    """``{"estimator": registry name, "params": params_to_json(estimator)}``: the configuration of a
    registered estimator, which :func:`estimator_from_json` turns back into an unfitted copy."""
    return {"estimator": type(estimator)._registry_name, "params": params_to_json(estimator)}


def estimator_from_json(value: dict, source: str | os.PathLike = CONFIG) -> BaseEstimator:
    """The unfitted estimator that ``{"estimator": name, "params": {...}}`` describes (the class by its
    registry or class name); lists become tuples. ``source`` names the file in errors."""
    cls = registry.get(value["estimator"])

    def decode(item):
        if isinstance(item, list):
            return tuple(item)
        if isinstance(item, dict) and set(item) == {"estimator", "params"}:
            return estimator_from_json(item, source)
        return item

    params = {name: decode(item) for name, item in value["params"].items()}
    unknown = set(params) - set(cls().get_params())
    if unknown:
        raise ValueError(f"{source}: parameters {sorted(unknown)} are unknown to {cls.__name__}")
    return cls(**params)


# ---- saving ---------------------------------------------------------------------------------------
def encode(estimator: BaseEstimator, path: str | os.PathLike) -> bundle.Bundle:
    """The files that :func:`save` writes, in memory (to be written with other bundles in one step)."""
    if not hasattr(estimator, "model_"):
        raise ValueError(f"{type(estimator).__name__} is not fitted: call fit before save")
    config = {
        "class": type(estimator).__name__,
        "model": getattr(type(estimator), "_registry_name", None),
        "params": params_to_json(estimator),
        "n_features_in": int(estimator.n_features_in_),
        "image_shape": list(estimator.image_shape_) if estimator.image_shape_ else None,
        "scaler": estimator.scaler_.to_dict(),
        "history": estimator.history_,
    }
    if hasattr(estimator, "_extra_state"):
        # fitted values beyond the weights (a threshold, class labels, code ranges), as JSON
        config["state"] = estimator._extra_state()
    return bundle.encode(path, MODEL, config, estimator.model_.state_dict())


def save(estimator: BaseEstimator, path: str | os.PathLike) -> None:
    """Write a fitted estimator to the folder ``path`` (created if needed).

    Example
    -------
    >>> save(ae, "runs/ae")  # doctest: +SKIP
    >>> same = load("runs/ae")  # doctest: +SKIP
    """
    bundle.write(encode(estimator, path))


# ---- loading --------------------------------------------------------------------------------------
def read_config(path: str | os.PathLike) -> dict:
    """``config.json`` of the model folder ``path``, checked as :func:`load` checks it."""
    path = Path(path)
    config = bundle.read_config(path, MODEL)
    if "data_sha256" in config:  # what CodeIndex.save writes
        built_with_model = config.get("model_weights_sha256") is not None
        model = f"its model is in {path / 'model'}" if built_with_model else "it was built without one"
        raise ValueError(f"{path}: a code index, not a model; {model} (`aekit index query --index` searches it)")
    bundle.require(config, path, *_ENTRIES, MODEL.checksum)
    return config


def load(path: str | os.PathLike, device: str | torch.device = "auto") -> BaseEstimator:
    """Rebuild a fitted estimator saved by :func:`save`; it gives the same outputs as the original.

    The fitted state is restored first (``_set_extra_state``), then the network is built for it and
    filled with the saved weights.

    Raises ValueError naming the file when it is missing, truncated, altered, a pickle, or from a
    newer format.
    """
    path = Path(path)
    config = read_config(path)
    weights = bundle.read_tensors(path, MODEL, config)

    estimator = estimator_from_json({"estimator": config["class"], "params": config["params"]}, path / CONFIG)
    estimator.n_features_in_ = config["n_features_in"]
    estimator.image_shape_ = tuple(config["image_shape"]) if config.get("image_shape") else None
    estimator.scaler_ = Scaler.from_dict(config["scaler"])
    estimator.history_ = config.get("history", [])
    if hasattr(estimator, "_set_extra_state"):
        estimator._set_extra_state(config.get("state") or {})
    # its initial weights are overwritten: building must not move the caller's random stream
    with torch.random.fork_rng(devices=[]):
        net = estimator._build_net(estimator.n_features_in_, estimator.image_shape_)
    try:
        net.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(f"{path / WEIGHTS}: weights do not fit the configured network ({exc})") from None
    estimator.model_ = net.to(resolve_device(device)).eval()
    estimator.n_parameters_ = sum(p.numel() for p in net.parameters())
    return estimator


__all__ = ["CONFIG", "MODEL", "WEIGHTS", "encode", "estimator_from_json", "estimator_to_json", "load",
           "params_to_json", "read_config", "save"]
