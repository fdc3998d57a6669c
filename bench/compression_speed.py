"""Speed of the codec's entropy coder alone: format 2 (constriction's compiled range coder, per-dimension
bells fitted to the batch) against format 1 (the pure-Python adaptive binary range coder, kept as a
reader in aekit.apps.codec.legacy), on the same symbols.

The symbols: the codes of the 1,000 mnist5k test digits under an MLP Autoencoder (hidden (256,),
--latent linear codes, 10 epochs on the 4,000 training digits, seed 0), quantised over their training
range to --bits bits (``codec.quantise``). Each coder encodes the whole (1,000, latent) array and
decodes it back (checked equal); best of --repeats runs, rows per second; bytes of each payload.
Above 8 bits format 2 codes each symbol's top 8 bits under its dimension's fitted bell and the bits
below as uniform, so that its tables have 256 entries at any depth.

Target (issue 19): at least 20x the rows/s of format 1, compressing and decompressing.

Run: python bench/compression_speed.py [--latent 32] [--bits 4 8 12 16] [--repeats 3]
"""

import argparse
import time
from functools import partial

import numpy as np

from _machine import describe
from aekit import Autoencoder, codec
from aekit.apps.codec.legacy import range_decode_v1, range_encode_v1
from aekit.datasets import load

TARGET = 20.0


def best_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent", type=int, default=32)
    parser.add_argument("--bits", type=int, nargs="+", default=[4, 8, 12, 16])
    parser.add_argument("--repeats", type=int, default=3)
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
        rates = {}
        for name, (encode, decode) in coders.items():
            enc_s, payload = best_seconds(partial(encode, symbols, bits), args.repeats)
            dec_s, back = best_seconds(partial(decode, payload, *symbols.shape, bits), args.repeats)
            assert np.array_equal(back, symbols)
            rates[name] = (len(symbols) / enc_s, len(symbols) / dec_s)
            print(f"{bits:4d} {name:28s} {len(payload):7d} {rates[name][0]:16,.0f} {rates[name][1]:18,.0f}")
        old, new = rates.values()
        speedup = (new[0] / old[0], new[1] / old[1])
        verdicts.append(min(speedup) >= TARGET)
        print(f"{'':4s} {'speed-up':28s} {'':7s} {speedup[0]:15.1f}x {speedup[1]:17.1f}x")
    print(f"\ntarget: >= {TARGET:g}x rows/s compressing and decompressing at every bit depth: "
          f"{'met' if all(verdicts) else 'NOT met'}")


if __name__ == "__main__":
    main()
