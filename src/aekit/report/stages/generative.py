"""Stages of the generative models: the variational autoencoder and the GAN, the quality of their
samples, and their class-conditional versions (a row of samples per class, judged by the reference
classifier)."""

import numpy as np

from ... import plots
from ...estimators import GAN, VariationalAutoencoder
from ...metrics import class_coverage, frechet_distance, reference_classifier
from ..baselines import gaussian_samples, independent_bernoulli_nll
from ..context import Context
from ..types import Section, stage


@stage("vae", "Variational autoencoder")
def vae(ctx: Context) -> Section:
    """The encoder gives a Gaussian over codes, the decoder a likelihood of the row; training maximises the
    evidence lower bound (Kingma and Welling 2014). Codes drawn from N(0, I) then decode to new rows,
    straight lines between codes morph one row into another, and each code dimension is a direction of
    variation. Its test log-likelihood is estimated with 100 importance samples, beside a model with
    no code (independent Bernoulli features, for rows in [0, 1]) and a VAE with 2-D codes.
    """
    scale = None if ctx.in_unit_interval else "minmax"
    vae16 = ctx.fit("vae", VariationalAutoencoder(latent=16, scale=scale, epochs=ctx.epochs(30), **ctx.model_params()))
    vae2 = ctx.fit("vae_2d", VariationalAutoencoder(latent=2, scale=scale, epochs=ctx.epochs(20), **ctx.model_params()))
    k = 10 if ctx.quick else 100
    # a model with no code at all, where its likelihood is the VAE's (Bernoulli on the rows as given)
    no_code = ({"independent Bernoulli features": independent_bernoulli_nll(ctx.X, ctx.X_test)}
               if scale is None and getattr(vae16, "likelihood_", vae16.likelihood) == "bernoulli" else {})
    section = Section()
    section.beside("VAE, 16-D codes", "test negative ELBO (nats per row)", -vae16.elbo(ctx.X_test, n_samples=10).mean(),
                   {"VAE, 2-D codes (ours, smaller)": -vae2.elbo(ctx.X_test, n_samples=10).mean(), **no_code})
    section.beside("VAE, 16-D codes", f"test NLL, importance-weighted k={k} (nats)",
                   -vae16.score_samples(ctx.X_test, n_importance=k).mean(),
                   {"VAE, 2-D codes (ours, smaller)": -vae2.score_samples(ctx.X_test, n_importance=k).mean(),
                    **no_code})
    if ctx.has_images:
        section.figures += [("New rows: codes drawn from N(0, I), decoded.", plots.samples(vae16)),
                            ("From one test row's code to another's.",
                             plots.interpolation(vae16, ctx.X_test[0], ctx.X_test[1])),
                            ("One code dimension at a time, swept over its range.",
                             plots.traversal(vae16, ctx.X_test[0])),
                            ("The 2-D VAE's latent space, decoded on a grid.", plots.manifold(vae2))]
    if ctx.y_test is not None:
        section.figures.append(("The 2-D VAE's codes of the test rows.",
                                plots.latent_scatter(vae2, ctx.X_test, ctx.y_test)))
    if ctx.has_labels and ctx.has_images:
        conditional = ctx.fit("vae_conditional", VariationalAutoencoder(
            latent=16, scale=scale, conditional=True, epochs=ctx.epochs(30), **ctx.model_params()), y=ctx.y)
        _samples_per_class(ctx, section, conditional, "conditional VAE")
    return section


