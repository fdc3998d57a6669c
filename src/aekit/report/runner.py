"""``aekit demo``: train every model of the toolkit on one data set and keep what each shows.

A stage (see :mod:`aekit.report.stages`) trains its models, measures them and draws its figures; the
runner saves the result of each stage as it finishes (``stages/NAME.json`` + ``figures/*.png`` +
``models/*``), so a stopped run keeps every finished stage and a second run with the same output
folder reuses them. The report (:func:`aekit.report.build_report`) is made from those files alone.
"""

import json
import time
from collections.abc import Callable
from pathlib import Path

from .._fileio import atomic_write, atomic_write_text
from .context import Context
from .html import build_report
from .stages import STAGES
from .types import Section, Stage


def run_demo(data="mnist5k", out="runs/demo", *, quick: bool = False, only=None, retrain: bool = False,
             progress: Callable[[str], None] | None = None) -> Path:
    """Run the stages (all, or those named in ``only``) and write the report; returns its path.

    Finished stages are kept on disk as they finish: Ctrl-C (KeyboardInterrupt) stops the run, the
    report is written from what finished, and the interrupt is raised again for the caller.
    """
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
            _save_stage(out, stage, section, settings, time.perf_counter() - start, ctx)
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


def _save_stage(out: Path, stage: Stage, section: Section, settings: dict, seconds: float, ctx: Context):
    figures = []
    for i, (caption, figure) in enumerate(section.figures):
        file = f"{stage.name}-{i}.png"
        # a tight box: the constrained layout leaves horizontal row labels (image_rows) cut at the edge
        atomic_write(out / "figures" / file,
                     lambda tmp, fig=figure: fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight"))
        figures.append({"file": file, "caption": caption})
    # position: the report's order of the stages, read by html.py without importing the stages
    record = {"name": stage.name, "position": list(STAGES).index(stage.name), "title": stage.title,
              "idea": stage.idea, "settings": settings,
              "data": {"name": ctx.data_name, "train_rows": len(ctx.X), "test_rows": len(ctx.X_test)},
              "seconds": round(seconds, 1), "figures": figures, "rows": section.rows, "notes": section.notes}
    atomic_write_text(out / "stages" / f"{stage.name}.json", json.dumps(record, indent=2))
