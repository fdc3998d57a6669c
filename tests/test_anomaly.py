"""AnomalyDetector: scikit-learn's outlier-detector contract, every score option, a fitted autoencoder
reused as is, save/load, and the CLI (`aekit train anomaly`, `aekit anomaly score`)."""

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import aekit
from aekit import AnomalyDetector, Autoencoder, VariationalAutoencoder
from aekit.apps.anomaly import MIN_INTENSITY_FEATURES, rows_are_intensities
from aekit.cli import main
from aekit.datasets import load
from test_autoencoder import EXPECTED_FAILED  # tests/ is on sys.path (pytest's rootdir "prepend" import mode)

TINY = dict(hidden=(16,), latent=3, epochs=8, batch_size=32, random_state=0, device="cpu")


@parametrize_with_checks(
    [AnomalyDetector(Autoencoder(hidden=(8,), latent=2, epochs=2, batch_size=16, device="cpu"))],
    expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check, one_thread):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    """Normal rows near a 3-dimensional subspace of [0, 1]^12 and anomalies off it (uniform noise)."""
    rng = np.random.RandomState(0)
    mixing = rng.rand(3, 12)
    normal = (rng.rand(260, 3) @ mixing / 3).astype(np.float32)
    anomalies = rng.rand(40, 12).astype(np.float32)
    return normal[:200], np.concatenate([normal[200:], anomalies]), np.r_[np.ones(60), np.zeros(40)]


@pytest.fixture(scope="module")
def fitted_ae(data, one_thread):
    return Autoencoder(**TINY).fit(data[0])


@pytest.fixture(scope="module")
def fitted_vae(data, one_thread):
    return VariationalAutoencoder(**TINY, likelihood="gaussian", sigma=0.1).fit(data[0])


SCORE_OPTIONS = [("ae", "reconstruction"), ("ae", "density"), ("ae", ("reconstruction", "density")),
                 ("ae", "auto"), ("vae", "likelihood"), ("vae", "reconstruction"), ("vae", ("likelihood", "density")),
                 ("vae", "auto")]


@pytest.mark.parametrize("kind, scores", SCORE_OPTIONS, ids=lambda v: v if isinstance(v, str) else "+".join(v))
def test_each_score_ranks_anomalies_below_normal_rows(kind, scores, data, fitted_ae, fitted_vae):
    X, X_test, normal = data
    autoencoder = fitted_ae if kind == "ae" else fitted_vae
    detector = AnomalyDetector(autoencoder, scores=scores, random_state=0).fit(X)
    normality = detector.score_samples(X_test)
    assert normality.shape == (len(X_test),) and normality.dtype == np.float64
    assert roc_auc_score(normal, normality) > 0.95
    # each row of a held-out normal set is mostly kept, and the anomalies mostly flagged
    labels = detector.predict(X_test)
    assert (labels[normal == 1] == 1).mean() > 0.7 and (labels[normal == 0] == -1).mean() > 0.9


def test_default_model_and_auto_scores_follow_the_kind_of_data(data, one_thread, tmp_path):
    X = data[0]  # 12 features in [0, 1]: too few to be intensities, a table
    tabular = AnomalyDetector(epochs=2, random_state=0, device="cpu").fit(X)
    assert tabular.scores_ == ("reconstruction", "density") and not tabular.intensities_
    ae = tabular.autoencoder_
    assert (type(ae), ae.arch, ae.latent, ae.scale) == (Autoencoder, "mlp", 2, "minmax")  # 12 features: 2 codes
    digits = load("digits", split="train").data[:200]  # 64 features in [0, 1]
    images = AnomalyDetector(epochs=2, image_shape=(1, 8, 8), random_state=0, device="cpu").fit(digits)
    assert images.scores_ == ("relative", "density")
    ae = images.autoencoder_
    assert (ae.arch, ae.latent, ae.scale, ae.image_shape_) == ("conv", 16, None, (1, 8, 8))
    # the same pixels as bare rows: intensities, modelled as given by an MLP with 16 codes
    bare = AnomalyDetector(epochs=2, random_state=0, device="cpu").fit(digits)
    assert bare.scores_ == ("relative", "reconstruction", "density") and bare.intensities_
    ae = bare.autoencoder_
    assert (ae.arch, ae.hidden, ae.latent, ae.scale, ae.image_shape_) == ("mlp", (256,), 16, None, None)
    # one value outside [0, 1], or one feature fewer than MIN_INTENSITY_FEATURES: a table again
    for rows in (np.where(np.arange(64) == 0, 1.5, digits), digits[:, 1:]):
        assert not rows_are_intensities(rows, rows.shape[1])
    assert MIN_INTENSITY_FEATURES == 64
    # scores="auto" follows the rows for a model the user gives too
    given = AnomalyDetector(Autoencoder(**TINY), random_state=0).fit(digits)
    assert given.scores_ == ("relative", "reconstruction", "density")
    for detector, rows in ((tabular, X), (images, digits), (bare, digits)):  # the default model is rebuilt on load
        detector.save(tmp_path / "m")
        loaded = aekit.load(tmp_path / "m")
        assert loaded.intensities_ == detector.intensities_
        np.testing.assert_array_equal(loaded.score_samples(rows), detector.score_samples(rows))
    with pytest.raises(ValueError, match=r"default model for images takes pixel values in \[0, 1\], got \[0, 255\]"):
        AnomalyDetector(epochs=1, image_shape=(1, 8, 8)).fit(digits * 255)


