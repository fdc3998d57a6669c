"""Retrieval: CodeIndex (exact, approximate, Hamming), its save format and CLI, precision@k, and the
SemanticHashingAutoencoder whose codes binarise."""

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit import Autoencoder, CodeIndex, SemanticHashingAutoencoder, registry
from aekit.cli import main
from aekit.datasets import load
from aekit.metrics import precision_at_k
from aekit.nn import BinaryBottleneck as BinaryCode
from test_autoencoder import EXPECTED_FAILED  # tests/ is on sys.path (pytest's rootdir "prepend" import mode)

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = dict(hidden=(16,), epochs=3, batch_size=32, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def codes():
    rng = np.random.RandomState(0)
    return rng.randn(500, 12).astype(np.float32), rng.randn(40, 12).astype(np.float32)


@pytest.fixture(scope="module")
def digits():
    return load("digits", split="train").data[:400], load("digits", split="test").data[:50]


@pytest.fixture(scope="module")
def model(digits):
    return Autoencoder(latent=6, **TINY).fit(digits[0])


def _brute_force(metric, Z, Q, thresholds=None):
    if metric == "euclidean":
        return np.sqrt(np.square(Q[:, None, :] - Z[None, :, :]).sum(2))
    if metric == "cosine":
        unit = Z / np.linalg.norm(Z, axis=1, keepdims=True)
        return 1 - (Q / np.linalg.norm(Q, axis=1, keepdims=True)) @ unit.T
    bits, query_bits = Z > thresholds, Q > thresholds
    return (query_bits[:, None, :] != bits[None, :, :]).sum(2)  # popcount of the XOR


# ---- exact search ---------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_search_equals_brute_force(codes, metric):
    Z, Q = codes
    index = CodeIndex(metric=metric)
    index.add_codes(Z[:123])
    index.add_codes(Z[123:])  # two calls: ids continue
    distances, ids = index.search_codes(Q, k=7)
    expected = _brute_force(metric, Z.astype(np.float64), Q.astype(np.float64))
    np.testing.assert_array_equal(ids, np.argsort(expected, axis=1)[:, :7])
    np.testing.assert_allclose(distances, np.sort(expected, axis=1)[:, :7], atol=1e-5)
    assert distances.dtype == np.float32 and ids.dtype == np.int64


def test_exact_search_spans_several_blocks(monkeypatch, codes):
    from aekit.apps import retrieval

    Z, Q = codes
    whole = CodeIndex()
    whole.add_codes(Z)
    monkeypatch.setattr(retrieval, "_CODE_BLOCK", 64)  # 8 blocks of stored codes, the last one short
    monkeypatch.setattr(retrieval, "_QUERY_BLOCK", 16)
    np.testing.assert_array_equal(whole.search_codes(Q, 10)[1], np.argsort(_brute_force("euclidean", Z, Q), 1)[:, :10])


@pytest.mark.parametrize("width", [8, 11])  # 11 bits: padded to two bytes
def test_hamming_equals_popcount_brute_force(codes, width):
    Z, Q = codes[0][:, :width], codes[1][:, :width]
    index = CodeIndex(metric="hamming", binary_bits=width)
    index.add_codes(Z)
    np.testing.assert_array_equal(index.thresholds_, np.median(Z, axis=0).astype(np.float32))
    distances, ids = index.search_codes(Q, k=9)
    expected = _brute_force("hamming", Z, Q, index.thresholds_)
    assert distances.dtype == np.int32
    np.testing.assert_array_equal(distances, np.sort(expected, axis=1)[:, :9])
    # many items tie at a Hamming distance: each returned id must have the distance reported for it
    np.testing.assert_array_equal(np.take_along_axis(expected, ids, 1), distances)
    assert all(len(set(row)) == 9 for row in ids.tolist())


def test_hamming_thresholds(codes):
    Z = codes[0]
    fixed = CodeIndex(metric="hamming", threshold=0.25)
    fixed.add_codes(Z)
    np.testing.assert_array_equal(fixed.thresholds_, np.full(12, 0.25, np.float32))
    untrained = dict(hidden=(8,), latent=5, epochs=0, device="cpu")
    for code_activation, expected in (("binary", 0.5), ("sigmoid", 0.5), ("linear", "median")):
        auto = CodeIndex(Autoencoder(code_activation=code_activation, **untrained).fit(Z), metric="hamming")
        auto.add(Z)
        if expected == "median":
            expected = np.median(auto.estimator.transform(Z), 0)
        np.testing.assert_array_equal(auto.thresholds_, np.broadcast_to(np.float32(expected), (5,)))


# ---- ids, estimator, approximate ------------------------------------------------------------------

def test_ids_default_continue_and_can_be_given(codes):
    Z, _ = codes
    index = CodeIndex()
    index.add_codes(Z[:3])
    index.add_codes(Z[3:5], ids=[100, 50])
    index.add_codes(Z[5:7])
    np.testing.assert_array_equal(index.ids_, [0, 1, 2, 100, 50, 101, 102])
    assert index.search_codes(Z[[4, 6]], k=1)[1].ravel().tolist() == [50, 102]
    with pytest.raises(ValueError, match=r"ids \[50\] are already in the index"):
        index.add_codes(Z[:1], ids=[50])
    with pytest.raises(ValueError, match="ids must be unique"):
        index.add_codes(Z[:2], ids=[7, 7])
    with pytest.raises(ValueError, match="1-D array of 2 integers"):
        index.add_codes(Z[:2], ids=[1])
    with pytest.raises(ValueError, match="ids must be non-negative, got -3"):
        index.add_codes(Z[:1], ids=[-3])
    with pytest.raises(ValueError, match="ids must be integers"):
        index.add_codes(Z[:1], ids=[0.5])
    assert len(index) == 7


def test_add_and_search_go_through_the_estimator(model, digits):
    X, Q = digits
    index = CodeIndex(model)
    index.add(X)
    direct = CodeIndex()
    direct.add_codes(model.transform(X))
    for a, b in zip(index.search(Q, 5), direct.search_codes(model.transform(Q), 5)):
        np.testing.assert_array_equal(a, b)
    assert index.search(X[:20], 1)[1].ravel().tolist() == list(range(20))  # each row finds itself


def test_approximate_search_has_high_recall_and_is_deterministic():
    rng = np.random.RandomState(1)
    centres = rng.randn(30, 16).astype(np.float32) * 4
    Z = centres[rng.randint(0, 30, 4000)] + rng.randn(4000, 16).astype(np.float32)
    Q = centres[rng.randint(0, 30, 100)] + rng.randn(100, 16).astype(np.float32)
    exact, approximate, again = CodeIndex(), CodeIndex(approximate=True, n_probe=4), CodeIndex(approximate=True,
                                                                                                 n_probe=4)
    for index in (exact, approximate, again):
        index.add_codes(Z)
    truth = exact.search_codes(Q, 10)[1]
    found = approximate.search_codes(Q, 10)[1]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)])
    assert approximate._index.nlist == round(np.sqrt(4000))
    assert recall >= 0.9
    np.testing.assert_array_equal(found, again.search_codes(Q, 10)[1])
    binary = CodeIndex(metric="hamming", approximate=True, n_lists=8)
    binary.add_codes(Z)
    assert binary.search_codes(Z[:5], 1)[0].ravel().tolist() == [0] * 5


