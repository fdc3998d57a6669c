"""The k-sparse sparse autoencoders (TopK, BatchTopK, JumpReLU) and the dictionary recipe."""

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit import SparseAutoencoder
from aekit.cli import main
from aekit.datasets import make_superposition
from aekit.metrics import l0, mcc
from aekit.nn.dictionary import DictionaryNet, geometric_median
from aekit.nn.ksparse import KSparseBottleneck, batch_topk_code, topk_code
from aekit.report.context import Context
from aekit.report.stages.regularised import sparse as sparse_stage

KINDS = ("topk", "batchtopk", "jumprelu")
LAST_BIT = "float32 BLAS results differ in the last bit when rows are reordered or re-batched"
ORDER_CHECKS = ("check_methods_sample_order_invariance", "check_methods_subset_invariance")
TINY = dict(latent=32, k=3, scale=None, epochs=3, batch_size=64, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def superposed():
    X, dictionary, _ = make_superposition(1200, n_features=24, n_dims=12, l0=3, random_state=0)
    return X, dictionary


@pytest.fixture(scope="module")
def fitted(superposed, one_thread):
    return {kind: SparseAutoencoder(sparsity=kind, **TINY).fit(superposed[0]) for kind in KINDS}


def test_topk_keeps_the_k_largest_through_a_relu():
    pre = torch.tensor([[3.0, -1.0, 2.0, 0.5], [-2.0, -1.0, -3.0, 1.0]])
    assert topk_code(pre, 2).tolist() == [[3.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0]]


def test_batch_topk_keeps_k_times_rows_over_the_batch():
    pre = torch.tensor([[3.0, 2.0, 1.5], [0.1, 0.2, 0.3]])
    code = batch_topk_code(pre, 1)
    assert code.tolist() == [[3.0, 2.0, 0.0], [0.0, 0.0, 0.0]]


def test_jumprelu_threshold_gets_straight_through_gradients():
    bottleneck = KSparseBottleneck("jumprelu", latent=3, k=1, bandwidth=0.1, threshold_init=0.5)
    bottleneck.train()
    pre = torch.tensor([[0.52, 0.9, 0.1], [0.48, 0.2, 0.3]], requires_grad=True)
    code, terms = bottleneck.sample(pre)
    assert code.flatten().tolist() == pytest.approx([0.52, 0.9, 0.0, 0.0, 0.0, 0.0])
    # L0 = 1 per row on average: the term is 0, and the units near the threshold get a gradient
    (code.sum() + terms["sparsity"]).backward()
    assert terms["sparsity"].item() == pytest.approx(0.0)
    assert bottleneck.jump_threshold.grad[0] != 0 and bottleneck.jump_threshold.grad[1] == 0


def test_geometric_median_resists_an_outlier():
    angles = torch.linspace(0, 2 * torch.pi, 21)[:-1]
    X = torch.cat([torch.stack([angles.cos(), angles.sin()], 1), torch.tensor([[100.0, 100.0]])])
    assert geometric_median(X).norm() < 0.1 * X.mean(0).norm()


def test_dictionary_starts_with_unit_columns_and_encoder_as_their_transpose():
    net = DictionaryNet(6, KSparseBottleneck("topk", 10, 2))
    weight = net.dictionary.weight
    assert torch.linalg.norm(weight, dim=1).detach().numpy() == pytest.approx(np.ones(10), abs=1e-6)
    assert torch.equal(net.encoder[0].weight, weight)


def test_sparse_decoding_equals_the_dense_product():
    net = DictionaryNet(6, KSparseBottleneck("topk", 40, 1))
    code = topk_code(torch.randn(5, 40), 1).requires_grad_()
    sparse = net.dictionary(code)
    dense = code @ net.dictionary.weight + net.dictionary.bias
    torch.testing.assert_close(sparse, dense)
    grads = torch.autograd.grad(sparse.square().sum(), [code, net.dictionary.weight])
    expected = torch.autograd.grad(dense.square().sum(), [code, net.dictionary.weight])
    on_code = code != 0  # the only entries a top-k passes gradient back from
    torch.testing.assert_close(grads[0][on_code], expected[0][on_code])
    torch.testing.assert_close(grads[1], expected[1])


def test_the_encoders_backward_pass_equals_autograd():
    net = DictionaryNet(6, KSparseBottleneck("topk", 40, 2))
    with torch.no_grad():
        net.dictionary.bias.normal_()
    x = torch.randn(5, 6, requires_grad=True)
    pre = net.encoder[0](x)
    layer = net.encoder[0]
    reference = torch.nn.functional.linear(x - net.dictionary.bias, layer.weight, layer.bias)
    torch.testing.assert_close(pre, reference)
    upstream = topk_code(torch.randn(5, 40), 2)  # a sparse gradient, as a top-k passes back
    params = [x, net.dictionary.bias, layer.weight, layer.bias]
    torch.testing.assert_close(torch.autograd.grad(pre, params, upstream),
                               torch.autograd.grad(reference, params, upstream))


@pytest.mark.parametrize("per_batch", [False, True])
@pytest.mark.parametrize("with_aux", [False, True])
def test_the_fused_encoder_and_top_k_equal_autograd(with_aux, per_batch):
    net = DictionaryNet(6, KSparseBottleneck("topk", 40, 3))
    with torch.no_grad():
        net.dictionary.bias.normal_()
    layer = net.encoder[0]
    x = torch.randn(5, 6, requires_grad=True)
    params = [x, net.dictionary.bias, layer.weight, layer.bias]
    values, rows, units, pre = layer.top_k(x, 3, per_batch)
    reference_pre = torch.nn.functional.linear(x - net.dictionary.bias, layer.weight, layer.bias)
    reference_code = (batch_topk_code if per_batch else topk_code)(reference_pre, 3)
    code = torch.zeros(5, 40).index_put((rows, units), values)
    torch.testing.assert_close(code, reference_code)
    assert torch.equal(rows, rows.sort().values)
    decoded = net.dictionary.decode_active(values, rows, units, 5)
    torch.testing.assert_close(decoded, net.dictionary(reference_code))
    weights = torch.randn(5, 6)
    loss = (decoded * weights).sum() + (pre.square().sum() if with_aux else 0)
    reference = (net.dictionary(reference_code) * weights).sum() + (reference_pre.square().sum() if with_aux else 0)
    torch.testing.assert_close(torch.autograd.grad(loss, params), torch.autograd.grad(reference, params))


def test_projected_gradients_keep_columns_unit_norm_to_first_order():
    net = DictionaryNet(6, KSparseBottleneck("topk", 10, 2))
    net.dictionary.weight.grad = torch.randn(10, 6)
    net.project_gradients()
    along = (net.dictionary.weight.grad * net.dictionary.weight).sum(1)
    assert along.abs().max().item() < 1e-6


@pytest.mark.parametrize("kind", KINDS)
def test_fit_gives_components_codes_and_history(fitted, superposed, kind):
    sae = fitted[kind]
    X = superposed[0]
    components = sae.components_
    assert components.shape == (32, 12)
    assert np.linalg.norm(components, axis=1) == pytest.approx(np.ones(32), abs=1e-5)
    codes = sae.transform(X)
    assert codes.shape == (len(X), 32) and codes.min() >= 0
    if kind == "topk":
        assert ((codes > 0).sum(1) <= 3).all()
    record = sae.history_[-1]
    for key in ("recon", "fvu", "l0", "dead_fraction", "val_recon"):
        assert np.isfinite(record[key]), key
    assert 0 <= record["dead_fraction"] <= 1
    assert record["fvu"] < 1  # better than the mean row


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip_gives_identical_codes(fitted, superposed, kind, tmp_path):
    sae = fitted[kind]
    sae.save(tmp_path / kind)
    same = aekit.load(tmp_path / kind)
    X = superposed[0][:50]
    np.testing.assert_array_equal(same.transform(X), sae.transform(X))
    np.testing.assert_array_equal(same.components_, sae.components_)


def test_same_seed_same_dictionary(fitted, superposed):
    again = SparseAutoencoder(sparsity="topk", **TINY).fit(superposed[0])
    np.testing.assert_array_equal(again.components_, fitted["topk"].components_)


def test_topk_recovers_a_small_dictionary(one_thread):
    X, dictionary, _ = make_superposition(6000, n_features=16, n_dims=12, l0=2, random_state=1)
    sae = SparseAutoencoder(sparsity="topk", k=2, latent=32, scale=None, epochs=10, batch_size=64, lr=1e-2,
                            dead_after=2000, random_state=0, device="cpu").fit(X)
    assert mcc(sae.components_, dictionary) > 0.95
    assert l0(sae.transform(X)) <= 2


def test_l1_dictionary_and_the_penalty_kinds_still_train(superposed):
    X = superposed[0]
    l1 = SparseAutoencoder(sparsity="l1", dictionary=True, **{**TINY, "k": 32}).fit(X)
    assert l1.components_.shape == (32, 12) and "dead_fraction" in l1.history_[-1]
    kl = SparseAutoencoder(latent=8, epochs=1, random_state=0, device="cpu").fit(np.abs(X) / np.abs(X).max())
    assert kl.components_.shape == (8, 12) and "dead_fraction" not in kl.history_[-1]


@pytest.mark.parametrize("params, message", [
    (dict(sparsity="topk", k=40, latent=32), "k=40 .*exceeds latent=32"),
    (dict(sparsity="topk", k=0), "k=0"),
    (dict(sparsity="jumprelu", k=33, latent=32), "target L0"),
    (dict(sparsity="batchtopk", hidden=(8,)), "hidden=()"),
    (dict(sparsity="topk", output_activation="sigmoid"), "output_activation"),
    (dict(sparsity="topk", dictionary=False), "dictionary"),
])
def test_bad_parameters_are_refused_by_name(superposed, params, message):
    with pytest.raises(ValueError, match=message):
        SparseAutoencoder(**{**TINY, **params}).fit(superposed[0])


def test_rows_of_another_width_are_refused(fitted, superposed):
    with pytest.raises(ValueError, match="12 features"):
        fitted["topk"].transform(superposed[0][:, :10])


def test_dead_units_reconstruct_the_residual_with_auxk(superposed):
    sae = SparseAutoencoder(sparsity="topk", dead_after=1, aux_k=4, **TINY).fit(superposed[0])
    assert any(record["aux"] > 0 for record in sae.history_)
    assert sae.model_.rows_seen.item() > 0


@parametrize_with_checks([SparseAutoencoder(sparsity=kind, k=2, latent=8, epochs=2) for kind in KINDS],
                         expected_failed_checks=lambda est: dict.fromkeys(ORDER_CHECKS, LAST_BIT))
def test_k_sparse_kinds_pass_sklearn_checks(estimator, check):
    check(estimator)


def test_cli_trains_a_topk_dictionary_on_a_folder_of_shards(tmp_path, capsys, one_thread):
    X = make_superposition(1500, n_features=32, n_dims=12, l0=3, random_state=0)[0]
    (tmp_path / "shards").mkdir()
    for i, part in enumerate(np.array_split(X, 2)):
        np.save(tmp_path / "shards" / f"part{i}.npy", part.astype(np.float16))
    argv = ["train", "sparse", "--data", str(tmp_path / "shards"), "--set", "sparsity=topk", "--set", "k=3",
            "--set", "latent=32", "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet"]
    assert main(argv) == 0
    model = aekit.load(tmp_path / "run")
    assert model.sparsity == "topk" and model.components_.shape == (32, 12)
    assert main([*argv[:-3], "--set", "k=33", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "k=33 (the number of active units) exceeds latent=32" in capsys.readouterr().err


def test_report_sparse_stage_has_a_topk_model(tmp_path, one_thread):
    ctx = Context("digits", tmp_path, quick=True, retrain=False, progress=lambda message: None)
    section = sparse_stage.run(ctx)
    topk_rows = {row["metric"]: row for row in section.rows if row["model"] == "sparse, TopK k=32"}
    assert topk_rows["L0: active units per test row"]["value"] <= 32
    assert set(topk_rows) >= {"fraction of variance unexplained (test)", "dead units (zero on every test row)"}


@pytest.mark.parametrize("kind", KINDS)
def test_k_sparse_models_export_to_onnx(fitted, superposed, kind, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    sae, X = fitted[kind], superposed[0][:20]
    sae.to_onnx(tmp_path / "encoder.onnx", part="encoder")
    session = ort.InferenceSession(str(tmp_path / "encoder.onnx"))
    codes = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(codes, sae.transform(X), atol=1e-5)


@pytest.mark.parametrize("kind", ["topk", "batchtopk"])
def test_resumed_training_equals_uninterrupted(superposed, kind, tmp_path):
    params = dict(TINY, sparsity=kind, dead_after=100, random_state=0)
    SparseAutoencoder(**{**params, "epochs": 2}, checkpoint_dir=str(tmp_path)).fit(superposed[0])
    resumed = SparseAutoencoder(**params, checkpoint_dir=str(tmp_path)).fit(superposed[0], resume=True)
    whole = SparseAutoencoder(**params).fit(superposed[0])
    np.testing.assert_array_equal(resumed.components_, whole.components_)
    assert [r["dead_fraction"] for r in resumed.history_] == [r["dead_fraction"] for r in whole.history_]
