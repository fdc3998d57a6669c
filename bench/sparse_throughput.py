"""Training throughput of a wide TopK dictionary against this machine's matmul peak (issue 18).

A ``SparseAutoencoder(sparsity="topk", k=32, latent=16384)`` on 512-dim rows (``make_superposition``:
4,096 true features, L0 16; the data only sets the values), in memory, one epoch of ``--rows`` rows in
global batches of ``--batch-size``; rows/s from the epoch's time (``history_``), beside:

* the fp32 matmul peak of one 2048 x 2048 product (``bench/_machine.py``) at the same thread count;
* the rows/s that peak allows for the dense products of a training step (encoder and decoder, forward
  and backward: 12 x 512 x 16,384 flop per row), the floor of an SAE trained with dense products;
* the rows/s it allows for the products aekit cannot avoid (the encoder's forward product and its
  weight gradient, 4 x 512 x 16,384 flop per row; a top-k code is decoded, and its gradient taken,
  from its k units).

With ``--processes 2`` the same run is repeated under ``torchrun`` (two gloo processes on this CPU,
each ``batch-size / 2`` rows of every global batch) and the scaling printed. The cores are shared
with other jobs: figures vary from run to run.

Run: OMP_NUM_THREADS=1 python bench/sparse_throughput.py [--rows 16384] [--processes 2]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from _machine import describe, matmul_peak_gflops
from aekit import SparseAutoencoder
from aekit.datasets import make_superposition

N_DIMS, UNITS, K = 512, 16384, 32


def train(rows: int, batch_size: int) -> float:
    """Rows/s of one epoch (rank 0's view under torchrun, where ``batch_size`` is per process)."""
    X = make_superposition(rows, 4096, N_DIMS, 16, random_state=0)[0]
    sae = SparseAutoencoder(sparsity="topk", k=K, latent=UNITS, scale=None, epochs=1, batch_size=batch_size,
                            validation_fraction=0, random_state=0, device="cpu").fit(X)
    return rows / sae.history_[0]["time"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16384)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        rate = train(args.rows, args.batch_size)
        if os.environ.get("RANK", "0") == "0":
            Path(args.worker).write_text(json.dumps({"rows_per_s": rate}))
        return

    threads = torch.get_num_threads()
    peak = matmul_peak_gflops()
    print(f"machine: {describe()} (2 cores shared with other jobs)")
    print(f"fp32 matmul peak ({threads} thread{'s' if threads > 1 else ''}): {peak:.1f} GFLOP/s")
    rate = train(args.rows, args.batch_size)
    dense, floor = 12 * N_DIMS * UNITS, 4 * N_DIMS * UNITS
    print(f"TopK k={K}, {UNITS:,} units on {N_DIMS}-dim rows, batch {args.batch_size}, {args.rows:,} rows: "
          f"{rate:,.0f} rows/s")
    print(f"  dense products at peak: {peak * 1e9 / dense:,.0f} rows/s -> aekit at {rate * dense / peak / 1e9:.0%} "
          f"of it (above 100%: it skips the decoder's products)")
    print(f"  unavoidable encoder products at peak: {peak * 1e9 / floor:,.0f} rows/s -> aekit at "
          f"{rate * floor / peak / 1e9:.0%} of it")
    if args.processes > 1:
        out = Path(os.environ.get("TMPDIR", "/tmp")) / f"sparse_throughput_{os.getpid()}.json"
        torchrun = [str(Path(sys.executable).with_name("torchrun")), "--nproc-per-node", str(args.processes),
                    "--standalone", __file__, "--worker", str(out), "--rows", str(args.rows),
                    "--batch-size", str(args.batch_size // args.processes)]
        subprocess.run(torchrun, check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)},
                       stdout=subprocess.DEVNULL)
        parallel = json.loads(out.read_text())["rows_per_s"]
        out.unlink()
        print(f"  {args.processes} processes (torchrun, gloo, {threads} thread each): {parallel:,.0f} rows/s, "
              f"{parallel / rate:.2f}x one process")


if __name__ == "__main__":
    main()
