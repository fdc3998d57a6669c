"""CUDA paths: training, precision and save/load across devices. Skipped without a GPU (CI has
none); ``bench/gpu_check.sh`` runs them on a GPU machine."""

import numpy as np
import pytest
import torch

import aekit
from aekit import GAN, Autoencoder, VariationalAutoencoder

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.RandomState(0)
    return (rng.rand(512, 8) @ rng.rand(8, 64) / 8).astype(np.float32)


def small(cls, **params):
    return cls(**{"hidden": (32,), "latent": 4, "epochs": 3, "batch_size": 64, "random_state": 0, **params})


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder, GAN])
@pytest.mark.parametrize("precision", ["32", "bf16-mixed", "16-mixed"])
def test_trains_on_cuda_and_moves_to_the_cpu(cls, precision, rows, tmp_path):
    model = small(cls, device="cuda", precision=precision).fit(rows)
    assert model.model_.parameters().__next__().is_cuda
    assert np.isfinite(model.history_[-1]["loss"])
    model.save(tmp_path / "m")
    on_cpu = aekit.load(tmp_path / "m", device="cpu")
    assert next(on_cpu.model_.parameters()).device.type == "cpu"
    if cls is not GAN:
        np.testing.assert_allclose(on_cpu.transform(rows), model.transform(rows), atol=1e-4)
    back = aekit.load(tmp_path / "m", device="cuda:0")
    assert next(back.model_.parameters()).is_cuda


def test_cuda_and_cpu_training_agree_in_float32(rows):
    gpu = small(Autoencoder, device="cuda", epochs=2).fit(rows)
    cpu = small(Autoencoder, device="cpu", epochs=2).fit(rows)
    assert gpu.history_[-1]["loss"] == pytest.approx(cpu.history_[-1]["loss"], rel=1e-2)


def test_auto_picks_the_gpu(rows):
    assert next(small(Autoencoder, epochs=1).fit(rows).model_.parameters()).is_cuda
