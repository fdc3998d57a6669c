"""Greedy layer-wise pre-training: a schedule that calls the one training loop once per layer.

Phase i trains encoder layer i and its mirror in the decoder as a one-hidden-layer autoencoder of
the previous layer's codes. The phase network is built from the deep network's own modules, so
training a phase trains those layers in place: nothing is copied and, with tied weights, the
sharing holds throughout. ``"greedy"`` computes each phase's inputs once (the codes of the layers
below, cached as the phase's training set); ``"phases"`` recomputes them through the frozen layers
below for every batch.
"""

import torch
from torch import nn

from ..nn import AutoencoderNet, Bottleneck, DeterministicBottleneck
from ..noise import Corruption


class _FrozenBelow(nn.Module):
    """A phase network fed through the frozen layers below it on every batch (``pretrain="phases"``)."""

    def __init__(self, below, phase):
        super().__init__()
        self.phase = phase
        self._below = (below,)  # not registered: its weights belong to earlier phases

    def loss_terms(self, x):
        with torch.no_grad():
            x = self._below[0](x)
        return self.phase.loss_terms(x)


def _phase_net(net, index, n_layers, penalties, noise, noise_level):
    """Encoder layer ``index`` with its decoder mirror, as a one-hidden-layer autoencoder: the layer's
    activation is the phase's code (the deep network's own bottleneck for the last layer)."""
    linear, activation = net.encoder[2 * index], net.encoder[2 * index + 1]
    bottleneck = activation if isinstance(activation, Bottleneck) else DeterministicBottleneck(
        activation, linear.out_features)
    decoder = nn.Sequential(net.decoder[2 * (n_layers - 1 - index)])
    first = index == 0
    # Codes of a hidden layer are unbounded reals: they are reconstructed linearly with squared error.
    corruption = Corruption(noise, noise_level, linear.in_features) if noise else None
    return AutoencoderNet(nn.Sequential(linear), bottleneck, decoder, net.loss if first else "mse",
                          net.output_activation if first else "linear", corruption, penalties)


def pretrain_layers(estimator, net, X_train, X_val, make_trainer):
    """Train each layer of ``net`` in turn; returns the phases' history records.

    ``make_trainer(model, epochs, phase)`` builds a Trainer for a phase (optimiser over that model's
    parameters, the estimator's generators and callbacks; ``phase`` names it, as in the history).
    """
    n_layers = len(net.encoder) // 2
    history = []
    inputs, val_inputs = X_train, X_val
    for index in range(n_layers):
        phase = _phase_net(net, index, n_layers, estimator._penalties(one_layer=True), estimator.noise,
                           estimator.noise_level).to(X_train.device)
        below = net.encoder[: 2 * index]
        with torch.no_grad():
            phase.init_from_data(below(X_train) if estimator.pretrain == "phases" else inputs)
        phase.noise_stream = net.noise_stream
        model = _FrozenBelow(below, phase) if estimator.pretrain == "phases" and index else phase
        trainer = make_trainer(model, estimator.pretrain_epochs, f"layer {index + 1}")
        if estimator.pretrain == "phases":
            trainer.fit(X_train, X_val)
        else:
            trainer.fit(inputs, val_inputs)
            with torch.no_grad():  # this phase's codes are the next phase's data
                step = nn.Sequential(net.encoder[2 * index], net.encoder[2 * index + 1]).eval()
                inputs = step(inputs)
                val_inputs = step(val_inputs) if val_inputs is not None else None
        history += [{"phase": f"layer {index + 1}", **record} for record in trainer.history]
    return history
