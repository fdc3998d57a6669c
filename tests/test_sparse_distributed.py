"""A k-sparse dictionary trained on a folder of float16 shards by two CPU processes (torchrun, gloo):
the same weights as one process, each process reading only its share of the striped blocks.

This file is also the worker (``torchrun ... test_sparse_distributed.py OUT``).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from aekit import SparseAutoencoder
from aekit.datasets import make_superposition, open_rows, stream

TORCHRUN = [str(Path(sys.executable).with_name("torchrun")), "--nproc-per-node", "2", "--standalone"]
TIMEOUT = 240
PER_RANK_BATCH = 16
SAE = dict(sparsity="topk", k=3, latent=24, scale=None, epochs=2, validation_fraction=0, dead_after=200,
           random_state=0, device="cpu")


def _write_shards(folder):
    """4,000 rows of 12 features in three float16 shards (as activation dumps are often stored)."""
    X = make_superposition(4000, n_features=24, n_dims=12, l0=3, random_state=0)[0].astype(np.float16)
    folder.mkdir()
    for i, part in enumerate(np.array_split(X, 3)):
        np.save(folder / f"part{i}.npy", part)


def _fit_counting_reads(folder, batch_size):
    """Fit on the shards with one block per batch (so that an epoch has several striped groups);
    returns the estimator and the rows this process read while training."""
    stream._BLOCK_BATCHES = 1
    reads = []
    original = stream._Shard.read_into

    def counted(shard, out, start):
        reads.append(len(out))
        original(shard, out, start)

    stream._Shard.read_into = counted
    try:
        rows = open_rows(folder, num_workers=0)
        estimator = SparseAutoencoder(batch_size=batch_size, **SAE)
        estimator.set_params(epochs=0).fit(rows)  # the passes before training (scaler, code range)
        before = sum(reads)
        estimator = SparseAutoencoder(batch_size=batch_size, **SAE).fit(rows)
        # subtract what the same passes read outside the epochs
        return estimator, sum(reads) - 2 * before
    finally:
        stream._Shard.read_into = original


def _worker(out):
    torch.set_num_threads(1)
    rank = os.environ["RANK"]
    sae, read = _fit_counting_reads(out / "shards", PER_RANK_BATCH)
    np.savez(out / f"weights.{rank}.npz", **{k: v.numpy() for k, v in sae.model_.state_dict().items()})
    (out / f"result.{rank}.json").write_text(json.dumps({"history": sae.history_, "read": read}))


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("sparse_ranks")
    _write_shards(out / "shards")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(TORCHRUN + [__file__, str(out)], cwd=out, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    weights = [dict(np.load(out / f"weights.{rank}.npz")) for rank in (0, 1)]
    results = [json.loads((out / f"result.{rank}.json").read_text()) for rank in (0, 1)]
    return out, weights, results


def test_two_processes_on_shards_equal_one(two_ranks, one_thread):
    out, weights, results = two_ranks
    single, read_alone = _fit_counting_reads(out / "shards", 2 * PER_RANK_BATCH)
    expected = {k: v.numpy() for k, v in single.model_.state_dict().items()}
    for key in expected:
        np.testing.assert_array_equal(weights[0][key], weights[1][key], err_msg=key)
        np.testing.assert_allclose(weights[0][key], expected[key], rtol=0, atol=1e-5, err_msg=key)
    for record, alone in zip(results[0]["history"], single.history_, strict=True):
        for key in ("loss", "fvu", "l0", "dead_fraction"):
            assert record[key] == pytest.approx(alone[key], rel=1e-5, abs=1e-6), key
    assert results[0]["history"] == results[1]["history"]
    # each process read about half the rows one process reads (the epoch's unstriped last group whole)
    for result in results:
        assert result["read"] < 0.6 * read_alone, (result["read"], read_alone)


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
