"""The stages of ``aekit demo``, in the order of the ideas: each trains its models on the demo's data,
measures them against a baseline and draws what they learned.

A stage is a function ``run(ctx) -> Section`` registered with :func:`stage`; ``ctx`` is a
:class:`aekit.report.runner.Context` (data, epochs budget, a cache of fitted models).
"""

from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from .. import plots
from ..estimators import (
    GAN, Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder,
    VariationalAutoencoder,
)
from ..losses import jacobian_norm
from ..metrics import class_coverage, frechet_distance, psnr, reference_classifier
from ..noise import corrupt
from .runner import Section


@dataclass
class Stage:
    title: str
    idea: str
    run: object
    cost: float  # relative training cost: what the time-left estimate weighs the stages by


STAGES = {}


def stage(name, title, idea, cost=1.0):
    def register(run):
        STAGES[name] = Stage(title, idea, run, cost)
        return run
    return register


def squared_error(X_hat, X):
    """Squared error per row, summed over features, averaged over rows (the table's error unit)."""
    return float(np.square(np.asarray(X_hat) - X).sum(1).mean())


def _base(ctx, **params):
    """Parameters every demo model shares: the data's image shape, the seed, CPU, quiet."""
    return {"image_shape": ctx.image_shape, "random_state": ctx.seed, "device": "cpu", **params}


def _images(ctx):
    return ctx.image_shape is not None


@stage("pca", "PCA and the linear autoencoder",
       "An autoencoder with no non-linearity and a squared-error loss learns the same subspace as PCA "
       "(Baldi and Hornik 1989): its decoder's columns span PCA's leading components, although they need "
       "not be orthogonal. It is the baseline every deeper model must beat.")
def _pca(ctx):
    latent = 16
    pca = PCA(latent, random_state=ctx.seed).fit(ctx.X)
    linear = ctx.fit("linear", Autoencoder(
        hidden=(), latent=latent, activation="linear", output_activation="linear", scale=None, lr=3e-3,
        epochs=ctx.epochs(40, 4), validation_fraction=0, **_base(ctx)))
    pca_recon = pca.inverse_transform(pca.transform(ctx.X_test))
    section = Section()
    section.row(f"linear autoencoder, {latent} codes", "test squared error per row",
                squared_error(linear.reconstruct(ctx.X_test), ctx.X_test), f"PCA-{latent}",
                squared_error(pca_recon, ctx.X_test))
    angles = np.degrees(subspace_angles(linear.model_.decoder[0].weight.detach().numpy(), pca.components_.T))
    section.row(f"linear autoencoder, {latent} codes", "largest angle to PCA's subspace (degrees)", angles.max(),
                better="lower")
    if _images(ctx):
        first = ctx.X_test[:10]
        section.figures.append(("Test rows, PCA's reconstructions and the linear autoencoder's: nearly the same.",
                                plots.image_rows({"input": first, f"PCA-{latent}": pca.inverse_transform(
                                    pca.transform(first)), "linear AE": linear.reconstruct(first)},
                                    ctx.image_shape, title="PCA vs the linear autoencoder")))
    return section


@stage("basic", "Undercomplete and overcomplete autoencoders",
       "A non-linear encoder squeezes each row into a short code and a decoder rebuilds it: with 16 codes "
       "it beats PCA-16, since it can bend. An overcomplete code (wider than the input) could copy its "
       "input; trained briefly with a small network it still learns stroke-like first-layer filters.")
