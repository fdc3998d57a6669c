"""Linear autoencoder = PCA: training routes and how tightly each reaches PCA's subspace (issue 17, item 4).

A linear autoencoder (``Autoencoder(hidden=(), activation="linear", code_activation="linear",
output_activation="linear", scale=None)``) with k codes minimises the same squared error as PCA-k, so at
its minimum the decoder's columns span PCA's principal subspace (Baldi and Hornik 1989). How close a
training route gets is measured by the largest principal angle (``scipy.linalg.subspace_angles``)
between the decoder's columns and PCA's components (PCA fitted in float64 on the same training rows)
and by the test squared error per row relative to PCA's.

Data: standardised wine (3 codes; scaler fitted on the training rows), scikit-learn's 8x8 digits
(16 codes) and the report's demo data, mnist5k (16 codes, 4,000/1,000); wine and 8x8 digits are split
75/25 with random_state=0.

Routes:

- ``demo today``: Adam, lr 3e-3, 40 epochs, batch 128 (what report/stages.py ``_pca`` trains);
- ``adam cosine``: Adam, lr 1e-2 (wine, 8x8 digits) or 3e-3 (mnist5k), cosine schedule, many epochs;
- ``lbfgs f64``: full-batch L-BFGS (strong Wolfe line search) in float64 from aekit's initialisation,
  the decoder bias started at the data mean;
- ``optimizer="als"``: aekit's alternating least squares (``aekit.training.linear``; the zero-noise
  limit of Roweis's 1998 EM for PCA): encoder = the decoder's pseudo-inverse, decoder = least-squares
  map from the codes to the centred rows, biases from the mean; each step can only lower the squared
  error, and the span converges at the rate lambda_{k+1} / lambda_k per step; it stops once the span
  turns by less than 1e-10 radians in a step (at most ``--als-steps``).

PCA is fitted with the full SVD (scikit-learn's default randomized solver on mnist5k is itself a few
tenths of a degree off the exact subspace).

Run: python bench/linear_pca.py [--als-steps 1000]
"""

import argparse
import time

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.datasets import load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from _machine import describe
from aekit import Autoencoder
from aekit.datasets import load

TARGET_DEGREES, TARGET_ERROR = 1.0, 0.01


def linear_autoencoder(latent, **training):
    return Autoencoder(hidden=(), latent=latent, activation="linear", code_activation="linear",
                       output_activation="linear", scale=None, validation_fraction=0, random_state=0,
                       device="cpu", **training)


def lbfgs(model, X, max_iter=2000):
    """Full-batch L-BFGS of the fitted linear autoencoder's weights, in float64."""
    net = model.model_.double()
    x = torch.from_numpy(X).double()
    with torch.no_grad():
        net.decoder[0].bias.copy_(x.mean(0))
    optimizer = torch.optim.LBFGS(net.parameters(), lr=1, max_iter=max_iter, history_size=20, tolerance_grad=1e-14,
                                  tolerance_change=1e-20, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = net.per_row_loss(x).mean()
        loss.backward()
        return loss

    optimizer.step(closure)
    net.float()


def datasets():
    X = load_wine().data
    train, test = train_test_split(X, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(train)
    yield "wine (standardised)", scaler.transform(train), scaler.transform(test), 3, 1e-2, 2000
    train, test = train_test_split(load_digits().data, test_size=0.25, random_state=0)
    yield "digits 8x8 (sklearn)", train, test, 16, 1e-2, 2000
    yield "mnist5k (demo)", load("mnist5k", split="train").data, load("mnist5k", split="test").data, 16, 3e-3, 200


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--als-steps", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"target: largest angle < {TARGET_DEGREES} degree, test error within {TARGET_ERROR:.0%} of PCA's")
    print(f"{'data':22s} {'route':34s} {'angle (deg)':>11s} {'error / PCA':>12s} {'seconds':>8s}  verdict")
    for name, train, test, latent, lr, epochs in datasets():
        train, test = train.astype(np.float32), test.astype(np.float32)
        pca = PCA(latent, svd_solver="full").fit(train.astype(np.float64))
        pca_error = np.square(pca.inverse_transform(pca.transform(test)) - test).sum(1).mean()
        routes = [
            ("demo today: adam 3e-3, 40 epochs", dict(lr=3e-3, epochs=40), None),
            (f"adam {lr:g} cosine, {epochs} epochs", dict(lr=lr, epochs=epochs, lr_schedule="cosine"), None),
            ("lbfgs f64 (<= 2000 iterations)", dict(epochs=1), lbfgs),
            (f"optimizer='als', <= {args.als_steps} steps", dict(optimizer="als", epochs=args.als_steps), None),
        ]
        for route, training, solver in routes:
            start = time.perf_counter()
            model = linear_autoencoder(latent, **training).fit(train)
            if solver is not None:
                solver(model, train)
            seconds = time.perf_counter() - start
            decoder = model.model_.decoder[0].weight.detach().numpy().astype(np.float64)
            angle = np.degrees(subspace_angles(decoder, pca.components_.T)).max()
            ratio = np.square(model.reconstruct(test) - test).sum(1).mean() / pca_error
            met = angle < TARGET_DEGREES and abs(ratio - 1) <= TARGET_ERROR
            print(f"{name:22s} {route:34s} {angle:11.3f} {ratio:12.4f} {seconds:8.1f}  {'met' if met else 'NOT met'}",
                  flush=True)


if __name__ == "__main__":
    main()
