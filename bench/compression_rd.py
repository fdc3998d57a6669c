"""Rate and distortion of aekit's learned codecs (issue 19): the rate-distortion autoencoder and the
VQ-VAE beside today's fixed-bit codec, WebP, AVIF, JPEG and PCA codes, on the test rows of the MNIST
digits, Fashion-MNIST and (with --data colour) 32x32 colour patches of photographs.

Data. digits: mnist5k (4,000 training, 1,000 test digits). fashion: --train-rows rows of
Fashion-MNIST's training file and 1,000 of its test file, drawn with seed 0. colour: 32x32 patches
of photographs that packages ship: training patches (stride 16) from scikit-learn's china.jpg and
scikit-image's astronaut, coffee and rocket, test patches (stride 32) from scikit-learn's
flower.jpg and scikit-image's chelsea (other photographs); rows channel-first in [0, 1]. Without
scikit-image (``pip install 'aekit[bench]'``) it says so and uses china.jpg and flower.jpg only.
--validation holds out a seeded fifth of the training rows and measures on them instead of the
test rows (how the defaults were chosen); --rd-param passes more RD parameters (``augment_shift=1``
trains the RD models on images shifted by up to a pixel); --also-weights W ... compares, besides
the whole sweep, the RD curve of those of its weights only (the same models: how a denser sweep
changes the figures).

Models, all convolutional (aekit's default channels (32, 64)), --epochs epochs, seed 0, no scaling
(the rows are in [0, 1]), no early-stopping split:
- RD: ``RateDistortionAutoencoder(arch="conv", latent=--latent)`` at each of --rate-weights, its
  integer codes coded under its learned entropy model (``codec.compress``; header counted): the
  hyperprior by default since 2026-12-05 (``--rd-param prior=factorised`` for the factorised prior
  of the runs before).
- fixed-bit: ``Autoencoder(arch="conv", latent=64)`` (bench/compression.py's model) quantised at
  3, 4, 5, 6 and 8 bits; bytes as format 1 (the pure-Python coder: today's codec) and format 2.
- VQ-VAE: ``VQVAE(arch="conv", latent=--latent, code_dim=4, codebook_size=256)``; one point.
- PCA-64: PCA codes quantised and coded as the fixed-bit codec's (format 2), reconstructions clipped.
- JPEG (optimize), WebP (method 6) and AVIF (speed 6: speed 0 takes 0.1 s per image, for sizes
  within 1%) from Pillow, one file per image, at a range of qualities.
- AVIF and WebP "(mosaic)": all test images tiled into one picture (a square grid, in a seeded
  random order, so that patches cut side by side do not meet again), coded once and cut back
  (``mosaic_point``); bytes divided by the number of images. This matches what aekit's container
  does (one header, every image at once) and gives AVIF, whose smallest single 28x28 file is ~350
  bytes, PSNRs that RD reaches; the codec's blocks straddle neighbouring images, which helps or
  hurts it a little.
PSNR: mean over images of each image's PSNR, peak 1. Bytes: per image; aekit's codecs code the
1,000 test rows in one container.

Comparison at matched PSNR: for each baseline, three PSNRs at 1/6, 1/2 and 5/6 of the range where
the RD curve and the baseline's overlap; the bytes of each there are interpolated linearly in
log(bytes) along its curve. A codec whose lowest PSNR is above RD's highest (AVIF here) is set
beside RD's best point with its smallest file: a bound, since it cannot code smaller. Targets (issue
19): RD needs >= 50% fewer bytes than WebP and AVIF at each point, and >= 20% fewer than today's
fixed-bit codec (format 1). Each line ends with the Bjontegaard-delta saving over the whole common
range (bench/bjontegaard.py), the single figure the field reports.

Run: python bench/compression_rd.py [--data digits fashion colour] [--epochs 40]
     [--rate-weights 0.005 0.01 0.02 0.04] [--figures DIR] [--validation] [--no-vq]
     [--rd-param KEY=VALUE ...] [--also-weights W ...]
"""

import argparse
import ast
import io
import math
import time

import numpy as np
from PIL import Image
from sklearn.decomposition import PCA

from _machine import describe
from aekit import Autoencoder, codec, plots
from aekit.apps.codec.legacy import range_encode_v1
from aekit.datasets import load
from aekit.estimators.rate_distortion import RateDistortionAutoencoder
from aekit.estimators.vqvae import VQVAE
from aekit.metrics import psnr
from bjontegaard import bd_saving

