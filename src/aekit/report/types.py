"""What a stage of the demo is (:class:`Stage`, made by the :func:`stage` decorator) and what it
returns (:class:`Section`). The stage modules and the runner build on these; this module imports
nothing of theirs."""

from collections.abc import Callable
from dataclasses import dataclass, field

from .context import Context


@dataclass
class Section:
    """What a stage shows: its figures (caption, matplotlib Figure), its rows of the summary table,
    and notes (sentences saying what could not be shown, and why).

    Example
    -------
    >>> section = Section()
    >>> section.row("linear autoencoder", "test squared error per row", 12.5, "PCA-16", 12.4)
    >>> section.rows[0]["baseline_value"]
    12.4
    """

    figures: list = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, model: str, metric: str, value: float | None, baseline: str | None = None,
            baseline_value: float | None = None, better: str | None = "lower") -> None:
        """Add one figure of merit, with the baseline it is set beside.

        Parameters
        ----------
        model, metric : str
            What was measured, and how (the table's columns).
        value : float or None
        baseline : str, optional
            What ``value`` is set beside: the strongest simple baseline computed in the same run
            (:meth:`beside` picks it from several).
        baseline_value : float, optional
        better : {"lower", "higher", None}
            Which direction wins; None where the baseline is a target to meet, not beat.
        """
        self.rows.append({"model": model, "metric": metric, "value": _plain(value), "baseline": baseline,
                          "baseline_value": _plain(baseline_value), "better": better})

    def beside(self, model: str, metric: str, value: float | None, baselines: dict[str, float | None],
               better: str = "lower") -> None:
        """Add one figure of merit set beside the strongest of several baselines computed in the same run.

        The row's ``baseline`` is the best of ``baselines`` in the direction ``better`` (those without
        a value are skipped; where none has one, the row says so and has no baseline value). Every
        baseline and its value stay in the row's ``baselines``, so that ``metrics.json`` shows what the
        strongest was chosen from.

        Parameters
        ----------
        model, metric : str
        value : float or None
        baselines : dict
            Baseline name -> its value on the same rows (None where it could not be measured).
        better : {"lower", "higher"}

        Example
        -------
        >>> section = Section()
        >>> section.beside("aekit", "test error", 0.25, {"logistic regression": 0.23, "MLP": 0.24})
        >>> section.rows[0]["baseline"], section.rows[0]["baseline_value"]
        ('logistic regression', 0.23)
        """
        measured = {name: v for name, v in baselines.items() if v is not None}
        pick = min if better == "lower" else max
        strongest = pick(measured, key=measured.get) if measured else f"none measured ({'; '.join(baselines)})"
        self.row(model, metric, value, strongest, measured.get(strongest), better)
        self.rows[-1]["baselines"] = {name: _plain(v) for name, v in baselines.items()}


def _plain(value):
    return None if value is None else float(value)


@dataclass
class Stage:
    """One idea of the demo: ``run(ctx)`` trains its models, measures them and draws its figures."""

    name: str
    title: str
    idea: str
    run: Callable[[Context], Section]
    cost: float  # relative training cost: what the time-left estimate weighs the stages by


def stage(name: str, title: str, cost: float = 1.0) -> Callable[[Callable[[Context], Section]], Stage]:
    """Decorator making ``run(ctx) -> Section`` the :class:`Stage` ``name``; its docstring is the
    idea the report states above the stage's figures (one paragraph).

    The decorated name is the Stage; :mod:`aekit.report.stages` lists the stages in the report's order.

    Example
    -------
    >>> @stage("nothing", "Nothing")
    ... def nothing(ctx):
    ...     "A stage that shows nothing."
    ...     return Section()
    >>> nothing.idea
    'A stage that shows nothing.'
    """
    def make(run: Callable[[Context], Section]) -> Stage:
        if not run.__doc__:
            raise TypeError(f"stage {name!r}: {run.__name__} needs a docstring, the idea the report states")
        return Stage(name, title, " ".join(run.__doc__.split()), run, cost)
    return make
