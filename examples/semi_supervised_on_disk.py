"""Semi-supervised learning from rows that stay on disk: many unlabelled rows, a few labels.

The 4,000 MNIST training digits are written as a folder of .npy shards (stand-ins for files too big
for memory); `AutoencoderClassifier` pre-trains an autoencoder on every row, read block by block,
holds only the labelled rows in memory, and then classifies the 1,000 test digits, also read from
disk. The same from the command line:

    aekit train classifier --data SHARDS --labels y.npy --out runs/clf
    aekit predict --model runs/clf --data TEST_SHARDS --out predicted.npy

Run: python examples/semi_supervised_on_disk.py [--labels 100] [--epochs 10] [--workdir DIR]
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

import aekit
from aekit.apps.classifier import mask_labels
from aekit.datasets import load, open_rows


def write_shards(rows, folder, n_shards):
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(rows, n_shards)):
        np.save(folder / f"part-{i:03d}.npy", part)
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100, help="labelled training digits (the rest: -1)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of autoencoder pre-training")
    parser.add_argument("--workdir", help="folder for the shards (default: a temporary one)")
    args = parser.parse_args()

    train, test = load("mnist5k", split="train"), load("mnist5k", split="test")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(args.workdir or scratch)
        train_rows = open_rows(write_shards(train.data, work / "train", 8))
        test_rows = open_rows(write_shards(test.data, work / "test", 2))
        y = mask_labels(train.target, args.labels, random_state=0)

        autoencoder = aekit.Autoencoder(hidden=(256,), latent=32, epochs=args.epochs, random_state=0)
        # rows on disk: pre-train on all of them, then a head on the labelled rows' codes (the joint
        # default, unlabelled="graph+consistency", needs every row in memory)
        classifier = aekit.AutoencoderClassifier(autoencoder, unlabelled="pretrain", epochs=200, lr=3e-3,
                                                 random_state=0).fit(train_rows, y)
        accuracy = np.mean(classifier.predict(test_rows) == test.target)
        print(f"{train_rows.n_rows} training rows read from {train_rows.source}, {args.labels} of them labelled")
        print(f"test accuracy {accuracy:.3f} on {test_rows.n_rows} test rows read from disk")


if __name__ == "__main__":
    main()
