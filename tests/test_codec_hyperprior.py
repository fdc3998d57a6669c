"""The rate-distortion autoencoder with a hyperprior: its bottleneck, its coding tables and its files
(container format 3)."""

import struct
import zlib

import numpy as np
import pytest
import torch

import aekit
from aekit import codec
from aekit.datasets import load
from aekit.estimators.rate_distortion import RateDistortionAutoencoder
from aekit.nn.hyperprior import MEAN_OFFSETS, SCALES, HyperpriorBottleneck, interval_mass, residual_tables, table_choice

pytestmark = pytest.mark.usefixtures("one_thread")
PARAMS = {"hidden": (32,), "latent": 8, "epochs": 8, "prior": "hyperprior", "side": 3, "groups": 2,
          "random_state": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    return tuple(load("digits", split=split).data for split in ("train", "test"))


@pytest.fixture(scope="module")
def hp(digits):
    return RateDistortionAutoencoder(**PARAMS).fit(digits[0])


@pytest.fixture(scope="module")
def factorised(digits):
    return RateDistortionAutoencoder(**{**PARAMS, "prior": "factorised"}).fit(digits[0])


# ---- the parts ------------------------------------------------------------------------------------
def test_interval_masses_of_the_integers_sum_to_one_and_the_tables_hold_them():
    y = torch.arange(-60, 61, dtype=torch.float64)
    for mean, scale in [(0.0, 0.11), (0.3, 1.0), (-2.7, 7.5)]:
        mass = interval_mass(y, torch.tensor(mean, dtype=torch.float64), torch.tensor(scale, dtype=torch.float64))
        assert float(mass.sum()) == pytest.approx(1.0, abs=1e-6)
    tables = residual_tables(3)
    assert tables.shape == (len(SCALES) * len(MEAN_OFFSETS), 7) and tables.min() >= 1
    # the row of (the scale nearest 1, offset 0) holds N(0, that scale)'s masses of -3 .. 3
    index, shift = table_choice(torch.tensor([[5.0]]), torch.tensor([[1.0]]))
    assert int(shift) == 5 and np.argmax(tables[int(index)]) == 3
    expected = interval_mass(torch.arange(-3.0, 4.0), torch.tensor(0.0), torch.tensor(float(SCALES[int(index) // 9])))
    # (the mass beyond +-3 is left out: residuals cannot go there)
    np.testing.assert_allclose(tables[int(index)] / tables[int(index)].sum(), expected / expected.sum(), atol=1e-5)


def test_table_choice_takes_the_nearest_scale_and_eighth_of_the_mean():
    index, shift = table_choice(torch.tensor([2.3, -0.49, 7.5]), torch.tensor([SCALES[10], 0.01, 1e6]))
    assert shift.tolist() == [2, 0, 8]
    assert (index // len(MEAN_OFFSETS)).tolist() == [10, 0, len(SCALES) - 1]
    # 0.3 -> 1/4 (offset 6 of 9: -1/2 + 6/8), 0.01 (-0.49 rounds to 0) -> -1/2, -0.5 (7.5 rounds to 8) -> -1/2
    assert (index % len(MEAN_OFFSETS)).tolist() == [6, 0, 0]


def test_hyperprior_bottleneck_rates_both_codes_and_groups_read_only_earlier_groups():
    torch.manual_seed(0)
    bottleneck = HyperpriorBottleneck(latent=6, side=2, groups=3, step=0.5, joint=True)
    x = torch.randn(16, 6, requires_grad=True)
    code, terms = bottleneck.sample(x, torch.Generator().manual_seed(0))
    assert torch.equal(code, bottleneck(x)) and set(terms) == {"rate", "side_rate"}
    (terms["rate"] + terms["side_rate"]).backward()
    assert x.grad.abs().sum() > 0 and bottleneck.heads[2][0].weight.grad.abs().sum() > 0
    side, codes = torch.randn(4, 2).round(), torch.randn(4, 6).round()
    later = codes.clone()
    later[:, 2:] = 99.0  # the second group (dimensions 2, 3) reads dimensions 0, 1 only
    for a, b in zip(bottleneck.group_parameters(side, codes, 1), bottleneck.group_parameters(side, later, 1)):
        assert torch.equal(a, b)


# ---- the estimator and its files ------------------------------------------------------------------
def test_hyperprior_codes_decode_exactly_and_cost_what_the_model_says(hp, digits):
    X = digits[1]
    data = codec.compress(hp, X)
    header = codec.read_header(data)
    assert (header.version, header.bits, header.latent) == (codec.HYPERPRIOR_VERSION, 0, 8)
    np.testing.assert_array_equal(codec.decompress(hp, data), hp.decode_symbols(hp.code_symbols(X)))
    ideal = hp.bits_per_row(X).sum() / 8
    assert 0.99 * ideal <= header.payload_size <= 1.01 * ideal + 4
    assert {"rate", "recon", "val_rate", "context_rate"} <= set(hp.history_[-1])
    empty = codec.compress(hp, X[:0])
    assert codec.decompress(hp, empty).shape == (0, 64)


def test_the_fitted_hyperprior_codes_the_factorised_models_codes_in_fewer_bits(hp, factorised, digits):
    # under one seed both priors train the same networks: the same codes, decoded the same
    np.testing.assert_array_equal(hp.code_symbols(digits[1]), factorised.code_symbols(digits[1]))
    assert hp.history_[-1]["recon"] == factorised.history_[-1]["recon"]
    assert len(codec.compress(hp, digits[1])) < 0.95 * len(codec.compress(factorised, digits[1]))


def test_the_joint_hyperprior_logs_both_rates_and_decodes_exactly(digits):
    joint = RateDistortionAutoencoder(**{**PARAMS, "prior": "hyperprior-joint", "epochs": 3}).fit(digits[0])
    assert {"rate", "side_rate", "val_side_rate"} <= set(joint.history_[-1]) and joint.history_[-1]["side_rate"] > 0
    data = codec.compress(joint, digits[1])
    np.testing.assert_array_equal(codec.decompress(joint, data), joint.decode_symbols(joint.code_symbols(digits[1])))


def test_hyperprior_is_deterministic_under_a_seed_and_survives_saving(hp, digits, tmp_path):
    again = RateDistortionAutoencoder(**PARAMS).fit(digits[0])
    data = codec.compress(hp, digits[1][:40])
    assert codec.compress(again, digits[1][:40]) == data
    hp.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert codec.model_hash(loaded) == codec.model_hash(hp)
    # the coding tables travel with the weights (their size set by the saved ones), not in config.json
    np.testing.assert_array_equal(loaded.residual_tables_, hp.residual_tables_)
    assert (tmp_path / "m" / "config.json").stat().st_size < 20_000
    np.testing.assert_array_equal(codec.decompress(loaded, data), codec.decompress(hp, data))
    np.testing.assert_array_equal(loaded.sample(5, random_state=0), hp.sample(5, random_state=0))
    assert hp.sample(5, random_state=0).shape == (5, 64)


def test_hyperprior_files_cut_or_flipped_or_of_another_model_are_refused(hp, factorised, digits):
    data = codec.compress(hp, digits[1][:6])
    for position in range(0, len(data), 3):
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        with pytest.raises(ValueError, match="checksum mismatch|not aekit|format version|truncated|trailing"):
            codec.decompress(hp, bytes(damaged))
    with pytest.raises(ValueError, match="truncated: the header promises"):
        codec.decompress(hp, data[:-4])
    assert codec.read_header(codec.compress(factorised, digits[1][:6])).version == 2
    with pytest.raises(ValueError, match="made by another model"):
        codec.decompress(factorised, data)


def test_a_file_relabelled_as_format_3_is_refused_by_a_model_without_a_hyperprior(digits):
    rd = RateDistortionAutoencoder(**{**PARAMS, "prior": "factorised", "epochs": 1}).fit(digits[0])
    data = bytearray(codec.compress(rd, digits[1][:3]))
    data[4] = codec.HYPERPRIOR_VERSION
    data[28:32] = struct.pack("<I", zlib.crc32(bytes(data[32:]), zlib.crc32(bytes(data[:28]))))
    with pytest.raises(ValueError, match="invalid header: codes under a hyperprior"):
        codec.decompress(rd, bytes(data))


def test_groups_beyond_the_code_are_refused(digits):
    with pytest.raises(ValueError, match="groups=9 is more than latent=8"):
        RateDistortionAutoencoder(**{**PARAMS, "groups": 9}).fit(digits[0][:20])
