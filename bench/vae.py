"""The variational autoencoder on the 5,000 MNIST digits: test negative ELBO and importance-weighted
NLL in nats, and training speed against a plain hand-written PyTorch VAE of the same shape.

784-512-256-16 MLP encoder (mirrored decoder), ReLU, Bernoulli decoder on the [0, 1] grey values,
batch 128, Adam 1e-3, trained on the 4,000-digit training split (no validation hold-out), 1,000 test
digits. Target: at most 108 nats at 50 epochs with aekit's defaults for that shape.

Run: python bench/vae.py [--epochs 50] [--k 500] [--lr-schedule cosine]
"""

import argparse
import time

import torch
from torch import nn
from torch.nn import functional as F

from _machine import describe
from aekit import VariationalAutoencoder
from aekit.datasets import load

WIDTHS = (784, 512, 256)
LATENT = 16


def _mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(widths) - 2 else [])
    return nn.Sequential(*layers)


def plain_vae(X, X_test, epochs, seed=0):
    """What a user would write by hand: returns (seconds per epoch, test negative ELBO)."""
    torch.manual_seed(seed)
    encoder, decoder = _mlp((*WIDTHS, 2 * LATENT)), _mlp((LATENT, *WIDTHS[::-1]))
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)

    def negative_elbo(x):
        mu, logvar = encoder(x).chunk(2, -1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        recon = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(1)
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)
        return (recon + kl).mean()

    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X))
        for i in range(0, len(X), 128):
            loss = negative_elbo(X[order[i:i + 128]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = (time.perf_counter() - start) / epochs
    with torch.no_grad():
        return seconds, float(negative_elbo(X_test))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--k", type=int, default=500, help="importance samples for the NLL estimate")
    parser.add_argument("--lr-schedule", choices=("cosine", "linear"), help="aekit's lr_schedule (default: none)")
    args = parser.parse_args()
    X, X_test = load("mnist5k", split="train").data, load("mnist5k", split="test").data

    vae = VariationalAutoencoder(hidden=WIDTHS[1:], latent=LATENT, epochs=args.epochs, validation_fraction=0,
                                 lr_schedule=args.lr_schedule, random_state=0, device="cpu")
    start = time.perf_counter()
    vae.fit(X)
    aekit_epoch = (time.perf_counter() - start) / args.epochs
    test_elbo = -vae.elbo(X_test, n_samples=10).mean()
    nll = -vae.score_samples(X_test, n_importance=args.k).mean()
    plain_epoch, plain_elbo = plain_vae(torch.from_numpy(X), torch.from_numpy(X_test), args.epochs)

    print(f"machine: {describe()}")
    print(f"VAE 784-512-256-16, Bernoulli, batch 128, Adam 1e-3 (aekit lr_schedule={args.lr_schedule}), "
          f"{args.epochs} epochs on {len(X)} digits")
    print(f"aekit: test -ELBO {test_elbo:.1f} nats, NLL (IWAE k={args.k}) {nll:.1f} nats, "
          f"{aekit_epoch:.2f} s/epoch ({len(X) / aekit_epoch:.0f} samples/s)")
    print(f"plain: test -ELBO {plain_elbo:.1f} nats (one draw), {plain_epoch:.2f} s/epoch "
          f"({len(X) / plain_epoch:.0f} samples/s)")
    print(f"speed aekit / plain: {plain_epoch / aekit_epoch:.2f}x")


if __name__ == "__main__":
    main()