def test_single_scores_are_the_models_own(data, fitted_ae, fitted_vae):
    X, X_test, _ = data
    reconstruction = AnomalyDetector(fitted_ae, scores="reconstruction").fit(X)
    np.testing.assert_array_equal(reconstruction.score_samples(X_test), fitted_ae.score_samples(X_test))
    likelihood = AnomalyDetector(fitted_vae, scores="likelihood").fit(X)
    np.testing.assert_array_equal(likelihood.score_samples(X_test), fitted_vae.score_samples(X_test))
    density = AnomalyDetector(fitted_ae, scores="density", random_state=0).fit(X)
    codes = fitted_ae.transform(X_test).astype(np.float64)
    np.testing.assert_array_equal(density.score_samples(X_test), density.density_.score_samples(codes))
    assert density.transform(X_test).shape == (len(X_test), 3)
    np.testing.assert_array_equal(density.reconstruct(X_test), fitted_ae.reconstruct(X_test))


def test_relative_error_ranks_other_digits_below_the_trained_one(one_thread):
    # "relative" divides by the row's energy: for images, how much ink a digit has stops mattering
    train, test = load("digits", split="train"), load("digits", split="test")
    autoencoder = Autoencoder(hidden=(32,), latent=8, epochs=30, batch_size=16, scale=None, random_state=0,
                              device="cpu").fit(train.data[train.target == 0])
    detector = AnomalyDetector(autoencoder, scores="relative").fit(train.data[train.target == 0])
    scores = detector.score_samples(test.data)
    np.testing.assert_allclose(scores, autoencoder.score_samples(test.data) / np.square(test.data).sum(1), rtol=1e-5)
    assert roc_auc_score(test.target == 0, scores) > 0.95


def test_combination_sums_standardised_scores(data, fitted_ae):
    X, X_test, _ = data
    both = AnomalyDetector(fitted_ae, scores=("reconstruction", "density"), random_state=0).fit(X)
    parts = [AnomalyDetector(fitted_ae, scores=s, random_state=0).fit(X) for s in ("reconstruction", "density")]
    expected = 0
    for part, center, scale in zip(parts, both.score_center_, both.score_scale_):
        train = part.score_samples(X)
        q1, median, q3 = np.percentile(train, [25, 50, 75])
        assert (center, scale) == pytest.approx((median, q3 - q1))
        expected = expected + (part.score_samples(X_test) - center) / scale
    np.testing.assert_allclose(both.score_samples(X_test), expected, rtol=1e-12)


@pytest.mark.parametrize("contamination", [0.05, 0.1, 0.25])
def test_contamination_is_the_fraction_flagged_on_training_rows(contamination, data, fitted_ae):
    X = data[0]
    detector = AnomalyDetector(fitted_ae, contamination=contamination, random_state=0).fit(X)
    assert (detector.predict(X) == -1).sum() == round(contamination * len(X))
    np.testing.assert_allclose(detector.decision_function(X), detector.score_samples(X) - detector.offset_)


def test_fitted_autoencoder_is_used_as_is(data, fitted_ae):
    X, X_test, _ = data
    weights = {k: v.clone() for k, v in fitted_ae.model_.state_dict().items()}
    detector = AnomalyDetector(fitted_ae, epochs=50, random_state=0).fit(X[:50])  # no training: epochs unused
    assert detector.autoencoder_ is fitted_ae and detector.model_ is fitted_ae.model_
    assert detector.history_ is fitted_ae.history_ and len(detector.history_) == TINY["epochs"]
    for name, value in fitted_ae.model_.state_dict().items():
        assert torch.equal(value, weights[name]), name
    with pytest.raises(ValueError, match="X has 5 features but the fitted autoencoder was trained on 12"):
        AnomalyDetector(fitted_ae).fit(X[:, :5])
    with pytest.raises(ValueError, match="resume=True needs an unfitted autoencoder"):
        AnomalyDetector(fitted_ae).fit(X, resume=True)


