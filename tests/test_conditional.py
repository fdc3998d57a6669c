"""Class-conditional VAE and GAN (fit with y, sample(n, y=...)), and the GAN's WGAN-GP loss."""

import json

import numpy as np
import pytest

import aekit
from aekit import GAN, VariationalAutoencoder
from aekit.datasets import load

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def two_classes():
    """Class "dark" rows near 0.1, class "light" rows near 0.9: which class a sample is shows in its mean."""
    rng = np.random.RandomState(0)
    y = np.array(["dark", "light"] * 150)
    X = np.where(y[:, None] == "dark", 0.1, 0.9) + 0.05 * rng.randn(300, 10)
    return np.clip(X, 0, 1).astype(np.float32), y


@pytest.mark.parametrize("make", [
    lambda: VariationalAutoencoder(hidden=(16,), latent=2, epochs=30, lr=1e-2, batch_size=32, conditional=True,
                                   random_state=0, device="cpu"),
    lambda: GAN(hidden=(16, 16), latent=2, epochs=60, lr=1e-3, batch_size=32, conditional=True, random_state=0,
                device="cpu"),
], ids=["vae", "gan"])
def test_samples_follow_the_class_asked_for(two_classes, make, tmp_path):
    X, y = two_classes
    model = make().fit(X, y)
    assert model.classes_.tolist() == ["dark", "light"]
    dark, light = model.sample(100, random_state=0, y="dark"), model.sample(100, random_state=0, y="light")
    assert dark.mean() < 0.4 < 0.6 < light.mean()
    mixed = model.sample(4, random_state=0, y=["light", "dark", "light", "dark"])
    assert mixed[0].mean() > mixed[1].mean()
    # y=None: each class in turn
    np.testing.assert_array_equal(model.sample(2, random_state=3), model.sample(2, random_state=3, y=["dark", "light"]))
    model.save(tmp_path / "m")
    again = aekit.load(tmp_path / "m")
    np.testing.assert_array_equal(again.classes_, model.classes_)
    np.testing.assert_allclose(again.sample(5, random_state=1, y="light"), model.sample(5, random_state=1, y="light"))


def test_conditional_errors_name_what_is_missing(two_classes):
    X, y = two_classes
    vae = VariationalAutoencoder(hidden=(8,), latent=2, epochs=1, conditional=True, device="cpu")
    with pytest.raises(ValueError, match=r"conditional=True trains on labelled rows: call fit\(X, y\)"):
        vae.fit(X)
    with pytest.raises(ValueError, match="y has 3 labels for 300 rows"):
        vae.fit(X, y[:3])
    vae.fit(X, y)
    with pytest.raises(ValueError, match=r"unknown classes \['grey'\]"):
        vae.sample(2, y="grey")
    with pytest.raises(ValueError, match="needs the class index of every row"):
        vae.reconstruct(X[:2])
    plain = VariationalAutoencoder(hidden=(8,), latent=2, epochs=1, device="cpu").fit(X, y)  # y ignored
    assert not hasattr(plain, "classes_")
    with pytest.raises(ValueError, match="trained without classes"):
        plain.sample(2, y="dark")


def test_unconditional_files_keep_their_weights_and_load_without_the_new_parameters(two_classes, tmp_path):
    X, _ = two_classes
    vae = VariationalAutoencoder(hidden=(8,), latent=2, epochs=1, random_state=0, device="cpu").fit(X)
    gan = GAN(hidden=(8, 8), latent=2, epochs=1, random_state=0, device="cpu").fit(X)
    for name, model in {"vae": vae, "gan": gan}.items():
        assert not any("condition" in key or "projection" in key for key in model.model_.state_dict())
        model.save(tmp_path / name)
        config_path = tmp_path / name / "config.json"
        config = json.loads(config_path.read_text())
        for param in ("conditional", "log_dir", "loss"):  # a file written before they existed
            config["params"].pop(param, None)
        config.pop("state", None) if name == "gan" else None
        config_path.write_text(json.dumps(config))
        again = aekit.load(tmp_path / name)
        np.testing.assert_allclose(again.sample(3, random_state=0), model.sample(3, random_state=0))


