"""Mixed precision and torch.compile: the same training, other arithmetic (checked on the CPU)."""

import warnings

import numpy as np
import pytest
import torch

from aekit import GAN, Autoencoder, VariationalAutoencoder
from aekit.estimators import _base

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.filterwarnings("ignore:precision=.* on a CPU without:RuntimeWarning")]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.RandomState(0)
    return (rng.rand(256, 8) @ rng.rand(8, 32) / 8).astype(np.float32)  # in [0, 1] for the VAE


def fitted(cls, rows, **params):
    settings = dict(hidden=(32,), latent=4, epochs=4, batch_size=32, random_state=0, device="cpu")
    return cls(**{**settings, **params}).fit(rows)


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder])
def test_mixed_precision_trains_to_nearly_the_float32_loss(rows, cls, precision):
    full, mixed = fitted(cls, rows), fitted(cls, rows, precision=precision)
    assert mixed.history_[-1]["val_loss"] == pytest.approx(full.history_[-1]["val_loss"], rel=0.02)
    # the weights stay float32: only the forward passes ran in the lower precision
    assert all(q.dtype == torch.float32 for q in mixed.model_.parameters())
    assert mixed.history_[-1]["val_loss"] != full.history_[-1]["val_loss"]


def test_mixed_precision_gan_trains(rows):
    gan = fitted(GAN, rows, precision="bf16-mixed")
    assert np.isfinite(gan.history_[-1]["loss"]) and gan.sample(3, random_state=0).shape == (3, 32)


def test_the_forward_pass_runs_in_bfloat16(rows, monkeypatch):
    dtypes = []
    linear = torch.nn.functional.linear

    def recording_linear(*args, **kwargs):
        out = linear(*args, **kwargs)
        dtypes.append(out.dtype)
        return out

    monkeypatch.setattr(torch.nn.functional, "linear", recording_linear)
    fitted(Autoencoder, rows, precision="bf16-mixed", epochs=1)
    assert torch.bfloat16 in dtypes


def test_saved_model_keeps_precision(rows, tmp_path):
    from aekit import load
    model = fitted(Autoencoder, rows, precision="bf16-mixed")
    model.save(tmp_path / "m")
    assert load(tmp_path / "m").get_params()["precision"] == "bf16-mixed"


def test_bad_precision_is_refused(rows):
    with pytest.raises(ValueError, match="precision='fp8'"):
        fitted(Autoencoder, rows, precision="fp8")


def test_compile_gives_the_loss_of_eager_training(rows):
    eager, compiled = fitted(Autoencoder, rows), fitted(Autoencoder, rows, compile=True)
    assert compiled.history_[-1]["loss"] == pytest.approx(eager.history_[-1]["loss"], rel=1e-4)


def test_half_precision_on_a_cpu_without_matrix_units_for_it_warns(rows, monkeypatch):
    monkeypatch.setattr(_base, "cpu_has_fast", lambda precision: False)
    with pytest.warns(RuntimeWarning, match="trains many times slower than precision='32'") as caught:
        fitted(Autoencoder, rows, precision="bf16-mixed", epochs=1)
    assert caught[0].filename == __file__  # it points at the caller's fit
    with pytest.warns(RuntimeWarning, match=r"precision='16-mixed' on a CPU without matrix units for it \(AMX-FP16\)"):
        fitted(Autoencoder, rows, precision="16-mixed", epochs=1)
    monkeypatch.setattr(_base, "cpu_has_fast", lambda precision: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fitted(Autoencoder, rows, precision="bf16-mixed", epochs=1)
