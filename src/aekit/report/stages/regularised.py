"""Stages of the regularised autoencoders: what a corruption of the input (denoising) or a penalty on
the code (sparse) or on the encoder's Jacobian (contractive) makes the model learn."""

import numpy as np
import torch

from ... import plots
from ...estimators import Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from ...losses import encoder_jacobian_norm
from ...metrics import dead_fraction, fraction_of_variance_unexplained, l0, psnr
from ...noise import corrupt
from ..context import Context
from ..types import Section, stage

_NOISES = (("gaussian", 0.3), ("masking", 0.3), ("salt_and_pepper", 0.2))


@stage("denoising", "Denoising autoencoders")
def denoising(ctx: Context) -> Section:
    """Trained to rebuild clean rows from corrupted copies (Vincent et al. 2008), the model learns what the
    data look like rather than the identity; it then removes noise it has not seen on new rows. The
    table gives the PSNR of denoised test rows beside the better of the noisy rows themselves (doing
    nothing) and a plain autoencoder of the same shape.
    """
    # the denoising autoencoder's defaults, and the plain one of the same shape and scaling
    shape = {"hidden": (512,), "latent": 128, "scale": "auto", "epochs": ctx.epochs(30), **ctx.model_params()}
    plain = ctx.fit("plain_512_128", Autoencoder(**shape))
    # the test rows are corrupted as noise made elsewhere would be, within the data's overall range (the
    # range the models' training noise is bounded by too)
    low, high = float(ctx.X.min()), float(ctx.X.max())
    peak = high - low or 1.0
    section = Section()
    for kind, level in _NOISES:
        dae = ctx.fit(f"denoising_{kind}", DenoisingAutoencoder(noise=kind, noise_level=level, **shape))
        noisy = corrupt(ctx.X_test, kind, level, random_state=ctx.seed, low=low, high=high)
        section.beside(f"denoising, {kind.replace('_', '-')} {level:g}", "PSNR of denoised test rows (dB)",
                       psnr(ctx.X_test, dae.reconstruct(noisy), peak=peak),
                       {"the noisy input itself": psnr(ctx.X_test, noisy, peak=peak),
                        "plain autoencoder, same shape": psnr(ctx.X_test, plain.reconstruct(noisy), peak=peak)},
                       better="higher")
        if ctx.has_images:
            section.figures.append((f"{kind.replace('_', '-')} noise: clean, corrupted, denoised.",
                                    plots.denoising(dae, ctx.X_test)))
    return section


@stage("sparse", "Sparse autoencoders")
def sparse(ctx: Context) -> Section:
    """A penalty on code activity makes few of many units respond to each input: a KL penalty pulls each
    unit's mean activation to a target (here 0.05), an L1 penalty drives activations to exactly zero.
    A k-sparse code keeps only each row's k largest units (TopK, Gao et al. 2024), trained as a
    dictionary with unit-norm directions: the way sparse autoencoders find features in the activations
    of other networks. Each unit then stands for a part of the input (a stroke).
    """
    shape = {"latent": 256, "epochs": ctx.epochs(20), **ctx.model_params()}
    kl = ctx.fit("sparse_kl", SparseAutoencoder(sparsity="kl", **shape))
    l1 = ctx.fit("sparse_l1", SparseAutoencoder(sparsity="l1", code_activation="relu", **shape))
    # k = 32 active of 256 units, on the scaled rows (a dictionary decodes linearly)
    topk = ctx.fit("sparse_topk", SparseAutoencoder(sparsity="topk", k=32, **shape))
    plain = ctx.fit("plain_256", Autoencoder(hidden=(), code_activation="relu", **shape))
    section = Section()
    section.row("sparse, KL target 0.05", "mean unit activation on test rows", kl.transform(ctx.X_test).mean(),
                "target", kl.sparsity_target, better=None)
    section.row("sparse, L1", "fraction of exact zeros in the codes", (l1.transform(ctx.X_test) == 0).mean(),
                "plain ReLU autoencoder", (plain.transform(ctx.X_test) == 0).mean(), better="higher")
    pca = ctx.pca(shape["latent"])
    models = (("sparse, KL target 0.05", kl), ("sparse, L1", l1), ("sparse, TopK k=32", topk))
    for name, model in models:
        section.beside(name, "test squared error per row", ctx.test_error(model),
                       {f"PCA-{len(pca.components)}": ctx.test_error(pca),
                        "plain ReLU autoencoder, same shape": ctx.test_error(plain)})
    pca_fvu = fraction_of_variance_unexplained(ctx.X_test, pca.reconstruct(ctx.X_test))
    codes = {"L1": l1.transform(ctx.X_test), "TopK k=32": topk.transform(ctx.X_test)}
    for (name, model), (short, other) in zip(models[1:], (("L1", "TopK k=32"), ("TopK k=32", "L1"))):
        section.row(name, "L0: active units per test row", l0(codes[short]), other, l0(codes[other]), better=None)
        section.row(name, "fraction of variance unexplained (test)",
                    fraction_of_variance_unexplained(ctx.X_test, model.reconstruct(ctx.X_test)),
                    f"PCA-{len(pca.components)}", pca_fvu)
        section.row(name, "dead units (zero on every test row)", dead_fraction(codes[short]), other,
                    dead_fraction(codes[other]))
    section.figures += [("KL: pooled activations and each unit's mean.", plots.code_histogram(kl, ctx.X_test)),
                        ("L1: pooled activations and each unit's mean.", plots.code_histogram(l1, ctx.X_test))]
    if ctx.has_images:
        section.figures += [("KL-sparse first-layer filters: local strokes.", plots.filters(kl)),
                            ("TopK encoder filters (k=32 of 256 units).", plots.filters(topk))]
    return section


def mean_jacobian_norm(est, X: np.ndarray) -> float:
    """Mean over the rows ``X`` of ||d code / d input||_F^2 of the fitted autoencoder ``est``, on its
    scaled inputs: the contractive penalty's exact form (one backward pass over the code directions)."""
    x = torch.from_numpy(np.ascontiguousarray(est.scaler_.transform(X)))
    return float(encoder_jacobian_norm(est.model_.encode, x).mean().detach())


@stage("contractive", "Contractive autoencoder")
def contractive(ctx: Context) -> Section:
    """A penalty on the Frobenius norm of the encoder's Jacobian (Rifai et al. 2011) makes codes change
    little when the input moves off the data: the model is robust where it need not be sensitive.
    """
    shape = {"hidden": (), "latent": 256, "code_activation": "sigmoid", "epochs": ctx.epochs(20),
             **ctx.model_params()}
    cae = ctx.fit("contractive", ContractiveAutoencoder(**shape))
    plain = ctx.fit("plain_sigmoid_256", Autoencoder(**shape))
    rows = ctx.X_test[:200]
    section = Section()
    section.row("contractive, 256 sigmoid codes", "mean squared Jacobian norm on test rows",
                mean_jacobian_norm(cae, rows), "plain autoencoder", mean_jacobian_norm(plain, rows))
    pca = ctx.pca(shape["latent"])
    section.beside("contractive, 256 sigmoid codes", "test squared error per row", ctx.test_error(cae),
                   {"plain autoencoder": ctx.test_error(plain), f"PCA-{len(pca.components)}": ctx.test_error(pca)})
    if ctx.has_images:
        section.figures.append(("Contractive first-layer filters.", plots.filters(cae)))
    return section
