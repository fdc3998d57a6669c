"""The demo (:func:`run_demo`: every model of the toolkit on one data set) and its report
(:func:`build_report`: a self-contained HTML file and ``metrics.json``)."""

from .html import build_report, read_metrics
from .runner import run_demo

__all__ = ["build_report", "read_metrics", "run_demo"]
