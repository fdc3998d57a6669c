"""Bjontegaard-delta rate (VCEG-M33; the piecewise-cubic form of VCEG-AL22 / ITU-T H.Sup.20): the
mean difference in log(bytes) between two rate-distortion curves over the PSNR range both cover,
given as a saving of the first curve against the second: 1 - exp(mean(log bytes_a - log bytes_b)).

Each curve's log(bytes) is interpolated as a function of PSNR by a monotone piecewise-cubic
(PCHIP) through its points, integrated over the common range. Where three matched points (see
compression_rd.py) sample the gap at 1/6, 1/2 and 5/6 of that range, this averages it over all of
it: the single figure the field reports for codecs (CompressAI, JPEG AI).

Run on printed points: python bench/bjontegaard.py --a "28.6,26.22 23.8,25.51 ..." --b "32.1,22.54 ..."
(each point "bytes,psnr").
"""

import argparse
import math

import numpy as np
from scipy.interpolate import PchipInterpolator


def _mean_log_bytes(curve, low, high):
    """Mean of log(bytes) over PSNR in [low, high] along ``curve`` [(bytes, psnr), ...]."""
    points = sorted(curve, key=lambda p: p[1])
    spline = PchipInterpolator([p[1] for p in points], np.log([p[0] for p in points]))
    return float(spline.integrate(low, high)) / (high - low)


def bd_saving(curve_a, curve_b):
    """Bjontegaard-delta saving of ``curve_a`` against ``curve_b`` (each [(bytes, psnr), ...]),
    1 - exp(mean log-bytes gap) over the PSNR range both cover, or None when they share less than
    a range (infinite PSNRs are left out).

    Example
    -------
    >>> round(bd_saving([(10, 20), (20, 30)], [(20, 20), (40, 30)]), 3)  # half the bytes everywhere
    0.5
    """
    curve_a = [p for p in curve_a if math.isfinite(p[1])]
    curve_b = [p for p in curve_b if math.isfinite(p[1])]
    if len(curve_a) < 2 or len(curve_b) < 2:
        return None
    low = max(min(p[1] for p in curve_a), min(p[1] for p in curve_b))
    high = min(max(p[1] for p in curve_a), max(p[1] for p in curve_b))
    if not low < high:
        return None
    gap = _mean_log_bytes(curve_a, low, high) - _mean_log_bytes(curve_b, low, high)
    return 1 - math.exp(gap)


def parse_curve(text):
    """ "bytes,psnr bytes,psnr ..." -> [(bytes, psnr), ...]."""
    return [tuple(float(v) for v in pair.split(",")) for pair in text.split()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help='the curve to score, "bytes,psnr bytes,psnr ..."')
    parser.add_argument("--b", required=True, help="the curve it is set against")
    args = parser.parse_args()
    saving = bd_saving(parse_curve(args.a), parse_curve(args.b))
    print("no PSNR range in common" if saving is None else f"BD-rate saving of a against b: {saving:+.1%}")


if __name__ == "__main__":
    main()