@stage("gan", "Generative adversarial network")
def gan(ctx: Context) -> Section:
    """A generator turns noise into rows and a discriminator tells them from real ones; each trains against
    the other (Goodfellow et al. 2014). Sample quality is the Frechet distance between features of real
    and generated rows, taken from a small classifier aekit trains on the same data (not the Inception
    FID: comparable only within aekit), beside samples of a Gaussian fitted to the training rows; the
    floor is the distance of the test rows to real training rows.
    """
    model = ctx.fit("gan", GAN(epochs=ctx.epochs(20), **ctx.model_params()))
    section = Section()
    if ctx.y is not None:
        _sample_quality(ctx, section, model)
    if ctx.has_images:
        section.figures.append(("GAN samples.", plots.samples(model)))
    section.figures.append(("Losses per epoch (r1: the discriminator's mean squared gradient on real rows).",
                            plots.loss_curves(model)))
    section.figures.append(("Discriminator accuracy on real and generated rows, per epoch.",
                            plots.gan_monitor(model)))
    if ctx.has_labels and ctx.has_images:
        # a conditional GAN takes more epochs than the unconditional one (bench/conditional.py)
        conditional = ctx.fit("gan_conditional", GAN(conditional=True, epochs=ctx.epochs(120), **ctx.model_params()),
                              y=ctx.y)
        _samples_per_class(ctx, section, conditional, "conditional GAN")
    return section


def _samples_per_class(ctx, section, model, name, n=100, shown=10):
    """A row of ``shown`` samples per class of a conditional ``model``, each labelled with the share of
    ``n`` samples of that class the reference classifier assigns to it; the mean share and the worst
    class's as rows of the table, beside the classifier's accuracy on the real test rows (what a perfect
    generator scores) and on their worst class."""
    classifier = reference_classifier(ctx.source, epochs=3 if ctx.quick else None)
    rows, shares = {}, []
    for c in model.classes_:
        drawn = model.sample(n, random_state=ctx.seed, y=c)
        shares.append(float(np.mean(classifier.predict(drawn) == c)))
        rows[f"{c}: {shares[-1]:.0%}"] = drawn[:shown]
    predicted = classifier.predict(ctx.X_test)
    real = float(np.mean(predicted == ctx.y_test))
    section.row(name, "samples of class c the reference classifier assigns to c (fraction)", float(np.mean(shares)),
                "real test rows (the classifier's accuracy)", real, better="higher")
    # the target holds for every class: the worst one, beside the classifier's worst class on real rows
    worst = int(np.argmin(shares))
    real_worst = min(float(np.mean(predicted[ctx.y_test == c] == c)) for c in np.unique(ctx.y_test))
    section.row(name, f"worst class ({model.classes_[worst]}): its samples assigned to it (fraction)", shares[worst],
                "real test rows, the classifier's worst class", real_worst, better="higher")
    section.figures.append((f"{name}: a row of sample(n, y=c) per class c, labelled with the share of {n} samples "
                            "that the reference classifier assigns to c.",
                            plots.image_rows(rows, ctx.image_shape, title=f"{name}: samples per class")))


def _sample_quality(ctx, section, gan):
    """Rows measuring the GAN's samples (and the VAE's, where the vae stage saved one) with features
    of the reference classifier."""
    n = min(1000, len(ctx.X_test))
    classifier = reference_classifier(ctx.source, epochs=3 if ctx.quick else None)
    floor = frechet_distance(ctx.X[:n], ctx.X_test[:n], features=classifier.features)
    samples = {"GAN": gan.sample(n, random_state=ctx.seed)}
    vae = ctx.saved_model("vae")
    if vae is not None:
        samples["VAE samples"] = vae.sample(n, random_state=ctx.seed)
    gaussian = gaussian_samples(ctx.X, n, ctx.seed)
    baseline = ("Gaussian fitted to the training rows",
                frechet_distance(ctx.X_test[:n], gaussian, features=classifier.features))
    for model, rows in samples.items():
        section.row(model, "Frechet distance to test rows (classifier features)",
                    frechet_distance(ctx.X_test[:n], rows, features=classifier.features), *baseline)
    # a reference, not a contest: how far real rows are from the test rows
    section.row("real training rows (the floor)", "Frechet distance to test rows (classifier features)", floor,
                *baseline, better=None)
    coverage = class_coverage(samples["GAN"], classifier)
    section.row("GAN", "classes among samples (fraction)", coverage.coverage, "target: every class", 1.0,
                better="higher")
    section.row("GAN", f"smallest class share of samples (uniform: {1 / len(coverage.fractions):.3g})",
                coverage.fractions.min(), baseline[0], class_coverage(gaussian, classifier).fractions.min(),
                better="higher")