PILLOW = {"JPEG": ("JPEG", {"optimize": True}, (1, 5, 10, 20, 30, 50, 75, 90)),
          "WebP": ("WEBP", {"method": 6}, (0, 5, 10, 25, 50, 75, 90)),
          "AVIF": ("AVIF", {"speed": 6}, (0, 10, 30, 60))}
# every test image tiled into one picture, coded once (see mosaic_point)
MOSAIC = {"AVIF (mosaic)": ("AVIF", {"speed": 6}, (0, 4, 8, 12, 16)),
          "WebP (mosaic)": ("WEBP", {"method": 6}, (0, 5, 10, 25, 50))}
FIXED_BITS = (3, 4, 5, 6, 8)
DEFAULT_BITS = 8  # codec.compress's default
# colour: photographs (scikit-image's, beside scikit-learn's china.jpg and flower.jpg) for training
# and for testing, never both; patches every TRAIN_STRIDE / TEST_STRIDE pixels
SKIMAGE_TRAIN = ("astronaut", "coffee", "rocket")
SKIMAGE_TEST = ("chelsea",)
TRAIN_STRIDE, TEST_STRIDE = 16, 32
TARGETS = {"WebP": 0.5, "AVIF": 0.5, "AVIF (mosaic)": 0.5, "fixed-bit (format 1)": 0.2}


def dataset(name, train_rows):
    """(train rows, test rows, image_shape (C, H, W))."""
    if name == "digits":
        return load("mnist5k", split="train").data, load("mnist5k", split="test").data, (1, 28, 28)
    if name == "fashion":
        rng = np.random.RandomState(0)
        train, test = load("fashion-mnist", split="train").data, load("fashion-mnist", split="test").data
        return (train[rng.choice(len(train), train_rows, replace=False)],
                test[rng.choice(len(test), 1000, replace=False)], (1, 28, 28))
    train, test = photographs()
    return (np.concatenate([patches(image, TRAIN_STRIDE) for image in train.values()]),
            np.concatenate([patches(image, TEST_STRIDE) for image in test.values()]), (3, 32, 32))


def photographs():
    """({name: training photograph}, {name: test photograph}), each (H, W, 3) in [0, 1]."""
    # deferred: only the colour data set needs them
    from sklearn.datasets import load_sample_images
    china, flower = load_sample_images().images
    try:
        from skimage import data as skimage_data
    except ImportError:
        print("scikit-image is not installed (pip install 'aekit[bench]'): the colour data falls back to "
              "scikit-learn's two photographs, training patches from china.jpg, test patches from flower.jpg")
        train, test = {"china": china}, {"flower": flower}
    else:
        train = {"china": china, **{n: getattr(skimage_data, n)() for n in SKIMAGE_TRAIN}}
        test = {"flower": flower, **{n: getattr(skimage_data, n)() for n in SKIMAGE_TEST}}
    scaled = ({n: image.astype(np.float32) / 255 for n, image in part.items()} for part in (train, test))
    return tuple(scaled)


def patches(image, stride):
    """32x32 patches of ``image`` (H, W, 3) every ``stride`` pixels, as channel-first rows."""
    h, w, _ = image.shape
    return np.stack([image[i:i + 32, j:j + 32].transpose(2, 0, 1).ravel()
                     for i in range(0, h - 31, stride) for j in range(0, w - 31, stride)])


def validation_split(X):
    """(training rows, validation rows): a seeded fifth of the training rows held out."""
    order = np.random.RandomState(1).permutation(len(X))
    cut = len(X) // 5
    return X[order[cut:]], X[order[:cut]]


def rd_params(pairs):
    """``--rd-param`` KEY=VALUE pairs as keyword arguments (values as Python literals, else strings)."""
    params = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def mosaic_point(X, shape, fmt, **options):
    """(bytes per image, mean per-image PSNR) of the images of ``X`` (rows of ``shape`` (C, H, W) in
    [0, 1]) tiled in a seeded random order into one picture (a square grid, empty cells black), saved once by
    Pillow and cut back into images: the standard codec sees all of them at once, as aekit's
    container does, and pays its header once."""
    c, h, w = shape
    n = len(X)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    images = np.round(np.asarray(X) * 255).astype(np.uint8).reshape(n, c, h, w).transpose(0, 2, 3, 1)
    cells = np.zeros((rows * cols, h, w, c), np.uint8)
    # in a seeded random order: patches cut side by side from a photograph must not meet again
    order = np.random.RandomState(0).permutation(n)
    cells[order] = images
    canvas = cells.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)
    buffer = io.BytesIO()
    Image.fromarray(canvas[..., 0] if c == 1 else canvas).save(buffer, fmt, **options)
    back = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L" if c == 1 else "RGB"))
    back = back.reshape(rows, h, cols, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * cols, -1)[order]
    return len(buffer.getvalue()) / n, psnr(images.reshape(n, -1) / 255.0, back / 255.0)


