"""The 8-3-8 identity encoder (Mitchell 1997, Machine Learning, Fig. 4.7).

Eight one-hot inputs are squeezed through three sigmoid units and reconstructed. After training
the hidden values are close to a 3-bit binary code: the network invents an encoding by itself.

Run: python examples/encoder_838.py
"""

import numpy as np

from aekit import Autoencoder


def train_838(random_state=0):
    """Fit the 8-3-8 network; returns (inputs, hidden codes, reconstructions)."""
    X = np.eye(8, dtype=np.float32)
    ae = Autoencoder(hidden=(), latent=3, activation="sigmoid", code_activation="sigmoid",
                     output_activation="sigmoid", loss="mse", scale=None, epochs=1000, batch_size=8,
                     lr=0.1, validation_fraction=0, random_state=random_state, device="cpu").fit(X)
    return X, ae.transform(X), ae.reconstruct(X)


def main():
    X, codes, recon = train_838()
    print("input      hidden values     output")
    for x, h, r in zip(X, codes, recon):
        bits = "".join(str(int(v)) for v in x)
        print(f"{bits}  {h[0]:.2f} {h[1]:.2f} {h[2]:.2f}  {''.join(str(int(v > 0.5)) for v in r)}")
    correct = int((recon.argmax(1) == X.argmax(1)).sum())
    distinct = len({tuple(np.round(h).astype(int)) for h in codes})
    print(f"reconstructed correctly: {correct}/8; distinct rounded codes: {distinct}/8")


if __name__ == "__main__":
    main()
