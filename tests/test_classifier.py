"""AutoencoderClassifier: semi-supervised learning (y == -1 unlabelled), transfer from saved or fitted
models and torch modules, freezing and fine-tuning, save/load, and the CLI verbs that serve it."""

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

import aekit
from aekit import GAN, Autoencoder, AutoencoderClassifier, VariationalAutoencoder
from aekit.apps.classifier import mask_labels
from aekit.apps.classifier.consistency import virtual_adversarial_loss
from aekit.apps.classifier.graph import spread_labels
from aekit.apps.classifier.phases import joint_epochs
from aekit.cli import main
from aekit.datasets import load
from aekit.training import Trainer
from test_autoencoder import EXPECTED_FAILED as ROW_ORDER_FAILURES  # tests/ is on sys.path

pytestmark = pytest.mark.usefixtures("one_thread")

AE = dict(hidden=(16,), latent=8, epochs=3, batch_size=64, random_state=0, device="cpu")
EXPECTED_FAILED = {
    **ROW_ORDER_FAILURES,
    # scikit-learn exempts its own semi-supervised classifiers (by name) from fitting the labels -1, 1
    "check_classifiers_classes": "-1 marks an unlabelled row (scikit-learn's semi-supervised convention)",
}
# the method of earlier versions: pre-train the autoencoder, then a head on its codes, then fine-tune
HEAD = dict(unlabelled="pretrain", epochs=30, fine_tune_epochs=30, lr=0.03, batch_size=16, random_state=0,
            device="cpu")


@pytest.fixture(scope="module")
def digits():
    """240 training digits with 60 labels (6 per class), and 200 test digits."""
    train, test = load("digits", split="train"), load("digits", split="test")
    X, y = train.data[:240], train.target[:240]
    return X, y, mask_labels(y, 60, random_state=0), test.data[:200], test.target[:200]


@pytest.fixture(scope="module")
def fitted(digits):
    X, _, y_semi, _, _ = digits
    return AutoencoderClassifier(Autoencoder(**AE), fine_tune=True, **HEAD).fit(X, y_semi)


