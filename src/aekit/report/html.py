"""The demo's report: one self-contained HTML file (images embedded) and ``metrics.json``, both made
from what the stages left in the output folder (``stages/*.json``, ``figures/*.png``), never by
training: ``aekit report DIR`` rebuilds them at any time."""

import base64
import html
import json
import math
from datetime import UTC, datetime
from pathlib import Path

from .._fileio import atomic_write_text
from .._version import __version__

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
section { border-top: 1px solid #ddd; margin-top: 2rem; padding-top: 0.5rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.better { color: #176f2c; } .worse { color: #a33; } td.verdict.worse { font-weight: bold; }
tr.worse { background: #fdecec; }
nav a { margin-right: 0.8rem; }
"""


def _stages(out):
    """The stage records in ``out/stages``, in the report's order (a record's position, given by the
    runner; a record written before positions were, after those that have one)."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "stages").glob("*.json")]
    return sorted(records, key=lambda r: (r.get("position", math.inf), r["name"]))


def _number(value):
    if value is None:
        return ""
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def verdict(row: dict) -> str:
    """How a table row's value compares with its baseline, in the direction the row says is better:
    "better", "worse" or "tie"; "" where there is nothing to beat (no baseline value, or a target to
    meet rather than beat: ``better`` None)."""
    value, baseline = row.get("value"), row.get("baseline_value")
    if value is None or baseline is None or row.get("better") is None:
        return ""
    if math.isclose(value, baseline, rel_tol=1e-9, abs_tol=1e-12):
        return "tie"
    wins = value < baseline if row.get("better") == "lower" else value > baseline
    return "better" if wins else "worse"


_VERDICT_WORDS = {"better": "better than", "worse": "worse than", "tie": "same as"}
# a baseline named "target: ..." is a goal to reach, not a competitor
_TARGET_WORDS = {"better": "meets", "worse": "misses", "tie": "meets"}


def _verdict_cell(row):
    said = verdict(row)
    if not said:
        return "<td class='verdict'></td>"
    baseline = row.get("baseline") or "baseline"
    words = (_TARGET_WORDS if baseline.startswith("target") else _VERDICT_WORDS)[said]
    return f"<td class='verdict {said}'>{words} {html.escape(baseline)}</td>"


def _table(records):
    lines = ["<table id='summary'><thead><tr><th>stage</th><th>model</th><th>measure</th><th>value</th>"
             "<th>strongest baseline (same run)</th><th>baseline value</th><th>verdict</th><th>train rows</th>"
             "<th>seconds</th></tr></thead><tbody>"]
    for record in records:
        for row in record["rows"]:
            said = verdict(row)
            lines.append(
                f"<tr class='model-row {said}'><td><a href='#{record['name']}'>{html.escape(record['title'])}</a></td>"
                f"<td>{html.escape(row['model'])}</td><td>{html.escape(row['metric'])}</td>"
                f"<td class='num {said}'>{_number(row['value'])}</td>"
                f"<td>{html.escape(row.get('baseline') or '')}</td>"
                f"<td class='num'>{_number(row.get('baseline_value'))}</td>{_verdict_cell(row)}"
                f"<td class='num'>{record['data']['train_rows']}</td><td class='num'>{record['seconds']}</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _summary_sentence(records):
    said = [verdict(row) for record in records for row in record["rows"]]
    contests = sum(v != "" for v in said)
    quick = (" In a quick run every model trains for a few epochs only: expect it to lose."
             if records[0]["settings"].get("quick") else "")
    return (f"<p>Each figure is set beside the strongest simple baseline computed in the same run on the same "
            f"rows (or a target). aekit wins {said.count('better')}, ties {said.count('tie')} and "
            f"<span class='worse'>loses {said.count('worse')}</span> of {contests} comparisons; rows without a "
            f"verdict are references.{quick}</p>")


def _section(record, figures_dir):
    parts = [f"<section id='{record['name']}'><h2>{html.escape(record['title'])}</h2>",
             f"<p>{html.escape(record['idea'])}</p>"]
    for figure in record["figures"]:
        data = base64.b64encode((figures_dir / figure["file"]).read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(figure['caption'])}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{html.escape(figure['caption'])}</figcaption></figure>")
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in record.get("notes", [])]
    parts.append("</section>")
    return "\n".join(parts)


def read_metrics(out) -> dict:
    """Every number of the report in the folder ``out`` as a dict (what ``metrics.json`` holds), read
    from its ``stages/*.json``: per stage, rows with the figure (``value``), the strongest baseline of
    the same run (``baseline``, ``baseline_value``; ``baselines`` where several were measured) and the
    ``verdict`` (see :func:`verdict`)."""
    records = _stages(Path(out))
    return {"aekit_version": __version__,
            "stages": {r["name"]: {**{k: r[k] for k in ("title", "data", "settings", "seconds")},
                                   "rows": [{**row, "verdict": verdict(row)} for row in r["rows"]]}
                       for r in records}}


def build_report(out) -> Path:
    """Write ``report.html`` and ``metrics.json`` into ``out`` from its ``stages/`` and ``figures/``;
    returns the report's path. Raises ValueError when ``out`` holds no finished stage."""
    out = Path(out)
    records = _stages(out) if (out / "stages").is_dir() else []
    if not records:
        raise ValueError(f"{out}: no finished demo stages here (stages/*.json); run `aekit demo --out {out}`")
    data = records[0]["data"]
    quick = " (quick run)" if records[0]["settings"].get("quick") else ""
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>aekit demo: {html.escape(data['name'])}</title><style>{_STYLE}</style></head><body>",
        "<h1>What autoencoders learn</h1>",
        f"<p class='sub'>aekit {__version__}: data <b>{html.escape(data['name'])}</b>, {data['train_rows']} "
        f"training and {data['test_rows']} test rows{quick}; "
        f"{sum(r['seconds'] for r in records):.0f} s of training and measuring; written {created}.</p>",
        "<nav>" + "".join(f"<a href='#{r['name']}'>{html.escape(r['title'])}</a>" for r in records) + "</nav>",
        "<h2>Summary</h2>", _summary_sentence(records), _table(records),
        *(_section(r, out / "figures") for r in records),
        "</body></html>",
    ]
    atomic_write_text(out / "metrics.json", json.dumps(read_metrics(out), indent=2))
    atomic_write_text(out / "report.html", "\n".join(body))
    return out / "report.html"
