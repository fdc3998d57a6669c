"""The machine a benchmark ran on, and its measured fp32 matmul peak: printed with every figure."""

import os
import platform
import time
from datetime import date

import torch


def _cpuinfo(field):
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith(field))
    except (OSError, StopIteration):
        return ""


def describe():
    cpu = _cpuinfo("model name") or platform.processor() or platform.machine()
    # bf16 pays only with matrix units for it (AMX or AVX-512-BF16): say whether this CPU has them
    bf16_units = sorted({"amx_bf16", "avx512_bf16"} & set(_cpuinfo("flags").split())) or ["no bf16 units"]
    return (f"{date.today()}, {cpu}, {os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()} "
            f"({', '.join(bf16_units)}), torch {torch.__version__} ({torch.get_num_threads()} threads)")


def matmul_peak_gflops(n=2048, dtype=torch.float32, repeats=10):
    """Best-of-``repeats`` GFLOP/s of an n x n matmul: the ceiling the training loops are compared to."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