def _basic(ctx):
    latent = 16
    under = ctx.fit("undercomplete", Autoencoder(latent=latent, epochs=ctx.epochs(20), **_base(ctx)))
    over = ctx.fit("overcomplete", Autoencoder(hidden=(), latent=1024, epochs=ctx.epochs(10), **_base(ctx)))
    pca = PCA(latent, random_state=ctx.seed).fit(ctx.X)
    pca_error = squared_error(pca.inverse_transform(pca.transform(ctx.X_test)), ctx.X_test)
    section = Section()
    section.row(f"undercomplete {under.n_features_in_}-512-256-{latent}", "test squared error per row",
                squared_error(under.reconstruct(ctx.X_test), ctx.X_test), f"PCA-{latent}", pca_error)
    section.row(f"overcomplete {over.n_features_in_}-1024", "test squared error per row",
                squared_error(over.reconstruct(ctx.X_test), ctx.X_test), f"PCA-{latent}", pca_error)
    if _images(ctx):
        section.figures += [("Undercomplete: test rows above their reconstructions from 16 numbers.",
                             plots.reconstructions(under, ctx.X_test)),
                            ("Overcomplete: first-layer weights of 64 of its 1,024 units.", plots.filters(over))]
    if ctx.y_test is not None:
        section.figures.append(("The 16-D codes of the test rows, projected on their two principal components.",
                                plots.latent_scatter(under, ctx.X_test, ctx.y_test)))
    section.figures.append(("Training and validation loss per epoch.", plots.loss_curves(under)))
    return section


@stage("encoder_838", "The 8-3-8 encoder",
       "Eight one-hot inputs through three sigmoid units (Mitchell 1997): to rebuild them the network must "
       "invent a code, and the three hidden values come close to a 3-bit binary number per input.")
def _encoder_838(ctx):
    X = np.eye(8, dtype=np.float32)
    ae = ctx.fit("encoder_838", Autoencoder(
        hidden=(), latent=3, activation="sigmoid", code_activation="sigmoid", output_activation="sigmoid",
        scale=None, epochs=ctx.epochs(1000, 300), batch_size=8, lr=0.1, validation_fraction=0, random_state=ctx.seed,
        device="cpu"), X)
    codes = ae.transform(X)
    section = Section()
    section.row("8-3-8 sigmoid autoencoder", "inputs rebuilt (of 8)",
                int((ae.reconstruct(X).argmax(1) == np.arange(8)).sum()), better="higher")
    section.row("8-3-8 sigmoid autoencoder", "distinct rounded codes (of 8)",
                len({tuple(np.round(c).astype(int)) for c in codes}), better="higher")
    section.figures.append(("The three hidden values of each one-hot input.",
                            plots.code_heatmap(codes, [f"input {i}" for i in range(8)], title="8-3-8 codes")))
    return section


@stage("stacked", "Stacked autoencoder: tied weights, greedy pre-training",
       "Hinton and Salakhutdinov (2006) trained a deep 1000-500-250-30 autoencoder one layer at a time, "
       "each layer an autoencoder of the codes below, then fine-tuned the whole; the decoder reuses the "
       "encoder's weights transposed. Its 30 codes rebuild digits far better than PCA's 30 components.")
def _stacked(ctx):
    stacked = ctx.fit("stacked", StackedAutoencoder(epochs=ctx.epochs(20), pretrain_epochs=ctx.epochs(10, 1),
                                                    **_base(ctx)))
    pca = PCA(30, random_state=ctx.seed).fit(ctx.X)
    section = Section()
    section.row("stacked 1000-500-250-30, greedy, tied", "test squared error per row",
                squared_error(stacked.reconstruct(ctx.X_test), ctx.X_test), "PCA-30",
                squared_error(pca.inverse_transform(pca.transform(ctx.X_test)), ctx.X_test))
    section.figures.append(("Loss per epoch: one panel per greedy phase, then the fine-tuning.",
                            plots.loss_curves(stacked)))
    if _images(ctx):
        section.figures.append(("Test rows above their reconstructions from 30 codes.",
                                plots.reconstructions(stacked, ctx.X_test)))
    return section


_NOISES = (("gaussian", 0.3), ("masking", 0.3), ("salt_and_pepper", 0.2))


@stage("denoising", "Denoising autoencoders",
       "Trained to rebuild clean rows from corrupted copies (Vincent et al. 2008), the model learns what "
       "the data look like rather than the identity; it then removes noise it has not seen on new rows. "
       "The table gives the PSNR of denoised test rows against a plain autoencoder of the same shape.")
