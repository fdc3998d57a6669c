"""The reference classifier (aekit.reference): accuracy, its cache (a bundle), and the re-export from
aekit.metrics."""

import json
import time

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.utils import Bunch

import aekit.metrics
from aekit.datasets import load
from aekit.reference import reference_classifier

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def blobs_bunch():
    X, y = make_blobs(400, n_features=5, centers=3, random_state=0)
    return Bunch(data=X.astype(np.float32), target=y, image_shape=None, name="blobs")


def test_reference_classifier_is_accurate_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_CACHE", str(tmp_path))
    test = load("digits", split="test")
    first = reference_classifier("digits", device="cpu")
    assert first.accuracy > 0.9
    assert np.mean(first.predict(test.data) == test.target) == pytest.approx(first.accuracy)
    folder = tmp_path / "reference" / "digits"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]

    started = time.perf_counter()
    second = reference_classifier("digits", device="cpu")
    assert time.perf_counter() - started < 1.0  # loaded, not trained
    np.testing.assert_array_equal(second.predict(test.data), first.predict(test.data))
    np.testing.assert_allclose(second.features(test.data[:5]), first.features(test.data[:5]))
    assert second.accuracy == first.accuracy

    proba = first.predict_proba(test.data[:20])
    assert proba.shape == (20, 10)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(first.classes_[proba.argmax(1)], first.predict(test.data[:20]))
    assert first.features(test.data[:3]).shape == (3, 128)
    # other settings are another classifier: the cache is replaced, not reused
    assert reference_classifier("digits", epochs=1, device="cpu").accuracy != first.accuracy


def test_reference_classifier_of_tabular_data(tmp_path, blobs_bunch):
    clf = reference_classifier(blobs_bunch, cache_dir=tmp_path, device="cpu")
    assert clf.accuracy > 0.9
    assert (tmp_path / "reference" / "blobs" / "config.json").exists()
    with pytest.raises(ValueError, match="labelled"):
        reference_classifier(Bunch(data=blobs_bunch.data, target=None, image_shape=None, name="x"), cache_dir=tmp_path)


def test_a_stale_or_damaged_cache_is_trained_again(tmp_path, blobs_bunch):
    first = reference_classifier(blobs_bunch, cache_dir=tmp_path, device="cpu")
    folder = tmp_path / "reference" / "blobs"
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == 2 and config["classes"] == [0, 1, 2]
    # the format before the bundle: "format": 1 and no checksum
    old = {k: v for k, v in config.items() if k not in ("format_version", "weights_sha256")}
    (folder / "config.json").write_text(json.dumps({**old, "format": 1}))
    again = reference_classifier(blobs_bunch, cache_dir=tmp_path, device="cpu")
    assert json.loads((folder / "config.json").read_text()) == config  # trained again, the same
    np.testing.assert_array_equal(again.predict(blobs_bunch.data), first.predict(blobs_bunch.data))
    (folder / "model.safetensors").write_bytes(b"not weights")
    damaged = reference_classifier(blobs_bunch, cache_dir=tmp_path, device="cpu")
    np.testing.assert_array_equal(damaged.features(blobs_bunch.data[:5]), first.features(blobs_bunch.data[:5]))


def test_metrics_reexports_the_reference_classifier():
    assert aekit.metrics.reference_classifier is reference_classifier
