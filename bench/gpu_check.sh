#!/usr/bin/env bash
# The GPU checks of aekit, for a machine with CUDA (a few minutes): the tests marked `gpu`, then the
# training speed of the 784-512-256-16 autoencoder at batch 1024 on the GPU in float32, bf16-mixed
# and 16-mixed. Run from the repository root:  bash bench/gpu_check.sh
set -euo pipefail
PY=${PYTHON:-.venv/bin/python}
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA here'; print(torch.cuda.get_device_name(0))"
$PY -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider
$PY - <<'PYTHON'
import time
import numpy as np
from aekit import Autoencoder

X = np.random.default_rng(0).random((100_000, 784), dtype=np.float32)
for precision in ("32", "bf16-mixed", "16-mixed"):
    model = Autoencoder(hidden=(512, 256), latent=16, batch_size=1024, epochs=3, validation_fraction=0, scale=None,
                        device="cuda", precision=precision, random_state=0).fit(X)
    epoch = min(record["time"] for record in model.history_[1:])
    print(f"cuda {precision:10s} {len(X) / epoch:12,.0f} samples/s  loss {model.history_[-1]['loss']:.3f}")
PYTHON
