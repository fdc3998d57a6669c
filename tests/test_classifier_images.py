"""AutoencoderClassifier on images (``image_shape`` given): the FixMatch joint phase, its seeded views,
the moving average of the weights, and their place in fit, save/load, resume and the CLI."""

import numpy as np
import pytest
import torch

import aekit
from aekit import Autoencoder, AutoencoderClassifier
from aekit.apps.classifier import mask_labels
from aekit.apps.classifier.augment import FIXMATCH_TEST_VIEWS, prediction_views, strong_view, weak_view
from aekit.apps.classifier.ensemble import EnsembleNet
from aekit.apps.classifier.estimator import IMAGE_AUTOENCODER
from aekit.apps.classifier.fixmatch import THRESHOLD, ClassStatus, FixMatchStep
from aekit.datasets import load
from aekit.training.augment import shift_images
from test_classifier import assert_resumes_exactly  # tests/ is on sys.path

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL_CNN = dict(arch="conv", hidden=(4, 8), latent=16, code_activation="relu", scale="auto", epochs=1)
IMAGES = dict(image_shape=(1, 8, 8), steps=40, ensemble=1, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def digits():
    """240 training digits (8 x 8 images) with 60 labels, and 200 test digits."""
    train, test = load("digits", split="train"), load("digits", split="test")
    X, y = train.data[:240], train.target[:240]
    return X, y, mask_labels(y, 60, random_state=0), test.data[:200], test.target[:200]


def test_views_are_seeded_shifted_and_mirrored_only_when_asked():
    x = torch.rand(16, 3, 8, 8)
    for view in (weak_view, strong_view):
        a, b = (view(x, torch.Generator().manual_seed(0)) for _ in range(2))
        assert a.shape == x.shape and torch.equal(a, b)
        assert not torch.equal(a, view(x, torch.Generator().manual_seed(1)))
        assert a.min() >= 0 and a.max() <= 1
    ones = shift_images(torch.ones(50, 1, 8, 8), 1, torch.Generator().manual_seed(0))
    assert set(ones.sum((1, 2, 3)).tolist()) <= {64.0, 56.0, 49.0}  # one row and/or column uncovered
    dot = torch.zeros(200, 1, 8, 8)
    dot[:, 0, 4, 0] = 1  # a pixel on the left edge: a shift of 1 (8 pixels) keeps it in columns 0-1
    columns = lambda v: v.sum((1, 2)).argmax(-1).flatten()  # noqa: E731
    assert columns(weak_view(dot, torch.Generator().manual_seed(0), mirror=False)).max() <= 1
    assert columns(weak_view(dot, torch.Generator().manual_seed(0))).max() >= 6


def test_images_train_the_fixmatch_phase_on_a_pretrained_conv_encoder(digits):
    X, y, y_semi, X_test, y_test = digits
    clf = AutoencoderClassifier(**IMAGES).fit(X, y_semi)
    assert clf.autoencoder_.get_params()["arch"] == "conv-pool"
    assert {k: clf.autoencoder_.get_params()[k] for k in IMAGE_AUTOENCODER} == IMAGE_AUTOENCODER
    # the CNN starts from random weights (pre-training it did not help); 3 batches of 96 of 240 rows an epoch;
    # 6 labels a class are few: two rounds of 20 steps (flexible thresholds, alignment, see few_label_settings)
    assert [r["phase"] for r in clf.history_] == ["joint"] * 7 + ["joint 2"] * 7
    assert {"cross_entropy", "consistency", "confident", "graph"} <= set(clf.history_[-1])
    assert "entropy" not in clf.history_[-1]
    assert clf.transform(X[:5]).shape == (5, 128)
    # chance: 0.1 (40 steps: it is no contest, see bench/semisupervised.py). FixMatch's fixed threshold only:
    # the few-label recipe's warm-up takes every pseudo-label of a barely trained network, which 40 steps
    # never leave (it needs the default thousands)
    fixed = AutoencoderClassifier(**IMAGES, thresholds="fixed", distribution_alignment=False, propagation_rounds=1)
    assert fixed.fit(X, y_semi).score(X_test, y_test) > 0.2
    with pytest.raises(ValueError, match="unlabelled='fixmatch' needs image_shape"):
        AutoencoderClassifier(unlabelled="fixmatch").fit(X, y_semi)
    # without image_shape the default is the graph-and-VAT phase, with it one can still ask for it
    rows = AutoencoderClassifier(Autoencoder(hidden=(16,), latent=8, epochs=1), steps=20, random_state=0,
                                 device="cpu").fit(X, y_semi)
    assert "entropy" in rows.history_[-1] and rows._method() == "graph+consistency"
    assert AutoencoderClassifier(image_shape=(1, 8, 8), unlabelled="graph+consistency")._method() == "graph+consistency"


def test_fixmatch_is_deterministic_resumes_exactly_and_saves(digits, tmp_path, monkeypatch):
    X, _, y_semi, X_test, _ = digits
    params = dict(IMAGES, autoencoder=Autoencoder(**SMALL_CNN), epochs=3, validation_fraction=0.2, flip=False)
    reference = AutoencoderClassifier(**params).fit(X, y_semi)
    again = AutoencoderClassifier(**params).fit(X, y_semi)
    np.testing.assert_array_equal(again.predict_proba(X_test), reference.predict_proba(X_test))
    assert not np.array_equal(AutoencoderClassifier(**{**params, "random_state": 1}).fit(X, y_semi).predict_proba(
        X_test), reference.predict_proba(X_test))
    assert "val_cross_entropy" in reference.history_[-1]
    # one epoch of pre-training first: the second joint epoch is interrupted (the average resumes too)
    assert_resumes_exactly(monkeypatch, lambda: AutoencoderClassifier(**params, checkpoint_dir=str(tmp_path / "ckpt")),
                           X, y_semi, 3, reference)
    reference.save(tmp_path / "clf")
    loaded = aekit.load(tmp_path / "clf", device="cpu")
    assert loaded.get_params()["image_shape"] == (1, 8, 8) and loaded._method() == "fixmatch"
    np.testing.assert_array_equal(loaded.predict_proba(X_test), reference.predict_proba(X_test))


def test_flexible_thresholds_move_with_each_class_confident_share_and_alignment_evens_the_classes():
    status = ClassStatus(torch.full((3,), 1 / 3), decay=0.5)
    assert status.thresholds().tolist() == [0.0, 0.0, 0.0]  # the warm-up: nothing confident, any pseudo-label
    confident_zeros = torch.tensor([[0.99, 0.005, 0.005]] * 6 + [[0.4, 0.3, 0.3]] * 2)
    before = status.thresholds()
    status.update(confident_zeros)
    after = status.thresholds()
    assert after[0] > before[0] and after[1] == after[2] == 0  # only class 0 was predicted confidently
    for _ in range(20):
        status.update(confident_zeros)
    assert status.thresholds()[0] == pytest.approx(THRESHOLD)  # its share is the largest: the full threshold
    assert status.thresholds("adaptive")[0] > status.thresholds("adaptive")[1]
    # the mean prediction leans to class 0: alignment moves every prediction away from it
    aligned = status.align(torch.full((1, 3), 1 / 3))
    assert aligned[0, 0] < 1 / 3 and aligned.sum().item() == pytest.approx(1.0)


def test_flexible_fixmatch_and_propagation_rounds_are_seeded_and_recorded(digits):
    X, _, y_semi, X_test, _ = digits
    params = dict(IMAGES, autoencoder=Autoencoder(**SMALL_CNN), steps=18, thresholds="flexible",
                  distribution_alignment=True, propagation_rounds=2)
    clf = AutoencoderClassifier(**params).fit(X, y_semi)
    # 9 steps a round: 3 epochs of 3 batches of 96 of 240 rows each
    assert [r["phase"] for r in clf.history_] == ["pretrain"] + ["joint"] * 3 + ["joint 2"] * 3
    assert clf.history_[1]["confident"] > 0.5  # the warm-up takes pseudo-labels far below 0.95
    again = AutoencoderClassifier(**params).fit(X, y_semi)
    np.testing.assert_array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))


