"""The composed family: corruption (denoising), sparsity and contractive penalties, and the presets
DenoisingAutoencoder / SparseAutoencoder / ContractiveAutoencoder that only change defaults."""

import dataclasses
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

import aekit
from aekit import Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder, registry
from aekit.datasets import load
from aekit.losses import DEFAULT_SPARSITY_WEIGHT, reconstruction_loss_from_logits, sparsity_penalty
from aekit.nn import AutoencoderNet, ContractivePenalty, DeterministicBottleneck, build_mlp, make_activation
from aekit.noise import corrupt, corrupt_tensor
from test_autoencoder import EXPECTED_FAILED  # tests/ is on sys.path (pytest's rootdir "prepend" import mode)

TINY = dict(hidden=(16,), latent=4, epochs=2, batch_size=32, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def digits():
    return load("digits", split="train").data[:240]


def _binomial_ok(count, n, p, sigmas=5):
    """``count`` successes of ``n`` trials is within ``sigmas`` standard deviations of ``n p``."""
    return abs(count - n * p) <= sigmas * np.sqrt(n * p * (1 - p))


# ---- corruption: aekit.noise.corrupt ----------------------------------------------------------------

def test_gaussian_noise_has_the_asked_std_and_stays_in_range():
    rng = np.random.RandomState(0)
    X = rng.uniform(0.45, 0.55, size=(4000, 6)).astype(np.float32)
    X[0], X[1] = 0.0, 1.0  # each feature's range is [0, 1]; the bulk sits 9 sigma from both ends
    noisy = corrupt(X, "gaussian", 0.05, random_state=0)
    assert noisy.shape == X.shape and noisy.dtype == np.float32
    assert np.all(noisy >= X.min(0)) and np.all(noisy <= X.max(0))
    delta = (noisy - X)[2:]
    assert abs(delta.std() - 0.05) < 0.002 and abs(delta.mean()) < 0.002
    assert np.all(np.abs(delta.std(0) - 0.05) < 0.004)  # every feature, not just on average


def test_gaussian_noise_is_clipped_to_the_overall_range():
    X = np.random.RandomState(1).rand(500, 4).astype(np.float32) * np.array([1, 2, 5, 10], np.float32)
    noisy = corrupt(X, "gaussian", 3.0, random_state=0)
    low, high = X.min(), X.max()
    assert np.all(noisy >= low) and np.all(noisy <= high)
    assert np.all((noisy == low).any(0)) and (noisy == high).any()  # clipping did happen
    assert noisy[:, 0].max() > 2 * X[:, 0].max()  # not clipped to the feature's own range
    # explicit bounds replace the data range
    bounded = corrupt(X, "gaussian", 3.0, random_state=0, low=-1.0, high=20.0)
    assert bounded.min() >= -1 and bounded.max() <= 20 and bounded.min() < 0


def test_masking_zeroes_a_fraction_and_leaves_the_rest():
    X = (np.random.RandomState(0).rand(400, 50) + 0.1).astype(np.float32)  # no zeros to begin with
    noisy = corrupt(X, "masking", 0.3, random_state=0)
    zeroed = noisy == 0
    assert _binomial_ok(zeroed.sum(), X.size, 0.3)
    np.testing.assert_array_equal(noisy[~zeroed], X[~zeroed])
    assert not (corrupt(X, "masking", 0.0, random_state=0) == 0).any()
    assert np.all(corrupt(X, "masking", 1.0, random_state=0) == 0)


def test_salt_and_pepper_sets_components_to_the_overall_min_or_max():
    rng = np.random.RandomState(0)
    X = (rng.rand(400, 50) * rng.uniform(1, 10, size=50) - 3).astype(np.float32)  # per-feature ranges
    low, high = X.min(), X.max()
    noisy = corrupt(X, "salt_and_pepper", 0.2, random_state=0)
    changed = noisy != X
    assert _binomial_ok(changed.sum(), X.size, 0.2)
    is_high = noisy[changed] == high
    is_low = noisy[changed] == low
    assert np.all(is_high | is_low)
    assert _binomial_ok(is_high.sum(), changed.sum(), 0.5)
    # explicit scalar bounds give the values
    noisy = corrupt(X, "salt_and_pepper", 0.2, random_state=0, low=-7.0, high=7.0)
    assert set(np.unique(noisy[noisy != X])) == {-7.0, 7.0}


def test_corrupt_puts_noise_on_blank_features_by_default():
    """Images in [0, 1] with an always-blank border: aekit's noisy copy has noise on the border too,
    as a copy made by any other program has."""
    X = np.random.RandomState(0).rand(300, 6).astype(np.float32)
    X[:, 0] = 0.0  # blank in every row
    X[:, 1] *= 0.01  # nearly blank
    noisy = corrupt(X, "gaussian", 0.3, random_state=0)
    assert 0 <= noisy.min() and noisy.max() <= 1
    assert (noisy[:, 0] > 0).mean() > 0.4 and noisy[:, 1].max() > 0.5
    pepper = corrupt(X, "salt_and_pepper", 0.2, random_state=0)
    assert set(np.unique(pepper[:, 0])) == {0.0, X.max()}  # the overall maximum, not the feature's 0


@pytest.mark.parametrize("kind", ["gaussian", "masking", "salt_and_pepper"])
def test_corrupt_is_seeded(kind):
    X = np.random.RandomState(0).rand(50, 8).astype(np.float32)
    np.testing.assert_array_equal(corrupt(X, kind, 0.3, random_state=3), corrupt(X, kind, 0.3, random_state=3))
    assert not np.array_equal(corrupt(X, kind, 0.3, random_state=3), corrupt(X, kind, 0.3, random_state=4))
    np.testing.assert_array_equal(X, np.random.RandomState(0).rand(50, 8).astype(np.float32))  # a copy


@pytest.mark.parametrize("args, message", [
    (("blur", 0.3), "unknown noise kind 'blur'"),
    (("gaussian", -0.1), "noise level -0.1 is out of range for 'gaussian'"),
    (("masking", 1.5), "noise level 1.5 is out of range for 'masking'"),
    (("salt_and_pepper", -1), "out of range"),
])
def test_corrupt_rejects_bad_kind_and_level(args, message):
    with pytest.raises(ValueError, match=message):
        corrupt(np.ones((3, 2)), *args)


def test_corrupt_rejects_1d_input_and_allows_large_gaussian_level():
    with pytest.raises(ValueError, match=r"X must be 2-D .*got shape \(5,\)"):
        corrupt(np.ones(5), "masking", 0.1)
    assert corrupt(np.eye(3), "gaussian", 2.0, random_state=0).shape == (3, 3)


# ---- corruption inside a denoising autoencoder ------------------------------------------------------

@pytest.fixture(scope="module")
def dae(digits):
    return DenoisingAutoencoder(noise="gaussian", noise_level=0.2, validation_fraction=0.0, **TINY).fit(digits)


def test_corruption_is_fresh_per_batch_and_training_only(dae, digits):
    net = dae.model_
    x = torch.from_numpy(dae.scaler_.transform(digits[:64]))
    try:
        net.train()
        net.noise_stream = torch.Generator().manual_seed(0)
        first, second = net.loss_terms(x)["recon"].item(), net.loss_terms(x)["recon"].item()
        assert first != second  # fresh noise on every call
        # the loss reconstructs the clean input from the corrupted one
        net.noise_stream = torch.Generator().manual_seed(0)
        noisy = corrupt_tensor(x, "gaussian", 0.2, net.corruption.low, net.corruption.high,
                               torch.Generator().manual_seed(0))
        expected = reconstruction_loss_from_logits(net.decoder(net.encoder(noisy)), x, net.loss,
                                                   net.output_activation)
        torch.testing.assert_close(net.loss_terms(x)["recon"], expected.mean())
    finally:
        net.noise_stream = None
        net.eval()
    clean = net.per_row_loss(x).mean()
    assert net.loss_terms(x)["recon"].item() == net.loss_terms(x)["recon"].item()
    torch.testing.assert_close(net.loss_terms(x)["recon"], clean, rtol=0, atol=0)
    assert first > clean.item()  # the noise did reach the encoder in training mode
    np.testing.assert_array_equal(dae.transform(digits), dae.transform(digits))


def test_corruption_range_is_the_overall_training_range_in_scaled_units(dae, digits):
    assert dae.scaler_.kind_ is None  # "auto": the digits already lie in [0, 1]
    np.testing.assert_array_equal(dae.model_.corruption.low.numpy(), np.full(digits.shape[1], digits.min()))
    np.testing.assert_array_equal(dae.model_.corruption.high.numpy(), np.full(digits.shape[1], digits.max()))
    assert dae.model_.noise_stream is None  # not kept after fit (a fitted estimator must pickle)
    # per-feature min-max: the overall range [0, 1] in each feature's own units
    est = Autoencoder(noise="gaussian", scale="minmax", **TINY).fit(digits)
    span = np.where(digits.max(0) > digits.min(0), digits.max(0) - digits.min(0), 1)
    np.testing.assert_allclose(est.model_.corruption.low.numpy(), (0 - digits.min(0)) / span, rtol=1e-6)
    np.testing.assert_allclose(est.model_.corruption.high.numpy(), (1 - digits.min(0)) / span, rtol=1e-6)


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper"])
def test_training_noise_reaches_a_constant_zero_feature(kind, digits):
    X = digits.copy()
    X[:, 0] = 0.0  # blank in every training image (a border pixel)
    est = DenoisingAutoencoder(noise=kind, noise_level=0.3, **TINY).fit(X)
    corruption = est.model_.corruption
    assert corruption.low[0] == 0 and corruption.high[0] == 1
    x = torch.from_numpy(est.scaler_.transform(X))
    noisy = corruption(x, torch.Generator().manual_seed(0))
    assert (noisy[:, 0] > 0).float().mean() > 0.1 and noisy[:, 0].max() == 1  # noise up to the global maximum


def test_declared_noise_range_is_honoured(digits):
    est = Autoencoder(noise="gaussian", noise_level=5.0, noise_range=(-1, 2), scale=None, **TINY).fit(digits)
    assert torch.all(est.model_.corruption.low == -1) and torch.all(est.model_.corruption.high == 2)
    noisy = est.model_.corruption(torch.from_numpy(digits), torch.Generator().manual_seed(0))
    assert noisy.min() == -1 and noisy.max() == 2
    scaled = Autoencoder(noise="salt_and_pepper", noise_range=[0, 2], scale="standard", **TINY).fit(digits)
    low, high = scaled.scaler_.transform(np.repeat([[0.0], [2.0]], digits.shape[1], axis=1))
    np.testing.assert_array_equal(scaled.model_.corruption.low.numpy(), low)
    np.testing.assert_array_equal(scaled.model_.corruption.high.numpy(), high)


@pytest.mark.parametrize("bad", [(1, 0), (0,), "0,1", (0, None), (True, 2)])
def test_noise_range_must_be_an_interval(bad, digits):
    with pytest.raises(ValueError, match=r"noise_range=.*a pair \(low, high\) with low < high"):
        Autoencoder(noise="gaussian", noise_range=bad, **TINY).fit(digits)


def test_denoising_is_seeded_not_global(digits):
    params = dict(noise="salt_and_pepper", noise_level=0.2, **TINY)
    torch.manual_seed(1)
    a = Autoencoder(**params).fit(digits)
    torch.manual_seed(2)  # the global stream must not matter: the noise comes from random_state
    b = Autoencoder(**params).fit(digits)
    for (name, wa), wb in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        torch.testing.assert_close(wa, wb, rtol=0, atol=0, msg=name)
    c = Autoencoder(**{**params, "random_state": 1}).fit(digits)
    assert not torch.equal(a.model_.encoder[0].weight, c.model_.encoder[0].weight)


def test_denoising_save_load_restores_corruption(digits, tmp_path):
    est = DenoisingAutoencoder(noise="salt_and_pepper", scale="standard", output_activation="linear",
                               **TINY).fit(digits)
    low, high = est.model_.corruption.low, est.model_.corruption.high
    assert not torch.all(low == 0) and not torch.all(high == 1)  # not the buffers' initial values
    est.save(tmp_path / "dae")
    loaded = aekit.load(tmp_path / "dae", device="cpu")
    assert type(loaded) is DenoisingAutoencoder and loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.transform(digits), est.transform(digits))
    torch.testing.assert_close(loaded.model_.corruption.low, low, rtol=0, atol=0)
    torch.testing.assert_close(loaded.model_.corruption.high, high, rtol=0, atol=0)
    assert loaded.model_.corruption.kind == "salt_and_pepper" and loaded.model_.corruption.level == 0.3


