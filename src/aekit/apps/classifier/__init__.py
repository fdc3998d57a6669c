"""Semi-supervised learning and transfer: a dense classifier head on an encoder.

The classifier's network is the encoder of an aekit model (an autoencoder's code, a VAE's posterior
mean, or another classifier's features) followed by a dense head. By default training is two calls
of the one training loop: the autoencoder's own ``fit`` on every row (labelled or not), then a joint
phase of the whole network on the labelled rows and every row (virtual adversarial consistency,
entropy, and labels spread over a neighbour graph of the rows). With ``unlabelled="pretrain"`` (and
for transfer) the joint phase is replaced by the head on the labelled rows' cached features
(standardised with the statistics of every row's features) and, optionally, the whole network with a
smaller learning rate for the encoder.

The parts, each in a module of its own:

- :mod:`~aekit.apps.classifier.estimator`: :class:`AutoencoderClassifier`, whose ``fit`` names the phases;
- :mod:`~aekit.apps.classifier.labels`: the unlabelled mark (-1), :func:`mask_labels` and the checks of ``X``, ``y``;
- :mod:`~aekit.apps.classifier.sources`: where the encoder comes from, and the layout that describes it;
- :mod:`~aekit.apps.classifier.network`: :class:`ClassifierNet` and its dense blocks;
- :mod:`~aekit.apps.classifier.phases`: pre-training, the feature pass, the head, fine-tuning, the joint phase;
- :mod:`~aekit.apps.classifier.graph`: label spreading over a neighbour graph of the rows;
- :mod:`~aekit.apps.classifier.consistency`: the joint phase's step and its consistency terms;
- :mod:`~aekit.apps.classifier.fixmatch`, :mod:`~aekit.apps.classifier.augment`,
  :mod:`~aekit.apps.classifier.randaugment`: FixMatch's step and its views, for images;
- :mod:`~aekit.apps.classifier.ensemble`: several networks from different seeds, predicting together.
"""

from .estimator import AutoencoderClassifier
from .labels import UNLABELLED, mask_labels
from .network import ClassifierNet

__all__ = ["UNLABELLED", "AutoencoderClassifier", "ClassifierNet", "mask_labels"]
