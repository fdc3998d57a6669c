"""Stages of the plain autoencoder: the linear one and PCA, under- and overcomplete codes, the 8-3-8
encoder, and the deep stacked autoencoder."""

import numpy as np
from scipy.linalg import subspace_angles

from ... import plots
from ...estimators import Autoencoder, StackedAutoencoder
from ..context import Context
from ..types import Section, stage


@stage("pca", "PCA and the linear autoencoder")
def pca(ctx: Context) -> Section:
    """An autoencoder with no non-linearity and a squared-error loss learns the same subspace as PCA (Baldi
    and Hornik 1989): its decoder's columns span PCA's leading components, although they need not be
    orthogonal. Trained by alternating least squares (the encoder is the decoder's pseudo-inverse, the
    decoder a least-squares fit to the codes), it reaches that subspace to a small fraction of a degree.
    It is the baseline every deeper model must beat.
    """
    latent = 16
    subspace = ctx.pca(latent)
    # alternating least squares: gradient steps stall degrees away where PCA's eigenvalues are close
    linear = ctx.fit("linear", Autoencoder(
        hidden=(), latent=latent, activation="linear", output_activation="linear", scale=None, optimizer="als",
        epochs=1000, validation_fraction=0, **ctx.model_params()))
    section = Section()
    section.row(f"linear autoencoder, {latent} codes", "test squared error per row", ctx.test_error(linear),
                f"PCA-{latent}", ctx.test_error(subspace))
    angles = np.degrees(subspace_angles(linear.model_.decoder[0].weight.detach().numpy(), subspace.components.T))
    section.row(f"linear autoencoder, {latent} codes", "largest angle to PCA's subspace (degrees)", angles.max(),
                "target: under 1 degree", 1.0, better="lower")
    if ctx.has_images:
        first = ctx.X_test[:10]
        section.figures.append(("Test rows, PCA's reconstructions and the linear autoencoder's: nearly the same.",
                                plots.image_rows({"input": first, f"PCA-{latent}": subspace.reconstruct(first),
                                                  "linear AE": linear.reconstruct(first)},
                                                 ctx.image_shape, title="PCA vs the linear autoencoder")))
    return section


@stage("basic", "Undercomplete and overcomplete autoencoders")
def basic(ctx: Context) -> Section:
    """A non-linear encoder squeezes each row into a short code and a decoder rebuilds it: with 16 codes it
    can beat PCA-16, since it can bend. An overcomplete code (wider than the input) could copy its input,
    as PCA with every component does exactly; trained briefly with a small network it does not, but it
    learns stroke-like first-layer filters.
    """
    latent = 16
    under = ctx.fit("undercomplete", Autoencoder(latent=latent, epochs=ctx.epochs(20), **ctx.model_params()))
    over = ctx.fit("overcomplete", Autoencoder(hidden=(), latent=1024, epochs=ctx.epochs(10), **ctx.model_params()))
    section = Section()
    section.row(f"undercomplete {under.n_features_in_}-512-256-{latent}", "test squared error per row",
                ctx.test_error(under), f"PCA-{latent}", ctx.test_error(ctx.pca(latent)))
    # PCA with as many codes as the overcomplete model: every component, so it copies its input exactly
    wide = ctx.pca(over.latent)
    section.row(f"overcomplete {over.n_features_in_}-{over.latent}", "test squared error per row",
                ctx.test_error(over), f"PCA-{len(wide.components)} (every component)", ctx.test_error(wide))
    if ctx.has_images:
        section.figures += [("Undercomplete: test rows above their reconstructions from 16 numbers.",
                             plots.reconstructions(under, ctx.X_test)),
                            ("Overcomplete: first-layer weights of 64 of its 1,024 units.", plots.filters(over))]
    if ctx.y_test is not None:
        section.figures.append(("The 16-D codes of the test rows, projected on their two principal components.",
                                plots.latent_scatter(under, ctx.X_test, ctx.y_test)))
    section.figures.append(("Training and validation loss per epoch.", plots.loss_curves(under)))
    return section


@stage("encoder_838", "The 8-3-8 encoder")
def encoder_838(ctx: Context) -> Section:
    """Eight one-hot inputs through three sigmoid units (Mitchell 1997): to rebuild them the network must
    invent a code, and the three hidden values come close to a 3-bit binary number per input.
    """
    X = np.eye(8, dtype=np.float32)
    ae = ctx.fit("encoder_838", Autoencoder(
        hidden=(), latent=3, activation="sigmoid", code_activation="sigmoid", output_activation="sigmoid",
        scale=None, epochs=ctx.epochs(1000, 300), batch_size=8, lr=0.1, validation_fraction=0, random_state=ctx.seed,
        device="cpu"), X)
    codes = ae.transform(X)
    section = Section()
    section.row("8-3-8 sigmoid autoencoder", "inputs rebuilt (of 8)",
                int((ae.reconstruct(X).argmax(1) == np.arange(8)).sum()), "target: all 8", 8, better="higher")
    section.row("8-3-8 sigmoid autoencoder", "distinct rounded codes (of 8)",
                len({tuple(np.round(c).astype(int)) for c in codes}), "target: all 8", 8, better="higher")
    section.figures.append(("The three hidden values of each one-hot input.",
                            plots.code_heatmap(codes, [f"input {i}" for i in range(8)], title="8-3-8 codes")))
    return section


@stage("stacked", "Stacked autoencoder: tied weights, greedy pre-training")
def stacked(ctx: Context) -> Section:
    """Hinton and Salakhutdinov (2006) trained a deep 1000-500-250-30 autoencoder one layer at a time, each
    layer an autoencoder of the codes below, then fine-tuned the whole; the decoder reuses the encoder's
    weights transposed. Its 30 codes rebuild digits far better than PCA's 30 components.
    """
    model = ctx.fit("stacked", StackedAutoencoder(epochs=ctx.epochs(20), pretrain_epochs=ctx.epochs(10, 1),
                                                  **ctx.model_params()))
    section = Section()
    section.row("stacked 1000-500-250-30, greedy, tied", "test squared error per row", ctx.test_error(model),
                "PCA-30", ctx.test_error(ctx.pca(30)))
    section.figures.append(("Loss per epoch: one panel per greedy phase, then the fine-tuning.",
                            plots.loss_curves(model)))
    if ctx.has_images:
        section.figures.append(("Test rows above their reconstructions from 30 codes.",
                                plots.reconstructions(model, ctx.X_test)))
    return section