@pytest.mark.parametrize("factor, resolved", [(1.0, None), (16.0, "minmax")])
def test_scale_auto_round_trips_through_save_and_load(factor, resolved, digits, tmp_path):
    X = digits * factor  # the digits lie in [0, 1]; times 16 they do not
    est = DenoisingAutoencoder(**TINY).fit(X)
    assert est.scale == "auto" and est.scaler_.kind_ == resolved
    est.save(tmp_path / "dae")
    loaded = aekit.load(tmp_path / "dae", device="cpu")
    assert loaded.scale == "auto" and loaded.scaler_.kind_ == resolved
    np.testing.assert_array_equal(loaded.reconstruct(X), est.reconstruct(X))


# ---- sparsity ---------------------------------------------------------------------------------------

CODE = np.array([[0.1, 0.8, 0.02], [0.3, 0.6, 0.04], [0.2, 0.9, 0.01], [0.05, 0.7, 0.05]])


def test_l1_sparsity_is_the_batch_mean_of_the_summed_absolute_code():
    code = CODE * np.array([1, -1, 1])
    expected = np.abs(code).sum(1).mean()
    assert sparsity_penalty(torch.tensor(code), "l1", 0.05).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_kl_sparsity_matches_the_closed_form(p):
    q = CODE.mean(0)
    expected = np.sum(p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))
    assert sparsity_penalty(torch.tensor(CODE), "kl", p).item() == pytest.approx(expected, rel=1e-10)
    assert expected > 0