def _denoising(ctx):
    shape = {"hidden": (256,), "latent": 64, "epochs": ctx.epochs(20), **_base(ctx)}
    plain = ctx.fit("plain_256_64", Autoencoder(**shape))
    low, high = ctx.X.min(0), ctx.X.max(0)
    section = Section()
    for kind, level in _NOISES:
        dae = ctx.fit(f"denoising_{kind}", DenoisingAutoencoder(noise=kind, noise_level=level, **shape))
        noisy = corrupt(ctx.X_test, kind, level, random_state=ctx.seed, low=low, high=high)
        peak = float(high.max() - low.min()) or 1.0
        section.row(f"denoising, {kind.replace('_', '-')} {level:g}", "PSNR of denoised test rows (dB)",
                    psnr(ctx.X_test, dae.reconstruct(noisy), peak=peak), "plain autoencoder",
                    psnr(ctx.X_test, plain.reconstruct(noisy), peak=peak), better="higher")
        if _images(ctx):
            section.figures.append((f"{kind.replace('_', '-')} noise: clean, corrupted, denoised.",
                                    plots.denoising(dae, ctx.X_test)))
    return section


@stage("sparse", "Sparse autoencoders",
       "A penalty on code activity makes few of many units respond to each input: a KL penalty pulls each "
       "unit's mean activation to a target (here 0.05), an L1 penalty drives activations to exactly zero. "
       "Each unit then stands for a part of the input (a stroke).")
def _sparse(ctx):
    shape = {"latent": 256, "epochs": ctx.epochs(20), **_base(ctx)}
    kl = ctx.fit("sparse_kl", SparseAutoencoder(sparsity="kl", **shape))
    l1 = ctx.fit("sparse_l1", SparseAutoencoder(sparsity="l1", code_activation="relu", **shape))
    plain = ctx.fit("plain_256", Autoencoder(hidden=(), code_activation="relu", **shape))
    section = Section()
    section.row("sparse, KL target 0.05", "mean unit activation on test rows", kl.transform(ctx.X_test).mean(),
                "target", kl.sparsity_target, better=None)
    section.row("sparse, L1", "fraction of exact zeros in the codes", (l1.transform(ctx.X_test) == 0).mean(),
                "plain ReLU autoencoder", (plain.transform(ctx.X_test) == 0).mean(), better="higher")
    section.figures += [("KL: pooled activations and each unit's mean.", plots.code_histogram(kl, ctx.X_test)),
                        ("L1: pooled activations and each unit's mean.", plots.code_histogram(l1, ctx.X_test))]
    if _images(ctx):
        section.figures.append(("KL-sparse first-layer filters: local strokes.", plots.filters(kl)))
    return section


def mean_jacobian_norm(est, X):
    """Mean over rows of ||d code / d input||_F^2 on the scaled inputs (exact: one VJP per code unit)."""
    x = torch.from_numpy(est._scaled(X)).requires_grad_(True)
    with torch.enable_grad():
        code = est.model_.encode(x)
        directions = torch.eye(code.shape[1]).unsqueeze(1).expand(-1, len(x), -1)
        return float(jacobian_norm(code, x, directions).mean().detach())


@stage("contractive", "Contractive autoencoder",
       "A penalty on the Frobenius norm of the encoder's Jacobian (Rifai et al. 2011) makes codes change "
       "little when the input moves off the data: the model is robust where it need not be sensitive.")
def _contractive(ctx):
    shape = {"hidden": (), "latent": 256, "code_activation": "sigmoid", "epochs": ctx.epochs(20), **_base(ctx)}
    cae = ctx.fit("contractive", ContractiveAutoencoder(**shape))
    plain = ctx.fit("plain_sigmoid_256", Autoencoder(**shape))
    rows = ctx.X_test[:200]
    section = Section()
    section.row("contractive, 256 sigmoid codes", "mean squared Jacobian norm on test rows",
                mean_jacobian_norm(cae, rows), "plain autoencoder", mean_jacobian_norm(plain, rows))
    section.row("contractive, 256 sigmoid codes", "test squared error per row",
                squared_error(cae.reconstruct(ctx.X_test), ctx.X_test), "plain autoencoder",
                squared_error(plain.reconstruct(ctx.X_test), ctx.X_test))
    if _images(ctx):
        section.figures.append(("Contractive first-layer filters.", plots.filters(cae)))
    return section


