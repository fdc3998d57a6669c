import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit import VariationalAutoencoder
from aekit.datasets import load
from aekit.losses import gaussian_kl

_RANDOM_DRAWS = "importance-sampling draws depend on the batch a row is in"
EXPECTED_FAILED = {
    "check_methods_sample_order_invariance": _RANDOM_DRAWS,
    "check_methods_subset_invariance": _RANDOM_DRAWS,
}


@parametrize_with_checks(
    [VariationalAutoencoder(hidden=(8,), latent=2, epochs=2, batch_size=16, likelihood="gaussian", device="cpu")],
    expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits_vae():
    X = load("digits", split="train").data
    vae = VariationalAutoencoder(hidden=(64,), latent=4, epochs=15, random_state=0, device="cpu").fit(X)
    return vae, load("digits", split="test").data[:100]


def test_loss_terms_are_nll_and_kl_in_nats(digits_vae):
    vae, X = digits_vae
    record = vae.history_[-1]
    assert {"recon", "kl", "loss", "val_recon", "val_kl"} <= set(record)
    assert record["loss"] == pytest.approx(record["recon"] + record["kl"])
    assert record["kl"] > 0
    # The ELBO of a row is -(recon + kl) averaged over draws; compare on average with the history
    assert -vae.elbo(X, n_samples=20).mean() == pytest.approx(record["val_loss"], rel=0.15)


def test_kl_of_standard_normal_is_zero():
    assert gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)).abs().max() == 0


def test_iwae_bounds_the_elbo_and_grows_with_k(digits_vae):
    vae, X = digits_vae
    elbo = vae.elbo(X, n_samples=50).mean()
    estimates = [vae.score_samples(X, n_importance=k).mean() for k in (1, 10, 100)]
    assert estimates[0] == pytest.approx(vae.elbo(X, n_samples=1).mean())
    assert elbo <= estimates[1] <= estimates[2]
    for bad in (0, 2.5):
        with pytest.raises(ValueError, match=f"n_importance must be a positive integer .*, got {bad}"):
            vae.score_samples(X[:2], n_importance=bad)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        vae.elbo(X[:2], n_samples=0)


def test_iwae_matches_exact_likelihood_of_linear_gaussian_model():
    # With linear encoder and decoder and a fixed-variance Gaussian likelihood, p(x) is
    # N(b, W W^T + sigma^2 I): the estimate must converge to it.
    rng = np.random.RandomState(0)
    X = (rng.randn(500, 2) @ rng.randn(2, 5) + rng.randn(500, 5) * 0.5).astype(np.float32)
    vae = VariationalAutoencoder(hidden=(), latent=2, likelihood="gaussian", sigma=0.5, epochs=60,
                                 batch_size=50, lr=1e-2, random_state=0, device="cpu").fit(X)
    decoder = vae.model_.decoder[0]
    W, b = decoder.weight.detach().double().numpy(), decoder.bias.detach().double().numpy()
    exact = multivariate_normal(b, W @ W.T + 0.25 * np.eye(5)).logpdf(X[:50])
    estimate = vae.score_samples(X[:50], n_importance=5000)
    np.testing.assert_allclose(estimate, exact, atol=0.02)
    assert vae.elbo(X[:50], n_samples=200).mean() <= exact.mean()


def test_generation_helpers(digits_vae):
    vae, X = digits_vae
    samples = vae.sample(6, random_state=1)
    assert samples.shape == (6, 64) and 0 <= samples.min() and samples.max() <= 1
    np.testing.assert_array_equal(samples, vae.sample(6, random_state=1))
    path = vae.interpolate(X[0], X[1], steps=5)
    np.testing.assert_allclose(path[0], vae.reconstruct(X[:1])[0], atol=1e-6)
    np.testing.assert_allclose(path[-1], vae.reconstruct(X[1:2])[0], atol=1e-6)
    with pytest.raises(ValueError, match="x_b has 10 values; expected one row of 64 features"):
        vae.interpolate(X[0], X[1, :10])
    walk = vae.traverse(X[0], dim=2, values=[-2, 0, 2])
    assert walk.shape == (3, 64) and not np.allclose(walk[0], walk[2])
    shift = vae.attribute_vector(X[:40], np.arange(40) < 10)
    codes = vae.transform(X[:40])
    np.testing.assert_allclose(shift, codes[:10].mean(0) - codes[10:].mean(0), rtol=1e-5)
    with pytest.raises(ValueError, match="dim=9 is not a latent dimension"):
        vae.traverse(X[0], dim=9, values=[0])