def test_kl_sparsity_is_zero_at_the_target_and_finite_for_target_one():
    at_target = torch.full((5, 3), 0.25, dtype=torch.float64)
    assert sparsity_penalty(at_target, "kl", 0.25).item() == pytest.approx(0, abs=1e-12)
    code = torch.tensor(CODE, requires_grad=True)
    value = sparsity_penalty(code, "kl", 1.0)  # sparsity_target's range is (0, 1]
    assert value.item() == pytest.approx(-np.log(CODE.mean(0)).sum(), rel=1e-10)
    value.backward()
    assert torch.isfinite(code.grad).all()


def test_squared_sparsity_is_the_squared_distance_to_the_target():
    expected = np.sum((0.1 - CODE.mean(0)) ** 2)
    assert sparsity_penalty(torch.tensor(CODE), "squared", 0.1).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("options, activation", [
    (dict(), nn.Identity),
    (dict(sparsity="l1"), nn.ReLU),
    (dict(sparsity="kl"), nn.Sigmoid),
    (dict(sparsity="squared"), nn.Sigmoid),
    (dict(contractive_weight=0.1), nn.Sigmoid),
    (dict(sparsity="l1", contractive_weight=0.1), nn.Sigmoid),
    (dict(sparsity="kl", code_activation="tanh"), nn.Tanh),  # an explicit choice wins
])
def test_auto_code_activation(options, activation, digits):
    est = Autoencoder(**{**TINY, "epochs": 0, **options}).fit(digits[:40])
    assert type(est.model_.bottleneck.activation) is activation
    assert est.get_params()["code_activation"] == options.get("code_activation", "auto")


