"""Stages of what trained autoencoders are used for: semi-supervised classification, retrieval,
compression and anomaly detection."""

import numpy as np
from sklearn.metrics import roc_auc_score

from ... import plots
from ...apps import codec
from ...apps.anomaly import AnomalyDetector
from ...apps.classifier import AutoencoderClassifier, mask_labels
from ...apps.retrieval import CodeIndex
from ...estimators import Autoencoder, SemanticHashingAutoencoder
from ...estimators.rate_distortion import RateDistortionAutoencoder
from ...estimators.vqvae import VQVAE
from ...metrics import precision_at_k, psnr, reconstruction_error
from ..baselines import classifier_baselines, converged, fit_pca, isolation_forest_scores, pca_codec_point
from ..context import Context
from ..types import Section, stage


def _labelled(ctx, section, what):
    """Whether the data have labels; if not, say in the section what could not be shown."""
    if not ctx.has_labels:
        section.notes.append(f"{ctx.data_name} has no labels: {what} needs them.")
    return ctx.has_labels


@stage("semisupervised", "Semi-supervised learning from 100 labels", cost=1.5)
def semisupervised(ctx: Context) -> Section:
    """A classifier trained on 100 labelled rows (10 per class) and every other training row unlabelled:
    aekit's AutoencoderClassifier with unlabelled="graph+consistency", where one network learns from
    both kinds of row (see its documentation for the recipe). Its image default (FixMatch on a small
    CNN, RandAugment, 6,000 steps) is left out here: it costs several times the rows route's time, and
    on the MNIST digits its test error is 0.086 against the rows' 0.097 (3 label draws); on
    Fashion-MNIST it is the better route (test 0.217 against 0.290; BENCHMARKS.md). The
    baselines see the same 100 labelled rows only: logistic regression on the raw features and an MLP
    with 512 hidden units, both trained to convergence.
    """
    section = Section()
    if not _labelled(ctx, section, "a classifier's test error"):
        return section
    n_labeled = 10 * len(np.unique(ctx.y))
    y = mask_labels(ctx.y, n_labeled, random_state=ctx.seed)
    # the quick run trains a tenth of the default steps
    budget = {"steps": 200} if ctx.quick else {}
    classifier = ctx.fit("semisupervised", AutoencoderClassifier(unlabelled="graph+consistency", **budget,
                                                                 **ctx.model_params()), ctx.X, y)
    labelled = y != -1
    baselines = {}
    for name, model in classifier_baselines(ctx.X[labelled], y[labelled], ctx.seed).items():
        baselines[name if converged(model) else f"{name} (not converged)"] = 1 - model.score(ctx.X_test, ctx.y_test)
    section.beside(f"AutoencoderClassifier(), {n_labeled} labels", "test error (fraction misclassified)",
                   1 - classifier.score(ctx.X_test, ctx.y_test), baselines)
    section.figures.append(("The classifier's features of the test rows.",
                            plots.latent_scatter(classifier, ctx.X_test, ctx.y_test)))
    return section


@stage("retrieval", "Retrieval with codes and semantic hashing")
def retrieval(ctx: Context) -> Section:
    """Codes are small descriptions of rows: near codes mean similar rows. A semantic-hashing autoencoder
    (Salakhutdinov and Hinton 2009) learns 64 binary codes from masked inputs, so that each row becomes
    8 bytes searched by Hamming distance. Quality is precision@10: the fraction of a test row's 10
    nearest training rows that share its label; the baselines search as many bits of PCA codes (the
    sign of each component about its median), and the raw rows.
    """
    hashing = ctx.fit("semantic_hashing", SemanticHashingAutoencoder(bits=64, epochs=ctx.epochs(60),
                                                                     **ctx.model_params()))
    index = CodeIndex(hashing, metric="hamming")
    index.add(ctx.X)
    section = Section()
    if _labelled(ctx, section, "precision@10"):
        raw = CodeIndex()
        raw.add_codes(ctx.X)
        ours = precision_at_k(index, ctx.X_test, ctx.y_test, ctx.y, k=10)
        # the same 64 bits from a linear code: each principal component's sign about its median
        pca = ctx.pca(64)
        pca_index = CodeIndex(pca, metric="hamming", threshold="median")
        pca_index.add(ctx.X)
        section.row("64-bit semantic hashing codes (8 bytes)", "precision@10 of test rows", ours,
                    f"PCA-{len(pca.components)} codes at their medians ({len(pca.components)} bits, Hamming)",
                    precision_at_k(pca_index, ctx.X_test, ctx.y_test, ctx.y, k=10), better="higher")
        section.row("64-bit semantic hashing codes (8 bytes)", "precision@10 of test rows", ours,
                    f"raw rows ({ctx.X.shape[1] * 4} bytes)", precision_at_k(raw, ctx.X_test, ctx.y_test, ctx.y, k=10),
                    better="higher")
    if ctx.has_images:
        section.figures.append(("Test rows (left) and their nearest training rows by Hamming distance of "
                                "the 64-bit codes.", plots.neighbours(index, ctx.X_test, ctx.X)))
    return section


