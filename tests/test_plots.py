import io

import numpy as np
import pytest
from PIL import Image

from aekit import GAN, Autoencoder, VariationalAutoencoder, plots
from aekit.cli import PLOT_KINDS
from aekit.datasets import load

TINY = dict(hidden=(16,), epochs=2, batch_size=64, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def digits():
    return load("digits")


@pytest.fixture(scope="module")
def mlp(digits):
    """Every part a picture is about: image shape, sparsity, noise, a 4-D code."""
    return Autoencoder(latent=4, image_shape=(1, 8, 8), sparsity="l1", noise="masking", **TINY).fit(digits.data)


@pytest.fixture(scope="module")
def conv2d(digits):
    return Autoencoder(arch="conv", latent=2, **{**TINY, "hidden": (8,), "epochs": 1}).fit(digits.data)


@pytest.fixture(scope="module")
def vae2(digits):
    """A VAE with a 2-D latent space: every generative picture applies."""
    return VariationalAutoencoder(latent=2, image_shape=(1, 8, 8), scale="minmax", **TINY).fit(digits.data)


def png_size(fig):
    """Render ``fig`` to PNG bytes and return (width, height), checking the image shows something."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    image = Image.open(io.BytesIO(buffer.getvalue()))
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5, "the picture is (almost) one colour"
    return image.size


def tiles(fig):
    """The single images of a figure's tiled pictures, in order (RGB arrays)."""
    return [image.get_array()[top:top + h, left:left + w]
            for ax in fig.axes for image in ax.images for top, left, h, w in image.tiles]


def test_every_picture_suits_a_full_model_and_renders(mlp, vae2, digits):
    gan = GAN(hidden=(16,), latent=4, epochs=1, image_shape=(1, 8, 8), random_state=0, device="cpu").fit(digits.data)
    # the GAN adds gan-monitor (its loss-curves and samples stand in for the VAE's)
    drawings = {**plots.pictures(mlp, digits.data, digits.target), **plots.pictures(vae2, digits.data),
                **plots.pictures(gan)}
    # `aekit plot` draws each of them
    assert set(drawings) == set(PLOT_KINDS)
    for draw in (lambda: plots.interpolation(gan, digits.data[0], digits.data[1]),
                 lambda: plots.traversal(gan, digits.data[0])):
        with pytest.raises(ValueError, match="needs a model that encodes and decodes rows; GAN does not"):
            draw()
    for name, draw in drawings.items():
        width, height = png_size(draw())
        assert 250 <= width <= 2000 and 150 <= height <= 1500, (name, width, height)


def test_pictures_leave_out_what_does_not_apply(digits):
    flat = Autoencoder(latent=2, **TINY).fit(digits.data)  # no image shape, no sparsity, no noise
    assert set(plots.pictures(flat)) == {"loss-curves"}
    assert set(plots.pictures(flat, digits.data)) == {"loss-curves", "reconstructions"}
    assert set(plots.pictures(flat, digits.data, digits.target)) == {"loss-curves", "reconstructions",
                                                                      "latent-scatter"}
    assert plots.pictures(Autoencoder()) == {}


def heatmaps(fig):
    """Each labelled heatmap of a figure of rows that are not images: label -> its array."""
    return {ax.get_ylabel(): ax.images[0].get_array() for ax in fig.axes if ax.images and ax.get_ylabel()
            and ax.get_label() != "<colorbar>"}


def test_rows_that_are_not_images_are_drawn_as_heatmaps():
    rng = np.random.default_rng(0)
    # features in very different units: each is scaled to its own range, or the large one hides the rest
    table = np.column_stack([rng.normal(size=200), 1000 * rng.normal(size=200), rng.uniform(size=200)])
    table = table.astype(np.float32)
    ae = Autoencoder(latent=2, **TINY).fit(table)
    fig = plots.reconstructions(ae, table, n=7)
    shown = heatmaps(fig)
    assert list(shown) == ["input", "reconstruction"]
    assert shown["input"].shape == shown["reconstruction"].shape == (7, 3)
    low, high = table.min(0), table.max(0)
    np.testing.assert_allclose(shown["input"], (table[:7] - low) / (high - low), rtol=1e-5)
    png_size(fig)
    vae = VariationalAutoencoder(latent=2, scale="minmax", **TINY).fit(table)
    assert set(plots.pictures(vae, table)) == {"loss-curves", "samples", "reconstructions", "interpolation",
                                               "traversal"}
    assert heatmaps(plots.samples(vae, n=5))["samples"].shape == (5, 3)
    assert list(heatmaps(plots.traversal(vae, table[0]))) == ["z0", "z1"]
    with pytest.raises(ValueError, match=r"not images \(if they are, give image_shape"):
        plots.filters(ae)
    with pytest.raises(ValueError, match="too many for one picture"):
        plots.image_rows({"rows": np.zeros((plots.MAX_IMAGES + 1, 3))}, None)


def test_reconstructions_input_above_output(mlp, digits):
    fig = plots.reconstructions(mlp, digits.data, n=6)
    assert len(tiles(fig)) == 12
    assert [ax.get_ylabel() for ax in fig.axes] == ["input", "reconstruction"]
    png_size(fig)


def test_reconstructions_take_an_image_shape(digits):
    flat = Autoencoder(latent=2, **TINY).fit(digits.data)
    assert len(tiles(plots.reconstructions(flat, digits.data, n=3, image_shape=(8, 8)))) == 6
    with pytest.raises(ValueError, match="does not fit 64 features"):
        plots.reconstructions(flat, digits.data, image_shape=(1, 7, 7))
    with pytest.raises(ValueError, match="nothing to show"):
        plots.reconstructions(flat, digits.data, n=0, image_shape=(8, 8))


def test_denoising_shows_clean_corrupted_denoised(mlp, digits):
    fig = plots.denoising(mlp, digits.data, n=5)  # the model's own noise: masking 0.3
    assert len(tiles(fig)) == 15
    assert [ax.get_ylabel() for ax in fig.axes] == ["clean", "corrupted", "denoised"]
    clean, noisy = (tiles(fig)[i] for i in (0, 5))
    assert (noisy == 0).sum() > (clean == 0).sum()  # masking zeroed some pixels
    assert fig._suptitle.get_text() == "Autoencoder: masking noise, level 0.3"
    other = plots.denoising(mlp, digits.data, "salt_and_pepper", 0.2, n=5)
    assert other._suptitle.get_text() == "Autoencoder: salt-and-pepper noise, level 0.2"
    png_size(other)


def test_denoising_needs_a_noise_for_a_model_trained_without(conv2d, digits):
    with pytest.raises(ValueError, match="trained without noise"):
        plots.denoising(conv2d, digits.data)
    assert len(tiles(plots.denoising(conv2d, digits.data, "gaussian", 0.1, n=4))) == 12


@pytest.mark.parametrize("n, shown", [(64, 16), (5, 5)])
def test_filters_of_a_dense_first_layer(mlp, n, shown):
    fig = plots.filters(mlp, n=n)
    assert len(tiles(fig)) == shown
    assert tiles(fig)[0].shape == (8, 8, 3)
    png_size(fig)


def test_filters_of_a_convolutional_first_layer(conv2d):
    fig = plots.filters(conv2d)
    assert len(tiles(fig)) == 8 and tiles(fig)[0].shape == (3, 3, 3)
    assert "3x3 kernels" in fig._suptitle.get_text()
    png_size(fig)


def test_loss_curves_one_panel_per_phase():
    def record(phase, epoch, loss):
        return {"phase": phase, "epoch": epoch, "recon": loss, "sparsity": 0.1, "loss": loss + 0.01,
                "val_recon": loss * 1.1, "val_sparsity": 0.1, "val_loss": loss * 1.1 + 0.01, "time": 1.0}

    history = [record(phase, e, 10.0 / e) for phase in ("layer 1", "layer 2", "fine-tune") for e in (1, 2, 3)]
    fig = plots.loss_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["layer 1", "layer 2", "fine-tune"]
    for ax in fig.axes:  # three terms, training and validation, each in its colour
        assert len(ax.lines) == 6 and ax.get_yscale() == "log"
    assert len(fig.legends) == 1
    png_size(fig)


def test_loss_curves_of_an_estimator_and_one_term(mlp):
    fig = plots.loss_curves(mlp)
    assert len(fig.axes) == 1 and fig._suptitle.get_text() == "Autoencoder"
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert labels == ["loss", "loss (validation)", "recon", "recon (validation)", "sparsity",
                      "sparsity (validation)"]
    # a single term is the total: one curve (and its validation) says it
    single = plots.loss_curves([{"epoch": 1, "recon": 2.0, "loss": 2.0, "time": 0.1}])
    assert [line.get_label() for line in single.axes[0].lines] == ["loss"]
    png_size(single)
    with pytest.raises(ValueError, match="no training history"):
        plots.loss_curves([])


def test_code_histogram_reports_sparsity(mlp, digits):
    fig = plots.code_histogram(mlp, digits.data, bins=20)
    codes = mlp.transform(digits.data)
    text = fig.axes[0].texts[0].get_text()
    assert f"exact zeros: {(codes == 0).mean():.1%}" in text and "mean activation" in text
    assert len(fig.axes[1].patches) == 4  # one bar per code unit
    assert fig.axes[1].texts[0].get_text() == f"units never active: {(codes == 0).all(0).sum()} of 4"
    png_size(fig)


@pytest.mark.parametrize("model", ["conv2d", "mlp"])
@pytest.mark.parametrize("labels", [None, "numbers", "names", "many"])
def test_latent_scatter(model, labels, digits, request):
    est = request.getfixturevalue(model)
    y = {"numbers": digits.target, "names": np.array(["even", "odd"])[digits.target % 2],
         "many": np.arange(len(digits.target)) % 30, None: None}[labels]
    fig = plots.latent_scatter(est, digits.data, y)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("code 1" if model == "conv2d" else "principal component 1 (")
    legend = ax.get_legend()
    if labels in ("numbers", "names"):
        assert [t.get_text() for t in legend.get_texts()] == ([str(i) for i in range(10)] if labels == "numbers"
                                                            else ["even", "odd"])
    else:
        assert legend is None
    assert len(fig.axes) == (2 if labels == "many" else 1)  # a colour bar for many labels
    png_size(fig)


def test_latent_scatter_checks_labels(conv2d, digits):
    with pytest.raises(ValueError, match="3 labels for 1797 rows"):
        plots.latent_scatter(conv2d, digits.data, [0, 1, 2])


def test_samples_grid_of_a_vae_and_a_gan(vae2, digits):
    assert len(tiles(plots.samples(vae2, n=10))) == 10
    with pytest.raises(ValueError, match="1025 images are too many for one picture: at most 1024"):
        plots.samples(vae2, n=plots.MAX_IMAGES + 1)
    gan = GAN(hidden=(16,), latent=4, epochs=1, image_shape=(1, 8, 8), random_state=0, device="cpu").fit(digits.data)
    fig = plots.samples(gan, n=9)
    assert len(tiles(fig)) == 9
    png_size(fig)
    with pytest.raises(ValueError, match="does not generate"):
        plots.samples(Autoencoder(**TINY).fit(digits.data))
    # a generator has no encoder: the pictures drawn with one say so
    for draw, needs in ((lambda: plots.reconstructions(gan, digits.data), "reconstructions needs a model that "
                         "reconstructs rows; GAN does not"),
                        (lambda: plots.filters(gan), "filters needs a model that encodes rows"),
                        (lambda: plots.latent_scatter(gan, digits.data), "latent-scatter needs a model that encodes"),
                        (lambda: plots.code_histogram(gan, digits.data), "code-histogram needs a model that encodes")):
        with pytest.raises(ValueError, match=needs):
            draw()


def test_gan_monitor_shows_accuracies_and_class_shares(digits):
    from sklearn.linear_model import LogisticRegression
    classifier = LogisticRegression(max_iter=200).fit(digits.data, digits.target)
    gan = GAN(hidden=(16,), latent=4, epochs=2, random_state=0, device="cpu", monitor_classifier=classifier,
              monitor_samples=100).fit(digits.data)
    assert "gan-monitor" in plots.pictures(gan)
    fig = plots.gan_monitor(gan)
    accuracy, shares = fig.axes[:2]
    np.testing.assert_allclose(accuracy.lines[1].get_ydata(), [r["d_acc_fake"] for r in gan.history_])
    class_lines = shares.lines[:-1]  # the last line marks the even share
    assert [line.get_label() for line in class_lines] == [str(c) for c in range(10)]
    np.testing.assert_allclose(np.sum([line.get_ydata() for line in class_lines], axis=0), 1.0)
    png_size(fig)
    # without a monitor classifier: the accuracy panel alone
    plain = GAN(hidden=(16,), latent=4, epochs=1, random_state=0, device="cpu").fit(digits.data)
    assert len(plots.gan_monitor(plain).axes) == 1
    with pytest.raises(ValueError, match="no GAN monitor"):
        plots.gan_monitor([{"epoch": 1, "loss": 1.0}])


def test_manifold_tiles_the_2d_latent_space(vae2, mlp, digits):
    fig = plots.manifold(vae2, n=5)
    assert len(tiles(fig)) == 25
    first, last = tiles(fig)[0], tiles(fig)[-1]
    assert not np.allclose(first, last)  # opposite corners decode differently
    with pytest.raises(ValueError, match="latent=2"):
        plots.manifold(mlp)
    # a GAN's codes are draws from N(0, I): its grid spans -3 to 3
    gan = GAN(hidden=(16,), latent=2, epochs=1, image_shape=(1, 8, 8), random_state=0, device="cpu").fit(digits.data)
    assert len(tiles(plots.manifold(gan, n=4))) == 16


def test_interpolation_runs_from_one_reconstruction_to_the_other(vae2, digits):
    a, b = digits.data[0], digits.data[1]
    path = vae2.interpolate(a, b, steps=5)
    np.testing.assert_allclose(path[[0, -1]], vae2.reconstruct(digits.data[:2]), atol=1e-5)
    assert len(tiles(plots.interpolation(vae2, a, b, steps=5))) == 2 + 5  # the inputs above the path


def test_traversal_one_row_per_dimension(vae2, mlp, digits):
    fig = plots.traversal(vae2, digits.data[0])
    assert len(tiles(fig)) == 2 * 9
    fig = plots.traversal(mlp, digits.data[0], dims=[3], values=[-1, 0, 1])  # any autoencoder walks its codes
    assert len(tiles(fig)) == 3
    with pytest.raises(ValueError, match="must be latent dimensions"):
        plots.traversal(mlp, digits.data[0], dims=[4])
