"""aekit's TopK and BatchTopK sparse autoencoders beside SAELens's on the same rows (issue 18).

The rows are ``aekit.datasets.make_superposition`` (1,024 true features in 256 dims, true L0 8,
seed 0; the last ``--test-rows`` held out). Both libraries train a dictionary of 1,024 units with
k = 8 on the same training rows, in the same order of epochs (each library shuffles its own way),
same batch, learning rate and number of rows, on this CPU with one thread. SAELens runs in its own
environment (``/work/benchenv``: ``pip install torch==2.13.0 sae-lens``; 6.54.12 when measured),
trained by its ``SAETrainer`` with the settings of its ``train_toy_sae`` (constant learning rate,
Adam 0.9/0.999, dead-feature window 1,000 steps) fed our rows, started as this script's worker
process. Both decoders are scored by aekit's metrics (signed cosines; SAELens's own MCC takes the
absolute value, which can only be higher) on the held-out rows.

Rows/s is training time only (data in memory, no evaluation), 2 cores shared with other jobs.
Target (issue 18): aekit's MCC no lower, its rows/s at least 1.5x SAELens's.

Run: OMP_NUM_THREADS=1 python bench/sparse_saelens.py [--rows 200000] [--epochs 3] [--kinds topk,batchtopk]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES, N_DIMS, TRUE_L0 = 1024, 256, 8
BENCH_PYTHON = "/work/benchenv/bin/python"


def saelens_worker(folder: Path) -> None:
    """Train SAELens on ``folder/train.npy`` (run under the bench environment's python)."""
    import torch  # the bench environment's torch and SAELens: this function runs only there
    from sae_lens import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig, TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.config import LoggingConfig, SAETrainerConfig
    from sae_lens.training.sae_trainer import SAETrainer

    args = json.loads((folder / "args.json").read_text())
    torch.set_num_threads(1)
    torch.manual_seed(args["seed"])
    X = torch.from_numpy(np.load(folder / "train.npy"))
    epochs, batch = args["epochs"], args["batch_size"]

    def batches():
        for _ in range(epochs):
            order = torch.randperm(len(X))
            for start in range(0, len(X) - batch + 1, batch):
                yield X[order[start:start + batch]]

    classes = {"topk": (TopKTrainingSAE, TopKTrainingSAEConfig),
               "batchtopk": (BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig)}
    sae_class, config_class = classes[args["kind"]]
    sae = sae_class(config_class(d_in=N_DIMS, d_sae=N_FEATURES, k=TRUE_L0, device="cpu"))
    steps = epochs * (len(X) // batch)
    cfg = SAETrainerConfig(
        n_checkpoints=0, checkpoint_path=None, save_final_checkpoint=False, total_training_samples=steps * batch,
        device="cpu", autocast=False, lr=args["lr"], lr_end=args["lr"], lr_scheduler_name="constant",
        lr_warm_up_steps=0, adam_beta1=0.9, adam_beta2=0.999, lr_decay_steps=0, n_restart_cycles=1,
        train_batch_size_samples=batch, dead_feature_window=1000, feature_sampling_window=2000,
        logger=LoggingConfig(log_to_wandb=False, eval_every_n_wandb_logs=2**31 - 1), n_batches_for_norm_estimate=1000)
    trainer = SAETrainer(cfg=cfg, sae=sae, data_provider=batches())
    started = time.perf_counter()
    trainer.fit()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        test = torch.from_numpy(np.load(folder / "test.npy"))
        codes = sae.encode(test)
        np.save(folder / "codes.npy", codes.numpy())
        np.save(folder / "recon.npy", sae.decode(codes).numpy())
        np.save(folder / "decoder.npy", sae.W_dec.detach().numpy())
    (folder / "result.json").write_text(json.dumps({"seconds": seconds, "rows": steps * batch}))


def run_saelens(kind, X, X_test, args):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "train.npy", X)
        np.save(folder / "test.npy", X_test)
        (folder / "args.json").write_text(json.dumps({"kind": kind, "epochs": args.epochs, "seed": args.seed,
                                                      "batch_size": args.batch_size, "lr": args.lr}))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
        subprocess.run([BENCH_PYTHON, __file__, "--worker", str(folder)], check=True, env=env)
        result = json.loads((folder / "result.json").read_text())
        return (np.load(folder / "decoder.npy"), np.load(folder / "codes.npy"), np.load(folder / "recon.npy"),
                result["rows"] / result["seconds"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--test-rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--dead-after", type=int, default=20_000)
    parser.add_argument("--kinds", default="topk,batchtopk")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        saelens_worker(Path(args.worker))
        return

    from _machine import describe
    from aekit import SparseAutoencoder
    from aekit.datasets import make_superposition
    from aekit.metrics import dead_fraction, fraction_of_variance_unexplained, l0, mcc, mean_max_cosine

    print(f"machine: {describe()} (2 cores shared with other jobs)")
    X_all, dictionary, _ = make_superposition(args.rows + args.test_rows, N_FEATURES, N_DIMS, TRUE_L0,
                                              random_state=args.seed)
    X, X_test = X_all[:args.rows], X_all[args.rows:]
    print(f"{args.rows:,} training rows, {args.test_rows:,} test rows; {N_FEATURES} units, k {TRUE_L0}, "
          f"{args.epochs} epochs, batch {args.batch_size}, lr {args.lr:g}", flush=True)
    print(f"{'model':<18} {'MCC':>6} {'MMCS':>6} {'L0':>6} {'dead':>7} {'FVU':>6} {'rows/s':>8}")

    def show(label, decoder, codes, recon, rate):
        print(f"{label:<18} {mcc(decoder, dictionary):6.3f} {mean_max_cosine(decoder, dictionary):6.3f} "
              f"{l0(codes):6.2f} {dead_fraction(codes):7.2%} {fraction_of_variance_unexplained(X_test, recon):6.3f} "
              f"{rate:8.0f}", flush=True)
        return rate, mcc(decoder, dictionary)

    for kind in args.kinds.split(","):
        sae = SparseAutoencoder(sparsity=kind, latent=N_FEATURES, k=TRUE_L0, scale=None, epochs=args.epochs,
                                batch_size=args.batch_size, lr=args.lr, validation_fraction=0,
                                random_state=args.seed, device="cpu", dead_after=args.dead_after).fit(X)
        # the epochs' time: training alone, as SAELens's trainer.fit (not the start-up pass over the rows)
        ours = show(f"aekit {kind}", sae.components_, sae.transform(X_test), sae.reconstruct(X_test),
                    len(X) * args.epochs / sum(record["time"] for record in sae.history_))
        theirs = show(f"SAELens {kind}", *run_saelens(kind, X, X_test, args))
        print(f"  aekit / SAELens: rows/s {ours[0] / theirs[0]:.2f}x (target 1.5x), MCC {ours[1]:.3f} vs "
              f"{theirs[1]:.3f} ({'no lower' if ours[1] >= theirs[1] else 'LOWER'})", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
