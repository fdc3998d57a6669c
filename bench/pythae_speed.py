"""Training speed of aekit's VAE against the pythae library and a plain hand-written loop, on the
same network: 784-512-256-16 MLP, ReLU, Bernoulli decoder, batch 128, Adam 1e-3, 4,000 MNIST digits.

Each repeat times the three in turn (alternated, so drifts in machine load hit all three alike),
each for ``--epochs`` and for twice as many, and the medians are reported: the whole run's seconds per
epoch at ``--epochs`` (fixed costs included: aekit's set-up and final encoding of the training rows,
pythae's data set wrapping and final model saving), and the marginal seconds per epoch,
(T(2E) - T(E)) / E, in which every trainer's fixed costs cancel. pythae is not a dependency of aekit;
install it beside it:

    python -m venv /tmp/pythae && /tmp/pythae/bin/pip install torch==2.13.0 pythae -e .
    /tmp/pythae/bin/python bench/pythae_speed.py [--epochs 5] [--repeats 5]

Target (issue 4): aekit at least 1.4x pythae's training speed.
"""

import argparse
import logging
import statistics
import tempfile
import time

import torch
from pythae.models import VAE, VAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainerConfig

from _machine import describe
from aekit import VariationalAutoencoder
from aekit.datasets import load
from vae import LATENT, WIDTHS, _mlp, plain_vae


class _Encoder(BaseEncoder):
    def __init__(self):
        super().__init__()
        self.net = _mlp((*WIDTHS, 2 * LATENT))

    def forward(self, x):
        mu, log_var = self.net(x.flatten(1)).chunk(2, -1)
        return ModelOutput(embedding=mu, log_covariance=log_var)


class _Decoder(BaseDecoder):
    def __init__(self):
        super().__init__()
        self.net = _mlp((LATENT, *WIDTHS[::-1]))

    def forward(self, z):
        # pythae's "bce" loss takes probabilities, not logits
        return ModelOutput(reconstruction=torch.sigmoid(self.net(z)).view(-1, 1, 28, 28))


def pythae_seconds_per_epoch(X, epochs, seed=0):
    torch.manual_seed(seed)
    model = VAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce"),
                encoder=_Encoder(), decoder=_Decoder())
    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(output_dir=out, num_epochs=epochs, learning_rate=1e-3,
                                   per_device_train_batch_size=128, per_device_eval_batch_size=128,
                                   steps_saving=None, optimizer_cls="Adam", no_cuda=True, seed=seed)
        pipeline = TrainingPipeline(training_config=config, model=model)
        start = time.perf_counter()
        pipeline(train_data=X.reshape(-1, 1, 28, 28), eval_data=None)
        return (time.perf_counter() - start) / epochs


def aekit_seconds_per_epoch(X, epochs, seed=0):
    vae = VariationalAutoencoder(hidden=WIDTHS[1:], latent=LATENT, epochs=epochs, validation_fraction=0,
                                 random_state=seed, device="cpu")
    start = time.perf_counter()
    vae.fit(X)
    return (time.perf_counter() - start) / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("pythae").setLevel(logging.WARNING)
    X = load("mnist5k", split="train").data
    X_tensor = torch.from_numpy(X)

    trainers = {
        "aekit": lambda epochs: aekit_seconds_per_epoch(X, epochs),
        "pythae": lambda epochs: pythae_seconds_per_epoch(X, epochs),
        "plain loop": lambda epochs: plain_vae(X_tensor, X_tensor[:128], epochs)[0],
    }
    whole, marginal = ({name: [] for name in trainers} for _ in range(2))
    for _ in range(args.repeats):
        for name, seconds_per_epoch in trainers.items():
            short, long = (seconds_per_epoch(e) * e for e in (args.epochs, 2 * args.epochs))
            whole[name].append(short / args.epochs)
            marginal[name].append((long - short) / args.epochs)

    print(f"machine: {describe()}")
    print(f"VAE 784-512-256-16, Bernoulli, batch 128, Adam 1e-3, {len(X)} digits, "
          f"{args.epochs} and {2 * args.epochs} epochs x {args.repeats} alternated repeats (medians)")
    print(f"{'':12s} {'whole run s/epoch':>18s} {'vs plain':>9s} {'marginal s/epoch':>17s} {'vs plain':>9s}")
    median = {kind: {name: statistics.median(t) for name, t in times.items()}
              for kind, times in (("whole", whole), ("marginal", marginal))}
    for name in trainers:
        print(f"{name:12s} " + " ".join(f"{median[kind][name]:{width}.3f} "
                                        f"{median[kind]['plain loop'] / median[kind][name]:8.2f}x"
                                        for kind, width in (("whole", 18), ("marginal", 17))))
    for kind in median:
        print(f"aekit / pythae, {kind}: {median[kind]['pythae'] / median[kind]['aekit']:.2f}x (target 1.4x)")


if __name__ == "__main__":
    main()