@stage("compression", "Compression")
def compression(ctx: Context) -> Section:
    """The codes of a trained autoencoder, quantised and entropy-coded, are a lossy codec for rows like its
    training data: a digit in a few dozen bytes. Three of aekit's codecs: the 16-code undercomplete model
    above with its codes quantised to 4 to 8 bits; a rate-distortion autoencoder, trained for bits and
    squared error together, its integer codes coded under its learned prior (one rate weight, one
    point); and a VQ-VAE, its codebook indices coded under their measured frequencies. Beside them JPEG,
    WebP and AVIF from Pillow, one file per image, and PCA-16 codes quantised and entropy-coded as the
    fixed-bit codec's; bench/compression_rd.py sweeps the rate weight on a convolutional model.
    """
    section = Section()
    if not (ctx.has_images and ctx.image_shape[0] == 1 and ctx.in_unit_interval):
        section.notes.append(f"{ctx.data_name} is not grey images in [0, 1]: nothing to set beside JPEG.")
        return section
    model = ctx.fit("undercomplete", Autoencoder(latent=16, epochs=ctx.epochs(20), **ctx.model_params()))
    size = ctx.image_shape[1:]
    ours = {}
    for bits in (4, 6, 8):
        data = codec.compress(model, ctx.X_test, bits=bits)
        ours[bits] = _codec_point(ctx, model, data)
    learned = {name: ctx.fit(name, estimator(epochs=ctx.epochs(30), scale=None, **ctx.model_params()))
               for name, estimator in (("rate_distortion", RateDistortionAutoencoder), ("vqvae", VQVAE))}
    points = {name: _codec_point(ctx, m, codec.compress(m, ctx.X_test)) for name, m in learned.items()}
    pca = ctx.pca(16)
    others = {"JPEG": [codec.pillow_point(ctx.X_test, size, "JPEG", quality=q, optimize=True) for q in (5, 20, 50, 90)],
              "WebP": [codec.pillow_point(ctx.X_test, size, "WEBP", quality=q, method=6) for q in (0, 25, 75)],
              "AVIF": [codec.pillow_point(ctx.X_test, size, "AVIF", quality=q, speed=6) for q in (0, 30)],
              "PCA-16 codes": [pca_codec_point(pca, ctx.X, ctx.X_test, bits) for bits in (4, 6, 8)]}
    for label, (rate, quality) in (("RateDistortionAutoencoder()", points["rate_distortion"]),
                                   ("aekit codec, 16 codes x 6 bits", ours[6])):
        section.beside(label, "bytes per row (batch of the test rows)", rate,
                       {f"{name} at >= the same PSNR": min((b for b, q in curve if q >= quality), default=None)
                        for name, curve in others.items()})
        section.beside(label, "PSNR (dB)", quality,
                       {f"{name} at <= the same bytes": max((q for b, q in curve if b <= rate and np.isfinite(q)),
                                                            default=None)
                        for name, curve in others.items()}, better="higher")
    vq = learned["vqvae"].history_[-1]
    section.notes.append(f"VQVAE(): {points['vqvae'][0]:.1f} bytes per row at {points['vqvae'][1]:.2f} dB; "
                         f"{vq['codebook_usage']:.0%} of its codebook used in the last epoch (perplexity "
                         f"{vq['perplexity']:.1f}).")
    curves = {"aekit (4, 6, 8 bits)": list(ours.values()), "RateDistortionAutoencoder()": [points["rate_distortion"]],
              "VQVAE()": [points["vqvae"]], **{k: [p for p in v if np.isfinite(p[1])] for k, v in others.items()}}
    section.figures.append(("Bits per pixel against PSNR on the test rows.",
                            plots.rate_distortion({k: v for k, v in curves.items() if v},
                                                  pixels=int(np.prod(ctx.image_shape)))))
    return section


def _codec_point(ctx, model, data):
    """(bytes per test row, PSNR) of a container of the test rows."""
    return len(data) / len(ctx.X_test), psnr(ctx.X_test, np.clip(codec.decompress(model, data), 0, 1))


@stage("anomaly", "Anomaly detection")
def anomaly(ctx: Context) -> Section:
    """Trained on one class only, an autoencoder rebuilds rows like it well and others badly: the
    reconstruction error (with the density of the codes) scores how unusual a row is. Shown with the
    one-class protocol of Ruff et al. (2018): train on one class's training rows, score every test row,
    the other classes being anomalies; the baselines, fitted on the same normal rows, are PCA-16's
    reconstruction error and an IsolationForest.
    """
    section = Section()
    if not _labelled(ctx, section, "the one-class protocol"):
        return section
    normal = np.unique(ctx.y)[0]
    X_normal = ctx.X[ctx.y == normal]
    detector = ctx.fit("anomaly", AnomalyDetector(epochs=ctx.epochs(100, 5), image_shape=ctx.image_shape,
                                                  random_state=ctx.seed, device="cpu"), X_normal)
    # PCA of the normal class alone: the baseline learns what the detector learns from
    pca = fit_pca(X_normal, 16)
    scores = {"AnomalyDetector()": detector.score_samples(ctx.X_test),
              "PCA-16 reconstruction error": -reconstruction_error(ctx.X_test, pca.reconstruct(ctx.X_test)),
              "IsolationForest": isolation_forest_scores(X_normal, ctx.X_test, ctx.seed)}
    is_outlier = ctx.y_test != normal
    aucs = {name: roc_auc_score(is_outlier, -s) for name, s in scores.items()}
    ours = aucs.pop("AnomalyDetector()")
    section.beside(f"AnomalyDetector(), class {normal} as normal", "ROC-AUC on the test rows", ours, aucs,
                   better="higher")
    section.figures.append((f"ROC curves: class {normal} is normal, every other class an anomaly.",
                            plots.roc(scores, is_outlier)))
    return section
