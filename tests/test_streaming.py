"""Training on rows that stay on disk: ``aekit.datasets.open_rows`` and the estimators that take it."""

import functools
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import aekit
from aekit.apps.classifier import mask_labels
from aekit.cli import main
from aekit.datasets import Scaler, open_rows
from aekit.datasets import stream as stream_module


@pytest.fixture
def rows(blobs):
    """1,000 rows with structure (the blobs, repeated with noise), as float64 to exercise the cast."""
    rng = np.random.RandomState(1)
    return (np.tile(blobs, (5, 1)) + rng.normal(0, 0.01, (1000, blobs.shape[1]))).astype(np.float64)


@pytest.fixture
def npy(tmp_path, rows):
    path = tmp_path / "rows.npy"
    np.save(path, rows)
    return path


@pytest.fixture
def shards(tmp_path, rows):
    folder = tmp_path / "shards"
    folder.mkdir()
    for i, (start, stop) in enumerate([(0, 300), (300, 301), (301, 1000)]):
        np.save(folder / f"part-{i}.npy", rows[start:stop])
    return folder


@pytest.mark.parametrize("source", ["npy", "shards"])
def test_reads_the_rows_np_load_gives(request, source, rows):
    stream = open_rows(request.getfixturevalue(source))
    expected = rows.astype(np.float32)
    assert stream.shape == (1000, 12) and stream.dtype == np.float64 and stream.image_shape is None
    np.testing.assert_array_equal(stream.read(), expected)
    # across the one-row shard and past the end
    np.testing.assert_array_equal(stream.read(250, 1200), expected[250:])
    held, rest = stream.split(100, random_state=0)
    assert len(held) == 100 and len(rest) == 900
    together = np.concatenate([held.read(), rest.read()])
    np.testing.assert_array_equal(np.sort(together, axis=0), np.sort(expected, axis=0))


def test_image_stack_is_flattened_like_load(tmp_path):
    np.save(tmp_path / "images.npy", np.zeros((5, 4, 3), np.uint8))
    stream = open_rows(tmp_path / "images.npy")
    assert stream.shape == (5, 12) and stream.image_shape == (1, 4, 3)


@pytest.mark.parametrize("make, message", [
    (lambda d: np.save(d / "b.npy", np.zeros((3, 5))), r"b\.npy: rows of 5 float64 values .* a\.npy has rows of 4"),
    (lambda d: np.save(d / "b.npy", np.zeros((3, 4), np.float32)), r"b\.npy: rows of 4 float32 values"),
    (lambda d: (d / "notes.txt").write_text("hi"), r"notes\.txt: not a \.npy file"),
    (lambda d: (d / "b.npy").write_bytes(b"not numpy"), r"b\.npy: not a readable NumPy file"),
    (lambda d: np.save(d / "b.npy", np.array(["x", "y"])[:, None]), r"b\.npy: data must be numeric"),
])
def test_bad_shards_are_named(tmp_path, make, message):
    np.save(tmp_path / "a.npy", np.zeros((3, 4)))
    make(tmp_path)
    with pytest.raises(ValueError, match=message):
        open_rows(tmp_path)


def test_empty_folder_and_truncated_file(tmp_path):
    with pytest.raises(ValueError, match="empty folder: no .npy shards"):
        open_rows(tmp_path)
    path = tmp_path / "cut.npy"
    np.save(path, np.zeros((10, 4)))
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ValueError, match=r"cut\.npy: truncated \.npy file"):
        open_rows(path)


