"""What a fitted :class:`~aekit.AutoencoderClassifier` does: predict, give its features (to the
user and to another classifier), and describe itself to ``aekit.save`` / ``aekit.load``.

How the encoder is laid out (which aekit model it comes from, which dense blocks earlier classifiers
stacked on it) and the classes are fitted state: ``aekit.load`` restores them (``_set_extra_state``)
before it builds the network (``_build_net``) that the saved weights fill.
"""

import numpy as np
import torch
from torch import nn

from ... import saving
from .augment import FIXMATCH_TEST_VIEWS, prediction_views
from .ensemble import EnsembleNet
from .network import ClassifierNet, classifier_net
from .sources import FeatureSource, Layout, fresh_encoder


class FittedClassifierMixin(FeatureSource):
    """The methods of a fitted classifier (``classes_``, ``model_``, ``image_shape_`` and the layout
    ``_layout`` set), for a :class:`aekit.estimators.NeuralEstimator` with ``head``, ``activation``,
    ``flip``, ``test_views`` and ``_method()``."""

    def _network(self, n_features: int, n_classes: int) -> ClassifierNet:
        """A ClassifierNet of the layout ``self._layout`` for ``n_classes``, with fresh weights (one network)."""
        base, blocks = self._layout
        first = fresh_encoder(base, n_features, self.image_shape_)
        return classifier_net(first, blocks, tuple(self.head), self.activation, n_features, n_classes)

    # ---- as the encoder of another classifier ---------------------------------------------------
    def feature_layout(self) -> Layout:
        """The layout of :meth:`transform`'s features: this classifier's, with its head's hidden layers."""
        if getattr(self, "n_members_", 1) > 1:
            raise ValueError(f"encoder: a classifier of {self.n_members_} networks (ensemble) cannot lend one "
                             "encoder to another classifier; fit the one to lend with ensemble=1")
        base, blocks = self._layout
        return base, [*blocks, (tuple(self.head), self.activation)]

    def feature_modules(self) -> nn.Module:
        """The fitted modules that compute :meth:`transform`'s features."""
        return nn.Sequential(*self.model_.encoder, self.model_.head[0])

    # ---- saving ---------------------------------------------------------------------------------
    def _build_net(self, n_features, image_shape):
        """For ``aekit.load``: the network of the layout, classes and members ``_set_extra_state`` restored."""
        if self.n_members_ > 1:
            return EnsembleNet([self._network(n_features, len(self.classes_)) for _ in range(self.n_members_)])
        return self._network(n_features, len(self.classes_))

    def _extra_state(self):
        base, blocks = self._layout
        if isinstance(base, nn.Module):
            raise ValueError(f"cannot save an {type(self).__name__} whose encoder is a {type(base).__name__}: "
                             "aekit saves configurations as JSON and cannot describe an arbitrary torch "
                             "module; use an aekit model as the encoder, or save model_.state_dict() yourself")
        return {"classes": self.classes_.tolist(), "members": self.n_members_,
                "encoder": saving.estimator_to_json(base),
                "blocks": [[list(hidden), activation] for hidden, activation in blocks]}

    def _set_extra_state(self, state):
        self.classes_ = np.asarray(state["classes"])
        self.n_members_ = state.get("members", 1)  # files saved before ensembles hold one network
        self._layout = (saving.estimator_from_json(state["encoder"]),
                        [(tuple(hidden), activation) for hidden, activation in state["blocks"]])

    # ---- using a fitted classifier --------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """The features of ``X`` that the head classifies, shape (n_samples, width)."""
        return self._per_row(lambda x: self.model_.encoder(x), X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``;
        for images, the mean over the ``test_views`` fixed views of each (see :func:`.prediction_views`)."""
        return self._per_row(self._mean_softmax, X)

    def _mean_softmax(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of the softmax over the views of the scaled rows ``x`` that ``test_views`` asks for."""
        n_views = self.test_views
        if n_views == "auto":  # the views FixMatch trained on (shifts, mirrors); other images: as they are
            n_views = FIXMATCH_TEST_VIEWS if self._method() == "fixmatch" else 1
        if self.image_shape_ is None or n_views == 1:
            return torch.softmax(self.model_(x), dim=1)
        views = prediction_views(x.view(-1, *self.image_shape_), n_views, self.flip)
        return torch.stack([torch.softmax(self.model_(v.flatten(1)), dim=1) for v in views]).mean(0)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row of ``X``."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError on an unfitted classifier
        return self.classes_[proba.argmax(1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @property
    def inverse_transform(self):
        # a classifier has no decoder: hide NeuralEstimator's method (hasattr gives False)
        raise AttributeError(f"{type(self).__name__} has no decoder, hence no inverse_transform")


__all__ = ["FittedClassifierMixin"]
