"""Training on shifted images (aekit.training.augment; RateDistortionAutoencoder's augment_shift)."""

import numpy as np
import pytest
import torch

from aekit.estimators.rate_distortion import RateDistortionAutoencoder
from aekit.training.augment import shift_images, shifting_step


def dots(n=64, size=9):
    """Images with one bright pixel each, at least 2 pixels from the border."""
    rng = np.random.RandomState(0)
    images = torch.zeros(n, 1, size, size)
    rows, cols = (torch.as_tensor(rng.randint(2, size - 2, n)) for _ in range(2))
    images[torch.arange(n), 0, rows, cols] = 1
    return images


def position(images):
    flat = images.flatten(1).argmax(1)
    return flat // images.shape[-1], flat % images.shape[-1]


def test_shifts_stay_within_bound_and_inside_the_image():
    images = dots()
    shifted = shift_images(images, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape
    assert torch.equal(shifted.sum((1, 2, 3)), images.sum((1, 2, 3)))  # nothing lost: a pixel moves, none appears
    (y0, x0), (y1, x1) = position(images), position(shifted)
    assert (y1 - y0).abs().max() <= 2 and (x1 - x0).abs().max() <= 2
    assert len({(int(a), int(b)) for a, b in zip(y1 - y0, x1 - x0)}) > 10  # many of the 25 offsets drawn


def test_uncovered_pixels_are_zero():
    shifted = shift_images(torch.ones(50, 2, 6, 6), 1, torch.Generator().manual_seed(1))
    assert set(torch.unique(shifted).tolist()) <= {0.0, 1.0}
    assert (shifted.flatten(1).sum(1) >= 2 * 5 * 5).all()  # at most one row and one column uncovered


def test_same_seed_same_shifts():
    images = dots()
    a, b, c = (shift_images(images, 1, torch.Generator().manual_seed(s)) for s in (3, 3, 4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_step_shifts_in_data_units():
    # scaled = (data - offset) / scale: a pixel uncovered by the shift is 0 in data units
    offset, scale = torch.full((16,), 0.5), torch.full((16,), 2.0)
    seen = []

    class Recorder:
        generators = {"noise": torch.Generator().manual_seed(0)}

    step = shifting_step((1, 4, 4), 1, offset, scale, step=lambda trainer, batch: seen.append(batch[0]) or {})
    step(Recorder(), (torch.full((200, 16), 0.25), None))  # data value 1 everywhere
    values = set(torch.unique(seen[0]).tolist())
    assert values == {0.25, -0.25}  # the image, and data 0 where uncovered


def fit(**params):
    X = np.random.RandomState(0).rand(120, 64).astype(np.float32)
    rd = RateDistortionAutoencoder(hidden=(4,), latent=4, epochs=2, random_state=0, device="cpu", **params)
    return rd.fit(X), X


def untimed(history):
    return [{k: v for k, v in record.items() if k != "time"} for record in history]


def test_seeded_model_with_shifts_is_deterministic():
    (a, X), (b, _), (c, _) = fit(arch="conv", augment_shift=1), fit(arch="conv", augment_shift=1), fit(arch="conv")
    assert np.array_equal(a.transform(X), b.transform(X))
    assert untimed(a.history_) == untimed(b.history_)
    assert a.history_[-1]["recon"] != c.history_[-1]["recon"]  # the shifts changed what it trained on


def test_shifts_need_images():
    rd = RateDistortionAutoencoder(hidden=(4,), latent=4, epochs=1, augment_shift=1)
    with pytest.raises(ValueError, match="augment_shift=1 needs image-shaped rows"):
        rd.fit(np.zeros((20, 64), np.float32))
    assert not hasattr(rd, "model_")  # refused before anything was built
    with pytest.raises(ValueError, match="augment_shift"):
        fit(arch="conv", augment_shift=-1)


def test_an_mlp_with_image_shape_trains_on_shifts():
    rd, X = fit(augment_shift=1, image_shape=(1, 8, 8))
    assert rd.transform(X).shape == (120, 4)
