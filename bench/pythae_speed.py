"""Training speed of aekit's VAE against the pythae library and a plain hand-written loop, on the
same network: 784-512-256-16 MLP, ReLU, Bernoulli decoder, batch 128, Adam 1e-3, 4,000 MNIST digits.

Each repeat times the three in turn (alternated, so drifts in machine load hit all three alike) and
the median seconds per epoch is reported. pythae is not a dependency of aekit; install it beside it:

    python -m venv /tmp/pythae && /tmp/pythae/bin/pip install torch==2.13.0 pythae -e .
    /tmp/pythae/bin/python bench/pythae_speed.py [--epochs 5] [--repeats 3]

Target (issue 4): aekit at least 1.4x pythae's training speed.
"""

import argparse
import logging
import statistics
import tempfile
import time

import torch
from _machine import describe
from pythae.models import VAE, VAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainerConfig
from vae import LATENT, WIDTHS, _mlp, plain_vae

from aekit import VariationalAutoencoder
from aekit.datasets import load


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
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("pythae").setLevel(logging.WARNING)
    X = load("mnist5k", split="train").data
    X_tensor = torch.from_numpy(X)

    times = {"aekit": [], "pythae": [], "plain loop": []}
    for _ in range(args.repeats):
        times["aekit"].append(aekit_seconds_per_epoch(X, args.epochs))
        times["pythae"].append(pythae_seconds_per_epoch(X, args.epochs))
        times["plain loop"].append(plain_vae(X_tensor, X_tensor[:128], args.epochs)[0])
    median = {name: statistics.median(t) for name, t in times.items()}

    print(f"machine: {describe()}")
    print(f"VAE 784-512-256-16, Bernoulli, batch 128, Adam 1e-3, {len(X)} digits, "
          f"{args.epochs} epochs x {args.repeats} alternated repeats (median)")
    print(f"{'':12s} {'s/epoch':>8s} {'samples/s':>10s} {'vs plain':>9s}")
    for name, seconds in median.items():
        print(f"{name:12s} {seconds:8.3f} {len(X) / seconds:10.0f} {median['plain loop'] / seconds:8.2f}x")
    print(f"aekit / pythae: {median['pythae'] / median['aekit']:.2f}x (target 1.4x)")


if __name__ == "__main__":
    main()
