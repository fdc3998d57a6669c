"""A declarative table of allowed parameter values, checked in ``fit`` (scikit-learn's convention:
``__init__`` stores, ``fit`` validates) with errors that name the parameter."""

import numbers


def store(estimator, arguments: dict) -> None:
    """What scikit-learn asks of ``__init__``: every argument stored, unchanged, under its own name.

    Call it as ``store(self, locals())``, first thing in ``__init__`` (``locals()`` then holds the
    arguments and ``self`` alone).
    """
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


class Spec:
    """An allowed set of values: ``test(value) -> bool`` and a phrase for the error message."""

    def __init__(self, test, phrase):
        self.test = test
        self.phrase = phrase

    def __or__(self, other):
        return Spec(lambda v: self.test(v) or other.test(v), f"{self.phrase} or {other.phrase}")


def one_of(*values):
    return Spec(lambda v: isinstance(v, str | type(None) | bool) and v in values,
                "one of " + ", ".join(repr(v) for v in values))


def integer(low=None, high=None):
    def test(v):
        return (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                and (low is None or v >= low) and (high is None or v <= high))
    bounds = f" >= {low}" if high is None else f" in [{low}, {high}]"
    return Spec(test, "an integer" + (bounds if low is not None else ""))


def real(low=None, high=None, low_open=False):
    def test(v):
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            return False
        above = low is None or (v > low if low_open else v >= low)
        return above and (high is None or v <= high)
    left = "(" if low_open else "["
    return Spec(test, f"a number in {left}{low}, {high if high is not None else 'inf'})")


def widths():
    return Spec(lambda v: isinstance(v, tuple | list) and all(isinstance(w, numbers.Integral)
                                                             and not isinstance(w, bool) and w > 0 for w in v),
                "a tuple of positive integers")


NONE = Spec(lambda v: v is None, "None")


def device():
    def test(v):
        return isinstance(v, str) and (v in ("auto", "cpu", "cuda", "mps") or
                                       (v.startswith("cuda:") and v[5:].isdigit()))
    return Spec(test, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")


def check_params(estimator, table):
    """Raise ValueError naming the first parameter of ``estimator`` whose value ``table`` does not allow."""
    for name, value in estimator.get_params(deep=False).items():
        spec = table[name]
        if not spec.test(value):
            # an estimator's repr runs over several lines; its class says enough
            shown = f"a {type(value).__name__}" if hasattr(value, "get_params") else repr(value)
            raise ValueError(f"{type(estimator).__name__}: invalid value {name}={shown}; expected {spec.phrase}")