def test_wgan_gp_trains_a_critic_with_a_gradient_penalty(two_classes):
    X, _ = two_classes
    gan = GAN(hidden=(16, 16), latent=2, epochs=3, loss="wgan-gp", n_critic=2, betas=(0.5, 0.9), random_state=0,
              validation_fraction=0.2, device="cpu").fit(X)
    record = gan.history_[-1]
    assert {"wasserstein", "gp", "d_loss", "g_loss", "val_wasserstein"} <= set(record)
    assert "r1" not in record and np.isfinite(record["d_loss"])
    # the validation total is d_loss + g_loss: the monitored terms carry no weight
    assert record["val_loss"] == pytest.approx(record["val_d_loss"] + record["val_g_loss"])
    with pytest.raises(ValueError, match="invalid value loss='hinge'"):
        GAN(loss="hinge").fit(X)


def test_convolutional_conditional_models():
    digits = load("digits")
    gan, vae = GAN(arch="conv", hidden=(8, 4), latent=4), VariationalAutoencoder(arch="conv", hidden=(4, 8), latent=4)
    for model in (gan, vae):
        model.set_params(epochs=1, conditional=True, image_shape=(1, 8, 8), random_state=0, device="cpu")
        model.fit(digits.data, digits.target)
        assert model.sample(3, y=2).shape == (3, 64)
    # the GAN's class vectors join after each batch normalisation of the generator (its modules 3 and
    # 6 are BatchNorm2d), one value per channel; the VAE's after the decoder's first layer
    assert gan.model_.condition.positions == (3, 6) and vae.model_.condition.positions == (1,)


@pytest.mark.parametrize("loss", ["non-saturating", "wgan-gp"])
def test_the_auxiliary_classifier_of_a_conditional_gan(two_classes, loss):
    X, y = two_classes
    settings = dict(hidden=(16, 16), latent=2, epochs=2, batch_size=32, conditional=True, loss=loss,
                    validation_fraction=0.2, random_state=0, device="cpu")
    gan = GAN(**settings).fit(X, y)
    record = gan.history_[-1]
    assert {"d_class", "g_class", "val_d_class", "val_g_class"} <= set(record)
    assert np.isfinite(record["d_class"]) and np.isfinite(record["g_class"])
    # the class terms are inside d_loss (and the generator's step); the total stays d_loss + g_loss
    assert record["val_loss"] == pytest.approx(record["val_d_loss"] + record["val_g_loss"])
    again = GAN(**settings).fit(X, y)  # same seed, same weights
    for name, weight in gan.model_.state_dict().items():
        np.testing.assert_array_equal(weight.numpy(), again.model_.state_dict()[name].numpy())
    without = GAN(**settings, auxiliary_weight=0.0).fit(X, y)
    assert "d_class" not in without.history_[-1] and without.model_.projection.classifier is None
    with pytest.raises(ValueError, match="invalid value auxiliary_weight=-1"):
        GAN(**settings, auxiliary_weight=-1).fit(X, y)


def test_conditional_gan_files_from_before_the_auxiliary_classifier_load(two_classes, tmp_path):
    X, y = two_classes
    gan = GAN(hidden=(8, 8), latent=2, epochs=1, conditional=True, auxiliary_weight=0.0, random_state=0,
              device="cpu").fit(X, y)
    gan.save(tmp_path / "gan")
    config_path = tmp_path / "gan" / "config.json"
    config = json.loads(config_path.read_text())
    del config["params"]["auxiliary_weight"], config["state"]["auxiliary_classifier"]  # as written before
    config_path.write_text(json.dumps(config))
    again = aekit.load(tmp_path / "gan")
    assert again.auxiliary_weight == 0.0 and again.model_.projection.classifier is None
    np.testing.assert_allclose(again.sample(3, random_state=0, y="dark"), gan.sample(3, random_state=0, y="dark"))