def test_unfitted_autoencoder_is_cloned_trained_and_seeded(data):
    X, X_test, _ = data
    template = Autoencoder(hidden=(16,), latent=3, batch_size=32, device="cpu")
    detector = AnomalyDetector(template, epochs=4, random_state=3).fit(X)
    assert not hasattr(template, "model_")  # the parameter itself stays unfitted
    assert detector.autoencoder_.get_params()["epochs"] == 4 and len(detector.history_) == 4
    assert detector.autoencoder_.random_state == 3
    again = clone(detector).fit(X)
    np.testing.assert_array_equal(again.score_samples(X_test), detector.score_samples(X_test))
    by_name = AnomalyDetector("vae", epochs=1, random_state=0, device="cpu").fit(X)
    assert isinstance(by_name.autoencoder_, VariationalAutoencoder)


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_save_load_gives_identical_scores(kind, data, fitted_ae, fitted_vae, tmp_path):
    X, X_test, _ = data
    detector = AnomalyDetector(fitted_ae if kind == "ae" else fitted_vae, contamination=0.2, random_state=0).fit(X)
    detector.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["model"] == "anomaly"
    assert config["params"]["autoencoder"]["estimator"] == kind
    loaded = aekit.load(tmp_path / "m")
    assert isinstance(loaded, AnomalyDetector) and loaded.scores_ == detector.scores_
    assert loaded.offset_ == detector.offset_
    np.testing.assert_array_equal(loaded.score_samples(X_test), detector.score_samples(X_test))
    np.testing.assert_array_equal(loaded.predict(X_test), detector.predict(X_test))
    np.testing.assert_array_equal(loaded.reconstruct(X_test), detector.reconstruct(X_test))


@pytest.mark.parametrize("params, message", [
    (dict(scores="likelihood"), "scores='likelihood' needs a VariationalAutoencoder, got Autoencoder"),
    (dict(scores="distance"), "invalid value scores='distance'"),
    (dict(scores=("density", "density")), "invalid value scores="),
    (dict(contamination=0.7), "invalid value contamination=0.7"),
    (dict(autoencoder="gan"), "invalid value autoencoder='gan'"),
    (dict(autoencoder="nothing"), "invalid value autoencoder='nothing'"),
    (dict(n_components=0), "invalid value n_components=0"),
    (dict(epochs=-1), "invalid value epochs=-1"),
])
def test_bad_parameters_are_named(params, message, data):
    params = {"autoencoder": Autoencoder(**TINY), **params}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AnomalyDetector(**params).fit(data[0])


def test_unfitted_detector_refuses_to_score(data):
    with pytest.raises(NotFittedError, match="not fitted"):
        AnomalyDetector().score_samples(data[0])


@pytest.mark.slow
def test_cli_trains_and_scores(data, tmp_path, capsys):
    X, X_test, normal = data
    np.save(tmp_path / "train.npy", X)
    np.save(tmp_path / "test.npy", X_test)
    out = tmp_path / "detector"
    assert main(["train", "anomaly", "--data", str(tmp_path / "train.npy"), "--out", str(out), "--epochs", "30",
                 "--device", "cpu", "--quiet", "--set", "contamination=0.05"]) == 0
    assert (out / "history.csv").exists() and (out / "loss-curves.png").exists()
    assert main(["anomaly", "score", "--model", str(out), "--data", str(tmp_path / "test.npy"),
                 "--out", str(tmp_path / "scores.csv")]) == 0
    table = np.genfromtxt(tmp_path / "scores.csv", delimiter=",", names=True)
    detector = aekit.load(out)
    assert f"{(table['label'] == -1).sum()} outliers" in capsys.readouterr().out
    assert detector.contamination == 0.05 and detector.autoencoder_.epochs == 30
    np.testing.assert_allclose(table["score"], detector.score_samples(X_test), rtol=1e-8)
    np.testing.assert_array_equal(table["label"], detector.predict(X_test))
    assert roc_auc_score(normal, table["score"]) > 0.95
    capsys.readouterr()
    assert main(["info", str(out)]) == 0 and "AnomalyDetector (anomaly)" in capsys.readouterr().out
    assert main(["evaluate", "--model", str(out), "--data", str(tmp_path / "test.npy"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["anomaly_score (minus score_samples: higher is more unusual)"] == pytest.approx(
        -detector.score_samples(X_test).mean(), rel=1e-5)


def test_cli_errors(data, fitted_ae, tmp_path, capsys):
    fitted_ae.save(tmp_path / "ae")
    np.save(tmp_path / "x.npy", data[0])
    AnomalyDetector(fitted_ae).fit(data[0]).save(tmp_path / "detector")
    np.save(tmp_path / "narrow.npy", data[0][:, :5])
    assert main(["anomaly", "score", "--model", str(tmp_path / "detector"), "--data", str(tmp_path / "narrow.npy"),
                 "--out", str(tmp_path / "s.csv")]) == 2
    assert "narrow.npy has 5 features per row, but --model " in capsys.readouterr().err
    assert main(["anomaly", "score", "--model", str(tmp_path / "ae"), "--data", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "s.csv")]) == 2
    assert "the saved model is Autoencoder, not AnomalyDetector" in capsys.readouterr().err
    assert main(["anomaly", "score", "--model", str(tmp_path / "none"), "--data", str(tmp_path / "x.npy"),
                 "--out", str(tmp_path / "s.csv")]) == 2
    assert "no such model folder" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()
