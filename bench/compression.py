"""Compression of the 1,000 MNIST test digits: bytes per image against PSNR for aekit's codec at
several bit depths, JPEG, WebP and PNG (Pillow), and a PCA codec.

aekit: a convolutional Autoencoder (defaults: channels (32, 64), ReLU, linear code of --latent
units, sigmoid output, squared error, Adam 1e-3, batch 128) trained once on the 4,000 training
digits of mnist5k (values in [0, 1], no scaling, no validation split, seed 0); the 1,000 test
digits are compressed as one container per bit depth with ``aekit.codec.compress``, bytes per
image being its length / 1,000. "one image" is the mean length of a container of a single digit.
PCA: scikit-learn's PCA with as many components as the autoencoder has codes, fitted on the same
4,000 digits; its codes are quantised over their training range and range-coded exactly as aekit's
(``codec.quantise``, ``codec.entropy_encode``), with the same 32-byte header counted, and its
reconstructions clipped to [0, 1].
JPEG, WebP, PNG: each test digit as an 8-bit grey 28x28 image (the digits are multiples of 1/255,
so this loses nothing), one file per image; JPEG with optimize=True, WebP with method=6, PNG with
optimize=True.
PSNR (peak 1): each decoded image against its original, then the mean over the 1,000 images.

Targets: at equal or higher PSNR aekit needs fewer bytes per image than JPEG and WebP (their bytes
at aekit's PSNR are read off their curves by linear interpolation); at equal bytes per image
aekit's PSNR is at least 1 dB above the PCA codec's (interpolated the same way). The saved model's
size over the bytes saved per image says from how many images on the model pays for itself.

Run: python bench/compression.py [--epochs 50] [--latent 64] [--bits 3 4 5 6 8]
"""

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from _machine import describe
from aekit import Autoencoder, codec
from aekit.datasets import load
from aekit.metrics import psnr

# name -> (Pillow format, fixed options, qualities; None: lossless)
PILLOW_CODECS = {
    "JPEG": ("JPEG", {"optimize": True}, (1, 5, 10, 20, 30, 50, 75, 90)),
    "WebP": ("WEBP", {"method": 6}, (0, 5, 10, 25, 50, 75, 90)),
    "PNG": ("PNG", {"optimize": True}, (None,)),
}
PCA_MARGIN_DB = 1.0


def pca_points(X, X_test, latent, bit_depths):
    pca = PCA(latent, random_state=0).fit(X)
    codes = pca.transform(X)
    code_range = np.stack([codes.min(0), codes.max(0)]).astype(np.float32)
    test_codes = pca.transform(X_test)
    points = {}
    for bits in bit_depths:
        symbols = codec.quantise(test_codes, code_range, bits)
        size = codec.HEADER_SIZE + len(codec.entropy_encode(symbols, bits))
        decoded = np.clip(pca.inverse_transform(codec.dequantise(symbols, code_range, bits)), 0, 1)
        points[bits] = (size / len(X_test), psnr(X_test, decoded))
    return points


