import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit import Autoencoder
from aekit.datasets import load

# Small sizes so that every scikit-learn check trains in a fraction of a second.
CHECKED = [
    Autoencoder(hidden=(8,), latent=2, epochs=2, batch_size=16, device="cpu"),
    Autoencoder(hidden=(8,), latent=2, epochs=2, batch_size=16, tied=True, scale="standard",
                output_activation="linear", device="cpu"),
]


# float32 matrix products round differently when rows are reordered or batched differently (BLAS
# blocking), so per-row outputs can differ in the last bit (~1e-7 relative); these checks compare with
# rtol=1e-7 and so cannot apply. Every other check applies and passes.
_BIT_EXACT_ACROSS_ORDERS = "float32 BLAS results differ in the last bit when rows are reordered or re-batched"
EXPECTED_FAILED = {
    "check_methods_sample_order_invariance": _BIT_EXACT_ACROSS_ORDERS,
    "check_methods_subset_invariance": _BIT_EXACT_ACROSS_ORDERS,
}


@parametrize_with_checks(CHECKED, expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


VARIANTS = [
    dict(),
    dict(tied=True),
    dict(loss="bce"),
    dict(scale="standard", output_activation="linear"),
    dict(arch="conv", hidden=(4, 8), image_shape=(1, 8, 8)),
    dict(arch="conv", hidden=(4,), image_shape=(1, 8, 8), tied=True),
    dict(arch="conv-pool", hidden=(4, 8), image_shape=(1, 8, 8)),
]


@pytest.fixture(scope="module")
def digits():
    return load("digits", split="train").data[:300]


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_invariants(options, digits, tiny_params, tmp_path):
    est = Autoencoder(**{**tiny_params, **options})
    codes = est.fit_transform(digits)
    assert codes.shape == (len(digits), 4) and codes.dtype == np.float32
    np.testing.assert_array_equal(clone(est).fit(digits).transform(digits), codes)  # same seed, same model
    assert est.reconstruct(digits).shape == digits.shape
    assert est.inverse_transform(codes).shape == digits.shape
    assert est.score_samples(digits).shape == (len(digits),)
    assert est.score(digits) == pytest.approx(est.score_samples(digits).mean(), rel=1e-6)
    assert [r["epoch"] for r in est.history_] == [1, 2, 3]
    assert {"loss", "recon", "val_loss", "val_recon", "time"} <= set(est.history_[0])

    est.save(tmp_path / "model")
    loaded = aekit.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.transform(digits), codes)
    np.testing.assert_array_equal(loaded.reconstruct(digits), est.reconstruct(digits))
    assert loaded.get_params() == est.get_params()


def test_tied_weights_are_shared_parameters(tiny_params):
    est = Autoencoder(**{**tiny_params, "tied": True, "hidden": (6,), "latent": 3}).fit(np.random.rand(50, 10))
    enc_weights = [m.weight for m in est.model_.encoder if isinstance(m, torch.nn.Linear)]
    dec = [m for m in est.model_.decoder if hasattr(m, "_source")]
    assert [d._source[0].weight for d in dec] == enc_weights[::-1]
    assert all(d._source[0].weight is w for d, w in zip(dec, enc_weights[::-1]))
    # Counted once: two encoder matrices + all biases, no decoder matrices.
    n_params = sum(p.numel() for p in est.model_.parameters())
    assert n_params == 10 * 6 + 6 * 3 + (6 + 3) + (6 + 10)


def test_scaling_round_trip_in_original_units():
    rng = np.random.RandomState(0)
    X = (rng.rand(300, 5) * [1, 10, 100, 1000, 5] + [0, -5, 50, 0, 2]).astype(np.float32)
    est = Autoencoder(hidden=(32,), latent=5, epochs=60, batch_size=32, random_state=0, device="cpu").fit(X)
    recon = est.reconstruct(X)
    # Errors are small relative to each feature's own range, so scaling was undone per feature.
    relative = np.abs(recon - X).mean(0) / np.ptp(X, axis=0)
    assert (relative < 0.1).all(), relative


def test_linear_autoencoder_finds_pca_subspace():
    # Rank-3 signal on orthonormal directions plus isotropic noise, off-centre: PCA's subspace is clear.
    rng = np.random.RandomState(0)
    basis = np.linalg.qr(rng.randn(20, 3))[0].T
    X = ((rng.randn(600, 3) * [3.0, 2.0, 1.5]) @ basis + rng.randn(600, 20) * 0.3 + 1.0).astype(np.float32)
    est = Autoencoder(hidden=(), latent=3, activation="linear", output_activation="linear", scale=None,
                      epochs=150, batch_size=64, lr=1e-2, validation_fraction=0, random_state=0,
                      device="cpu").fit(X)
    pca = PCA(3).fit(X)
    pca_error = np.square(pca.inverse_transform(pca.transform(X)) - X).sum(1).mean()
    ae_error = np.square(est.reconstruct(X) - X).sum(1).mean()
    assert pca_error <= ae_error <= pca_error * 1.01, (ae_error, pca_error)
    decoder_columns = est.model_.decoder[0].weight.detach().numpy()  # (20, 3): spans the reconstructions
    angles = np.degrees(subspace_angles(decoder_columns, pca.components_.T))
    assert angles.max() < 2.0, angles


