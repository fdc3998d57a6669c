"""ONNX export: each part's graph takes raw rows (the scaler folded in), gives aekit's outputs within
1e-5 under onnxruntime for any batch size, is written atomically, and what cannot be exported is
refused in a sentence."""

import os

import numpy as np
import pytest

from aekit import GAN, AnomalyDetector, Autoencoder, VariationalAutoencoder
from aekit.cli import main
from aekit.datasets import load

ort = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    data = load("digits")
    # the raw units are 0-16: the graphs must scale them as the model does
    return data.data.astype(np.float32), data.target


def run(path, rows):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"rows": np.ascontiguousarray(rows, dtype=np.float32)})[0]


def close(got, expected):
    expected = np.asarray(expected, np.float64)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected) / (1 + np.abs(expected))) <= 1e-5


@pytest.mark.parametrize("params", [dict(hidden=(32,), latent=4, scale="standard"),
                                    dict(arch="conv", hidden=(4, 8), latent=4, image_shape=(1, 8, 8))],
                         ids=["mlp", "conv"])
def test_autoencoder_parts_round_trip(tmp_path, digits, params):
    X, _ = digits
    ae = Autoencoder(epochs=2, random_state=0, device="cpu", **params).fit(X)
    for part in ("encoder", "decoder", "scorer"):
        ae.to_onnx(tmp_path / f"{part}.onnx", part=part)
    for batch in (1, 7, 300):  # the batch size is free
        rows = X[:batch]
        close(run(tmp_path / "encoder.onnx", rows), ae.transform(rows))
        close(run(tmp_path / "scorer.onnx", rows), ae.score_samples(rows))
        codes = ae.transform(rows)
        close(run(tmp_path / "decoder.onnx", codes), ae.inverse_transform(codes))
    assert sorted(os.listdir(tmp_path)) == ["decoder.onnx", "encoder.onnx", "scorer.onnx"]  # no temporaries


def test_vae_encoder_gives_the_posterior_means_and_its_score_is_refused(tmp_path, digits):
    X, _ = digits
    vae = VariationalAutoencoder(hidden=(32,), latent=4, epochs=2, random_state=0, device="cpu").fit(X)
    vae.to_onnx(tmp_path / "encoder.onnx")
    close(run(tmp_path / "encoder.onnx", X[:50]), vae.transform(X[:50]))
    vae.to_onnx(tmp_path / "decoder.onnx", part="decoder")
    Z = np.random.RandomState(0).randn(9, 4).astype(np.float32)
    close(run(tmp_path / "decoder.onnx", Z), vae.inverse_transform(Z))
    with pytest.raises(ValueError, match="importance-sampled likelihood, random"):
        vae.to_onnx(tmp_path / "scorer.onnx", part="scorer")
    assert not (tmp_path / "scorer.onnx").exists()


def test_anomaly_scorer_round_trip(tmp_path, digits):
    X, _ = digits
    detector = AnomalyDetector(Autoencoder(hidden=(32,), latent=4), scores=("reconstruction", "relative", "density"),
                               epochs=2, random_state=0, device="cpu").fit(X)
    detector.to_onnx(tmp_path / "scorer.onnx", part="scorer")
    for batch in (1, 64):
        close(run(tmp_path / "scorer.onnx", X[-batch:]), detector.score_samples(X[-batch:]))
    detector.to_onnx(tmp_path / "encoder.onnx")  # the autoencoder's
    close(run(tmp_path / "encoder.onnx", X[:5]), detector.transform(X[:5]))
    detector.save(tmp_path / "detector")  # `aekit export` exports a saved detector's scorer
    assert main(["export", "--model", str(tmp_path / "detector"), "--part", "scorer",
                 "--out", str(tmp_path / "saved.onnx")]) == 0
    close(run(tmp_path / "saved.onnx", X[:9]), detector.score_samples(X[:9]))


def test_gan_exports_its_generator_only(tmp_path, digits):
    X, _ = digits
    gan = GAN(hidden=(16, 16), latent=4, epochs=1, spectral_norm=True, random_state=0, device="cpu").fit(X)
    gan.to_onnx(tmp_path / "generator.onnx", part="decoder")
    Z = np.random.RandomState(1).randn(5, 4).astype(np.float32)
    close(run(tmp_path / "generator.onnx", Z), gan.inverse_transform(Z))
    with pytest.raises(ValueError, match="only a generator"):
        gan.to_onnx(tmp_path / "encoder.onnx", part="encoder")


def test_bad_part_and_conditional_decoder_are_refused(tmp_path, digits):
    X, y = digits
    vae = VariationalAutoencoder(hidden=(16,), latent=2, epochs=1, conditional=True, random_state=0,
                                 device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="part must be one of"):
        vae.to_onnx(tmp_path / "x.onnx", part="classifier")
    with pytest.raises(ValueError, match="decodes with a class"):
        vae.to_onnx(tmp_path / "x.onnx", part="decoder")
    vae.to_onnx(tmp_path / "encoder.onnx")  # q(z | x) needs no class
    close(run(tmp_path / "encoder.onnx", X[:3]), vae.transform(X[:3]))


def test_cli_export(tmp_path, digits, capsys):
    X, _ = digits
    Autoencoder(hidden=(16,), latent=3, epochs=1, random_state=0, device="cpu").fit(X).save(tmp_path / "model")
    out = tmp_path / "enc.onnx"
    assert main(["export", "--model", str(tmp_path / "model"), "--format", "onnx", "--out", str(out)]) == 0
    assert "encoder" in capsys.readouterr().out
    assert run(out, X[:4]).shape == (4, 3)
    decoder = tmp_path / "dec.onnx"
    assert main(["export", "--model", str(tmp_path / "model"), "--part", "decoder", "--out", str(decoder)]) == 0
    assert run(decoder, np.zeros((2, 3))).shape == (2, 64)