# ---- save / load ----------------------------------------------------------------------------------

@pytest.mark.parametrize("metric, approximate", [("euclidean", False), ("cosine", True), ("hamming", False),
                                                 ("hamming", True)])
def test_save_load_round_trip(tmp_path, model, digits, metric, approximate):
    X, Q = digits
    index = CodeIndex(model, metric=metric, approximate=approximate, n_lists=4 if approximate else None)
    index.add(X[:300])
    index.add(X[300:], ids=np.arange(1000, 1000 + len(X) - 300))
    index.save(tmp_path / "index")
    loaded = CodeIndex.load(tmp_path / "index")
    assert loaded.get_params().keys() == index.get_params().keys()
    assert {k: v for k, v in loaded.get_params().items() if k != "estimator"} == \
        {k: v for k, v in index.get_params().items() if k != "estimator"}
    for a, b in zip(index.search(Q, 6), loaded.search(Q, 6)):
        np.testing.assert_array_equal(a, b)
    loaded.add(Q[:2])  # still growing, with ids after the largest
    assert loaded.ids_[-2:].tolist() == [1100, 1101]


def test_codes_only_index_round_trip_and_refusals(tmp_path, codes, capsys):
    Z, Q = codes
    index = CodeIndex(metric="hamming")
    index.add_codes(Z)
    index.save(tmp_path / "i")
    assert not (tmp_path / "i" / "model").exists()
    loaded = CodeIndex.load(tmp_path / "i")
    assert loaded.estimator is None
    np.testing.assert_array_equal(loaded.search_codes(Q, 3)[0], index.search_codes(Q, 3)[0])
    assert main(["info", str(tmp_path / "i")]) == 0
    assert capsys.readouterr().out == f"{index!r}, of codes given directly (no model)\n"
    data = tmp_path / "i" / "index.safetensors"
    data.write_bytes(data.read_bytes()[:-3] + b"xyz")
    with pytest.raises(ValueError, match="index.safetensors: contents do not match the checksum"):
        CodeIndex.load(tmp_path / "i")
    with pytest.raises(ValueError, match="not an index folder"):
        CodeIndex.load(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="nothing to save"):
        CodeIndex().save(tmp_path / "empty")