@pytest.mark.parametrize("kind", ["minmax", "standard", None])
def test_scaler_from_a_stream_equals_the_scaler_in_memory(npy, rows, kind, monkeypatch):
    # blocks of 64 rows: the moments of many blocks are combined
    monkeypatch.setattr(stream_module, "_PASS_BYTES", 64 * 4 * rows.shape[1])
    streamed, in_memory = Scaler(kind).fit(open_rows(npy)), Scaler(kind).fit(rows.astype(np.float32))
    np.testing.assert_allclose(streamed.offset_, in_memory.offset_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(streamed.scale_, in_memory.scale_, rtol=1e-5, atol=1e-6)


def test_scaler_names_the_row_with_nan(tmp_path):
    X = np.zeros((100, 3))
    X[70, 1] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(ValueError, match=r"nan\.npy.* contains NaN or infinite values \(the first in row 70\)"):
        Scaler("minmax").fit(open_rows(tmp_path / "nan.npy"))


@pytest.fixture
def fast(tiny_params, one_thread):
    return {**tiny_params, "epochs": 2}


def test_training_is_seeded_and_independent_of_workers(npy, fast):
    fits = [aekit.Autoencoder(**fast).fit(open_rows(npy, num_workers=w)) for w in (0, 2, 0)]
    assert fits[0].history_[0]["recon"] != fits[0].history_[1]["recon"]
    for other in fits[1:]:
        assert other.history_ == [{**a, "time": b["time"]} for a, b in zip(fits[0].history_, other.history_)]
        for a, b in zip(fits[0].model_.state_dict().values(), other.model_.state_dict().values()):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert fits[0].n_features_in_ == 12 and fits[0].code_range_.shape == (2, 4)


def test_training_from_a_stream_is_like_training_in_memory(npy, rows, fast):
    params = {**fast, "epochs": 5}
    streamed = aekit.Autoencoder(**params).fit(open_rows(npy, num_workers=0))
    in_memory = aekit.Autoencoder(**params).fit(rows)
    # other batches and another validation split: close, not equal
    assert streamed.history_[-1]["val_loss"] == pytest.approx(in_memory.history_[-1]["val_loss"], rel=0.2)
    assert streamed.score(rows) == pytest.approx(in_memory.score(rows), rel=0.2)
    codes = in_memory.transform(rows)
    np.testing.assert_allclose(in_memory.code_range_, [codes.min(0), codes.max(0)])


def test_a_large_memmap_is_streamed(npy, rows, fast, monkeypatch):
    monkeypatch.setattr(stream_module, "STREAM_BYTES", 0)
    mapped = np.load(npy, mmap_mode="r")
    assert stream_module.as_stream(mapped) is not None and stream_module.as_stream(mapped[:10]) is None
    via_map = aekit.Autoencoder(**fast).fit(mapped)
    via_stream = aekit.Autoencoder(**fast).fit(open_rows(npy))
    assert [r["loss"] for r in via_map.history_] == [r["loss"] for r in via_stream.history_]


def test_layer_wise_pretraining_needs_memory(npy, fast):
    with pytest.raises(ValueError, match="pretrain='greedy' .* cannot train on RowStream"):
        aekit.Autoencoder(**{**fast, "hidden": (8, 6), "pretrain": "greedy"}).fit(open_rows(npy))


def test_cli_trains_from_a_npy_stream(npy, tmp_path, monkeypatch, capsys, one_thread):
    monkeypatch.setattr(stream_module, "STREAM_BYTES", 0)
    out = tmp_path / "model"
    assert main(["train", "ae", "--data", str(npy), "--out", str(out), "--epochs", "2", "--quiet",
                 "--set", "hidden=(8,)", "--set", "batch_size=64"]) == 0
    assert "trained Autoencoder for 2 epochs" in capsys.readouterr().out
    model = aekit.load(out)
    assert model.n_features_in_ == 12
    assert main(["encode", "--model", str(out), "--data", str(npy), "--out", str(tmp_path / "codes.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "codes.npy"), model.transform(np.load(npy)), rtol=1e-5, atol=1e-6)
    capsys.readouterr()
    reports = []
    for data in (npy, npy.with_name("in_memory.npy")):  # the same rows, streamed and in memory
        monkeypatch.setattr(stream_module, "STREAM_BYTES", 0 if data == npy else 2**40)
        np.save(npy.with_name("in_memory.npy"), np.load(npy))
        assert main(["evaluate", "--model", str(out), "--data", str(data), "--json"]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    assert reports[0] == pytest.approx(reports[1], rel=1e-5)


@pytest.fixture
def small_blocks(rows, monkeypatch):
    """Passes over rows on disk read blocks of 100 rows: ten blocks of the 1,000."""
    monkeypatch.setattr(stream_module, "_PASS_BYTES", 100 * 4 * rows.shape[1])


@pytest.mark.parametrize("method", ["transform", "reconstruct", "score_samples"])
def test_a_fitted_model_reads_rows_on_disk_block_by_block(npy, rows, fast, small_blocks, method):
    model = aekit.Autoencoder(**fast).fit(rows)
    on_disk = getattr(model, method)(open_rows(npy))
    np.testing.assert_allclose(on_disk, getattr(model, method)(rows), rtol=1e-5, atol=1e-6)
    assert len(on_disk) == len(rows)


def test_vae_likelihood_and_index_of_rows_on_disk(npy, rows, fast, small_blocks):
    vae = aekit.VariationalAutoencoder(**fast).fit(rows)
    likelihood = vae.score_samples(open_rows(npy), n_importance=20, random_state=0)
    # other chunks of rows draw other samples: the same estimate, not the same numbers
    assert likelihood.shape == (1000,) and likelihood.mean() == pytest.approx(
        vae.score_samples(rows, n_importance=20, random_state=0).mean(), rel=0.01)
    index = aekit.CodeIndex(vae)
    index.add(open_rows(npy))
    distances, ids = index.search(rows[:5], k=1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(5))  # every row finds itself


def test_anomaly_detector_fits_and_scores_rows_on_disk(npy, rows, fast, small_blocks):
    detector = aekit.AnomalyDetector(aekit.Autoencoder(**fast), scores=("reconstruction", "density"),
                                     n_components=2, contamination=0.1).fit(open_rows(npy))
    on_disk = detector.score_samples(open_rows(npy))
    np.testing.assert_allclose(on_disk, detector.score_samples(rows), rtol=1e-6)
    assert np.mean(on_disk < detector.offset_) == pytest.approx(0.1, abs=0.002)
    with pytest.raises(ValueError, match="2 features, but AnomalyDetector was fitted on 12"):
        np.save(npy.with_name("narrow.npy"), rows[:, :2])
        detector.score_samples(open_rows(npy.with_name("narrow.npy")))


def test_classifier_pretrains_on_rows_on_disk_and_trains_on_the_labelled_ones(npy, rows, fast, small_blocks):
    truth = (rows[:, 0] > np.median(rows[:, 0])).astype(int)
    y = mask_labels(truth, 50, random_state=0)
    encoder = aekit.Autoencoder(**fast).fit(rows)
    # the recipe that trains on rows on disk (the joint default needs every row in memory)
    head = dict(unlabelled="pretrain", epochs=20, fine_tune=True, fine_tune_epochs=2, lr=0.03, random_state=0,
                device="cpu")
    on_disk = aekit.AutoencoderClassifier(encoder=encoder, **head).fit(open_rows(npy), y)
    in_memory = aekit.AutoencoderClassifier(encoder=encoder, **head).fit(rows, y)
    for name, value in in_memory.model_.state_dict().items():
        np.testing.assert_allclose(on_disk.model_.state_dict()[name].numpy(), value.numpy(), atol=1e-5, err_msg=name)
    # pre-trained on the rows on disk: other batches than in memory, as good a classifier
    pretrained = [aekit.AutoencoderClassifier(aekit.Autoencoder(**fast), **head).fit(data, y)
                  for data in (open_rows(npy), rows)]
    accuracy = [model.score(rows, truth) for model in pretrained]
    assert accuracy[0] > 0.7 and accuracy[0] == pytest.approx(accuracy[1], abs=0.05)
    np.testing.assert_allclose(pretrained[0].predict_proba(open_rows(npy)), pretrained[0].predict_proba(rows),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="y has 999 labels but RowStream.* has 1000 rows"):
        aekit.AutoencoderClassifier(encoder=encoder, **head).fit(open_rows(npy), y[:-1])


def test_cli_classifier_from_a_npy_stream_and_a_labels_file(npy, rows, tmp_path, monkeypatch, capsys, one_thread):
    monkeypatch.setattr(stream_module, "STREAM_BYTES", 0)
    y = (rows[:, 0] > np.median(rows[:, 0])).astype(int)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "classifier"
    train = ["train", "classifier", "--data", str(npy), "--out", str(out), "--epochs", "5", "--quiet",
             "--set", "autoencoder__hidden=(8,)", "--set", "autoencoder__epochs=1", "--set", "unlabelled=pretrain"]
    assert main([*train, "--labels", str(tmp_path / "y.npy"), "--labeled", "40"]) == 0
    assert "trained AutoencoderClassifier" in capsys.readouterr().out
    classifier = aekit.load(out)
    assert classifier.n_features_in_ == 12 and [r["phase"] for r in classifier.history_].count("head") == 5
    assert main(["evaluate", "--model", str(out), "--data", str(npy), "--labels", str(tmp_path / "y.npy"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"rows": 1000, "accuracy": pytest.approx(classifier.score(rows, y))}
    np.save(tmp_path / "short.npy", y[:-1])
    for args, message in [([], "has no labels"), (["--labels", str(tmp_path / "short.npy")], "one label per row"),
                          (["--labels", str(tmp_path / "missing.npy")], "not a readable .npy file")]:
        assert main([*train, *args]) == 2
        assert message in capsys.readouterr().err
    assert main(["train", "ae", "--data", str(npy), "--out", str(tmp_path / "ae"),
                 "--labels", str(tmp_path / "y.npy")]) == 2
    assert "--labels applies to classifiers" in capsys.readouterr().err
    assert main(["train", "ae", "--data", str(npy), "--out", str(tmp_path / "ae"), "--epochs", "1", "--quiet",
                 "--set", "hidden=(8,)"]) == 0
    assert main(["evaluate", "--model", str(tmp_path / "ae"), "--data", str(npy), "--labels",
                 str(tmp_path / "y.npy")]) == 2
    assert "--labels applies to classifiers; " in capsys.readouterr().err


def test_cli_anomaly_detector_from_a_npy_stream(npy, tmp_path, monkeypatch, capsys, one_thread):
    monkeypatch.setattr(stream_module, "STREAM_BYTES", 0)
    out = tmp_path / "detector"
    assert main(["train", "anomaly", "--data", str(npy), "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    assert main(["anomaly", "score", "--model", str(out), "--data", str(npy), "--out", str(tmp_path / "s.csv")]) == 0
    assert "wrote" in capsys.readouterr().out
    table = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    assert table.shape == (1000, 2)
    np.testing.assert_allclose(table[:, 0], aekit.load(out).score_samples(np.load(npy)), rtol=1e-6)


def test_cli_compresses_and_plots_rows_on_disk(npy, tmp_path, monkeypatch, capsys, one_thread):
    """`aekit compress` encodes a stream block by block, as the same rows in memory; `aekit plot`
    draws from a sample of it."""
    from aekit import plots
    from aekit.apps import codec
    from aekit.cli import _common

    monkeypatch.setattr(stream_module, "_PASS_BYTES", 300 * 4 * 12)  # blocks of 300 rows: four of them
    given = []  # what the codec and the plot were handed

    def recording(function):
        @functools.wraps(function)  # the CLI reads the codec's default bits from its signature
        def record(estimator, X, *args, **kwargs):
            given.append(X)
            return function(estimator, X, *args, **kwargs)
        return record

    monkeypatch.setattr(codec, "compress", recording(codec.compress))
    monkeypatch.setattr(plots, "latent_scatter", recording(plots.latent_scatter))
    monkeypatch.setattr(_common, "_PICTURE_ROWS", 100)
    out = tmp_path / "model"
    assert main(["train", "ae", "--data", str(npy), "--out", str(out), "--epochs", "2", "--quiet",
                 "--set", "hidden=(8,)"]) == 0
    model = aekit.load(out)
    decoded = {}
    for streamed in (True, False):
        monkeypatch.setattr(stream_module, "STREAM_BYTES", 0 if streamed else 2**40)
        container = tmp_path / f"codes-{streamed}.aek"
        assert main(["compress", "--model", str(out), "--data", str(npy), "--out", str(container)]) == 0
        assert "1000 rows" in capsys.readouterr().out
        decoded[streamed] = codec.decompress(model, container.read_bytes())
    # a code within rounding of a quantisation step's edge may land in the next step either way
    same_rows = np.all(np.isclose(decoded[True], decoded[False], atol=1e-5), axis=1)
    assert decoded[True].shape == (1000, 12) and same_rows.mean() > 0.99
    assert isinstance(given[0], stream_module.RowStream) and isinstance(given[1], np.ndarray)
    monkeypatch.setattr(stream_module, "STREAM_BYTES", 0)
    assert main(["plot", "latent-scatter", "--model", str(out), "--data", str(npy),
                 "--out", str(tmp_path / "scatter.png")]) == 0
    assert (tmp_path / "scatter.png").read_bytes().startswith(b"\x89PNG")
    assert given[2].shape == (100, 12)


# Trains in a child process on the file given as argv[1]; prints the peak resident memory of the process
# (VmHWM: since its exec, unlike ru_maxrss, which keeps that of the pytest process it was forked from)
# and the largest of its descendants: the DataLoader workers and the fork server they start from,
# looked up every 20 ms while training (the workers are the server's children, never reaped here).
_TRAIN_AND_MEASURE = """
import json, os, sys, threading, time
import aekit
from aekit.datasets import open_rows

def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":", 1) for line in f)

def descendants_peak(done, peak):
    me = str(os.getpid())
    while not done.wait(0.02):
        parents = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                parents[pid] = status(pid)["PPid"].strip()
            except (OSError, KeyError):
                pass
        for pid in parents:
            ancestor = parents.get(pid)
            while ancestor not in (None, "0", "1", me):
                ancestor = parents.get(ancestor)
            if ancestor == me and pid != me:
                try:
                    peak[0] = max(peak[0], int(status(pid)["VmHWM"].split()[0]) * 1024)
                except (OSError, KeyError):
                    pass

done, peak = threading.Event(), [0]
watcher = threading.Thread(target=descendants_peak, args=(done, peak))
watcher.start()
started = time.perf_counter()
ae = aekit.Autoencoder(hidden=(8,), latent=2, epochs=1, batch_size=2048, device="cpu", random_state=0)
ae.fit(open_rows(sys.argv[1], num_workers=2))
fit_s = time.perf_counter() - started
done.set()
watcher.join()
print(json.dumps({"trainer": int(status("self")["VmHWM"].split()[0]) * 1024, "worker": peak[0],
                  "fit_s": fit_s, "loss": ae.history_[0]["loss"]}))
"""


@pytest.mark.slow
def test_a_2gb_file_trains_in_under_1gb_of_memory(tmp_path):
    path = tmp_path / "big.npy"
    n_rows, n_features, chunk = 680_000, 784, 42_500
    pattern = np.random.RandomState(0).rand(chunk, n_features).astype(np.float32)
    with open(path, "wb") as f:  # plain writes: a memory map would bring 2 GB into this process
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                 "shape": (n_rows, n_features)})
        for i in range(n_rows // chunk):
            (pattern * np.float32(1 + i / 16)).tofile(f)
    assert path.stat().st_size > 2 * 10**9
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _TRAIN_AND_MEASURE, str(path)], capture_output=True, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"peak RSS: trainer {measured['trainer'] / 2**20:.0f} MiB, worker {measured['worker'] / 2**20:.0f} MiB; "
          f"fit {measured['fit_s']:.1f} s, process {time.perf_counter() - started:.1f} s")
    assert np.isfinite(measured["loss"])
    assert measured["trainer"] < 2**30 and 0 < measured["worker"] < 2**30
