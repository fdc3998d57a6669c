import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA

from aekit.cli import main
from aekit.report import build_report, read_metrics, run_demo
from aekit.report.baselines import classifier_baselines, converged, fit_pca
from aekit.report.html import verdict
from aekit.report.stages import STAGES
from aekit.report.types import Section

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The quick demo on the digits, every stage: what `make test` runs of it."""
    out = tmp_path_factory.mktemp("demo") / "run"
    assert main(["demo", "--data", "digits", "--quick", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.slow
def test_quick_demo_writes_every_stage_report_and_metrics(demo):
    metrics = json.loads((demo / "metrics.json").read_text())
    assert list(metrics["stages"]) == list(STAGES)
    for name, stage in metrics["stages"].items():
        assert stage["rows"], name
        assert stage["data"]["train_rows"] == 1000 and stage["settings"] == {"data": "digits", "quick": True}
        assert all(row["value"] is not None for row in stage["rows"])
        for row in stage["rows"]:
            # every figure is set beside a baseline of the same run (a model, a baseline, or a target)
            assert row["baseline"], (name, row)
            assert row["baseline_value"] is not None or row["baseline"].startswith("none measured"), (name, row)
            assert row["verdict"] in ("better", "worse", "tie", "" if row["better"] is None else None), (name, row)
    semisupervised = metrics["stages"]["semisupervised"]["rows"][0]
    assert set(semisupervised["baselines"]) == {"logistic regression on the labelled rows",
                                                "MLPClassifier((512,)) on the labelled rows"}
    assert set(metrics["stages"]["anomaly"]["rows"][0]["baselines"]) == {"PCA-16 reconstruction error",
                                                                         "IsolationForest"}
    assert "the noisy input itself" in metrics["stages"]["denoising"]["rows"][0]["baselines"]
    html = (demo / "report.html").read_text()
    assert html.count("<section id=") == len(STAGES) and "data:image/png;base64," in html
    assert "src='figures/" not in html  # self-contained: no image is a separate file
    assert (demo / "models" / "vae" / "config.json").exists()


@pytest.mark.slow
def test_second_run_reuses_finished_stages_and_report_rebuilds(demo, capsys):
    before = {p.name: p.stat().st_mtime_ns for p in (demo / "stages").iterdir()}
    assert main(["demo", "--data", "digits", "--quick", "--out", str(demo)]) == 0
    assert "kept from the earlier run" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in (demo / "stages").iterdir()} == before
    (demo / "report.html").unlink()
    assert main(["report", str(demo)]) == 0
    assert (demo / "report.html").exists()


def test_interrupt_keeps_finished_stages_and_writes_the_report(tmp_path, monkeypatch):
    def stop(ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(STAGES["basic"], "run", stop)
    with pytest.raises(KeyboardInterrupt):
        run_demo("digits", tmp_path, quick=True, only=["pca", "basic", "encoder_838"])
    assert [p.name for p in (tmp_path / "stages").iterdir()] == ["pca.json"]
    assert "PCA and the linear autoencoder" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("argv, message", [
    (["demo", "--only", "pca,nosuch"], "unknown models ['nosuch']"),
    (["report", "/no/such/folder"], "no finished demo stages"),
])
def test_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aekit: error:") and message in err and err.count("\n") == 1


def test_pca_fitted_once_gives_the_pca_of_fewer_components():
    X = np.random.default_rng(0).normal(size=(200, 12)) @ np.random.default_rng(1).normal(size=(12, 12))
    pca = PCA(4, svd_solver="full").fit(X)
    np.testing.assert_allclose(fit_pca(X, 8).leading(4).reconstruct(X), pca.inverse_transform(pca.transform(X)),
                               atol=1e-10)


def _write_stage(out, rows):
    (out / "stages").mkdir(parents=True)
    record = {"name": "basic", "position": 0, "title": "Basic", "idea": "An idea.", "figures": [], "notes": [],
              "settings": {"data": "digits", "quick": True}, "seconds": 1.0,
              "data": {"name": "digits", "train_rows": 10, "test_rows": 5}, "rows": rows}
    (out / "stages" / "basic.json").write_text(json.dumps(record))


def test_a_losing_figure_is_shown_losing_and_metrics_hold_its_baseline(tmp_path):
    section = Section()
    section.beside("aekit classifier", "test error", 0.25, {"logistic regression": 0.23, "MLP": 0.24, "none": None})
    section.beside("aekit detector", "ROC-AUC", 0.97, {"PCA-16": 0.95, "IsolationForest": 0.90}, better="higher")
    section.row("sparse", "mean activation", 0.06, "target", 0.05, better=None)
    section.row("linear autoencoder", "largest angle (degrees)", 3.0, "target: under 1 degree", 1.0)
    _write_stage(tmp_path, section.rows)
    html = build_report(tmp_path).read_text()
    losing, winning, target = html.split("<tr class='model-row")[1:4]
    assert losing.startswith(" worse'") and "<td class='verdict worse'>worse than logistic regression</td>" in losing
    assert winning.startswith(" better'") and "better than PCA-16" in winning
    assert "<td class='verdict'></td>" in target
    assert "<td class='verdict worse'>misses target: under 1 degree</td>" in html
    assert "loses 2</span> of 3 comparisons" in html
    rows = json.loads((tmp_path / "metrics.json").read_text())["stages"]["basic"]["rows"]
    assert rows == read_metrics(tmp_path)["stages"]["basic"]["rows"]
    assert [(r["baseline"], r["baseline_value"], r["verdict"]) for r in rows] == [
        ("logistic regression", 0.23, "worse"), ("PCA-16", 0.95, "better"), ("target", 0.05, ""),
        ("target: under 1 degree", 1.0, "worse")]
    assert rows[0]["baselines"] == {"logistic regression": 0.23, "MLP": 0.24, "none": None}


@pytest.mark.parametrize("row, said", [
    ({"value": 1.0, "baseline_value": 2.0, "better": "lower"}, "better"),
    ({"value": 1.0, "baseline_value": 2.0, "better": "higher"}, "worse"),
    ({"value": 2.0, "baseline_value": 2.0, "better": "higher"}, "tie"),
    ({"value": 2.0, "baseline_value": None, "better": "higher"}, ""),
    ({"value": 2.0, "baseline_value": 1.0, "better": None}, ""),
])
def test_verdict(row, said):
    assert verdict(row) == said


def test_classifier_baselines_converge_on_few_labelled_rows():
    X = np.random.default_rng(0).normal(size=(100, 20))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    models = classifier_baselines(X, y, seed=0)
    assert len(models) == 2 and all(converged(m) for m in models.values())


def test_report_needs_stages(tmp_path):
    with pytest.raises(ValueError, match="no finished demo stages"):
        build_report(tmp_path)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_in_a_real_browser(demo, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    metrics = json.loads((demo / "metrics.json").read_text())
    n_rows = sum(len(stage["rows"]) for stage in metrics["stages"].values())
    errors = []
    with playwright.sync_playwright() as p:
        # the flags keep Chromium off the network this machine does not have (see the env notes)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((demo / "report.html").as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        table_rows = page.locator("#summary tbody tr.model-row").count()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        browser.close()
    assert errors == []
    assert images and all(complete and width > 0 for complete, width in images)
    assert table_rows == n_rows
    assert (tmp_path / "report.png").stat().st_size > 10_000
