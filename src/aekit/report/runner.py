"""``aekit demo``: train every model of the toolkit on one data set and keep what each shows.

A stage (see :mod:`aekit.report.stages`) trains its models, measures them and draws its figures; the
runner saves the result of each stage as it finishes (``stages/NAME.json`` + ``figures/*.png`` +
``models/*``), so a stopped run keeps every finished stage and a second run with the same output
folder reuses them. The report (:func:`aekit.report.build_report`) is made from those files alone.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import datasets
from ..datasets._bunch import take_rows
from .._fileio import atomic_write, atomic_write_text
from ..saving import load as load_model
from ..saving import params_to_json

# the quick run's slice of the data: enough rows for every stage to learn something in seconds
_QUICK_ROWS = {"train": 1000, "test": 300}


@dataclass
class Section:
    """What a stage shows: its figures (caption, Figure) and its rows of the summary table."""

    figures: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def row(self, model, metric, value, baseline=None, baseline_value=None, better="lower"):
        """One figure of merit, with the baseline it is set beside and which direction is better
        ("lower", "higher", or None where the baseline is a target to meet)."""
        self.rows.append({"model": model, "metric": metric, "value": _plain(value), "baseline": baseline,
                          "baseline_value": _plain(baseline_value), "better": better})


def _plain(value):
    return None if value is None else float(value)


class Context:
    """What a stage may use: the data, the budget, and a cache of trained models under ``out/models``."""

    def __init__(self, data, out, quick, retrain, progress, seed=0):
        train, test = datasets.load(data, split="train"), datasets.load(data, split="test")
        if quick:
            train, test = (take_rows(b, np.arange(min(len(b.data), _QUICK_ROWS[s])))
                           for b, s in ((train, "train"), (test, "test")))
        self.train, self.test = train, test
        self.X, self.X_test = train.data, test.data
        self.y, self.y_test = train.target, test.target
        self.image_shape = train.image_shape
        self.out, self.quick, self.retrain, self.seed = Path(out), quick, retrain, seed
        self.progress = progress
        self.data_name = train.name
        self.source = data

    def epochs(self, full, quick=2):
        return quick if self.quick else full

    def fit(self, name, estimator, X=None, y=None):
        """``estimator`` fitted on ``X`` (default the training rows), saved as ``models/name``; a model
        saved there by an earlier run with the same parameters is loaded instead (unless retrain)."""
        folder = self.out / "models" / name
        if not self.retrain and (folder / "config.json").exists():
            saved = load_model(folder, device="cpu")
            if _same_params(saved, estimator):
                self.progress(f"{name} (reused)")
                return saved
        self.progress(name)
        X = self.X if X is None else X
        estimator.fit(X) if y is None else estimator.fit(X, y)
        estimator.save(folder)
        return estimator


def _same_params(a, b):
    return params_to_json(a) == params_to_json(b)


def run_demo(data="mnist5k", out="runs/demo", *, quick=False, only=None, retrain=False, progress=None):
    """Run the stages (all, or those named in ``only``) and write the report; returns its path.

    Finished stages are kept on disk as they finish: Ctrl-C (KeyboardInterrupt) stops the run, the
    report is written from what finished, and the interrupt is raised again for the caller.
    """
    from .html import build_report
    from .stages import STAGES

    unknown = sorted(set(only or ()) - set(STAGES))
    if unknown:
        raise ValueError(f"--only: unknown models {unknown}; known: {', '.join(STAGES)}")
    names = [n for n in STAGES if not only or n in only]
    out = Path(out)
    settings = {"data": str(data), "quick": bool(quick)}
    report = progress or (lambda message: None)
    ctx = Context(data, out, quick, retrain, report)
    to_run = [n for n in names if retrain or not _finished(out / "stages" / f"{n}.json", settings)]
    cost_left, cost_done, run_start = sum(STAGES[n].cost for n in to_run), 0.0, time.perf_counter()
    try:
        for number, name in enumerate(names, 1):
            stage = STAGES[name]
            if name not in to_run:
                report(f"[{number}/{len(names)}] {stage.title}: kept from the earlier run")
                continue
            # time left, from the seconds per unit of cost of the stages run so far
            left = (f" (about {_duration((time.perf_counter() - run_start) / cost_done * cost_left)} left)"
                    if cost_done else "")
            report(f"[{number}/{len(names)}] {stage.title}{left}")
            start = time.perf_counter()
            section = stage.run(ctx)
            _save_stage(out, name, stage, section, settings, time.perf_counter() - start, ctx)
            cost_done, cost_left = cost_done + stage.cost, cost_left - stage.cost
    finally:
        if any((out / "stages").glob("*.json")):
            build_report(out)
    return out / "report.html"


def _duration(seconds):
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _finished(path, settings):
    if not path.exists():
        return False
    saved = json.loads(path.read_text())
    return saved.get("settings") == settings and all((path.parent.parent / "figures" / f["file"]).exists()
                                                    for f in saved.get("figures", []))


def _save_stage(out, name, stage, section, settings, seconds, ctx):
    figures = []
    for i, (caption, figure) in enumerate(section.figures):
        file = f"{name}-{i}.png"
        atomic_write(out / "figures" / file, lambda tmp, fig=figure: fig.savefig(tmp, format="png", dpi=90))
        figures.append({"file": file, "caption": caption})
    record = {"name": name, "title": stage.title, "idea": stage.idea, "settings": settings,
              "data": {"name": ctx.data_name, "train_rows": len(ctx.X), "test_rows": len(ctx.X_test)},
              "seconds": round(seconds, 1), "figures": figures, "rows": section.rows, "notes": section.notes}
    atomic_write_text(out / "stages" / f"{name}.json", json.dumps(record, indent=2))
