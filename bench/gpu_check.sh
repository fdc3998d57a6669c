#!/usr/bin/env bash
# The GPU checks of aekit, for a machine with CUDA (a few minutes): the tests marked `gpu`, then the
# training throughput on the GPU in float32 and bf16. Run from the repository root:
#   bash bench/gpu_check.sh
set -euo pipefail
PY=${PYTHON:-.venv/bin/python}
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA here'; print(torch.cuda.get_device_name(0))"
$PY -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider
cd bench && ../$PY throughput.py --device cuda --quick
