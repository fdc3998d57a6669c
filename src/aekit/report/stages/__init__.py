"""The stages of ``aekit demo``, in the order of the ideas: each trains its models on the demo's
data, measures them against a baseline and draws what they learned.

A stage is a function ``run(ctx) -> Section`` made a :class:`aekit.report.types.Stage` by the
``@stage`` decorator; ``ctx`` is a :class:`aekit.report.context.Context`. A new stage is written in
the module of its subject and listed here, where the order of the report is set.
"""

from ..types import Stage
from . import applications, basic, generative, regularised

STAGES: dict[str, Stage] = {s.name: s for s in (
    basic.pca, basic.basic, basic.encoder_838, basic.stacked,
    regularised.denoising, regularised.sparse, regularised.contractive,
    generative.vae, generative.gan,
    applications.semisupervised, applications.retrieval, applications.compression, applications.anomaly,
)}

__all__ = ["STAGES"]