def test_alternating_least_squares_reaches_pca_tightly_on_held_out_digits():
    # scikit-learn's 8x8 digits: PCA's 16th and 17th eigenvalues are within 5%, where gradient steps stall
    X = (load_digits().data / 16).astype(np.float32)
    train, test = X[:1400], X[1400:]
    est = Autoencoder(hidden=(), latent=16, activation="linear", output_activation="linear", scale=None,
                      optimizer="als", epochs=1000, validation_fraction=0, random_state=0, device="cpu").fit(train)
    pca = PCA(16, svd_solver="full").fit(train)
    angles = np.degrees(subspace_angles(est.model_.decoder[0].weight.detach().numpy().astype(np.float64),
                                        pca.components_.T))
    assert angles.max() < 0.01, angles.max()
    pca_error = np.square(pca.inverse_transform(pca.transform(test)) - test).sum(1).mean()
    ae_error = np.square(est.reconstruct(test) - test).sum(1).mean()
    assert abs(ae_error / pca_error - 1) < 1e-3
    assert len(est.history_) < 1000  # stopped once the span stopped turning
    assert all(b["loss"] <= a["loss"] + 1e-9 for a, b in zip(est.history_, est.history_[1:]))
    with_validation = clone(est).set_params(validation_fraction=0.2, epochs=3).fit(train)
    assert len(with_validation.history_) == 3 and "val_loss" in with_validation.history_[-1]


@pytest.mark.parametrize("options, named", [(dict(hidden=(8,)), "hidden"), (dict(noise="masking"), "noise"),
                                            (dict(output_activation="sigmoid"), "output_activation")])
def test_alternating_least_squares_refuses_a_non_linear_autoencoder(options, named):
    params = dict(hidden=(), latent=2, activation="linear", output_activation="linear", optimizer="als")
    with pytest.raises(ValueError, match=f"optimizer='als'.*{named}"):
        Autoencoder(**{**params, **options}).fit(np.random.RandomState(0).rand(20, 4))


def test_same_seed_same_weights_different_seed_differs(blobs, tiny_params):
    a = Autoencoder(**tiny_params).fit(blobs)
    b = Autoencoder(**tiny_params).fit(blobs)
    c = Autoencoder(**{**tiny_params, "random_state": 1}).fit(blobs)
    for (name, wa), wb in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        assert torch.equal(wa, wb), name
    assert not np.array_equal(a.transform(blobs), c.transform(blobs))


def test_training_reduces_loss_and_early_stopping_stops(blobs):
    est = Autoencoder(hidden=(32,), latent=3, epochs=200, lr=1e-2, early_stopping=3, random_state=0,
                      device="cpu").fit(blobs)
    losses = [r["loss"] for r in est.history_]
    assert losses[-1] < losses[0] / 3
    assert len(est.history_) < 200
    val = [r["val_loss"] for r in est.history_]
    assert min(val[:-3]) <= min(val[-3:])  # stopped because the last 3 epochs did not improve


@pytest.mark.parametrize("params, message", [
    (dict(latent=0), "latent=0"),
    (dict(activation="swish"), "activation='swish'"),
    (dict(loss="bce", output_activation="linear"), "output_activation='sigmoid'"),
    (dict(arch="conv"), "image_shape"),
    (dict(hidden=(8, -1)), "hidden=(8, -1)"),
    (dict(device="tpu"), "device='tpu'"),
    (dict(validation_fraction=1.5), "validation_fraction"),
    (dict(verbose=-1), "verbose=-1"),
])
def test_bad_parameters_are_named(params, message, blobs):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Autoencoder(**params, epochs=1).fit(blobs[:, :10])


@pytest.mark.parametrize("verbose", [0, 1, 2, True, False])
def test_verbose_is_an_int_or_a_bool(verbose, blobs):
    """As in scikit-learn: 0 is quiet, more is more (here: a progress bar)."""
    est = Autoencoder(hidden=(4,), latent=2, epochs=1, verbose=verbose, device="cpu").fit(blobs[:50, :10])
    assert len(est.history_) == 1


def test_bce_outside_unit_interval_is_refused(blobs):
    with pytest.raises(ValueError, match=r"loss='bce' needs data in \[0, 1\]"):
        Autoencoder(loss="bce", scale="standard", epochs=1).fit(blobs)


def test_divergence_is_a_clear_error_with_finite_weights_kept(blobs):
    est = Autoencoder(hidden=(16,), latent=3, epochs=50, lr=1e6, optimizer="sgd", scale="standard",
                      output_activation="linear", random_state=0, device="cpu")
    with pytest.raises(aekit.TrainingDivergedError, match=r"training diverged at epoch \d+"):
        est.fit(blobs)
    assert all(torch.isfinite(v).all() for v in est.model_.state_dict().values())


def test_transform_checks_feature_count(blobs, tiny_params):
    est = Autoencoder(**tiny_params).fit(blobs)
    with pytest.raises(ValueError, match="X has 5 features"):
        est.transform(blobs[:, :5])
    with pytest.raises(ValueError, match=r"codes must have shape \(n_samples, 4\)"):
        est.inverse_transform(np.zeros((3, 2)))
