"""Anomaly detection with any aekit autoencoder, following scikit-learn's outlier detectors.

An :class:`AnomalyDetector` trains (or reuses) an autoencoder on normal rows and scores new rows
by how well the model explains them: the reconstruction error (absolute, or relative to the row's
energy), the VAE's log-likelihood, the density of the codes under a Gaussian mixture fitted on the
training codes, or the sum of several of these after standardising each on the training rows.
``offset_`` is the ``contamination`` quantile of the training scores, so that ``predict`` flags
that fraction of the training rows.

The defaults (``autoencoder=None``, ``scores="auto"``) depend on the kind of rows, each chosen on
``bench/anomaly_routes.py`` and checked by ``bench/anomaly.py`` (one-class MNIST digits and
Fashion-MNIST, rows bare and as images, beside PCA-16 and IsolationForest; breast cancer): images,
intensities given as bare rows (at least ``MIN_INTENSITY_FEATURES`` features, every value in [0, 1]),
and tables.
"""

import os
from typing import Self

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin, clone
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import registry, saving
from ..datasets.stream import as_stream, row_blocks
from ..estimators import _params as p
from ..estimators._base import BaseAutoencoder, NeuralEstimator, Rows
from ..estimators._exporting import OnnxExportMixin, example_rows, network_copy
from ..estimators.autoencoder import Autoencoder
from ..estimators.vae import VariationalAutoencoder
from ..export import MixtureLogDensity, StandardisedScores
from ..registry import register

SCORES = ("reconstruction", "relative", "likelihood", "density")
# Bare rows with at least this many features, every value in [0, 1], are taken for intensities (pixels,
# spectra) rather than a table's columns: a 30-column table pre-scaled to [0, 1] stays a table.
MIN_INTENSITY_FEATURES = 64
# Added to each row's squared norm before dividing by it: keeps a blank row's relative error finite.
_TINY_NORM = 1e-8
# Training settings a detector passes on to the autoencoder it trains (None: the autoencoder's
# own). They are the ones `aekit train` sets on every model.
_FORWARDED = ("epochs", "image_shape", "checkpoint_dir", "log_dir", "random_state", "device", "verbose")
# Fitted state of the autoencoder that the detector mirrors, so that it saves and loads like a model:
# what aekit.load reads from config.json, then the network it builds.
_MIRRORED_CONFIG = ("n_features_in_", "image_shape_", "scaler_", "history_")
_MIRRORED = (*_MIRRORED_CONFIG, "model_", "n_parameters_")
# The Gaussian mixture's fitted arrays: enough to score, stored as JSON lists.
_MIXTURE_ARRAYS = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def rows_are_intensities(X: Rows, n_features: int) -> bool:
    """Whether bare rows (an array or rows on disk) look like intensities rather than a table: at least
    ``MIN_INTENSITY_FEATURES`` features and every value in [0, 1]."""
    return n_features >= MIN_INTENSITY_FEATURES and all(
        block.min() >= 0 and block.max() <= 1 for _, block in row_blocks(X))


