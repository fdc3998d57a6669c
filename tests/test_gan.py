import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

import aekit
from aekit import GAN
from aekit.datasets import load
from aekit.nn.gan import GANNet
from aekit.training import load_checkpoint

TERMS = {"d_loss", "g_loss", "loss", "d_acc_real", "d_acc_fake"}
SMALL = dict(hidden=(16, 32), latent=4, batch_size=32, random_state=0, device="cpu")


pytestmark = pytest.mark.usefixtures("one_thread")


# Every check applies: a GAN is no transformer (no transform, reconstruct or score), so the checks of
# methods it lacks are not run.
@parametrize_with_checks([GAN(hidden=(8,), latent=2, epochs=2, batch_size=16, device="cpu"),
                          GAN(hidden=(8,), latent=2, epochs=2, batch_size=16, device="cpu", spectral_norm=True,
                              n_critic=2, label_smoothing=0.1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    train = load("digits", split="train")
    return train.data[:300], train.target[:300]


@pytest.fixture(scope="module")
def monitored_gan(digits):
    X, y = digits
    classifier = LogisticRegression(max_iter=200).fit(X, y)
    return GAN(**SMALL, epochs=3, monitor_classifier=classifier, monitor_samples=200).fit(X), classifier


def test_history_has_the_health_monitor(monitored_gan):
    gan, classifier = monitored_gan
    assert len(gan.history_) == 3
    classes = {f"class_{c}" for c in classifier.classes_}
    for record in gan.history_:
        # r1: the default penalty's term, measured in training only (validation has no gradients)
        assert TERMS | classes | {"r1", "class_coverage", "epoch", "time"} == set(record)
        assert 0 <= record["d_acc_real"] <= 1 and 0 <= record["d_acc_fake"] <= 1
        assert record["loss"] == pytest.approx(record["d_loss"] + record["g_loss"], rel=1e-5)
        fractions = np.array([record[k] for k in sorted(classes)])
        assert fractions.sum() == pytest.approx(1.0)
        assert record["class_coverage"] == pytest.approx((fractions > 0).mean())
    # the monitor classifies the same latent points every epoch: its last record is reproducible
    rows = gan.inverse_transform(torch.randn((200, 4), generator=torch.Generator().manual_seed(20160607)).numpy())
    labels = classifier.predict(rows)
    assert gan.history_[-1]["class_3"] == pytest.approx((labels == 3).mean())


def test_sample_shape_range_and_determinism(monitored_gan, digits):
    gan, _ = monitored_gan
    X, _ = digits
    samples = gan.sample(7, random_state=1)
    assert samples.shape == (7, 64) and samples.dtype == np.float32
    # sigmoid outputs mapped back through the min-max scaler stay inside the training range (a
    # constant feature has scale 1: it may come out anywhere in [value, value + 1])
    low, span = X.min(0), X.max(0) - X.min(0)
    assert (samples >= low).all() and (samples <= low + np.where(span > 0, span, 1) + 1e-6).all()
    np.testing.assert_array_equal(samples, gan.sample(7, random_state=1))
    assert not np.array_equal(samples, gan.sample(7, random_state=2))
    assert gan.sample(0).shape == (0, 64)
    z = torch.randn((7, 4), generator=torch.Generator().manual_seed(5)).numpy()
    np.testing.assert_array_equal(gan.inverse_transform(z), gan.inverse_transform(z))
    with pytest.raises(ValueError, match="codes must have shape"):
        gan.inverse_transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        gan.sample(-1)


def test_a_gan_encodes_nothing(monitored_gan, digits):
    gan, _ = monitored_gan
    for method in ("transform", "fit_transform", "reconstruct", "score_samples", "score"):
        assert not hasattr(gan, method), method
    logits = gan.discriminate(digits[0][:5])
    assert logits.shape == (5,) and np.isfinite(logits).all()


def test_same_seed_same_weights(digits):
    X, _ = digits
    a, b = GAN(**SMALL, epochs=1).fit(X), GAN(**SMALL, epochs=1).fit(X)
    for name, value in a.model_.state_dict().items():
        assert torch.equal(value, b.model_.state_dict()[name]), name
    c = GAN(**{**SMALL, "random_state": 1}, epochs=1).fit(X)
    assert not torch.equal(a.model_.decoder[0].weight, c.model_.decoder[0].weight)


def test_save_load_gives_identical_samples(tmp_path, monitored_gan):
    gan, _ = monitored_gan
    gan.save(tmp_path / "gan")
    params = json.loads((tmp_path / "gan" / "config.json").read_text())["params"]
    assert params["monitor_classifier"] is None  # an object is not configuration: not saved
    loaded = aekit.load(tmp_path / "gan")
    assert isinstance(loaded, GAN) and loaded.history_ == gan.history_
    np.testing.assert_array_equal(loaded.sample(20, random_state=3), gan.sample(20, random_state=3))


def test_resume_is_bit_exact_with_conv_spectral_norm_and_n_critic(tmp_path, digits):
    X, _ = digits
    params = dict(SMALL, hidden=(8, 4), arch="conv", image_shape=(1, 8, 8), spectral_norm=True, n_critic=2,
                  label_smoothing=0.1, clip_grad_norm=5.0, validation_fraction=0.1)
    reference = GAN(**params, epochs=4).fit(X)
    GAN(**params, epochs=2, checkpoint_dir=str(tmp_path)).fit(X)
    resumed = GAN(**params, epochs=4, checkpoint_dir=str(tmp_path)).fit(X, resume=True)
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    keys = [k for k in reference.history_[0] if k != "time"]
    assert [[r[k] for k in keys] for r in resumed.history_] == [[r[k] for k in keys] for r in reference.history_]
    assert {f"val_{t}" for t in TERMS} <= set(reference.history_[-1])
    # spectral normalisation's power-iteration vectors are state too, and they round-trip
    assert any("parametrizations" in name for name in reference.model_.state_dict())
    reference.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.sample(10, random_state=0), reference.sample(10, random_state=0))
    np.testing.assert_array_equal(loaded.discriminate(X[:10]), reference.discriminate(X[:10]))


def test_n_critic_takes_that_many_discriminator_steps_per_generator_step(tmp_path, digits):
    X, _ = digits  # 300 rows in batches of 32: 10 batches per epoch
    GAN(**SMALL, epochs=3, n_critic=2, checkpoint_dir=str(tmp_path)).fit(X)
    tensors, _ = load_checkpoint(tmp_path / "last.safetensors")
    assert tensors["optim.discriminator.0.step"].item() == 3 * 10
    assert tensors["optim.generator.0.step"].item() == 3 * 5


def test_spectral_norm_bounds_the_discriminator(digits):
    X, _ = digits
    gan = GAN(**SMALL, epochs=2, spectral_norm=True).fit(X)
    linears = [m for m in gan.model_.discriminator if isinstance(m, nn.Linear)]
    assert len(linears) == 3
    for layer in linears:
        assert torch.linalg.matrix_norm(layer.weight.detach(), 2) == pytest.approx(1.0, abs=0.05)


def test_conv_networks_are_dcgan_shaped(digits):
    X, _ = digits
    gan = GAN(**{**SMALL, "hidden": (8, 4)}, arch="conv", epochs=1).fit(X)  # 8x8 rows: a square image
    assert gan.image_shape_ == (1, 8, 8)
    kinds = {type(m) for m in gan.model_.decoder}
    assert {nn.ConvTranspose2d, nn.BatchNorm2d} <= kinds
    assert [m.stride for m in gan.model_.discriminator if isinstance(m, nn.Conv2d)] == [(2, 2), (2, 2)]
    assert any(isinstance(m, nn.LeakyReLU) for m in gan.model_.discriminator)
    assert gan.sample(3, random_state=0).shape == (3, 64)


def test_adversarial_terms_closed_form():
    # a discriminator with constant logit b: D(x) = sigmoid(b) for every row
    discriminator = nn.Linear(3, 1)
    nn.init.zeros_(discriminator.weight)
    nn.init.constant_(discriminator.bias, 0.5)
    net = GANNet(nn.Linear(2, 3), discriminator, latent=2, label_smoothing=0.1)
    terms = net.adversarial_terms(torch.rand(4, 3), torch.rand(6, 3))

    def softplus(v):
        return np.log1p(np.exp(v))
    real = 0.9 * softplus(-0.5) + 0.1 * softplus(0.5)  # BCE with the smoothed target 0.9
    assert terms["d_loss"].item() == pytest.approx(real + softplus(0.5))
    assert terms["g_loss"].item() == pytest.approx(softplus(-0.5))
    assert terms["d_acc_real"].item() == 1 and terms["d_acc_fake"].item() == 0


def test_r1_penalty_is_the_squared_input_gradient_on_real_rows():
    # D(x) = w.x + b: the gradient at every row is w, so E ||grad_x D||^2 = ||w||^2
    discriminator = nn.Linear(3, 1)
    with torch.no_grad():
        discriminator.weight.copy_(torch.tensor([[1.0, -2.0, 0.5]]))
    plain = GANNet(nn.Linear(2, 3), discriminator, latent=2)
    penalised = GANNet(nn.Linear(2, 3), discriminator, latent=2, r1_penalty=4.0)
    real, fake = torch.rand(5, 3), torch.rand(7, 3)
    base, terms = plain.adversarial_terms(real, fake), penalised.adversarial_terms(real, fake)
    assert "r1" not in base and terms["r1"].item() == pytest.approx(5.25)
    assert terms["d_loss"].item() == pytest.approx(base["d_loss"].item() + 2.0 * 5.25)
    # the penalty trains the discriminator: its gradient adds gamma * w to the weight's
    grad_base = torch.autograd.grad(base["d_loss"], discriminator.weight)[0]
    grad_penalised = torch.autograd.grad(terms["d_loss"], discriminator.weight)[0]
    torch.testing.assert_close(grad_penalised - grad_base, 4.0 * discriminator.weight.detach())
    with torch.no_grad():  # validation: no gradients, no penalty
        assert "r1" not in penalised.adversarial_terms(real, fake)


def test_r1_penalty_flattens_the_discriminator_around_the_data(digits):
    X, _ = digits
    slopes = {}
    for gamma in (0.0, 10.0):
        gan = GAN(**SMALL, epochs=3, spectral_norm=False, r1_penalty=gamma).fit(X)
        real = torch.from_numpy(gan.scaler_.transform(X)).requires_grad_(True)
        (slope,) = torch.autograd.grad(gan.model_.discriminate(real).sum(), real)
        slopes[gamma] = slope.pow(2).sum(1).mean().item()
        if gamma:
            assert all(record["r1"] > 0 for record in gan.history_)
            assert gan.history_[-1]["r1"] == pytest.approx(slopes[gamma], rel=0.5)
    assert slopes[10.0] < 0.75 * slopes[0.0]  # same seed: without the penalty they would be equal


def test_monitor_by_data_set_name_uses_the_reference_classifier(tmp_path, monkeypatch, digits):
    X, y = digits
    asked = []

    def reference_classifier(name, device):  # training the real one is tests/test_metrics.py's job
        asked.append(name)
        return LogisticRegression(max_iter=100).fit(X, y)
    monkeypatch.setattr(aekit.metrics, "reference_classifier", reference_classifier)
    gan = GAN(**SMALL, epochs=1, monitor_classifier="digits", monitor_samples=100).fit(X)
    assert asked == ["digits"]
    assert {f"class_{d}" for d in range(10)} <= set(gan.history_[0])
    gan.save(tmp_path / "m")
    assert aekit.load(tmp_path / "m").monitor_classifier == "digits"


@pytest.mark.parametrize("params, name", [
    (dict(n_critic=0), "n_critic"),
    (dict(label_smoothing=0.7), "label_smoothing"),
    (dict(betas=(0.5,)), "betas"),
    (dict(spectral_norm="yes"), "spectral_norm"),
    (dict(r1_penalty=-1), "r1_penalty"),
    (dict(monitor_classifier=3), "monitor_classifier"),
    (dict(lr_discriminator=0), "lr_discriminator"),
    (dict(output_activation="tanh"), "output_activation"),
    (dict(arch="conv", hidden=()), "hidden"),
    (dict(arch="conv", hidden=(4, 4, 4, 4)), "hidden"),
])
def test_bad_params_name_the_parameter(params, name):
    X = load("digits").data[:40]
    with pytest.raises(ValueError, match=name):
        GAN(epochs=1, device="cpu", **params).fit(X)


def test_a_last_batch_of_one_row_trains(digits):
    # 33 rows in batches of 32: the generator's batch normalisation still sees two rows
    gan = GAN(**SMALL, epochs=1).fit(digits[0][:33])
    assert np.isfinite(gan.history_[0]["loss"])


def test_sigmoid_output_needs_unit_interval():
    X = np.linspace(-3, 3, 40, dtype=np.float32).reshape(10, 4)
    with pytest.raises(ValueError, match=r"output_activation='sigmoid' needs data in \[0, 1\]"):
        GAN(epochs=1, scale=None, device="cpu").fit(X)
    assert GAN(hidden=(4,), latent=2, epochs=1, scale="standard", output_activation="linear",
               device="cpu").fit(X).sample(2).shape == (2, 4)


def test_the_generator_network_is_named_as_such():
    net = GAN(latent=2, hidden=(8,), epochs=1, batch_size=16, random_state=0, device="cpu").fit(
        np.random.RandomState(0).rand(40, 6).astype(np.float32)).model_
    assert net.generator is net.decoder and not any(k.startswith("generator.") for k in net.state_dict())
