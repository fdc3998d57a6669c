import csv
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import aekit
from aekit.cli import main

FAST = ["--epochs", "2", "--set", "hidden=(16,)", "--set", "latent=4", "--seed", "0", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "ae", "--data", "digits", "--split", "train", "--out", str(out), *FAST]) == 0
    return out


def test_train_writes_model_history_and_pictures(trained):
    names = {p.name for p in trained.iterdir()}
    # digits are labelled images; the model has neither sparsity nor noise
    assert {"config.json", "model.safetensors", "history.csv", "loss-curves.png", "reconstructions.png",
            "filters.png", "latent-scatter.png", "checkpoints"} == names
    rows = list(csv.DictReader(open(trained / "history.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_recon" in rows[0]
    assert (trained / "loss-curves.png").read_bytes()[:4] == b"\x89PNG"
    config = json.loads((trained / "config.json").read_text())
    assert config["params"]["hidden"] == [16] and config["image_shape"] == [1, 8, 8]


def test_encode_decode_reconstruct(trained, tmp_path, capsys):
    codes = tmp_path / "codes.npy"
    assert main(["encode", "--model", str(trained), "--data", "digits", "--split", "test", "--out", str(codes)]) == 0
    Z = np.load(codes)
    assert Z.shape == (360, 4)
    assert main(["decode", "--model", str(trained), "--data", str(codes), "--out", str(tmp_path / "d.npy")]) == 0
    assert main(["reconstruct", "--model", str(trained), "--data", "digits", "--split", "test",
                 "--out", str(tmp_path / "r.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "d.npy"), np.load(tmp_path / "r.npy"), atol=1e-6)


def test_evaluate_info_list(trained, capsys):
    assert main(["evaluate", "--model", str(trained), "--data", "digits", "--split", "test", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 360 and report["reconstruction_loss (mse, per example)"] > 0
    assert main(["info", str(trained)]) == 0
    assert "Autoencoder (ae), 64 features -> 4 codes" in capsys.readouterr().out
    assert main(["info"]) == 2
    assert "give one model folder" in capsys.readouterr().err
    assert main(["list"]) == 0
    assert "ae" in capsys.readouterr().out.split()


def test_resume_continues_epochs(trained, capsys):
    assert main(["train", "ae", "--data", "digits", "--split", "train", "--out", str(trained), *FAST[2:],
                 "--epochs", "4", "--resume"]) == 0
    rows = list(csv.DictReader(open(trained / "history.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]


def test_resume_without_a_checkpoint_says_it_starts_over(tmp_path):
    fresh = tmp_path / "fresh"
    with pytest.warns(RuntimeWarning, match=f"--resume: no checkpoint in {fresh / 'checkpoints'}; training from"):
        assert main(["train", "ae", "--data", "digits", "--out", str(fresh), *FAST, "--resume"]) == 0
    with warnings.catch_warnings(record=True) as caught:  # a second resume finds the first run's checkpoint
        warnings.simplefilter("always")
        assert main(["train", "ae", "--data", "digits", "--out", str(fresh), *FAST, "--resume"]) == 0
    assert not [w for w in caught if "--resume" in str(w.message)]


@pytest.mark.parametrize("argv, message", [
    (["train", "nosuch", "--data", "digits", "--out", "x"], "unknown model 'nosuch'"),
    (["train", "ae", "--data", "digits", "--out", "x", "--set", "bogus=1"], "has no parameter 'bogus'"),
    (["train", "ae", "--data", "digits", "--out", "x", "--set", "latent"], "--set expects key=value"),
    (["train", "ae", "--data", "digits", "--out", "x", "--set", "latent=-2"], "latent=-2"),
    (["train", "ae", "--data", "/no/such/file.npy", "--out", "x"], "/no/such/file.npy"),
    (["encode", "--model", "/no/model", "--data", "digits", "--out", "x.npy"], "no such model folder"),
    (["train", "ae"], "required"),
    (["plot", "reconstructions", "--model", "m", "--out", "x.png"], "`aekit plot reconstructions` needs --data"),
    (["plot", "filters", "--model", "m", "--data", "digits", "--out", "x.png"], "--data does not apply"),
    (["plot", "latent-scatter", "--model", "m", "--data", "digits", "--out", "x.png", "--n", "3"],
     "--n does not apply"),
    (["plot", "filters", "--model", "m", "--out", "x.png", "--n", "0"], "--n: must be at least 1"),
    (["plot", "pie", "--model", "m", "--out", "x.png"], "invalid choice: 'pie'"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_are_one_line_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("aekit: error:") and message in err, err


def test_an_output_of_the_wrong_kind_is_refused_before_any_work(trained, tmp_path, capsys):
    notes, folder = tmp_path / "notes.txt", tmp_path / "folder"
    notes.write_text("keep me")
    folder.mkdir()
    for argv, message in [
        (["train", "ae", "--data", "digits", "--out", str(notes)], f"--out {notes} is a file; give a folder"),
        (["demo", "--quick", "--out", str(notes)], "is a file; give a folder"),
        (["index", "build", "--model", str(trained), "--data", "digits", "--out", str(notes)], "is a file"),
        (["encode", "--model", str(trained), "--data", "digits", "--out", str(folder)],
         f"{folder} is a folder; expected the name of a file to write"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert notes.read_text() == "keep me" and not list(folder.iterdir())


def test_train_writes_the_pictures_of_sparsity_and_noise(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "ae", "--data", "digits", "--out", str(out), *FAST, "--set", "sparsity='l1'",
                 "--set", "noise='masking'"]) == 0
    assert {"code-histogram.png", "denoising.png"} <= {p.name for p in out.iterdir()}


@pytest.mark.parametrize("argv", [
    ["reconstructions", "--data", "digits", "--split", "test", "--n", "4"],
    ["filters", "--n", "9"],
    ["loss-curves"],
    ["code-histogram", "--data", "digits"],
    ["latent-scatter", "--data", "digits", "--split", "test"],
    ["denoising", "--data", "digits", "--noise", "gaussian", "--noise-level", "0.2"],
    ["interpolation", "--data", "digits", "--split", "test"],
    ["traversal", "--data", "digits", "--split", "test"],
])
def test_plot_each_kind(trained, tmp_path, argv, capsys):
    out = tmp_path / "sub" / "picture.png"
    assert main(["plot", *argv, "--model", str(trained), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG" and capsys.readouterr().out == f"wrote {out}\n"


def test_a_table_gets_heatmaps_for_pictures_of_rows(tmp_path, capsys):
    table = tmp_path / "table.csv"
    rows = np.random.default_rng(0).normal(size=(60, 5))
    table.write_text("a,b,c,d,e\n" + "\n".join(",".join(f"{v:.3f}" for v in row) for row in rows) + "\n")
    out = tmp_path / "run"
    assert main(["train", "ae", "--data", str(table), "--out", str(out), *FAST]) == 0
    assert {"loss-curves.png", "reconstructions.png"} <= {p.name for p in out.iterdir()}
    assert "filters.png" not in {p.name for p in out.iterdir()}
    picture = tmp_path / "r.png"
    assert main(["plot", "reconstructions", "--model", str(out), "--data", str(table), "--n", "3",
                 "--out", str(picture)]) == 0
    assert picture.read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["plot", "filters", "--model", str(out), "--out", str(tmp_path / "f.png")]) == 2
    assert "fitted on rows that are not images" in capsys.readouterr().err


def test_pictures_of_large_data_draw_from_a_seeded_sample_with_its_labels(tmp_path, monkeypatch):
    from aekit import plots
    from aekit.cli import _common
    from aekit.datasets import load
    from aekit.plots import choice

    given = []
    drawn = plots.latent_scatter
    recording = lambda est, X, y=None: given.append((X, y)) or drawn(est, X, y)  # noqa: E731
    # `aekit plot` draws aekit.plots.latent_scatter; the pictures after training are chosen in plots.choice
    monkeypatch.setattr(plots, "latent_scatter", recording)
    monkeypatch.setattr(choice, "latent_scatter", recording)
    monkeypatch.setattr(_common, "_PICTURE_ROWS", 50)
    assert main(["train", "ae", "--data", "digits", "--split", "train", "--out", str(tmp_path / "run"), *FAST]) == 0
    assert main(["plot", "latent-scatter", "--model", str(tmp_path / "run"), "--data", "digits", "--split", "train",
                 "--out", str(tmp_path / "s.png")]) == 0
    full = load("digits", split="train")
    (after_training, labels), (plotted, _) = given
    assert after_training.shape == (50, 64) and np.array_equal(after_training, plotted)  # the same seeded rows
    rows = [int(np.flatnonzero((full.data == row).all(1))[0]) for row in after_training]
    assert rows == sorted(rows) and np.array_equal(labels, full.target[rows])


@pytest.mark.parametrize("argv", [
    ["encode", "--out", "x.npy"], ["reconstruct", "--out", "x.npy"], ["evaluate"], ["compress", "--out", "x.aek"],
    ["plot", "latent-scatter", "--out", "x.png"], ["index", "build", "--out", "index"],
])
def test_rows_of_another_width_than_the_model_was_trained_on_are_refused_by_name(trained, tmp_path, argv, capsys,
                                                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("wide.npy", np.zeros((4, 65), np.float32))
    assert main([*argv, "--model", str(trained), "--data", "wide.npy"]) == 2
    assert capsys.readouterr().err == (f"aekit: error: --data wide.npy has 65 features per row, but --model {trained} "
                                       "was trained on rows of 64\n")
    assert not any(tmp_path.glob("x*")) and not (tmp_path / "index").exists()


def test_plot_interpolation_needs_two_rows(trained, tmp_path, capsys):
    np.save(tmp_path / "one.npy", np.zeros((1, 64), np.float32))
    assert main(["plot", "interpolation", "--model", str(trained), "--data", str(tmp_path / "one.npy"),
                 "--out", str(tmp_path / "i.png")]) == 2
    assert "interpolation needs two rows of --data, got 1" in capsys.readouterr().err


def test_plot_denoising_needs_a_noise_for_a_model_trained_without(trained, tmp_path, capsys):
    argv = ["plot", "denoising", "--model", str(trained), "--data", "digits", "--out", str(tmp_path / "d.png")]
    assert main(argv) == 2
    assert "trained without noise" in capsys.readouterr().err
    assert not (tmp_path / "d.png").exists()


def test_vae_train_evaluate_in_nats_and_sample(tmp_path, trained, capsys):
    out = tmp_path / "vae"
    assert main(["train", "vae", "--data", "digits", "--out", str(out), *FAST]) == 0
    # a generative model also gets its samples, a walk between two codes and a sweep of each dimension
    assert {"samples.png", "interpolation.png", "traversal.png"} <= {p.name for p in out.iterdir()}
    rows = tmp_path / "rows.npy"
    assert main(["sample", "--model", str(out), "--n", "5", "--out", str(rows)]) == 0
    assert np.load(rows).shape == (5, 64)
    assert main(["sample", "--model", str(out), "--n", "9", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["plot", "samples", "--model", str(out), "--out", str(tmp_path / "s.png")]) == 0
    capsys.readouterr()
    assert main(["sample", "--model", str(out), "--out", str(tmp_path / "grid.jpg")]) == 2
    assert "give a .png" in capsys.readouterr().err
    assert main(["sample", "--model", str(out), "--n", "100000", "--out", str(tmp_path / "grid.png")]) == 2
    assert "a .png shows at most 1024 samples; write a .npy" in capsys.readouterr().err
    assert main(["sample", "--model", str(trained), "--out", str(tmp_path / "x.png")]) == 2
    assert "does not generate" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(out), "--data", "digits", "--split", "test", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["negative_log_likelihood (nats per example, importance-weighted, k=100)"] > 0


def test_gan_train_writes_its_monitor_and_plot_draws_it(tmp_path, trained, capsys):
    out = tmp_path / "gan"
    assert main(["train", "gan", "--data", "digits", "--out", str(out), *FAST]) == 0
    assert {"samples.png", "gan-monitor.png", "loss-curves.png"} <= {p.name for p in out.iterdir()}
    assert main(["plot", "gan-monitor", "--model", str(out), "--out", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["plot", "gan-monitor", "--model", str(trained), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no GAN monitor" in err and not (tmp_path / "x.png").exists()
    # a generator has no encoder: the verbs that need one say so in a line
    for verb in (["encode"], ["reconstruct"], ["index", "build"], ["compress"]):
        assert main([*verb, "--model", str(out), "--data", "digits", "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "GAN cannot" in err, err
    assert main(["info", "--model", str(out)]) == 0
    assert "GAN (gan), 4 latent -> 64 features" in capsys.readouterr().out


def test_subprocess_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "aekit", "list"], capture_output=True, text=True)
    # every registered model, those of aekit.apps too, though `aekit list` imports none of them itself
    assert result.returncode == 0 and all(name in result.stdout for name in (
        "Autoencoder", "GAN", "AutoencoderClassifier", "AnomalyDetector")), result.stdout
    version = subprocess.run([sys.executable, "-m", "aekit", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout == f"aekit {aekit.__version__}\n"
    bad = subprocess.run([sys.executable, "-m", "aekit", "info", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("aekit: error:") and "Traceback" not in bad.stderr
    # a reader that stops reading (`aekit list | head -1`) ends it quietly, as it does other tools; the
    # reader is gone long before the process has imported torch and written a line
    piped = subprocess.Popen([sys.executable, "-m", "aekit", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    piped.stdout.close()
    assert piped.wait() == 141 and piped.stderr.read() == b""


def test_a_warning_is_one_line_without_the_source(tmp_path):
    # in a process of its own: pytest records warnings instead of printing them; the CPU is made one
    # without bfloat16 units, whatever this machine has
    script = ("import sys; import aekit.estimators._base as base; base.cpu_has_fast = lambda precision: False; "
              "from aekit.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", script, "train", "ae", "--data", "digits", "--out",
                             str(tmp_path / "m"), *FAST, "--precision", "bf16-mixed"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "aekit: warning: Autoencoder: precision='bf16-mixed' on a CPU without matrix units for it (AMX or "
        "AVX-512-BF16) trains many times slower than precision='32'"]


def test_train_with_mixed_precision_and_an_option_the_model_lacks(tmp_path, capsys):
    out = tmp_path / "bf16"
    assert main(["train", "ae", "--data", "digits", "--out", str(out), *FAST, "--precision", "bf16-mixed"]) == 0
    assert json.loads((out / "config.json").read_text())["params"]["precision"] == "bf16-mixed"
    assert main(["train", "classifier", "--data", "digits", "--out", str(tmp_path / "c"), "--precision",
                 "bf16-mixed"]) != 0
    assert "--precision: classifier has no precision parameter" in capsys.readouterr().err


def test_the_training_summary_counts_epochs_per_phase():
    from aekit.cli.models import _epochs

    assert _epochs([{"loss": 1.0}]) == "1 epoch"
    assert _epochs([{"phase": "pretrain"}] * 20 + [{"phase": "head"}] * 3) == "23 epochs (pretrain: 20, head: 3)"


# what `import aekit` and `aekit --version` / `--help` leave out: they answer at once
HEAVY = ("torch", "sklearn", "matplotlib", "faiss")


def test_import_aekit_imports_neither_matplotlib_nor_faiss_nor_the_command():
    code = "import aekit, sys; print([m for m in ('matplotlib', 'faiss', 'aekit.cli') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "[]\n", result.stderr
    # its names load on first use
    assert aekit.Autoencoder.__name__ == "Autoencoder" and "load" in dir(aekit)
    with pytest.raises(AttributeError, match="no attribute 'Autoencoderr'"):
        aekit.Autoencoderr  # noqa: B018


@pytest.mark.parametrize("option", ["--version", "--help"])
def test_version_and_help_import_no_heavy_module(option):
    # -X importtime lists every module the process imports, on stderr
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "aekit", option], capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout.startswith("aekit 0" if option == "--version" else "usage:")
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not {name for name in imported if name.split(".")[0] in HEAVY}


def test_each_verb_is_added_by_its_module_alone(capsys):
    from aekit.cli import VERBS, CLIError, build_parser, verb_module

    for verb, (module, _) in VERBS.items():
        assert set(verb_module(verb).ADD_OPTIONS) == {v for v, (m, _) in VERBS.items() if m == module}
        with pytest.raises(SystemExit) as exit_:
            build_parser({verb}).parse_args([verb, "--help"])
        assert exit_.value.code == 0 and capsys.readouterr().out.startswith(f"usage: aekit {verb}")
    # the other verbs are listed by name and help alone: their options are not known
    with pytest.raises(CLIError, match="unrecognized arguments: --epochs 2"):
        build_parser(set()).parse_args(["train", "--epochs", "2"])