def test_kl_warmup_raises_the_weight(tmp_path):
    X = load("digits").data[:300]
    vae = VariationalAutoencoder(hidden=(16,), latent=2, epochs=4, kl_warmup_epochs=4, random_state=0,
                                 device="cpu").fit(X)
    ratios = [(r["loss"] - r["recon"]) / r["kl"] for r in vae.history_]
    np.testing.assert_allclose(ratios, [0.25, 0.5, 0.75, 1.0], rtol=2e-3)  # epoch means of float32 terms


def test_save_load_resume_and_conv(tmp_path):
    X = load("digits").data[:300]
    params = dict(hidden=(4, 8), arch="conv", image_shape=(1, 8, 8), latent=3, random_state=0, device="cpu",
                  likelihood="gaussian", sigma="learned", scale="standard")
    reference = VariationalAutoencoder(**params, epochs=4).fit(X)
    VariationalAutoencoder(**params, epochs=2, checkpoint_dir=str(tmp_path)).fit(X)
    resumed = VariationalAutoencoder(**params, epochs=4, checkpoint_dir=str(tmp_path)).fit(X, resume=True)
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    assert "log_sigma" in dict(reference.model_.named_parameters())
    reference.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.score_samples(X[:10]), reference.score_samples(X[:10]))


def test_auto_likelihood_fits_the_data_given():
    X = np.random.RandomState(0).rand(40, 4).astype(np.float32)
    unit = VariationalAutoencoder(hidden=(8,), latent=2, epochs=1, random_state=0).fit(X)
    table = VariationalAutoencoder(hidden=(8,), latent=2, epochs=1, random_state=0).fit(X * 6 - 3)
    assert (unit.likelihood_, table.likelihood_) == ("bernoulli", "gaussian")
    assert np.isfinite(table.score_samples(X * 6 - 3)).all()


def test_auto_likelihood_survives_saving(tmp_path):
    X = np.random.RandomState(0).randn(40, 4).astype(np.float32)
    vae = VariationalAutoencoder(hidden=(8,), latent=2, epochs=1, random_state=0).fit(X)
    vae.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert loaded.likelihood_ == "gaussian"
    np.testing.assert_array_equal(loaded.elbo(X, random_state=0), vae.elbo(X, random_state=0))


def test_bernoulli_needs_unit_interval():
    with pytest.raises(ValueError, match=r"likelihood='bernoulli' needs data in \[0, 1\]"):
        VariationalAutoencoder(epochs=1, likelihood="bernoulli").fit(np.linspace(-3, 3, 40).reshape(10, 4))


@pytest.mark.parametrize("options, term", [
    (dict(contractive_weight=0.5), "contractive"),
    (dict(contractive_weight=0.5, hidden=()), "contractive"),  # the closed form of the posterior mean
    (dict(sparsity="l1", noise="masking"), "sparsity"),
])
def test_a_penalised_vae_is_a_composition(options, term):
    """The autoencoder's penalties (and noise) on the Gaussian bottleneck: each adds its term, weighted."""
    X = load("digits", split="train").data[:200]
    vae = VariationalAutoencoder(**{"hidden": (16,), "latent": 3, "epochs": 2, "random_state": 0, "device": "cpu",
                                    **options}).fit(X)
    weight = 0.5 if term == "contractive" else 0.02
    for record in vae.history_:
        assert record[term] > 0
        assert record["loss"] == pytest.approx(record["recon"] + record["kl"] + weight * record[term], rel=1e-5)
    assert vae.transform(X[:5]).shape == (5, 3)


def test_target_sparsity_needs_units_in_the_unit_interval():
    with pytest.raises(ValueError, match="sparsity='kl' needs code units in"):
        VariationalAutoencoder(sparsity="kl", epochs=1).fit(load("digits").data[:50])