def _unit_interval(ctx):
    return ctx.X.min() >= 0 and ctx.X.max() <= 1


@stage("vae", "Variational autoencoder",
       "The encoder gives a Gaussian over codes, the decoder a likelihood of the row; training maximises "
       "the evidence lower bound (Kingma and Welling 2014). Codes drawn from N(0, I) then decode to new "
       "rows, straight lines between codes morph one row into another, and each code dimension is a "
       "direction of variation. Its test log-likelihood is estimated with 100 importance samples.")
def _vae(ctx):
    scale = None if _unit_interval(ctx) else "minmax"
    vae = ctx.fit("vae", VariationalAutoencoder(latent=16, scale=scale, epochs=ctx.epochs(30), **_base(ctx)))
    vae2 = ctx.fit("vae_2d", VariationalAutoencoder(latent=2, scale=scale, epochs=ctx.epochs(20), **_base(ctx)))
    k = 10 if ctx.quick else 100
    section = Section()
    section.row("VAE, 16-D codes", "test negative ELBO (nats per row)", -vae.elbo(ctx.X_test, n_samples=10).mean(),
                "VAE, 2-D codes", -vae2.elbo(ctx.X_test, n_samples=10).mean())
    section.row("VAE, 16-D codes", f"test NLL, importance-weighted k={k} (nats)",
                -vae.score_samples(ctx.X_test, n_importance=k).mean(), "VAE, 2-D codes",
                -vae2.score_samples(ctx.X_test, n_importance=k).mean())
    if _images(ctx):
        section.figures += [("New rows: codes drawn from N(0, I), decoded.", plots.samples(vae)),
                            ("From one test row's code to another's.",
                             plots.interpolation(vae, ctx.X_test[0], ctx.X_test[1])),
                            ("One code dimension at a time, swept over its range.",
                             plots.traversal(vae, ctx.X_test[0])),
                            ("The 2-D VAE's latent space, decoded on a grid.", plots.manifold(vae2))]
    if ctx.y_test is not None:
        section.figures.append(("The 2-D VAE's codes of the test rows.",
                                plots.latent_scatter(vae2, ctx.X_test, ctx.y_test)))
    return section


@stage("gan", "Generative adversarial network",
       "A generator turns noise into rows and a discriminator tells them from real ones; each trains against "
       "the other (Goodfellow et al. 2014). Sample quality is the Frechet distance between features of real "
       "and generated rows, taken from a small classifier aekit trains on the same data (not the Inception "
       "FID: comparable only within aekit); the floor is the distance of the test rows to training rows.")
def _gan(ctx):
    gan = ctx.fit("gan", GAN(epochs=ctx.epochs(20), **_base(ctx)))
    section = Section()
    n = min(1000, len(ctx.X_test))
    if ctx.y is not None:
        classifier = reference_classifier(ctx.source, epochs=3 if ctx.quick else None)
        samples = gan.sample(n, random_state=ctx.seed)
        vae_folder = ctx.out / "models" / "vae"
        floor = frechet_distance(ctx.X[:n], ctx.X_test[:n], features=classifier.features)
        section.row("GAN", "Frechet distance to test rows (classifier features)",
                    frechet_distance(ctx.X_test[:n], samples, features=classifier.features),
                    "training rows (the floor)", floor)
        if (vae_folder / "config.json").exists():
            from ..saving import load
            vae_samples = load(vae_folder, device="cpu").sample(n, random_state=ctx.seed)
            section.row("VAE samples", "Frechet distance to test rows (classifier features)",
                        frechet_distance(ctx.X_test[:n], vae_samples, features=classifier.features),
                        "training rows (the floor)", floor)
        coverage = class_coverage(samples, classifier)
        section.row("GAN", "classes among samples (fraction)", coverage.coverage, better="higher")
        section.row("GAN", "smallest class share of samples", coverage.fractions.min(), "uniform",
                    1 / len(coverage.fractions), better="higher")
    if _images(ctx):
        section.figures.append(("GAN samples.", plots.samples(gan)))
    section.figures.append(("Losses per epoch (r1: the discriminator's mean squared gradient on real rows).",
                            plots.loss_curves(gan)))
    section.figures.append(("Discriminator accuracy on real and generated rows, per epoch.", plots.gan_monitor(gan)))
    return section


