"""log_dir: TensorBoard event files with every loss term (training, validation, per phase), learning
rates, pictures and the embedding projector, read back with TensorBoard's own reader."""

import sys

import numpy as np
import pytest

import aekit
from aekit import GAN, AnomalyDetector, Autoencoder, VariationalAutoencoder
from aekit.apps.classifier import mask_labels
from aekit.cli import main
from aekit.datasets import load
from aekit.training import distributed

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    data = load("digits")  # 8 x 8 grey images as rows of 64
    return data.data[:400].astype(np.float32), data.target[:400]


def read(log_dir):
    events = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.IMAGES: 0})
    events.Reload()
    return events.Tags()


def test_two_epochs_write_scalars_images_and_a_projector(tmp_path, digits):
    X, y = digits
    Autoencoder(hidden=(16,), latent=3, epochs=2, log_dir=str(tmp_path), random_state=0, device="cpu").fit(X, y)
    tags = read(tmp_path)
    for name in ("train/loss", "train/recon", "validation/loss", "validation/recon", "lr/main",
                 "time/epoch_seconds"):
        assert name in tags["scalars"]
    events = event_accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    assert [event.step for event in events.Scalars("train/loss")] == [1, 2]
    assert "reconstructions" in tags["images"]
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert "metadata_path" in config and "sprite" in config
    [metadata] = list(tmp_path.rglob("metadata.tsv"))
    labels = metadata.read_text().split()
    assert len(labels) == 40 and set(labels) <= {str(c) for c in range(10)}  # the validation rows' digits
    assert list(tmp_path.rglob("sprite.png"))


def test_greedy_phases_and_generative_samples(tmp_path, digits):
    X, _ = digits
    Autoencoder(hidden=(16,), latent=3, pretrain="greedy", pretrain_epochs=1, epochs=1, log_dir=str(tmp_path / "ae"),
                random_state=0, device="cpu").fit(X)
    scalars = read(tmp_path / "ae")["scalars"]
    assert {"layer 1/train/loss", "layer 2/validation/loss", "train/loss"} <= set(scalars)

    VariationalAutoencoder(hidden=(16,), latent=2, epochs=1, log_dir=str(tmp_path / "vae"), random_state=0,
                           device="cpu").fit(X)
    tags = read(tmp_path / "vae")
    assert {"train/kl", "validation/kl"} <= set(tags["scalars"])
    assert {"reconstructions", "samples"} <= set(tags["images"])

    GAN(hidden=(16, 16), latent=4, epochs=1, log_dir=str(tmp_path / "gan"), random_state=0, device="cpu").fit(X)
    tags = read(tmp_path / "gan")
    assert {"train/d_loss", "train/g_loss", "lr/generator", "lr/discriminator"} <= set(tags["scalars"])
    assert tags["images"] == ["samples"]


def test_only_rank_zero_writes(tmp_path, digits, monkeypatch):
    monkeypatch.setattr(distributed, "rank", lambda: 1)
    Autoencoder(hidden=(8,), latent=2, epochs=1, log_dir=str(tmp_path / "logs"), random_state=0,
                device="cpu").fit(digits[0])
    assert not (tmp_path / "logs").exists()


def test_without_tensorboard_the_error_names_the_extra(tmp_path, digits, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ModuleNotFoundError, match=r"aekit\[tensorboard\]"):
        Autoencoder(hidden=(8,), latent=2, epochs=1, log_dir=str(tmp_path), device="cpu").fit(digits[0])


def test_cli_train_log_dir_and_a_conditional_model(tmp_path):
    fast = ["--epochs", "1", "--set", "hidden=(8,)", "--set", "latent=2", "--quiet"]
    assert main(["train", "vae", "--data", "digits", "--out", str(tmp_path / "vae"), "--log-dir",
                 str(tmp_path / "logs"), "--set", "conditional=True", *fast]) == 0
    tags = read(tmp_path / "logs")
    assert "train/kl" in tags["scalars"] and "samples" in tags["images"]
    assert list((tmp_path / "logs").rglob("metadata.tsv"))  # the digits' labels
    model = aekit.load(tmp_path / "vae")
    assert model.conditional and model.sample(3, y=7).shape == (3, 64)


def test_an_anomaly_detector_passes_log_dir_to_its_autoencoder(tmp_path, digits):
    detector = AnomalyDetector(Autoencoder(hidden=(8,), latent=2), epochs=1, log_dir=str(tmp_path), device="cpu")
    detector.fit(digits[0])
    assert "train/loss" in read(tmp_path)["scalars"]


def test_a_k_sparse_dictionary_logs_its_fvu_l0_and_dead_units(tmp_path, digits):
    X, _ = digits
    aekit.SparseAutoencoder(sparsity="topk", k=4, latent=32, scale=None, epochs=2, log_dir=str(tmp_path),
                            random_state=0, device="cpu").fit(X)
    scalars = read(tmp_path)["scalars"]
    for name in ("train/fvu", "train/l0", "train/dead_fraction", "validation/recon"):
        assert name in scalars


def test_a_classifier_logs_each_phase_and_its_pretraining(tmp_path, digits):
    X, y = digits
    aekit.AutoencoderClassifier(Autoencoder(hidden=(16,), latent=4, epochs=2), steps=40, log_dir=str(tmp_path),
                                random_state=0, device="cpu").fit(X, mask_labels(y, 50, random_state=0))
    assert {"joint/train/cross_entropy", "joint/train/graph", "joint/lr/main"} <= set(read(tmp_path)["scalars"])
    assert "train/recon" in read(tmp_path / "pretrain")["scalars"]


def picture_steps(log_dir, tag="reconstructions"):
    events = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.IMAGES: 0})
    events.Reload()
    return sorted({event.step for event in events.Images(tag)})


def test_log_every_sets_the_epochs_between_pictures(tmp_path, digits, capsys):
    X, _ = digits
    for every, steps in ((2, [1, 2, 4]), (5, [1, 4])):  # also after the first and the last epoch
        Autoencoder(hidden=(8,), latent=2, epochs=4, log_dir=str(tmp_path / str(every)), log_every=every,
                    random_state=0, device="cpu").fit(X)
        assert picture_steps(tmp_path / str(every)) == steps
    assert Autoencoder().log_every == 5
    for bad in (0, 1.5, "2"):
        with pytest.raises(ValueError, match=r"invalid value log_every="):
            Autoencoder(hidden=(8,), latent=2, epochs=1, log_every=bad, device="cpu").fit(X)
    assert main(["train", "ae", "--data", "digits", "--out", str(tmp_path / "cli"), "--log-dir", str(tmp_path / "logs"),
                 "--log-every", "2", "--epochs", "3", "--set", "hidden=(8,)", "--set", "latent=2", "--quiet"]) == 0
    assert picture_steps(tmp_path / "logs") == [1, 2, 3]
    assert aekit.load(tmp_path / "cli").log_every == 2
    assert main(["train", "ae", "--data", "digits", "--out", str(tmp_path / "bad"), "--log-every", "0"]) != 0
    assert "--log-every: must be at least 1" in capsys.readouterr().err
