"""Speed of the codec's entropy coder alone: format 2 (constriction's compiled range coder, per-dimension
bells fitted to the batch) against format 1 (the pure-Python adaptive binary range coder, kept as a
reader in aekit.apps.codec.legacy), on the same symbols.

The symbols: the codes of the 1,000 mnist5k test digits under an MLP Autoencoder (hidden (256,),
--latent linear codes, 10 epochs on the 4,000 training digits, seed 0), quantised over their training
range to --bits bits (``codec.quantise``). Each coder encodes the whole (1,000, latent) array and
decodes it back (checked equal); best of --repeats runs, rows per second; bytes of each payload.
Above 8 bits format 2 codes each symbol's top 8 bits under its dimension's fitted bell and the bits
below as uniform, so that its tables have 256 entries at any depth.

With --hyperprior, also format 3 (the codes of a ``RateDistortionAutoencoder`` under its hyperprior,
``apps/codec/conditional.py``: side codes first, then each group of codes under tables that the
hyperprior's networks choose from what is already coded, so the networks' passes are counted):
conv, latent 64, rate weight 0.005, --hyperprior-epochs epochs on the 4,000 training digits, seed 0;
its integer codes of the 1,000 test digits, coded by format 3 and by format 1 (at the bits that
hold the largest code) alike.

Target (issue 19): at least 20x the rows/s of format 1, compressing and decompressing.

Run: python bench/compression_speed.py [--latent 32] [--bits 4 8 12 16] [--repeats 3]
     [--hyperprior] [--hyperprior-epochs 10]
"""

import argparse
import time
from functools import partial

import numpy as np

from _machine import describe
from aekit import Autoencoder, codec
from aekit.apps.codec.conditional import decode_conditional, encode_conditional
from aekit.apps.codec.legacy import range_decode_v1, range_encode_v1
from aekit.datasets import load
from aekit.estimators.rate_distortion import RateDistortionAutoencoder

TARGET = 20.0


def best_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def rows_per_second(label, symbols, encode, decode, repeats):
    """(compress, decompress) rows/s of ``encode(symbols) -> payload`` and ``decode(payload) ->
    symbols`` (checked equal), printed under ``label``."""
    enc_s, payload = best_seconds(partial(encode, symbols), repeats)
    dec_s, back = best_seconds(partial(decode, payload), repeats)
    assert np.array_equal(back, symbols)
    rates = (len(symbols) / enc_s, len(symbols) / dec_s)
    print(f"{label:4s} {len(payload):7d} {rates[0]:16,.0f} {rates[1]:18,.0f}")
    return rates


def speedup(old, new):
    """(compress, decompress) speed-up of rates ``new`` over ``old``, printed."""
    ratio = (new[0] / old[0], new[1] / old[1])
    print(f"{'':4s} {'speed-up':28s} {'':7s} {ratio[0]:15.1f}x {ratio[1]:17.1f}x")
    return ratio


def hyperprior_speed(X, X_test, epochs, repeats):
    """Format 3 (codes under a hyperprior) against format 1 on the same integer codes; True if >= TARGET."""
    rd = RateDistortionAutoencoder(arch="conv", latent=64, rate_weight=0.005, epochs=epochs, scale=None,
                                   random_state=0, device="cpu").fit(X)
    symbols = rd.code_symbols(X_test)
    bits = int(np.ceil(np.log2(max(rd.symbol_sizes()))))
    print(f"\nformat 3: {len(symbols)} rows x {rd.latent} integer codes of a conv RateDistortionAutoencoder "
          f"({epochs} epochs); format 1 at {bits} bits")
    old = rows_per_second(f"{bits:4d} {'format 1 (pure Python)':28s}", symbols,
                          lambda s: range_encode_v1(s, bits), lambda p: range_decode_v1(p, *symbols.shape, bits),
                          repeats)
    new = rows_per_second(f"{'':4s} {'format 3 (hyperprior)':28s}", symbols,
                          lambda s: encode_conditional(rd, s), lambda p: decode_conditional(rd, p, len(symbols)),
                          repeats)
    return min(speedup(old, new)) >= TARGET


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent", type=int, default=32)
    parser.add_argument("--bits", type=int, nargs="+", default=[4, 8, 12, 16])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hyperprior", action="store_true",
                        help="also format 3: a RateDistortionAutoencoder's codes under its hyperprior")
    parser.add_argument("--hyperprior-epochs", type=int, default=10)
    args = parser.parse_args()
    X, X_test = load("mnist5k", split="train").data, load("mnist5k", split="test").data
    ae = Autoencoder(hidden=(256,), latent=args.latent, epochs=10, scale=None, random_state=0, device="cpu").fit(X)
    codes = ae.transform(X_test)
    print(f"machine: {describe()} (2 cores shared with other jobs)")
    print(f"symbols: {len(codes)} rows x {args.latent} codes of mnist5k test digits, MLP Autoencoder\n")
    print(f"{'bits':>4s} {'coder':28s} {'bytes':>7s} {'compress rows/s':>16s} {'decompress rows/s':>18s}")
    verdicts = []
    for bits in args.bits:
        symbols = codec.quantise(codes, ae.code_range_, bits)
        coders = {"format 1 (pure Python)": (range_encode_v1, range_decode_v1),
                  "format 2 (constriction)": (codec.entropy_encode, codec.entropy_decode)}
        old, new = (rows_per_second(f"{bits:4d} {name:28s}", symbols, partial(encode, bits=bits),
                                    partial(decode, n_rows=len(symbols), latent=symbols.shape[1], bits=bits),
                                    args.repeats)
                    for name, (encode, decode) in coders.items())
        verdicts.append(min(speedup(old, new)) >= TARGET)
    if args.hyperprior:
        verdicts.append(hyperprior_speed(X, X_test, args.hyperprior_epochs, args.repeats))
    print(f"\ntarget: >= {TARGET:g}x rows/s compressing and decompressing at every bit depth: "
          f"{'met' if all(verdicts) else 'NOT met'}")


if __name__ == "__main__":
    main()