@pytest.mark.parametrize("kind, weight", [("l1", 0.02), ("kl", 3.0), ("squared", 10.0), ("kl", 0.5)])
def test_sparsity_term_is_logged_and_weighted(kind, weight, digits):
    explicit = weight if (kind, weight) == ("kl", 0.5) else None  # else the documented default
    est = Autoencoder(sparsity=kind, sparsity_weight=explicit, **TINY).fit(digits)
    for record in est.history_:
        assert record["sparsity"] > 0
        assert record["loss"] == pytest.approx(record["recon"] + weight * record["sparsity"], rel=1e-5)
        assert record["val_loss"] == pytest.approx(record["val_recon"] + weight * record["val_sparsity"], rel=1e-5)


# ---- contractive ------------------------------------------------------------------------------------

def _jacobian_reference(encoder, x):
    """Batch mean of ||d code / d x||_F^2, one autograd Jacobian per example."""
    norms = [torch.autograd.functional.jacobian(encoder, row).square().sum() for row in x]
    return torch.stack(norms).mean()


def _net(n_features, hidden, latent, code_activation, method, seed=0):
    torch.manual_seed(seed)
    encoder, decoder = build_mlp(n_features, hidden, latent, "tanh", tied=False)
    bottleneck = DeterministicBottleneck(make_activation(code_activation), latent)
    return AutoencoderNet(encoder, bottleneck, decoder, penalties=[ContractivePenalty(method)]).double()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_closed_form_contractive_penalty_is_the_jacobian_norm(activation):
    net = _net(10, (), 6, activation, "closed_form")
    x = torch.randn(12, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    value = ContractivePenalty("closed_form")(net.run_encoder(x)[0])
    reference = _jacobian_reference(net.encoder, x)
    torch.testing.assert_close(value, reference, rtol=1e-5, atol=0)
    net.eval()
    torch.testing.assert_close(net.loss_terms(x)["contractive"], reference, rtol=1e-5, atol=0)
    with torch.no_grad():  # the term needs a graph, and makes one even when the caller has none
        torch.testing.assert_close(net.loss_terms(x)["contractive"], reference, rtol=1e-5, atol=0)
    net.requires_grad_(False)  # a frozen encoder (e.g. for transfer) still reports its penalty
    torch.testing.assert_close(net.loss_terms(x)["contractive"], reference, rtol=1e-5, atol=0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_contractive_estimator_uses_the_closed_form_for_one_layer(activation, digits):
    est = ContractiveAutoencoder(code_activation=activation, **{**TINY, "hidden": (), "latent": 5}).fit(digits)
    (penalty,) = est.model_.penalties
    assert penalty.method == "closed_form"
    net = est.model_.double()
    x = torch.from_numpy(est.scaler_.transform(digits[:20])).double()
    torch.testing.assert_close(net.loss_terms(x)["contractive"], _jacobian_reference(net.encoder, x),
                               rtol=1e-5, atol=0)


@pytest.fixture(scope="module")
def deep_cae(digits):
    return Autoencoder(contractive_weight=0.5, **{**TINY, "hidden": (7, 5)}).fit(digits)


def test_exact_contractive_penalty_of_a_deep_encoder(deep_cae, digits):
    net = deep_cae.model_
    assert [p.method for p in net.penalties] == ["exact"] and type(net.bottleneck.activation) is nn.Sigmoid
    x = torch.from_numpy(deep_cae.scaler_.transform(digits[:20]))
    net64 = pickle.loads(pickle.dumps(net)).double()
    reference = _jacobian_reference(net64.encoder, x.double())
    torch.testing.assert_close(net64.loss_terms(x.double())["contractive"], reference, rtol=1e-5, atol=0)
    torch.testing.assert_close(net.loss_terms(x)["contractive"].double(), reference, rtol=1e-4, atol=0)  # float32


@pytest.mark.parametrize("n_projections, calls", [(1, 1000), (16, 125)])
def test_projection_estimate_is_unbiased(n_projections, calls):
    net = _net(10, (7, 5), 6, "sigmoid", "exact")
    x = torch.randn(16, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    encoding = net.run_encoder(x)[0]
    exact = ContractivePenalty("exact")(encoding).item()
    assert exact == pytest.approx(_jacobian_reference(net.encoder, x).item(), rel=1e-5)
    penalty = ContractivePenalty("projections", n_projections)
    encoding = dataclasses.replace(encoding, noise_stream=torch.Generator().manual_seed(0))
    draws = [penalty(encoding).item() for _ in range(calls)]
    assert len(set(draws)) == calls  # random directions, fresh each call
    assert np.mean(draws) == pytest.approx(exact, rel=0.03)
    encoding = dataclasses.replace(encoding, noise_stream=torch.Generator().manual_seed(0))
    assert penalty(encoding).item() == draws[0]  # seeded by the net's stream


def test_projections_estimator_in_the_estimator(digits):
    est = Autoencoder(contractive_weight=0.5, contractive_estimator="projections", contractive_projections=4,
                      **{**TINY, "hidden": (7, 5)}).fit(digits)
    assert [(p.method, p.n_projections) for p in est.model_.penalties] == [("projections", 4)]
    for record in est.history_:
        assert record["loss"] == pytest.approx(record["recon"] + 0.5 * record["contractive"], rel=1e-5)


def test_contractive_term_is_logged_and_weighted(deep_cae):
    assert len(deep_cae.history_) == 2
    for record in deep_cae.history_:
        assert record["contractive"] > 0 and record["val_contractive"] > 0
        assert record["loss"] == pytest.approx(record["recon"] + 0.5 * record["contractive"], rel=1e-5)
        assert record["val_loss"] == pytest.approx(record["val_recon"] + 0.5 * record["val_contractive"], rel=1e-5)


def test_contractive_weight_contracts(digits):
    """A large weight makes the encoder's Jacobian smaller than without the penalty."""
    def jacobian_norm(weight):
        est = Autoencoder(contractive_weight=weight, code_activation="sigmoid",
                          **{**TINY, "hidden": (), "epochs": 5}).fit(digits)
        x = torch.from_numpy(est.scaler_.transform(digits[:50]))
        return _jacobian_reference(est.model_.encoder, x).item()
    assert jacobian_norm(10.0) < 0.5 * jacobian_norm(0.0)


# ---- combinations and presets -----------------------------------------------------------------------

def test_denoising_sparse_contractive_autoencoder(digits):
    est = Autoencoder(noise="gaussian", sparsity="kl", contractive_weight=0.1,
                      **{**TINY, "hidden": (16,), "latent": 8}).fit(digits)
    assert len(est.history_) == 2
    assert type(est.model_.bottleneck.activation) is nn.Sigmoid and est.model_.corruption is not None
    for record in est.history_:
        assert {"recon", "sparsity", "contractive", "val_recon", "val_sparsity", "val_contractive"} <= set(record)
        assert all(np.isfinite(v) for v in record.values())
        total = record["recon"] + DEFAULT_SPARSITY_WEIGHT["kl"] * record["sparsity"] + 0.1 * record["contractive"]
        assert record["loss"] == pytest.approx(total, rel=1e-5)
    assert est.transform(digits).shape == (len(digits), 8)


PRESETS = [
    (DenoisingAutoencoder, "dae", dict(noise="masking", noise_level=0.3, hidden=(512,), latent=128, scale="auto",
                                       epochs=30)),
    (SparseAutoencoder, "sparse", dict(sparsity="kl", latent=400, hidden=())),
    (ContractiveAutoencoder, "cae", dict(contractive_weight=0.1, latent=256, hidden=())),
]


@pytest.mark.parametrize("cls, name, defaults", PRESETS, ids=lambda v: getattr(v, "__name__", None))
def test_preset_defaults_and_registry(cls, name, defaults):
    params = cls().get_params()
    assert {k: params[k] for k in defaults} == defaults
    base = Autoencoder().get_params()
    # every Autoencoder parameter, at its value but for the preset's; SparseAutoencoder adds those of
    # k-sparse dictionaries (k, aux_k, ...), none of which acts under sparsity="kl"
    assert params.keys() >= base.keys()
    # output_activation "auto": Autoencoder's sigmoid under sparsity="kl", linear for dictionaries
    extra = {"output_activation"} if cls is SparseAutoencoder else set()
    assert {k for k in base if params[k] != base[k]} == {k for k in defaults if defaults[k] != base[k]} | extra
    assert issubclass(cls, Autoencoder)
    assert registry.get(name) is cls and registry.get(cls.__name__) is cls
    est = cls(latent=3, epochs=1)
    assert est.get_params()["latent"] == 3 and clone(est).get_params() == est.get_params()
    assert cls((8,), 2).get_params()["hidden"] == (8,)  # positional arguments as Autoencoder's


@pytest.mark.parametrize("cls, name, defaults", PRESETS, ids=lambda v: getattr(v, "__name__", None))
def test_preset_is_autoencoder_with_other_defaults(cls, name, defaults, digits):
    small = {**TINY, "latent": 6}
    est = cls(**small).fit(digits)
    same = Autoencoder(**{**defaults, **small}).fit(digits)
    np.testing.assert_array_equal(est.transform(digits), same.transform(digits))
    again = pickle.loads(pickle.dumps(est))
    assert type(again) is cls and again.get_params() == est.get_params()
    np.testing.assert_array_equal(again.transform(digits), est.transform(digits))
    fresh = clone(est)
    assert not hasattr(fresh, "model_") and fresh.get_params() == est.get_params()


CHECKED = [
    DenoisingAutoencoder(hidden=(8,), latent=2, epochs=2, batch_size=16, device="cpu"),
    SparseAutoencoder(latent=6, epochs=2, batch_size=16, device="cpu"),
    ContractiveAutoencoder(latent=3, epochs=2, batch_size=16, device="cpu"),
]


@parametrize_with_checks(CHECKED, expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", registry.names())
def test_an_unfitted_model_says_it_is_not_fitted(name):
    from sklearn.exceptions import NotFittedError

    estimator = registry.get(name)()
    X = np.zeros((2, 64), np.float32)
    calls = {"transform": (X,), "reconstruct": (X,), "score_samples": (X,), "inverse_transform": (X[:, :4],),
             "predict": (X,), "predict_proba": (X,), "sample": (2,), "interpolate": (X[0], X[1]),
             "elbo": (X,)}
    for method, args in calls.items():
        if hasattr(estimator, method):
            with pytest.raises(NotFittedError, match="not fitted yet"):
                getattr(estimator, method)(*args)