def interpolate(curve, x, along):
    """The other coordinate of ``curve`` [(bytes, psnr), ...] at ``x`` of coordinate ``along`` (0:
    bytes, 1: PSNR), linearly between neighbouring points; None outside the curve."""
    points = sorted(p for p in curve if math.isfinite(p[1]))
    xs, ys = [p[along] for p in points], [p[1 - along] for p in points]
    if not xs[0] <= x <= xs[-1]:
        return None
    return float(np.interp(x, xs, ys))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--bits", type=int, nargs="+", default=[3, 4, 5, 6, 8])
    args = parser.parse_args()
    train, test = load("mnist5k", split="train"), load("mnist5k", split="test")
    X, X_test = train.data, test.data

    ae = Autoencoder(arch="conv", latent=args.latent, epochs=args.epochs, scale=None, validation_fraction=0,
                     random_state=0, device="cpu")
    start = time.perf_counter()
    ae.fit(X)
    fit_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        ae.save(folder)
        model_bytes = sum(f.stat().st_size for f in Path(folder).iterdir())

    rows, aekit_points = [], {}
    for bits in args.bits:
        start = time.perf_counter()
        data = codec.compress(ae, X_test, bits)
        middle = time.perf_counter()
        decoded = codec.decompress(ae, data)
        seconds = (middle - start, time.perf_counter() - middle)
        single = np.mean([len(codec.compress(ae, x[None], bits)) for x in X_test])
        aekit_points[bits] = (len(data) / len(X_test), psnr(X_test, decoded))
        rows.append(("aekit", f"bits={bits}", *aekit_points[bits],
                     f"{single:6.1f}  {len(X_test) / seconds[0]:5.0f} / {len(X_test) / seconds[1]:5.0f}"))
    pca = pca_points(X, X_test, args.latent, args.bits)
    rows += [(f"PCA-{args.latent}", f"bits={bits}", *point, "") for bits, point in pca.items()]
    curves = {}
    for name, (fmt, options, qualities) in PILLOW_CODECS.items():
        curves[name] = [codec.pillow_point(X_test, (28, 28), fmt, **options, **({} if q is None else {"quality": q}))
                        for q in qualities]
        rows += [(name, "lossless" if q is None else f"quality={q}", *point, "")
                 for q, point in zip(qualities, curves[name])]

    print(f"machine: {describe()}")
    print(f"model: conv Autoencoder 1x28x28 -> {ae._hidden()} channels -> {args.latent} codes, {args.epochs} "
          f"epochs on {len(X)} mnist5k training digits, trained in {fit_seconds:.0f} s; unquantised test "
          f"PSNR {psnr(X_test, ae.reconstruct(X_test)):.2f} dB")
    print(f"model size: {model_bytes:,} bytes saved (config.json + model.safetensors, "
          f"{ae.n_parameters_:,} float32 weights)")
    print(f"{len(X_test)} test digits; PSNR: mean over images of each image's PSNR (peak 1); aekit and PCA: "
          "one container for all images; JPEG, WebP, PNG: one file per image")
    print(f"\n{'codec':8s} {'setting':16s} {'bytes/img':>9s} {'PSNR dB':>8s}   one image  compress/decompress img/s")
    for name, setting, size, quality, extra in rows:
        shown = f"{quality:8.2f}" if math.isfinite(quality) else "lossless"
        print(f"{name:8s} {setting:16s} {size:9.1f} {shown:>8s}   {extra}")

    print("\naekit against the others at its own quality (JPEG, WebP: bytes/img at aekit's PSNR; PCA: PSNR at "
          "aekit's bytes/img); images after which the model's size is paid back by the bytes saved")
    print(f"{'bits':>4s} {'bytes':>6s} {'PSNR':>6s} {'JPEG bytes':>16s} {'WebP bytes':>16s} {'PCA PSNR':>16s} "
          f"{'pays off vs JPEG':>17s} {'vs WebP':>9s}")
    beats = {"JPEG": [], "WebP": []}
    margins = []
    for bits, (size, quality) in aekit_points.items():
        cells, paybacks = [], []
        for fmt in ("JPEG", "WebP"):
            needed = interpolate(curves[fmt], quality, along=1)
            if needed is None:
                cells.append("out of range")
                paybacks.append("-")
                continue
            beats[fmt].append(size < needed)
            cells.append(f"{needed:6.1f} ({needed / size:4.1f}x)")
            paybacks.append(f"{math.ceil(model_bytes / (needed - size)):,}" if needed > size else "never")
        pca_quality = interpolate(list(pca.values()), size, along=0)
        if pca_quality is None:
            cells.append("out of range")
        else:
            margins.append(quality - pca_quality)
            cells.append(f"{pca_quality:6.2f} ({quality - pca_quality:+.2f} dB)")
        print(f"{bits:4d} {size:6.1f} {quality:6.2f} {cells[0]:>16s} {cells[1]:>16s} {cells[2]:>16s} "
              f"{paybacks[0]:>17s} {paybacks[1]:>9s}")

    def verdict(results):
        return "met" if results and all(results) else ("not shown (no comparable points)" if not results
                                                        else "NOT met")
    print(f"\ntarget: fewer bytes than JPEG at equal PSNR: {verdict(beats['JPEG'])}; than WebP: "
          f"{verdict(beats['WebP'])}; PSNR >= PCA + {PCA_MARGIN_DB:g} dB at equal bytes: "
          f"{verdict([m >= PCA_MARGIN_DB for m in margins])}")


if __name__ == "__main__":
    main()