@parametrize_with_checks(
    [AutoencoderClassifier(Autoencoder(hidden=(8,), latent=4, epochs=2, device="cpu"), steps=60, lr=0.03,
                           device="cpu"),
     AutoencoderClassifier(Autoencoder(hidden=(8,), latent=4, epochs=2, batch_size=16, device="cpu"),
                           unlabelled="pretrain", epochs=20, lr=0.02, device="cpu")],
    expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---- the labels -------------------------------------------------------------------------------------

def test_mask_labels_keeps_as_many_per_class_as_possible():
    y = np.repeat(np.arange(4), [50, 30, 3, 40])
    masked = mask_labels(y, 22, random_state=0)
    kept = masked != -1
    np.testing.assert_array_equal(masked[kept], y[kept])
    counts = np.bincount(y[kept], minlength=4)
    assert counts[2] == 3 and sorted(counts) == [3, 6, 6, 7]  # class 2 has only 3 rows
    np.testing.assert_array_equal(masked, mask_labels(y, 22, random_state=0))
    assert not np.array_equal(masked, mask_labels(y, 22, random_state=1))
    balanced = mask_labels(np.repeat(np.arange(10), 400), 100, random_state=3)
    np.testing.assert_array_equal(np.bincount(balanced[balanced != -1]), [10] * 10)


@pytest.mark.parametrize("y, n, message", [
    (np.arange(10) % 5, 4, "n_labeled=4 must be between the number of classes \\(5\\) and the number of rows"),
    (np.arange(10) % 5, 11, "n_labeled=11"),
    (np.array(["a", "b"]), 1, "numeric labels"),
])
def test_mask_labels_rejects(y, n, message):
    with pytest.raises(ValueError, match=message):
        mask_labels(y, n)


def test_unlabelled_rows_pretrain_and_labelled_rows_train(digits, fitted):
    X, y, y_semi, _, _ = digits
    np.testing.assert_array_equal(fitted.classes_, np.arange(10))
    # the autoencoder was fitted on every row, labelled or not: it is the one fitted on all of X
    alone = Autoencoder(**AE).fit(X)
    np.testing.assert_array_equal(fitted.autoencoder_.transform(X), alone.transform(X))
    phases = [r["phase"] for r in fitted.history_]
    assert phases == ["pretrain"] * 3 + ["head"] * 30 + ["fine-tune"] * 30
    assert fitted.history_[-1]["error"] < 0.1  # the 60 labelled rows are learnt
    assert all(r["loss"] == r["cross_entropy"] for r in fitted.history_ if r["phase"] != "pretrain")
    # the head sees the codes standardised with the statistics of every row, labelled or not
    codes = fitted.autoencoder_.transform(X).astype(np.float64)
    standardise = fitted.model_.head[0][0]
    np.testing.assert_allclose(standardise.offset.numpy(), codes.mean(0), rtol=1e-5)
    np.testing.assert_allclose(standardise.scale.numpy(), codes.std(0), rtol=1e-5)
    with pytest.raises(ValueError, match="every label is -1"):
        AutoencoderClassifier(Autoencoder(**AE), **HEAD).fit(X, np.full(len(X), -1))


@pytest.mark.parametrize("seed", [0, 1])
def test_unlabelled_rows_teach_the_encoder(seed):
    """Three classes in a plane of a 200-dimensional space, under noise, 6 labels: pre-trained on the
    600 rows, the 2-D code finds the plane and the head separates the classes; random codes do not."""
    rng = np.random.RandomState(seed)
    plane = rng.randn(2, 200)

    def draw(n):
        y = rng.randint(0, 3, n)
        points = np.array([[0, 0], [3, 0], [0, 3]])[y] + rng.randn(n, 2) * 0.7
        return (points @ plane + rng.randn(n, 200) * 2.0).astype(np.float32), y

    (X, y), (X_test, y_test) = draw(600), draw(300)
    y_semi = mask_labels(y, 6, random_state=seed)

    def accuracy(pretrain_epochs):
        autoencoder = Autoencoder(hidden=(), latent=2, epochs=pretrain_epochs, batch_size=32, random_state=seed,
                                  device="cpu")
        return AutoencoderClassifier(autoencoder, **{**HEAD, "random_state": seed}).fit(X, y_semi).score(X_test, y_test)
    pretrained, scratch = accuracy(30), accuracy(0)
    assert pretrained > 0.85 and pretrained > scratch + 0.1


def test_predictions_are_probabilities_of_classes(digits, fitted):
    X, y, *_ = digits
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 10) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(1)])
    assert fitted.score(X, y) == np.mean(fitted.predict(X) == y)
    assert fitted.transform(X).shape == (len(X), 8)
    assert not hasattr(fitted, "inverse_transform")


def test_string_labels(digits):
    X, y, *_ = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y]
    for labels in (names, names.astype(object)):
        clf = AutoencoderClassifier(Autoencoder(**AE), **HEAD).fit(X, labels)
        assert list(clf.classes_) == sorted(set(names))
        assert set(clf.predict(X)) <= set(names) and clf.score(X, labels) > 0.6  # chance: 0.1


# ---- the default: label spreading and consistency, one joint phase ---------------------------------

JOINT = dict(autoencoder=Autoencoder(hidden=(32,), latent=16, epochs=2), steps=200, random_state=0, device="cpu")


def joint_records(clf):
    return [r for r in clf.history_ if r["phase"] == "joint"]


def test_the_default_beats_logistic_regression_on_few_labels():
    """10 labels per class of scikit-learn's digits (1,437 training rows): the default classifier
    (only fewer steps) makes at most 0.8x the test errors of a converged logistic regression."""
    train, test = load("digits", split="train"), load("digits", split="test")
    y = mask_labels(train.target, 100, random_state=0)
    baseline = 1 - LogisticRegression(max_iter=5000).fit(train.data[y != -1], y[y != -1]).score(test.data, test.target)
    clf = AutoencoderClassifier(steps=300, random_state=0, device="cpu").fit(train.data, y)
    # the network starts from the encoder pre-trained on every row; 12 batches of rows an epoch
    assert [r["phase"] for r in clf.history_] == ["pretrain"] * 20 + ["joint"] * 25
    assert 1 - clf.score(test.data, test.target) <= 0.8 * baseline


