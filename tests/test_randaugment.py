"""RandAugment, FixMatch's strong view for few labels: seeded, shapes and values kept, each operation
doing what it says."""

from types import SimpleNamespace

import pytest
import torch

from aekit.apps.classifier.fixmatch import STRONG_VIEWS
from aekit.apps.classifier.phases import FEW_LABEL_STEPS, few_label_settings
from aekit.apps.classifier.randaugment import (
    OPERATIONS,
    autocontrast,
    equalize,
    posterize,
    rand_augment,
    rand_augment_view,
    rotate,
    solarize,
    translate_x,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("shape", [(16, 1, 28, 28), (16, 3, 8, 8)])
def test_views_are_seeded_and_keep_shape_and_range(shape):
    x = torch.rand(*shape)
    a, b = (rand_augment_view(x, torch.Generator().manual_seed(0)) for _ in range(2))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, rand_augment_view(x, torch.Generator().manual_seed(1)))
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, x)


def test_the_generator_advances_alike_whatever_is_picked():
    # the draws per batch do not depend on the picks: after a batch of 8 or of other images, the same state
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    rand_augment(torch.rand(8, 1, 8, 8), g1)
    rand_augment(torch.zeros(8, 1, 8, 8), g2)
    assert torch.equal(g1.get_state(), g2.get_state())


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.__name__)
def test_every_operation_keeps_shape_and_range_at_any_magnitude(operation):
    x = torch.rand(6, 2, 10, 10)
    m = torch.tensor([0.0, 0.2, 0.5, 0.8, 1.0, 1.0])
    s = torch.tensor([1.0, -1, 1, -1, 1, -1])
    y = operation(x, m, s)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1


def test_operations_at_magnitude_zero_leave_the_geometry_as_it_is():
    x = torch.rand(3, 1, 12, 12)
    zero, one = torch.zeros(3), torch.ones(3)
    torch.testing.assert_close(rotate(x, zero, one), x, atol=1e-5, rtol=0)
    torch.testing.assert_close(translate_x(x, zero, one), x, atol=1e-5, rtol=0)
    assert torch.equal(solarize(x.clamp(max=0.99), zero, one), x.clamp(max=0.99))


def test_value_operations_do_what_they_say():
    ramp = torch.linspace(0.2, 0.6, 64).view(1, 1, 8, 8)
    stretched = autocontrast(ramp, torch.ones(1), torch.ones(1))
    assert stretched.min() == 0 and torch.isclose(stretched.max(), torch.tensor(1.0))
    assert torch.isclose(solarize(ramp, torch.ones(1), torch.ones(1)), 1 - ramp).all()  # all >= 0: inverted
    four_bits = posterize(ramp, torch.ones(1), torch.ones(1))
    assert len(four_bits.unique()) <= 16
    flat = equalize(ramp, torch.ones(1), torch.ones(1))
    # 64 distinct values equalised spread over [0, 1]
    assert flat.min() == 0 and flat.max() == 1
    dot = torch.zeros(1, 1, 9, 9)
    dot[..., 4, 2] = 1
    moved = rotate(dot, torch.ones(1), torch.ones(1))  # 30 degrees about the centre: the dot moves
    assert moved[..., 4, 2] < 0.5 and moved.sum() > 0.5


def test_auto_gives_randaugment_to_few_labels_only():
    auto = SimpleNamespace(thresholds="auto", distribution_alignment="auto", propagation_rounds="auto",
                           augmentation="auto", steps=None)
    assert few_label_settings(auto, 100, 10) == ("flexible", True, 2, "randaugment", FEW_LABEL_STEPS)
    assert few_label_settings(auto, 1000, 10)[-2:] == ("basic", None)  # None: the method's budget
    given = SimpleNamespace(**{**vars(auto), "augmentation": "basic", "steps": 40})
    assert few_label_settings(given, 100, 10)[-2:] == ("basic", 40)
    assert STRONG_VIEWS["randaugment"] is rand_augment_view