def test_prediction_views_are_fixed_and_test_views_average_their_softmax(digits):
    x = torch.rand(5, 1, 8, 8)
    views = prediction_views(x, 6)
    assert len(views) == 6 and torch.equal(views[0], x) and torch.equal(views[1], x.flip(-1))
    assert torch.equal(views[2][..., 1:], x[..., :-1]) and not views[2][..., 0].any()  # 1 pixel right, 0 fill
    assert len(prediction_views(x, 6, mirror=False)) == 5 and not any(
        torch.equal(v, x.flip(-1)) for v in prediction_views(x, 6, mirror=False))
    X, _, y_semi, X_test, _ = digits
    clf = AutoencoderClassifier(**{**IMAGES, "steps": 9}, autoencoder=Autoencoder(**SMALL_CNN)).fit(X, y_semi)
    default = clf.predict_proba(X_test)  # test_views="auto": every view, FixMatch trained on such views
    images = torch.from_numpy(clf.scaler_.transform(X_test)).view(-1, 1, 8, 8)
    with torch.no_grad():
        expected = torch.stack([torch.softmax(clf.model_(v.flatten(1)), 1) for v in prediction_views(images, 3)])
    np.testing.assert_allclose(clf.set_params(test_views=3).predict_proba(X_test), expected.mean(0).numpy(), atol=1e-6)
    np.testing.assert_allclose(clf.set_params(test_views=1).predict_proba(X_test), expected[0].numpy(), atol=1e-6)
    np.testing.assert_array_equal(clf.set_params(test_views=FIXMATCH_TEST_VIEWS).predict_proba(X_test), default)
    assert FIXMATCH_TEST_VIEWS == 6 and not np.array_equal(default, expected[0].numpy())
    # rows without an image shape have no views to average: test_views leaves them as they are
    rows = AutoencoderClassifier(Autoencoder(hidden=(16,), latent=8, epochs=1), steps=5, random_state=0,
                                 device="cpu").fit(X, y_semi)
    np.testing.assert_array_equal(rows.set_params(test_views=6).predict_proba(X_test),
                                  rows.set_params(test_views="auto").predict_proba(X_test))