def _default_autoencoder(n_features, image_shape, intensities):
    """The model of ``autoencoder=None``, as chosen on bench/anomaly_routes.py. Images and intensities
    are modelled as given, without per-feature scaling: min-max scaling blows up the errors of pixels
    that are nearly always blank (on bare MNIST rows it lost to PCA-16, 0.933 against 0.950 mean
    ROC-AUC). Images get a small convolutional autoencoder, bare intensities an MLP with 16 codes, a
    table an MLP of its min-max scaled features whose code is about a sixteenth of the input (2 to 16
    units). 100 epochs each: the count the benchmarks measured, whatever the number of rows."""
    if image_shape is not None:
        return Autoencoder(arch="conv", latent=16, epochs=100, scale=None)
    if intensities:
        return Autoencoder(hidden=(256,), latent=16, epochs=100, scale=None)
    return Autoencoder(hidden=(256,), latent=min(16, max(2, n_features // 16)), epochs=100)


def _mixture(n_components, random_state=None):
    # a small ridge keeps the covariances invertible when codes collapse onto a subspace
    return GaussianMixture(n_components, reg_covar=1e-4, random_state=random_state)


def _autoencoder_spec():
    def test(value):
        if isinstance(value, str):
            return value in registry.names() and issubclass(registry.get(value), BaseAutoencoder)
        return value is None or isinstance(value, BaseAutoencoder)
    return p.Spec(test, "None, an aekit autoencoder or the registry name of one (ae, dae, vae, ...)")


def _scores_spec():
    def test(value):
        if isinstance(value, str):
            return value == "auto" or value in SCORES
        return (isinstance(value, tuple | list) and len(value) > 0 and len(set(value)) == len(value)
                and all(isinstance(v, str) and v in SCORES for v in value))
    return p.Spec(test, "'auto', one of " + ", ".join(map(repr, SCORES)) + ", or a tuple of distinct ones")


def _is_fitted(estimator):
    return hasattr(estimator, "model_")


@register("anomaly")
class AnomalyDetector(OnnxExportMixin, OutlierMixin, TransformerMixin, BaseEstimator):
    """Outlier detection with an autoencoder trained on normal rows (scikit-learn's conventions).

    Parameters
    ----------
    autoencoder : aekit autoencoder, str or None, default=None
        The model: an estimator (cloned and trained by ``fit``; one that is already fitted is used
        as is, without copying or training), a registry name such as ``"vae"`` (its defaults), or
        None for the model that measured best for the kind of rows (bench/anomaly_routes.py, checked
        by bench/anomaly.py), trained for 100 epochs:

        - images (``image_shape`` given): a convolutional :class:`aekit.Autoencoder` (32-64
          channels, 16 codes) of the pixels as given, which must lie in [0, 1];
        - intensities given as bare rows (at least ``MIN_INTENSITY_FEATURES`` = 64 features, every
          value in [0, 1]: flattened images, spectra): an MLP autoencoder (256 hidden units, 16
          codes) of the values as given. Per-feature min-max scaling, the table's model, blows up
          the errors of pixels that are nearly always blank: on bare MNIST digit rows it lost to
          PCA-16 reconstruction error (mean one-class ROC-AUC 0.933 against 0.950), this model won
          (0.964);
        - any other table: an MLP autoencoder (256 hidden units, a code of ``n_features // 16``
          units, at least 2 and at most 16) of the min-max scaled features.
    scores : str or tuple of str, default="auto"
        What ``score_samples`` measures (higher is more normal):

        - ``"reconstruction"``: minus the autoencoder's reconstruction loss per row (at the
          posterior mean for a VAE), in scaled units;
        - ``"relative"``: that loss divided by the row's squared norm (in scaled units): for
          images, where how much ink or light a row has says little about whether it is normal;
        - ``"likelihood"``: the importance-weighted log-likelihood in nats (a
          :class:`aekit.VariationalAutoencoder` only);
        - ``"density"``: log-density of the code under a Gaussian mixture of ``n_components``
          fitted on the training codes;
        - a tuple of these: the sum of each score standardised by its training median and
          interquartile range;
        - ``"auto"``: what measured best for the kind of rows (bench/anomaly_routes.py):
          ``("relative", "density")`` for images (when the model knows their shape,
          ``image_shape_``); ``("relative", "reconstruction", "density")`` for intensities given as
          bare rows (the relative error alone helps the digits, whose amount of ink varies, and
          hurts Fashion-MNIST; the three together beat PCA-16 and IsolationForest on both);
          ``("reconstruction", "density")`` for a table.
    contamination : float in (0, 0.5], default=0.1
        Expected fraction of outliers: ``predict`` flags that fraction of the training rows.
    n_components : int, default=3
        Components of the Gaussian mixture of the codes (``"density"`` only).
    epochs, image_shape, checkpoint_dir, log_dir, random_state, device, verbose : optional
        Passed to the autoencoder that ``fit`` trains (None keeps its own); ``random_state`` also
        seeds the mixture. Ignored, apart from the mixture's seed, for a fitted autoencoder.

    Attributes
    ----------
    autoencoder_ : fitted aekit autoencoder
    scores_ : tuple of str
        The scores that ``score_samples`` sums (``scores`` with ``"auto"`` resolved).
    intensities_ : bool
        Whether the training rows were taken for intensities (see ``autoencoder``); looked at only
        when the default model or ``scores="auto"`` depends on it, False otherwise.
    density_ : GaussianMixture or None
        The mixture of the training codes, when ``"density"`` is among the scores.
    offset_ : float
        ``decision_function = score_samples - offset_``; the ``contamination`` quantile of the
        training scores.
    model_, n_features_in_, image_shape_, scaler_, history_, n_parameters_
        Those of ``autoencoder_`` (what :func:`aekit.save` writes).

    Example
    -------
    >>> import numpy as np
    >>> from aekit import AnomalyDetector
    >>> X = np.random.RandomState(0).rand(300, 8)
    >>> detector = AnomalyDetector(epochs=5, contamination=0.05, random_state=0).fit(X)
    >>> int((detector.predict(X) == -1).sum())  # 5% of the training rows
    15
    >>> detector.predict(X[:2] + 3).tolist()  # far from the training rows
    [-1, -1]
    """

    def __init__(self, autoencoder=None, *, scores="auto", contamination=0.1, n_components=3, epochs=None,
                 image_shape=None, checkpoint_dir=None, log_dir=None, random_state=None, device=None, verbose=None):
        p.store(self, locals())

    _param_table = {
        "autoencoder": _autoencoder_spec(),
        "scores": _scores_spec(),
        "contamination": p.real(0, 0.5, low_open=True),
        "n_components": p.integer(1),
        **{name: NeuralEstimator._param_table[name] | p.NONE for name in _FORWARDED},
    }

    # ---- the autoencoder ------------------------------------------------------------------------
    def _unfitted_autoencoder(self, n_features, intensities):
        """A fresh autoencoder for ``n_features`` inputs as configured, with the forwarded settings;
        ``intensities``: whether bare rows are intensities (see ``rows_are_intensities``)."""
        if self.autoencoder is None:
            autoencoder = _default_autoencoder(n_features, self.image_shape, intensities)
        elif isinstance(self.autoencoder, str):
            autoencoder = registry.get(self.autoencoder)()
        else:
            autoencoder = clone(self.autoencoder)
        return autoencoder.set_params(**{name: getattr(self, name) for name in _FORWARDED
                                         if getattr(self, name) is not None})

    def _build_net(self, n_features, image_shape):
        """For :func:`aekit.load`, after ``_set_extra_state`` restored the autoencoder: its network,
        which the saved weights fill and which the detector's ``model_`` then is too."""
        net = self.autoencoder_._build_net(n_features, image_shape)
        self.autoencoder_.model_ = net
        self.autoencoder_.n_parameters_ = sum(q.numel() for q in net.parameters())
        return net

    def _resolve_scores(self, autoencoder, intensities):
        if self.scores == "auto":
            if autoencoder.image_shape_ is not None:
                return ("relative", "density")
            return ("relative", "reconstruction", "density") if intensities else ("reconstruction", "density")
        scores = (self.scores,) if isinstance(self.scores, str) else tuple(self.scores)
        if "likelihood" in scores and not isinstance(autoencoder, VariationalAutoencoder):
            raise ValueError(f"AnomalyDetector: scores='likelihood' needs a VariationalAutoencoder, "
                             f"got {type(autoencoder).__name__}; use 'reconstruction' or 'density'")
        return scores

    # ---- fitting --------------------------------------------------------------------------------
    def fit(self, X: Rows, y: None = None, *, resume: bool = False) -> Self:
        """Train the autoencoder on the rows of ``X`` (unless it is fitted) and set the threshold.

        ``X`` may stay on disk, as for :meth:`aekit.Autoencoder.fit` (``aekit.datasets.open_rows``):
        the scores are then computed block by block; ``score_samples`` takes such rows too. ``y`` is
        ignored; ``resume=True`` continues the autoencoder's training from its
        ``checkpoint_dir`` (see :meth:`aekit.Autoencoder.fit`).
        """
        p.check_params(self, self._param_table)
        stream = as_stream(X)
        if stream is None:
            X = validate_data(self, X, dtype=[np.float32, np.float64]).astype(np.float32, copy=False)
        n_features = X.shape[1] if stream is None else stream.n_features
        # only the default model and scores="auto" depend on it (a pass over rows on disk)
        self.intensities_ = ((self.autoencoder is None or self.scores == "auto")
                             and rows_are_intensities(X, n_features))
        if _is_fitted(self.autoencoder):
            if resume:
                raise ValueError("AnomalyDetector: resume=True needs an unfitted autoencoder (a fitted one "
                                 "is used as is)")
            autoencoder = self.autoencoder
            if autoencoder.n_features_in_ != n_features:
                raise ValueError(f"AnomalyDetector: X has {n_features} features but the fitted autoencoder "
                                 f"was trained on {autoencoder.n_features_in_}")
        else:
            autoencoder = self._unfitted_autoencoder(n_features, self.intensities_)
            # rows on disk are checked by the autoencoder's own scaling pass
            if (self.autoencoder is None and self.image_shape is not None and stream is None
                    and (X.min() < 0 or X.max() > 1)):
                raise ValueError(f"AnomalyDetector: the default model for images takes pixel values in [0, 1], "
                                 f"got [{X.min():.3g}, {X.max():.3g}]; rescale them or pass an autoencoder")
            autoencoder.fit(X, resume=resume)
        self.scores_ = self._resolve_scores(autoencoder, self.intensities_)
        self.autoencoder_ = autoencoder
        for name in _MIRRORED:
            setattr(self, name, getattr(autoencoder, name))

        self.density_ = None
        if "density" in self.scores_:
            seed = self.random_state if self.random_state is not None else autoencoder.random_state
            self.density_ = _mixture(self.n_components, seed).fit(autoencoder.transform(X).astype(np.float64))
        parts = self._parts(X)
        if len(self.scores_) == 1:
            self.score_center_, self.score_scale_ = np.zeros(1), np.ones(1)
        else:
            low, self.score_center_, high = np.percentile(parts, [25, 50, 75], axis=0)
            self.score_scale_ = np.where(high > low, high - low, 1.0)
        self.offset_ = float(np.percentile(self._combine(parts), 100 * self.contamination))
        return self

    # ---- scoring --------------------------------------------------------------------------------
    def _parts(self, X):
        """Each score of ``scores_`` for the rows of ``X`` (an array or rows on disk, read in blocks):
        (n_samples, len(scores_)), float64."""
        return np.concatenate([self._block_parts(block) for _, block in row_blocks(X)])

    def _block_parts(self, X):
        autoencoder = self.autoencoder_
        columns = []
        for name in self.scores_:
            if name in ("reconstruction", "relative"):
                column = BaseAutoencoder.score_samples(autoencoder, X)
                if name == "relative":
                    column = column / (np.square(autoencoder._scaled(X), dtype=np.float64).sum(1) + _TINY_NORM)
            elif name == "likelihood":
                column = autoencoder.score_samples(X)
            else:
                column = self.density_.score_samples(autoencoder.transform(X).astype(np.float64))
            columns.append(np.asarray(column, dtype=np.float64))
        return np.stack(columns, axis=1)

    def _combine(self, parts):
        return ((parts - self.score_center_) / self.score_scale_).sum(1)

    def score_samples(self, X: Rows) -> np.ndarray:
        """Normality of each row of ``X`` (higher is more normal); see ``scores``."""
        check_is_fitted(self, "offset_")
        stream = as_stream(X)
        if stream is None:
            X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False).astype(np.float32, copy=False)
        elif stream.n_features != self.n_features_in_:
            raise ValueError(f"{stream}: {stream.n_features} features, but {type(self).__name__} was fitted on "
                             f"{self.n_features_in_}")
        return self._combine(self._parts(X))

    def _score_meaning(self):
        return "anomaly_score (minus score_samples: higher is more unusual)"

    def decision_function(self, X: Rows) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Rows) -> np.ndarray:
        """+1 for inliers, -1 for outliers."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def transform(self, X: Rows) -> np.ndarray:
        """The autoencoder's codes of ``X`` (what the density is fitted on), shape (n_samples, latent)."""
        check_is_fitted(self, "offset_")
        return self.autoencoder_.transform(X)

    def reconstruct(self, X: Rows) -> np.ndarray:
        """The autoencoder's reconstruction of ``X``: where it differs from ``X`` shows why a row is odd."""
        check_is_fitted(self, "offset_")
        return self.autoencoder_.reconstruct(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _onnx_graph(self, part):
        """``to_onnx``: ``part="scorer"`` is ``score_samples`` (float64); the others are the autoencoder's."""
        if part != "scorer":
            return self.autoencoder_._onnx_graph(part)
        if "likelihood" in self.scores_:
            self._refuse_onnx(part, "its 'likelihood' score is importance-sampled, random at every call; a "
                                    "detector of the scores 'reconstruction', 'relative' and 'density' exports")
        density = self.density_
        mixture = None if density is None else MixtureLogDensity(density.weights_, density.means_,
                                                                 density.precisions_cholesky_)
        graph = StandardisedScores(network_copy(self.autoencoder_), self.scaler_, self.scores_, self.score_center_,
                                   self.score_scale_, mixture, _TINY_NORM)
        return graph, example_rows(self.scaler_)

    # ---- saving ---------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write ``config.json`` and ``model.safetensors`` into the folder ``path`` (see :func:`aekit.load`)."""
        saving.save(self, path)

    def _extra_state(self):
        density = None if self.density_ is None else {name: getattr(self.density_, name).tolist()
                                                      for name in _MIXTURE_ARRAYS}
        return {"autoencoder": self.autoencoder_._extra_state(), "scores": list(self.scores_),
                "score_center": self.score_center_.tolist(), "score_scale": self.score_scale_.tolist(),
                "offset": self.offset_, "density": density, "intensities": self.intensities_}

    def _set_extra_state(self, state):
        # aekit.load has set the mirrored attributes it read (the network comes next, _build_net):
        # give them back to a fresh autoencoder rather than train one
        # detectors saved before intensities had their own default model were built as tables
        self.intensities_ = state.get("intensities", False)
        autoencoder = self._unfitted_autoencoder(self.n_features_in_, self.intensities_)
        for name in _MIRRORED_CONFIG:
            setattr(autoencoder, name, getattr(self, name))
        autoencoder._set_extra_state(state["autoencoder"])
        self.autoencoder_ = autoencoder
        self.scores_ = tuple(state["scores"])
        self.score_center_ = np.asarray(state["score_center"], np.float64)
        self.score_scale_ = np.asarray(state["score_scale"], np.float64)
        self.offset_ = state["offset"]
        self.density_ = None
        if state["density"] is not None:
            arrays = {name: np.asarray(state["density"][name], np.float64) for name in _MIXTURE_ARRAYS}
            self.density_ = _mixture(len(arrays["weights_"]))
            for name, value in arrays.items():
                setattr(self.density_, name, value)