def test_load_refuses_a_swapped_model(tmp_path, model, digits):
    X, _ = digits
    index = CodeIndex(model)
    index.add(X)
    index.save(tmp_path / "i")
    Autoencoder(latent=6, **{**TINY, "random_state": 1}).fit(X).save(tmp_path / "i" / "model")
    with pytest.raises(ValueError, match="not the model this index was built with"):
        CodeIndex.load(tmp_path / "i")


# ---- bad input ------------------------------------------------------------------------------------

def test_bad_inputs_give_clear_errors(codes, model):
    Z, Q = codes
    with pytest.raises(ValueError, match="invalid value metric='manhattan'; expected one of 'euclidean'"):
        CodeIndex(metric="manhattan")
    with pytest.raises(ValueError, match="binary_bits=64 needs metric='hamming'"):
        CodeIndex(binary_bits=64)
    with pytest.raises(ValueError, match="invalid value n_probe=0"):
        CodeIndex(n_probe=0)
    # an estimator is named by its class: its repr runs over lines, and a CLI error shows one
    with pytest.raises(ValueError, match="invalid value estimator=a GAN; expected an estimator with transform"):
        CodeIndex(aekit.GAN(epochs=3, hidden=(8,)))
    with pytest.raises(ValueError, match="index is empty"):
        CodeIndex().search_codes(Q, 1)
    with pytest.raises(ValueError, match="has no estimator"):
        CodeIndex().add(Z)
    with pytest.raises(ValueError, match="binary_bits=64 but the codes have 12 dimensions"):
        CodeIndex(metric="hamming", binary_bits=64).add_codes(Z)
    index = CodeIndex()
    index.add_codes(Z[:20])
    with pytest.raises(ValueError, match="Zq has codes of width 5 but the index holds codes of width 12"):
        index.search_codes(Q[:, :5], 3)
    with pytest.raises(ValueError, match=r"k must be an integer from 1 to the number of items \(20\), got 21"):
        index.search_codes(Q, 21)
    with pytest.raises(ValueError, match="got 0"):
        index.search_codes(Q, 0)
    with pytest.raises(ValueError, match="Z contains NaN"):
        index.add_codes(np.full((1, 12), np.nan))
    with pytest.raises(ValueError, match="Z must be a 2-D array"):
        index.add_codes(Z[0])
    with pytest.raises(ValueError, match="row 1 of the codes is all zeros"):
        CodeIndex(metric="cosine").add_codes(np.eye(3)[[0, 2, 1]] * [[1], [0], [1]])
    with pytest.raises(ValueError, match="n_lists=50 needs at least as many codes"):
        CodeIndex(approximate=True, n_lists=50).add_codes(Z[:20])
    assert index.search_codes(Q[:0], 3)[1].shape == (0, 3)


# ---- precision@k ----------------------------------------------------------------------------------

def test_precision_at_k_known_answer():
    index = CodeIndex()
    index.add_codes(np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.3]]), ids=[10, 11, 12, 20, 21, 22])
    db_labels = np.array(["a", "a", "b", "b", "b", "a"])
    # query 0 near 0.0, 0.1, 0.2 (a, a, b): 2/3; query 1 near 5.0, 5.1, 5.3 (b, b, a): 2/3 for "b";
    # query 2 labelled "a" near the second group: 1/3
    Q = np.array([[0.0], [5.1], [5.2]])
    assert precision_at_k(index, Q, ["a", "b", "a"], db_labels, k=3) == pytest.approx((2 + 2 + 1) / 9)
    assert precision_at_k(index, Q[:1], ["a"], db_labels, k=1) == 1.0
    with pytest.raises(ValueError, match="q_labels must have one label per query"):
        precision_at_k(index, Q, ["a"], db_labels, k=1)
    with pytest.raises(ValueError, match="db_labels must have one label per stored item"):
        precision_at_k(index, Q, ["a", "b", "a"], db_labels[:2], k=1)


# ---- semantic hashing -----------------------------------------------------------------------------

def test_binary_codes_are_balanced_bits_learnt_through_the_step(digits):
    X, Q = digits
    est = Autoencoder(latent=16, code_activation="binary", **{**TINY, "epochs": 8}).fit(X)
    Z = est.transform(X)
    assert set(np.unique(Z).tolist()) == {0.0, 1.0}
    assert np.all(np.abs(Z.mean(0) - 0.5) < 0.3)  # every bit varies: none is wasted on a constant
    losses = [r["recon"] for r in est.history_]
    assert losses[-1] < 0.8 * losses[0]  # the encoder learns although the step has no gradient
    # the decoder sees the bits themselves: reconstructing is decoding the codes
    np.testing.assert_array_equal(est.reconstruct(Q), est.inverse_transform(est.transform(Q)))
    again = Autoencoder(latent=16, code_activation="binary", **{**TINY, "epochs": 8}).fit(X)
    np.testing.assert_array_equal(again.transform(Q), est.transform(Q))