def test_the_joint_phase_trains_enough_passes_however_few_the_rows(digits):
    X, y, *_ = digits
    assert joint_epochs(2000, 4000, 128) == 63 and joint_epochs(2000, 1000, 128) == 64
    assert joint_epochs(2000, 100, 128) == 64 and joint_epochs(40, 100, 128) == 40
    few = mask_labels(y, 20, random_state=0)[:90]
    clf = AutoencoderClassifier(**{**JOINT, "steps": 150}).fit(X[:90], few)
    assert len(joint_records(clf)) == 64  # one batch of the 90 rows per epoch, 64 passes
    assert clf.history_[-1]["error"] == 0 and clf.score(X[:90][few != -1], few[few != -1]) == 1
    terms = set(clf.history_[-1])
    assert {"cross_entropy", "consistency", "entropy", "graph"} <= terms
    lean = AutoencoderClassifier(**JOINT, epochs=2, consistency_weight=0, graph_weight=0).fit(X, y)
    assert len(joint_records(lean)) == 2 and not {"consistency", "graph"} & set(lean.history_[-1])


def test_spread_labels_and_the_adversarial_term():
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.randn(40, 60), rng.randn(40, 60) + 4])  # two clusters, PCA to 50 components
    targets = np.full(80, -1)
    targets[[0, 79]] = [0, 1]
    spread = spread_labels(X, targets, 2)
    np.testing.assert_allclose(spread.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(spread.argmax(1), np.repeat([0, 1], 40))
    net, x = nn.Sequential(nn.Linear(5, 3)), torch.randn(16, 5)
    log_p = torch.log_softmax(net(x), 1).detach()
    assert virtual_adversarial_loss(net, x, log_p, 0.0, torch.Generator()).item() == pytest.approx(0, abs=1e-6)
    assert virtual_adversarial_loss(net, x, log_p, 1.0, torch.Generator()).item() > 0


def assert_resumes_exactly(monkeypatch, make, X, y, epoch: int, reference) -> None:
    """``make()`` (a classifier with a ``checkpoint_dir``) fitted on ``X, y`` with the ``epoch``-th
    epoch any Trainer starts (counting from 1) interrupted, then resumed, ends as ``reference``."""
    original, calls = Trainer._train_epoch, []

    def crashing(self, rows):
        calls.append(1)
        if len(calls) == epoch:
            raise KeyboardInterrupt
        return original(self, rows)

    monkeypatch.setattr(Trainer, "_train_epoch", crashing)
    with pytest.raises(KeyboardInterrupt):
        make().fit(X, y)
    monkeypatch.setattr(Trainer, "_train_epoch", original)
    resumed = make().fit(X, y, resume=True)
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    assert [r["loss"] for r in resumed.history_] == [r["loss"] for r in reference.history_]


def test_joint_validation_resume_and_save(digits, tmp_path, monkeypatch):
    X, _, y_semi, X_test, _ = digits
    params = dict(JOINT, epochs=4, validation_fraction=0.3)
    reference = AutoencoderClassifier(**params).fit(X, y_semi)
    assert "val_cross_entropy" in reference.history_[-1]
    # two epochs of pre-training first: the second joint epoch is interrupted
    assert_resumes_exactly(monkeypatch, lambda: AutoencoderClassifier(**params, checkpoint_dir=str(tmp_path / "ckpt")),
                           X, y_semi, 4, reference)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["joint", "pretrain"]
    reference.save(tmp_path / "clf")
    loaded = aekit.load(tmp_path / "clf", device="cpu")
    assert loaded.get_params()["unlabelled"] == "auto" and loaded._method() == "graph+consistency"
    np.testing.assert_array_equal(loaded.predict_proba(X_test), reference.predict_proba(X_test))


def test_joint_refusals(digits, tmp_path):
    X, _, y_semi, _, _ = digits
    with pytest.raises(ValueError, match="fine_tune=True applies to unlabelled='pretrain'"):
        AutoencoderClassifier(**JOINT, fine_tune=True).fit(X, y_semi)
    with pytest.raises(ValueError, match="invalid value unlabelled"):
        AutoencoderClassifier(**JOINT, unlabelled="vat").fit(X, y_semi)
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(ValueError, match="holds every row in memory"):
        AutoencoderClassifier(**JOINT).fit(aekit.datasets.open_rows(tmp_path / "x.npy"), y_semi)


# ---- freezing, fine-tuning ----------------------------------------------------------------------------

def _encoder_weights(clf):
    return [q.detach().clone() for q in clf.model_.encoder.parameters()]


def test_without_fine_tuning_the_encoder_is_the_autoencoders(digits):
    X, _, y_semi, _, _ = digits
    clf = AutoencoderClassifier(Autoencoder(**AE), **HEAD).fit(X, y_semi)
    np.testing.assert_array_equal(clf.transform(X), clf.autoencoder_.transform(X))
    assert [r["phase"] for r in clf.history_].count("fine-tune") == 0


def test_fine_tuning_changes_unfrozen_layers_at_the_encoder_rate(digits, fitted):
    X, _, y_semi, _, _ = digits
    source = fitted.autoencoder_  # fitted: used as it is, not pre-trained again
    before = [q.detach().clone() for q in source.model_.encoder.parameters()]
    deep = Autoencoder(**{**AE, "hidden": (16, 12)}).fit(X)
    half = AutoencoderClassifier(deep, freeze=1, fine_tune=True, **HEAD).fit(X, y_semi)
    start = [q.detach() for q in deep.model_.encoder.parameters()]
    after = _encoder_weights(half)
    assert torch.equal(after[0], start[0]) and torch.equal(after[1], start[1])  # layer 1: frozen
    assert not torch.equal(after[2], start[2]) and not torch.equal(after[4], start[4])
    assert all(q.requires_grad for q in half.model_.parameters())

    def change(encoder_lr):
        clf = AutoencoderClassifier(source, fine_tune=True, encoder_lr=encoder_lr, **HEAD).fit(X, y_semi)
        return sum(float((a - b).abs().sum()) for a, b in zip(_encoder_weights(clf), before))
    assert 0 < change(1e-5) < 0.1 * change(1e-3)
    for a, b in zip(source.model_.encoder.parameters(), before):  # the given model is never changed
        assert torch.equal(a, b)


@pytest.mark.parametrize("params, message", [
    (dict(freeze=True, fine_tune=True), "freeze=True with fine_tune=True"),
    (dict(freeze=2), "freeze=2 only applies to fine-tuning"),
    (dict(freeze=5, fine_tune=True), "freeze=5 but the encoder has 2 layers"),
    (dict(freeze=-1), "invalid value freeze=-1"),
    (dict(head=(0,)), "invalid value head"),
    (dict(encoder_lr=0.0), "invalid value encoder_lr"),
    (dict(autoencoder=GAN()), "invalid value autoencoder"),
    (dict(autoencoder=None, encoder=GAN()), "invalid value encoder"),
    (dict(autoencoder=None, encoder=Autoencoder()), "encoder=Autoencoder\\(...\\) is not fitted"),
    (dict(encoder="somewhere"), "not both"),
    (dict(autoencoder=None, encoder="no/such/folder"), "no/such/folder: no such model folder"),
    (dict(scale="minmax"), "scale='minmax' applies to a torch.nn.Module encoder"),
])
def test_bad_parameters_are_named(params, message, digits):
    X, _, y_semi, _, _ = digits
    params = {"autoencoder": Autoencoder(**{**AE, "epochs": 0}), **HEAD, **params}
    with pytest.raises(ValueError, match=message):
        AutoencoderClassifier(**params).fit(X, y_semi)


def test_encoder_must_take_the_datas_features(digits, fitted):
    X, _, y_semi, _, _ = digits
    with pytest.raises(ValueError, match="the encoder takes 64 features but X has 10"):
        AutoencoderClassifier(encoder=fitted.autoencoder_, **HEAD).fit(X[:, :10], y_semi)


# ---- transfer -------------------------------------------------------------------------------------------

def test_transfer_from_a_vae_uses_its_posterior_mean(digits):
    X, _, y_semi, _, _ = digits
    vae = VariationalAutoencoder(**AE).fit(X)
    clf = AutoencoderClassifier(encoder=vae, **HEAD).fit(X, y_semi)
    np.testing.assert_allclose(clf.transform(X), vae.transform(X), rtol=1e-6, atol=1e-6)


def test_transfer_from_a_saved_folder_and_save_load(digits, fitted, tmp_path):
    X, _, y_semi, X_test, _ = digits
    fitted.autoencoder_.save(tmp_path / "ae")
    clf = AutoencoderClassifier(encoder=str(tmp_path / "ae"), freeze=True, **HEAD).fit(X, y_semi)
    np.testing.assert_array_equal(clf.transform(X), fitted.autoencoder_.transform(X))
    clf.save(tmp_path / "clf")
    (tmp_path / "ae" / "model.safetensors").unlink()  # the saved classifier holds the encoder's weights
    loaded = aekit.load(tmp_path / "clf", device="cpu")
    assert type(loaded) is AutoencoderClassifier and loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.n_parameters_ == clf.n_parameters_ and loaded.history_ == clf.history_
    # a clone keeps the folder, so it can be fitted again (as cross-validation does)
    assert clone(clf).get_params()["encoder"] == str(tmp_path / "ae")


def test_save_load_of_a_fine_tuned_classifier(digits, fitted, tmp_path):
    X, *_ = digits
    fitted.save(tmp_path / "clf")
    config = json.loads((tmp_path / "clf" / "config.json").read_text())
    assert config["model"] == "classifier" and config["state"]["classes"] == list(range(10))
    loaded = aekit.load(tmp_path / "clf", device="cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_saved_weights_keep_their_names(digits):
    """Folders saved by earlier versions load: a VAE's posterior mean, a classifier's hidden head layer
    stacked on it and the standardisations are named as they were in format version 1."""
    X, y, *_ = digits
    vae = VariationalAutoencoder(**{**AE, "epochs": 0}).fit(X)
    first = AutoencoderClassifier(encoder=vae, head=(6,), **{**HEAD, "epochs": 1}).fit(X, y)
    second = AutoencoderClassifier(encoder=first, **{**HEAD, "epochs": 1}).fit(X, y)
    assert sorted(second.model_.state_dict()) == [
        "encoder.0.encoder.0.bias", "encoder.0.encoder.0.weight", "encoder.0.encoder.2.bias",
        "encoder.0.encoder.2.weight", "encoder.1.0.offset", "encoder.1.0.scale", "encoder.1.1.bias",
        "encoder.1.1.weight", "head.0.0.offset", "head.0.0.scale", "head.1.bias", "head.1.weight"]


@pytest.mark.slow
def test_a_classifier_is_the_encoder_of_another_task(digits, tmp_path):
    """Digits 0-4 train a classifier with a hidden head layer; its features (encoder and that layer)
    serve a classifier of digits 5-9; the chain survives save and load."""
    X, y, _, X_test, _ = digits
    low = y < 5
    first = AutoencoderClassifier(Autoencoder(**AE), head=(12,), fine_tune=True, **HEAD).fit(X[low], y[low])
    second = AutoencoderClassifier(encoder=first, head=(10,), **HEAD).fit(X[~low], y[~low])
    np.testing.assert_array_equal(second.classes_, [5, 6, 7, 8, 9])
    expected = first.model_.head[0](first.model_.encoder(torch.from_numpy(first.scaler_.transform(X))))
    np.testing.assert_allclose(second.transform(X), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    second.save(tmp_path / "second")
    loaded = aekit.load(tmp_path / "second", device="cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), second.predict_proba(X_test))
    third = AutoencoderClassifier(encoder=loaded, freeze=3, fine_tune=True, **HEAD).fit(X[~low], y[~low])
    assert third.score(X[~low], y[~low]) > 0.9


def test_any_torch_module_is_an_encoder(digits, tmp_path):
    X, _, y_semi, _, _ = digits
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(64, 20), nn.Tanh(), nn.Linear(20, 7))
    clf = AutoencoderClassifier(encoder=module, scale="minmax", freeze=1, fine_tune=True, **HEAD).fit(X, y_semi)
    assert clf.transform(X).shape == (len(X), 7)
    assert torch.equal(clf.model_.encoder[0][0].weight, module[0].weight)  # frozen, and copied
    assert clf.model_.encoder[0][0].weight is not module[0].weight
    assert not torch.equal(clf.model_.encoder[0][2].weight, module[2].weight)
    with pytest.raises(ValueError, match="cannot save .* whose encoder is a Sequential"):
        clf.save(tmp_path / "clf")
    assert not (tmp_path / "clf").exists()
    with pytest.raises(ValueError, match="must map \\(n_samples, 64\\) rows to \\(n_samples, width\\)"):
        AutoencoderClassifier(encoder=nn.Unflatten(1, (8, 8)), **HEAD).fit(X, y_semi)
    with pytest.raises(ValueError, match="the module fails on rows of 64 features"):
        AutoencoderClassifier(encoder=nn.Linear(10, 3), **HEAD).fit(X, y_semi)


# ---- reproducibility, cloning -------------------------------------------------------------------------

# epochs are trained in this order: 3 of pre-training, 3 of the head, 2 of fine-tuning
@pytest.mark.parametrize("crashed_epoch, phase", [(2, "pretrain"), (5, "head"), (8, "fine-tune")])
def test_resume_after_a_crash_in_any_phase_equals_an_uninterrupted_run(digits, tmp_path, monkeypatch,
                                                                       crashed_epoch, phase):
    X, _, y_semi, _, _ = digits
    params = dict(HEAD, epochs=3, fine_tune_epochs=2, fine_tune=True)
    reference = AutoencoderClassifier(Autoencoder(**AE), **params).fit(X, y_semi)
    original, started, crash_at = Trainer._train_epoch, [], [crashed_epoch]

    def counted(self, rows):
        started.append(1)
        if len(started) == crash_at[0]:
            crash_at[0] = None
            raise KeyboardInterrupt
        return original(self, rows)

    monkeypatch.setattr(Trainer, "_train_epoch", counted)
    with pytest.raises(KeyboardInterrupt):
        AutoencoderClassifier(Autoencoder(**AE), **params, checkpoint_dir=str(tmp_path)).fit(X, y_semi)
    assert (tmp_path / phase / "last.safetensors").exists()
    started.clear()
    resumed = AutoencoderClassifier(Autoencoder(**AE), **params, checkpoint_dir=str(tmp_path)).fit(
        X, y_semi, resume=True)
    assert len(started) == 8 - (crashed_epoch - 1)  # only the epochs that had not been finished
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    assert [r["phase"] for r in resumed.history_] == [r["phase"] for r in reference.history_]
    assert [r["loss"] for r in resumed.history_] == [r["loss"] for r in reference.history_]


def test_same_seed_same_model_and_clone_refits(digits, fitted):
    X, _, y_semi, _, _ = digits
    again = clone(fitted).fit(X, y_semi)
    for a, b in zip(again.model_.state_dict().values(), fitted.model_.state_dict().values()):
        assert torch.equal(a, b)
    other = clone(fitted).set_params(random_state=1).fit(X, y_semi)
    assert not np.array_equal(other.predict_proba(X), fitted.predict_proba(X))
    # an autoencoder without a seed gets one from the classifier's
    seeded = AutoencoderClassifier(Autoencoder(**{**AE, "random_state": None}), **HEAD)
    np.testing.assert_array_equal(clone(seeded).fit(X, y_semi).predict_proba(X),
                                  clone(seeded).fit(X, y_semi).predict_proba(X))
    assert seeded.autoencoder.random_state is None  # parameters are stored as given


# ---- the CLI ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_train_predict_evaluate(tmp_path, capsys):
    out = tmp_path / "clf"
    train = ["train", "classifier", "--data", "digits", "--split", "train", "--labeled", "50", "--out", str(out),
             "--epochs", "20", "--quiet", "--set", "unlabelled=pretrain", "--set", "lr=0.01",
             "--set", "autoencoder__hidden=(16,)",
             "--set", "autoencoder__epochs=2"]
    assert main(train) == 0
    assert "trained AutoencoderClassifier for 22 epochs (pretrain: 2, head: 20): " in capsys.readouterr().out
    assert main(["info", str(out)]) == 0  # its history holds the phase names beside the numbers
    assert "trained 22 epochs (pretrain: 2, head: 20); last: phase=head, " in capsys.readouterr().out
    assert (out / "loss-curves.png").exists() and (out / "filters.png").exists()
    clf = aekit.load(out, device="cpu")
    # every phase finished: resuming restores them and trains nothing more
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["head", "pretrain"]
    assert main([*train, "--resume"]) == 0
    np.testing.assert_array_equal(aekit.load(out, device="cpu").predict_proba(load("digits").data),
                                  clf.predict_proba(load("digits").data))
    assert clf.get_params()["autoencoder"].get_params()["hidden"] == (16,)
    assert [r["phase"] for r in clf.history_].count("head") == 20

    test = load("digits", split="test")
    npy, csv = tmp_path / "p.npy", tmp_path / "p.csv"
    assert main(["predict", "--model", str(out), "--data", "digits", "--split", "test", "--out", str(npy)]) == 0
    predicted = np.load(npy)
    np.testing.assert_array_equal(predicted, clf.predict(test.data))
    assert main(["predict", "--model", str(out), "--data", "digits", "--split", "test", "--out", str(csv),
                 "--proba"]) == 0
    lines = csv.read_text().splitlines()
    assert lines[0] == ",".join(f"p_{c}" for c in range(10)) and len(lines) == len(test.data) + 1
    np.testing.assert_allclose(np.loadtxt(csv, delimiter=",", skiprows=1), clf.predict_proba(test.data), rtol=1e-6)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", "digits", "--split", "test", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"rows": len(test.data), "accuracy": pytest.approx(np.mean(predicted == test.target))}


@pytest.mark.slow
def test_cli_vae_pretraining_and_transfer(tmp_path, capsys):
    vae = tmp_path / "vae"
    assert main(["train", "classifier", "--data", "digits", "--split", "train", "--labeled", "30", "--quiet",
                 "--out", str(vae), "--epochs", "5", "--set", "unlabelled=pretrain", "--set", "autoencoder=vae",
                 "--set", "autoencoder__hidden=(8,)",
                 "--set", "autoencoder__epochs=1"]) == 0
    assert type(aekit.load(vae).get_params()["autoencoder"]) is VariationalAutoencoder
    assert main(["train", "classifier", "--data", "digits", "--split", "train", "--quiet", "--out",
                 str(tmp_path / "t"), "--epochs", "2", "--set", f"encoder={vae}", "--set", "freeze=True"]) == 0
    # the new encoder is the VAE classifier's encoder and its head's standardisation
    source, X = aekit.load(vae), load("digits").data[:5]
    expected = source.model_.head[0](source.model_.encoder(torch.from_numpy(X))).detach().numpy()
    np.testing.assert_allclose(aekit.load(tmp_path / "t").transform(X), expected, rtol=1e-6, atol=1e-6)


def test_cli_trains_the_default_and_resumes(tmp_path, capsys):
    out = tmp_path / "clf"
    train = ["train", "classifier", "--data", "digits", "--split", "train", "--labeled", "50", "--out", str(out),
             "--epochs", "3", "--quiet", "--set", "autoencoder__hidden=(16,)", "--set", "autoencoder__epochs=1"]
    assert main(train) == 0
    # 50 labels of 10 classes are few: two networks (ensemble="auto"), each in two FixMatch rounds (see
    # few_label_settings) of --epochs, each checkpointed in a folder of its own
    assert ("trained AutoencoderClassifier for 2 networks, 14 epochs (pretrain: 2, joint: 6, joint 2: 6): "
            in capsys.readouterr().out)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["member-1", "member-2"]
    assert sorted(p.name for p in (out / "checkpoints" / "member-2").iterdir()) == ["joint", "joint 2", "pretrain"]
    clf = aekit.load(out, device="cpu")
    # the digits are 8 x 8 images: the CLI passes their shape, so the joint phase is FixMatch's
    assert clf.image_shape_ == (1, 8, 8) and clf._method() == "fixmatch" and "confident" in clf.history_[-1]
    assert clf.n_members_ == 2 and clf.history_[-1]["member"] == 2
    assert main([*train, "--resume"]) == 0  # every phase finished: nothing more is trained
    np.testing.assert_array_equal(aekit.load(out, device="cpu").predict_proba(load("digits").data),
                                  clf.predict_proba(load("digits").data))


@pytest.mark.parametrize("argv, message", [
    (["train", "ae", "--data", "digits", "--labeled", "10", "--out", "{tmp}/x"], "--labeled applies to classifiers"),
    (["train", "classifier", "--data", "digits", "--labeled", "5", "--out", "{tmp}/x"],
     "--labeled 5: n_labeled=5 must be"),
    (["train", "classifier", "--data", "{tmp}/x.npy", "--out", "{tmp}/x"], "has no labels"),
    (["predict", "--model", "{tmp}/ae", "--data", "digits", "--out", "{tmp}/p.npy"], "not a classifier"),
    (["predict", "--model", "{tmp}/ae", "--data", "digits", "--out", "{tmp}/p.txt"], "ending in .npy or .csv"),
])
def test_cli_errors(argv, message, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.random.RandomState(0).rand(20, 4).astype(np.float32))
    Autoencoder(**{**AE, "epochs": 0}).fit(load("digits").data[:20]).save(tmp_path / "ae")
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    assert message in capsys.readouterr().err
