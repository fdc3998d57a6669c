"""Device names as users write them -> torch devices."""

import torch


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple's MPS, then the CPU; other names must be usable here."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} was asked for but CUDA is not available here; use device='cpu' or 'auto'")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={name!r} was asked for but MPS is not available here; use device='cpu' or 'auto'")
    return device


# the matrix units that make a precision fast on a CPU: their name (as warnings give it) and torch's probes
_FAST_UNITS = {"bf16-mixed": ("AMX or AVX-512-BF16", ("_is_amx_tile_supported", "_is_avx512_bf16_supported")),
               "16-mixed": ("AMX-FP16", ("_is_amx_fp16_supported",))}


def fast_units(precision: str) -> str:
    """The names of the CPU matrix units that make ``precision`` fast."""
    return _FAST_UNITS[precision][0]


def cpu_has_fast(precision: str) -> bool:
    """Whether this CPU has matrix units for ``precision`` (see :func:`fast_units`); without them
    torch's half-precision matrix products fall back to kernels many times slower than float32 ones."""
    probes = _FAST_UNITS[precision][1] if precision in _FAST_UNITS else ()
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)