def test_binary_code_of_a_single_row_batch_uses_running_statistics():
    code = BinaryCode(3)
    code.running_mean.fill_(1.0)
    row = torch.tensor([[0.5, 1.5, 2.0]])
    np.testing.assert_array_equal(code.train()(row).detach().numpy(), [[0.0, 1.0, 1.0]])


def test_semantic_hashing_preset_parameters(tmp_path, digits):
    X, _ = digits
    params = SemanticHashingAutoencoder().get_params()
    assert "latent" not in params and params["bits"] == 64 and params["code_activation"] == "binary"
    assert registry.get("semhash") is SemanticHashingAutoencoder
    est = SemanticHashingAutoencoder((8,), 12, epochs=1, device="cpu")
    assert est.latent == 12 and clone(est).get_params() == est.get_params()
    est.set_params(bits=10)
    assert est.latent == 10 and est.fit(X).transform(X).shape == (len(X), 10)
    est.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert type(loaded) is SemanticHashingAutoencoder and loaded.bits == 10
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    with pytest.raises(ValueError, match="invalid value bits=0"):
        SemanticHashingAutoencoder(bits=0, epochs=1).fit(X)
    with pytest.raises(ValueError, match="code_activation='binary' has no Jacobian"):
        Autoencoder(code_activation="binary", contractive_weight=0.1, epochs=1).fit(X)


@pytest.mark.slow
@parametrize_with_checks([SemanticHashingAutoencoder(hidden=(4,), bits=3, epochs=1, batch_size=16, device="cpu")],
                         expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---- CLI ------------------------------------------------------------------------------------------

def test_cli_build_and_query(tmp_path, capsys, model, digits):
    X, Q = digits
    model.save(tmp_path / "model")
    np.save(tmp_path / "db.npy", X)
    np.save(tmp_path / "q.npy", Q[:4])
    assert main(["index", "build", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "db.npy"),
                 "--out", str(tmp_path / "index"), "--metric", "hamming", "--bits", "6"]) == 0
    assert "indexed 400 rows as 6-dimensional codes (hamming)" in capsys.readouterr().out
    config = json.loads((tmp_path / "index" / "config.json").read_text())
    assert config["params"]["metric"] == "hamming" and config["n_items"] == 400
    assert main(["info", str(tmp_path / "index")]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "CodeIndex(metric='hamming', 400 items of 6 dimensions), built with the model below",
        f"{type(model).__name__} ({model._registry_name}), 64 features -> {model.latent} codes, "
        f"{sum(t.numel() for t in model.model_.state_dict().values())} weights"]

    expected = CodeIndex.load(tmp_path / "index").search(Q[:4], 3)
    query = ["index", "query", "--index", str(tmp_path / "index"), "--data", str(tmp_path / "q.npy"), "--k", "3"]
    assert main(query + ["--out", str(tmp_path / "ids.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "ids.npy"), expected[1])
    assert main(query + ["--out", str(tmp_path / "r.csv")]) == 0
    capsys.readouterr()
    assert main(query) == 0
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "r.csv").read_text()
    rows = [line.split(",") for line in printed.splitlines()]
    assert rows[0] == ["query", "rank", "id", "distance"] and len(rows) == 1 + 4 * 3
    assert [int(r[2]) for r in rows[1:4]] == expected[1][0].tolist()
    assert [int(r[3]) for r in rows[1:4]] == expected[0][0].tolist()
    np.save(tmp_path / "wide.npy", np.zeros((2, 65), np.float32))
    assert main(query[:4] + ["--data", str(tmp_path / "wide.npy")]) == 2
    assert f"65 features per row, but the model of --index {tmp_path / 'index'} was trained on rows of 64" in \
        capsys.readouterr().err


def test_cli_errors(tmp_path, capsys, model):
    model.save(tmp_path / "model")
    assert main(["index", "query", "--index", str(tmp_path / "none"), "--data", "digits"]) == 2
    assert "not an index folder" in capsys.readouterr().err
    assert main(["index", "query", "--index", str(tmp_path), "--data", "digits", "--out", "x.txt"]) == 2
    assert "expected a .npy (ids) or .csv" in capsys.readouterr().err
    assert main(["index", "build", "--model", str(tmp_path / "model"), "--data", "digits", "--out",
                 str(tmp_path / "i"), "--bits", "8"]) == 2
    assert "aekit: error: CodeIndex: binary_bits=8 needs metric='hamming'" in capsys.readouterr().err
    assert main(["index", "query", "--index", str(tmp_path), "--data", "digits", "--k", "0"]) == 2
