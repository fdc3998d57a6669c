import numpy as np
import pytest

from aekit.datasets import load
from aekit.metrics import class_coverage, frechet_distance, psnr, reconstruction_error

pytestmark = pytest.mark.usefixtures("one_thread")


def _with_moments(rng, n, mean, cov):
    """``n`` rows whose sample mean and covariance (ddof=1) are exactly ``mean`` and ``cov``."""
    white = rng.randn(n, len(mean))
    white -= white.mean(0)
    white = white @ np.linalg.inv(np.linalg.cholesky(np.cov(white, rowvar=False))).T
    return white @ np.linalg.cholesky(cov).T + mean


def test_frechet_distance_of_a_set_to_itself_is_zero():
    X = load("digits").data  # raw pixels: some are constant, so the covariance is singular
    assert frechet_distance(X, X) == pytest.approx(0, abs=1e-8)
    Y = np.random.RandomState(0).rand(300, 5)
    assert frechet_distance(Y, Y) == pytest.approx(0, abs=1e-10)


def test_frechet_distance_grows_with_noise():
    X = load("digits").data
    noise = np.random.RandomState(0).randn(*X.shape)
    distances = [frechet_distance(X, X + std * noise) for std in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)]
    assert distances[0] == pytest.approx(0, abs=1e-8)
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    rng = np.random.RandomState(0)
    # diagonal covariances: |m1 - m2|^2 + sum (s1 - s2)^2
    m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 0.5, 0.5])
    A, B = _with_moments(rng, 400, m1, np.diag(s1 ** 2)), _with_moments(rng, 300, m2, np.diag(s2 ** 2))
    expected = np.sum((m1 - m2) ** 2) + np.sum((s1 - s2) ** 2)
    assert frechet_distance(A, B) == pytest.approx(expected, rel=1e-9)
    # identity against a full covariance S: tr(I + S - 2 S^(1/2)), the root from an eigendecomposition
    Q = rng.randn(4, 4)
    S = Q @ Q.T + np.eye(4)
    w, V = np.linalg.eigh(S)
    expected = 4 + np.trace(S) - 2 * np.sum(np.sqrt(w))
    C, D = _with_moments(rng, 500, np.zeros(4), np.eye(4)), _with_moments(rng, 500, np.zeros(4), S)
    assert frechet_distance(C, D) == pytest.approx(expected, rel=1e-9)
    # one dimension: (m1 - m2)^2 + (s1 - s2)^2, through a feature map
    assert frechet_distance(A, B, features=lambda X: X[:, :1]) == pytest.approx(1 + 4, rel=1e-9)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match="features"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="at least two rows"):
        frechet_distance(np.zeros((1, 2)), np.zeros((5, 2)))


def test_class_coverage():
    rows = np.zeros((8, 3))
    result = class_coverage(rows, lambda X: np.full(len(X), 2), n_classes=5)
    assert result.coverage == pytest.approx(1 / 5)
    np.testing.assert_array_equal(result.fractions, [0, 0, 1, 0, 0])

    class Classifier:
        classes_ = np.array([0, 1, 2, 3])

        def predict(self, X):
            return np.arange(len(X)) % 2

    result = class_coverage(rows, Classifier())
    assert result.coverage == 0.5 and list(result.classes) == [0, 1, 2, 3]
    np.testing.assert_allclose(result.fractions, [0.5, 0.5, 0, 0])
    with pytest.raises(ValueError, match="classifier must have predict or be a function of rows, got NoneType"):
        class_coverage(rows, None)


def test_psnr_and_reconstruction_error():
    clean = np.full((3, 4), 0.5)
    assert psnr(clean, clean + 0.1) == pytest.approx(20.0)  # MSE 0.01
    per_row = psnr(clean, clean + np.array([[0.1], [0.01], [0.0]]), reduction="none")
    np.testing.assert_allclose(per_row[:2], [20.0, 40.0])
    assert per_row[2] == np.inf
    assert psnr(clean * 255, clean * 255 + 25.5, peak=255) == pytest.approx(20.0)
    np.testing.assert_allclose(reconstruction_error(clean, clean + 0.1), [0.04] * 3)
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_error(clean, clean[:2])