def test_an_averaged_teacher_makes_the_pseudo_labels(digits, monkeypatch):
    X, _, y_semi, _, _ = digits
    seen = []
    original = FixMatchStep._pseudo_labels
    monkeypatch.setattr(FixMatchStep, "_pseudo_labels", lambda self, p: seen.append(p) or original(self, p))
    params = dict(IMAGES, autoencoder=Autoencoder(**SMALL_CNN), steps=9, propagation_rounds=1)
    trained = AutoencoderClassifier(**params).fit(X, y_semi)
    assert seen[0].requires_grad is False
    average = AutoencoderClassifier(**params, teacher="average").fit(X, y_semi)
    # the normalised average of one update is the weights after it: the first two steps' teachers are the
    # trained network in both runs; from the third on the average lags the trained weights
    torch.testing.assert_close(seen[9:11], seen[:2])
    assert not torch.allclose(seen[11], seen[2])
    assert average.history_[-1]["confident"] > 0 and trained.history_[-1]["confident"] > 0
    with pytest.raises(ValueError, match="teacher"):
        AutoencoderClassifier(**params, teacher="ema").fit(X, y_semi)


def test_few_labels_train_an_ensemble_whose_first_network_is_the_single_fit(digits, tmp_path):
    X, _, y_semi, X_test, _ = digits
    params = dict(IMAGES, autoencoder=Autoencoder(**SMALL_CNN), steps=9, thresholds="fixed")
    single = AutoencoderClassifier(**params).fit(X, y_semi)
    pair = AutoencoderClassifier(**{**params, "ensemble": "auto"}).fit(X, y_semi)  # 6 labels a class are few
    assert single.n_members_ == 1 and pair.n_members_ == 2 and isinstance(pair.model_, EnsembleNet)
    assert [r["member"] for r in pair.history_] == [1] * 5 + [2] * 5  # pretrain, 2 rounds of 2 epochs
    images = torch.from_numpy(pair.scaler_.transform(X_test))
    with torch.no_grad():
        members = [torch.softmax(head(encoder(images)), 1) for encoder, head in
                   zip(pair.model_.encoder.parts, pair.model_.heads)]
        assert torch.equal(members[0], torch.softmax(single.model_(images), 1))  # member 1: the single fit's seed
        assert not torch.allclose(members[0], members[1])
    mean = torch.stack(members).mean(0).numpy()
    np.testing.assert_allclose(pair.set_params(test_views=1).predict_proba(X_test), mean, atol=1e-6)
    assert pair.transform(X_test[:3]).shape == (3, 2 * 16)  # the members' codes side by side
    pair.save(tmp_path / "pair")
    np.testing.assert_array_equal(aekit.load(tmp_path / "pair").predict_proba(X_test), pair.predict_proba(X_test))
    rows = AutoencoderClassifier(Autoencoder(hidden=(8,), latent=4, epochs=1), steps=3, random_state=0)
    assert rows.fit(X, y_semi).n_members_ == 1  # ensemble="auto" without FixMatch: one network
    with pytest.raises(ValueError, match="ensemble"):
        AutoencoderClassifier(encoder=pair).fit(X, y_semi)
