"""Name -> estimator class, used by ``aekit.load``, ``aekit list`` and the CLI's MODEL argument."""

import importlib
from collections.abc import Callable
from typing import TypeVar

_BY_NAME: dict[str, type] = {}
_Class = TypeVar("_Class", bound=type)
# The modules whose classes register themselves. ``import aekit`` no longer imports them (it loads
# names on first use), so a lookup imports them first: loading a saved classifier then works
# whichever modules the caller happened to import.
_REGISTERING = ("aekit.estimators", "aekit.estimators.rate_distortion", "aekit.estimators.vqvae",
                "aekit.apps.classifier", "aekit.apps.anomaly")


def _import_registering():
    for module in _REGISTERING:
        importlib.import_module(module)


def register(name: str) -> Callable[[_Class], _Class]:
    """Class decorator that makes an estimator known under ``name``.

    Example
    -------
    >>> @register("ae")  # doctest: +SKIP
    ... class Autoencoder(BaseAutoencoder): ...
    """

    def decorate(cls: _Class) -> _Class:
        if name in _BY_NAME and _BY_NAME[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {_BY_NAME[name].__name__}")
        _BY_NAME[name] = cls
        cls._registry_name = name
        return cls

    return decorate


def get(name: str) -> type:
    """The class registered under ``name`` (a registry name or a class name)."""
    _import_registering()
    if name in _BY_NAME:
        return _BY_NAME[name]
    for cls in _BY_NAME.values():
        if cls.__name__ == name:
            return cls
    raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(_BY_NAME))}")


def names() -> dict[str, type]:
    """Registered names, sorted, with their classes."""
    _import_registering()
    return dict(sorted(_BY_NAME.items()))