def interpolate_bytes(curve, quality):
    """Bytes of ``curve`` [(bytes, psnr), ...] at PSNR ``quality``, linear in log(bytes)."""
    points = sorted(curve, key=lambda p: p[1])
    return float(np.exp(np.interp(quality, [p[1] for p in points], [math.log(p[0]) for p in points])))


def matched(rd, other):
    """([(psnr, rd bytes, other bytes)] at three PSNRs inside both curves' ranges (at the one PSNR of
    a codec of one point), exact). When the
    other codec's lowest PSNR is above all of RD's, it cannot match RD's PSNR with fewer bytes than
    its smallest file: ([(RD's best PSNR, RD's bytes there, that smallest file)], a lower bound)."""
    finite = [p for p in other if math.isfinite(p[1])]  # a mean PSNR is infinite when one image is exact
    low = max(min(p[1] for p in rd), min((p[1] for p in finite), default=math.inf))
    high = min(max(p[1] for p in rd), max((p[1] for p in finite), default=-math.inf))
    if low < high:
        other = finite
        return [(q, interpolate_bytes(rd, q), interpolate_bytes(other, q))
                for q in (low + (high - low) * f for f in (1 / 6, 1 / 2, 5 / 6))], True
    if len(finite) == 1 and low == high:  # one trained model (the VQ-VAE): RD at its PSNR
        return [(low, interpolate_bytes(rd, low), finite[0][0])], True
    best = max(rd, key=lambda p: p[1])
    if min(p[1] for p in other) > best[1]:
        return [(best[1], best[0], min(p[0] for p in other))], False
    return [], True


def pick_rate_weight(weights, points, quality):
    """The largest of ``weights`` whose point (bytes, PSNR) reaches PSNR ``quality``: the fewest
    bytes at no loss against the fixed-bit codec at its defaults (None if no weight reaches it)."""
    reaching = [w for w, (_, q) in zip(weights, points) if q >= quality]
    return max(reaching, default=None)


def print_matched(rd_points, curves, title):
    """Print RD's bytes against each other codec of ``curves`` at matched PSNR (see ``matched``)."""
    print(f"\n{title} against each codec at matched PSNR (bytes/img; saving = 1 - RD / other)")
    for label, points in curves.items():
        if label == "RD autoencoder":
            continue
        rows, exact = matched(rd_points, points)
        target = TARGETS.get(label)
        if not rows:
            print(f"{label:22s} no PSNR in common (RD {min(p[1] for p in rd_points):.2f}-"
                  f"{max(p[1] for p in rd_points):.2f} dB)")
            continue
        cells = "  ".join(f"{q:.2f} dB: {a:.1f} vs {b:.1f} ({1 - a / b:+.1%})" for q, a, b in rows)
        if not exact:
            cells = (f"its lowest PSNR ({min(p[1] for p in points):.2f} dB) is above RD's: its smallest file "
                     f"against RD's best point: {cells}")
        verdict = "" if target is None else ("  target met" if all(1 - a / b >= target for _, a, b in rows)
                                             else "  target NOT met")
        verdict += "" if exact or not verdict else " (as a bound only)"
        bd = bd_saving(rd_points, points)
        bd_cell = "" if bd is None or not exact else f"  BD-rate {bd:+.1%}"
        print(f"{label:22s} {cells}{verdict}{bd_cell}")


def point(X_test, data, decoded):
    return len(data) / len(X_test), psnr(X_test, np.clip(decoded, 0, 1))


