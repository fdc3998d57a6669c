"""What the ``aekit`` command needs before it knows its verb: the one-line error type and the
argument parser that raises it. Standard library only, so that ``aekit --version`` and
``aekit --help`` import nothing heavy."""

import argparse
from typing import NoReturn


class CLIError(Exception):
    """A user mistake on the command line; shown as one line."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`CLIError` (``main`` prints them as one line)
    instead of a usage message and ``SystemExit``."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(message)