def _labelled(ctx, section, what):
    """Whether the data have labels; if not, say in the section what could not be shown."""
    if ctx.y is None or ctx.y_test is None:
        section.notes.append(f"{ctx.data_name} has no labels: {what} needs them.")
        return False
    return True


@stage("semisupervised", "Semi-supervised learning from 100 labels",
       "Pre-trained on every training row, labelled or not, an encoder gives features in which few labels "
       "suffice: a classifier head is trained on 100 labelled rows (10 per class), then the whole network is "
       "fine-tuned. The baseline is the same network trained from random weights on the same 100 rows.",
       cost=1.5)
def _semisupervised(ctx):
    from ..apps.classifier import AutoencoderClassifier, mask_labels

    section = Section()
    if not _labelled(ctx, section, "a classifier's test error"):
        return section
    n_labeled = 10 * len(np.unique(ctx.y))
    y = mask_labels(ctx.y, n_labeled, random_state=ctx.seed)
    shape = {"latent": 32, **_base(ctx)}
    head = {"fine_tune": True, "epochs": ctx.epochs(100, 10), "random_state": ctx.seed, "device": "cpu"}
    pretrained = ctx.fit("semisupervised", AutoencoderClassifier(
        Autoencoder(epochs=ctx.epochs(30), **shape), **head), ctx.X, y)
    scratch = ctx.fit("from_scratch", AutoencoderClassifier(Autoencoder(epochs=0, **shape), **head), ctx.X, y)
    section.row(f"pre-trained autoencoder + head, {n_labeled} labels", "test error (fraction misclassified)",
                1 - pretrained.score(ctx.X_test, ctx.y_test), "same network from scratch",
                1 - scratch.score(ctx.X_test, ctx.y_test))
    section.figures.append(("The pre-trained classifier's features of the test rows.",
                            plots.latent_scatter(pretrained, ctx.X_test, ctx.y_test)))
    return section


@stage("retrieval", "Retrieval with codes and semantic hashing",
       "Codes are small descriptions of rows: near codes mean similar rows. A semantic-hashing autoencoder "
       "(Salakhutdinov and Hinton 2009) learns 64 binary codes from masked inputs, so that "
       "each row becomes 8 bytes searched by Hamming distance. Quality is precision@10: the fraction of a "
       "test row's 10 nearest training rows that share its label; the baseline searches raw pixels.")
def _retrieval(ctx):
    from ..apps.retrieval import CodeIndex
    from ..estimators import SemanticHashingAutoencoder
    from ..metrics import precision_at_k

    hashing = ctx.fit("semantic_hashing", SemanticHashingAutoencoder(bits=64, epochs=ctx.epochs(60),
                                                                     **_base(ctx)))
    index = CodeIndex(hashing, metric="hamming")
    index.add(ctx.X)
    section = Section()
    if _labelled(ctx, section, "precision@10"):
        raw = CodeIndex()
        raw.add_codes(ctx.X)
        section.row("64-bit semantic hashing codes (8 bytes)", "precision@10 of test rows",
                    precision_at_k(index, ctx.X_test, ctx.y_test, ctx.y, k=10),
                    f"raw rows ({ctx.X.shape[1] * 4} bytes)", precision_at_k(raw, ctx.X_test, ctx.y_test, ctx.y, k=10),
                    better="higher")
    if _images(ctx):
        section.figures.append(("Test rows (left) and their nearest training rows by Hamming distance of "
                                "the 64-bit codes.", plots.neighbours(index, ctx.X_test, ctx.X)))
    return section