def run(name, args):
    X, X_test, shape = dataset(name, args.train_rows)
    if args.validation:
        X, X_test = validation_split(X)
    common = {"arch": "conv", "image_shape": shape, "epochs": args.epochs, "scale": None, "validation_fraction": 0,
              "random_state": 0, "device": "cpu"}
    curves, notes = {}, []
    start = time.perf_counter()
    rd_points = []
    for weight in args.rate_weights:
        rd = RateDistortionAutoencoder(**{"latent": args.latent, "rate_weight": weight, **common,
                                          **rd_params(args.rd_param)}).fit(X)
        data = codec.compress(rd, X_test)
        rd_points.append(point(X_test, data, codec.decompress(rd, data)))
        notes.append(f"RD rate_weight={weight:g}: {rd_points[-1][0]:.1f} bytes/img, {rd_points[-1][1]:.2f} dB")
    curves["RD autoencoder"] = rd_points

    fixed = Autoencoder(latent=64, **common).fit(X)
    old, new = [], []
    for bits in FIXED_BITS:
        data = codec.compress(fixed, X_test, bits)
        size, quality = point(X_test, data, codec.decompress(fixed, data))
        symbols = codec.quantise(fixed.transform(X_test), fixed.code_range_, bits)
        old.append(((codec.HEADER_SIZE + len(range_encode_v1(symbols, bits))) / len(X_test), quality))
        new.append((size, quality))
    curves["fixed-bit (format 1)"], curves["fixed-bit (format 2)"] = old, new

    if not args.no_vq:
        vq = VQVAE(latent=args.latent, code_dim=4, codebook_size=256, **common).fit(X)
        data = codec.compress(vq, X_test)
        curves["VQ-VAE"] = [point(X_test, data, codec.decompress(vq, data))]
        last = vq.history_[-1]
        notes.append(f"VQ-VAE: {curves['VQ-VAE'][0][0]:.1f} bytes/img, {curves['VQ-VAE'][0][1]:.2f} dB; codebook "
                     f"usage {last['codebook_usage']:.1%} and perplexity {last['perplexity']:.1f} of 256 in the last "
                     "epoch")
    train_seconds = time.perf_counter() - start

    pca = PCA(64, random_state=0).fit(X)
    codes = pca.transform(X)
    code_range = np.stack([codes.min(0), codes.max(0)]).astype(np.float32)
    curves["PCA-64"] = []
    for bits in FIXED_BITS:
        symbols = codec.quantise(pca.transform(X_test), code_range, bits)
        size = codec.HEADER_SIZE + len(codec.entropy_encode(symbols, bits))
        curves["PCA-64"].append(point(X_test, b"\0" * size, pca.inverse_transform(codec.dequantise(symbols, code_range,
                                                                                                   bits))))
    for label, (fmt, options, qualities) in PILLOW.items():
        curves[label] = [codec.pillow_point(X_test, shape, fmt, quality=q, **options) for q in qualities]
    for label, (fmt, options, qualities) in MOSAIC.items():
        curves[label] = [mosaic_point(X_test, shape, fmt, quality=q, **options) for q in qualities]

    measured = "validation" if args.validation else "test"
    print(f"\n=== {name}: {len(X)} training rows, {len(X_test)} {measured} rows of {shape}; models trained in "
          f"{train_seconds:.0f} s ===")
    for line in notes:
        print(line)
    print(f"{'codec':22s} points (bytes/img, PSNR dB)")
    for label, points in curves.items():
        print(f"{label:22s} " + "  ".join(f"({b:.1f}, {q:.2f})" for b, q in sorted(points)))
    print_matched(rd_points, curves, "RD autoencoder")
    if args.also_weights:
        subset = [p for w, p in zip(args.rate_weights, rd_points) if w in args.also_weights]
        weights = " ".join(map(format, args.also_weights))
        print_matched(subset, curves, f"RD autoencoder with the weights {weights} only")
    default_bits = dict(zip(FIXED_BITS, old))[DEFAULT_BITS]
    print(f"\nrate_weight rule (the largest weight whose PSNR reaches the fixed-bit codec's at its default "
          f"{DEFAULT_BITS} bits, {default_bits[1]:.2f} dB at {default_bits[0]:.1f} bytes/img): "
          f"{pick_rate_weight(args.rate_weights, rd_points, default_bits[1])}")
    if args.figures:
        fig = plots.rate_distortion(curves, title=f"{name}: rate and distortion on the test rows",
                                    pixels=int(np.prod(shape)))
        fig.savefig(f"{args.figures}/rate_distortion_{name}.png", dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["digits", "fashion"], choices=["digits", "fashion", "colour"])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--rate-weights", type=float, nargs="+", default=[0.005, 0.01, 0.02, 0.04])
    parser.add_argument("--train-rows", type=int, default=4000)
    parser.add_argument("--figures", help="folder for the rate-distortion PNGs")
    parser.add_argument("--validation", action="store_true",
                        help="train on 4/5 of the training rows, measure on the other fifth (to choose defaults)")
    parser.add_argument("--rd-param", nargs="*", default=[], metavar="KEY=VALUE",
                        help="more RateDistortionAutoencoder parameters, e.g. lr_schedule=cosine")
    parser.add_argument("--also-weights", type=float, nargs="+", default=[],
                        help="also compare the RD curve of these of --rate-weights only (the same models)")
    parser.add_argument("--no-vq", action="store_true", help="skip the VQ-VAE")
    args = parser.parse_args()
    print(f"machine: {describe()} (2 cores shared with other jobs)")
    for name in args.data:
        run(name, args)


if __name__ == "__main__":
    main()
