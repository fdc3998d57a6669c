"""Name -> estimator class, used by ``aekit.load``, ``aekit list`` and the CLI's MODEL argument."""

_BY_NAME: dict[str, type] = {}


def register(name):
    """Class decorator that makes an estimator known under ``name``.

    Example
    -------
    >>> @register("ae")  # doctest: +SKIP
    ... class Autoencoder(BaseAutoencoder): ...
    """

    def decorate(cls):
        if name in _BY_NAME and _BY_NAME[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered to {_BY_NAME[name].__name__}")
        _BY_NAME[name] = cls
        cls._registry_name = name
        return cls

    return decorate


def get(name):
    """The class registered under ``name`` (a registry name or a class name)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    for cls in _BY_NAME.values():
        if cls.__name__ == name:
            return cls
    raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(_BY_NAME))}")


def names():
    """Registered names, sorted, with their classes."""
    return dict(sorted(_BY_NAME.items()))