@stage("compression", "Compression",
       "The codes of a trained autoencoder, quantised and entropy-coded, are a lossy codec for rows like "
       "its training data: a digit in a few dozen bytes. The curve sets aekit's codec (the 16-code "
       "undercomplete model above, at 4 to 8 bits per code) beside JPEG and WebP from Pillow, one file "
       "per image; bench/compression.py has the full comparison with a larger model.")
def _compression(ctx):
    from ..apps import codec

    section = Section()
    if not (_images(ctx) and ctx.image_shape[0] == 1 and _unit_interval(ctx)):
        section.notes.append(f"{ctx.data_name} is not grey images in [0, 1]: nothing to set beside JPEG.")
        return section
    model = ctx.fit("undercomplete", Autoencoder(latent=16, epochs=ctx.epochs(20), **_base(ctx)))
    size = ctx.image_shape[1:]
    ours = {}
    for bits in (4, 6, 8):
        data = codec.compress(model, ctx.X_test, bits=bits)
        ours[bits] = (len(data) / len(ctx.X_test), psnr(ctx.X_test, np.clip(codec.decompress(model, data), 0, 1)))
    others = {"JPEG": [codec.pillow_point(ctx.X_test, size, "JPEG", quality=q, optimize=True) for q in (5, 20, 50, 90)],
              "WebP": [codec.pillow_point(ctx.X_test, size, "WEBP", quality=q, method=6) for q in (0, 25, 75)]}
    bytes_6, psnr_6 = ours[6]
    for name, points in others.items():
        at_least_as_good = [b for b, q in points if q >= psnr_6]
        section.row("aekit codec, 16 codes x 6 bits", "bytes per row (batch of the test rows)", bytes_6,
                    f"{name} at >= the same PSNR", min(at_least_as_good) if at_least_as_good else None)
    section.row("aekit codec, 16 codes x 6 bits", "PSNR (dB)", psnr_6, better="higher")
    section.figures.append(("Bytes per row against PSNR on the test rows.",
                            plots.rate_distortion({"aekit (4, 6, 8 bits)": list(ours.values()), **others})))
    return section


@stage("anomaly", "Anomaly detection",
       "Trained on one class only, an autoencoder rebuilds rows like it well and others badly: the "
       "reconstruction error (with the density of the codes) scores how unusual a row is. Shown with the "
       "one-class protocol of Ruff et al. (2018): train on one class's training rows, score every test "
       "row, the other classes being anomalies; the baseline is PCA-16's reconstruction error.")
def _anomaly(ctx):
    from sklearn.metrics import roc_auc_score

    from ..apps.anomaly import AnomalyDetector

    section = Section()
    if not _labelled(ctx, section, "the one-class protocol"):
        return section
    normal = np.unique(ctx.y)[0]
    X_normal = ctx.X[ctx.y == normal]
    detector = ctx.fit("anomaly", AnomalyDetector(epochs=ctx.epochs(100, 5), image_shape=ctx.image_shape,
                                                  random_state=ctx.seed, device="cpu"), X_normal)
    pca = PCA(16, random_state=ctx.seed).fit(X_normal)
    scores = {"AnomalyDetector()": detector.score_samples(ctx.X_test),
              "PCA-16 error": -np.square(pca.inverse_transform(pca.transform(ctx.X_test)) - ctx.X_test).sum(1)}
    is_outlier = ctx.y_test != normal
    aucs = {name: roc_auc_score(is_outlier, -s) for name, s in scores.items()}
    section.row(f"AnomalyDetector(), class {normal} as normal", "ROC-AUC on the test rows",
                aucs["AnomalyDetector()"], "PCA-16 reconstruction error", aucs["PCA-16 error"], better="higher")
    section.figures.append((f"ROC curves: class {normal} is normal, every other class an anomaly.",
                            plots.roc(scores, is_outlier)))
    return section
