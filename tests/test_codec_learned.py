"""The learned codecs: the rate-distortion autoencoder and the VQ-VAE, their bottlenecks, and their
files through aekit.codec and the CLI."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

import aekit
from aekit import Autoencoder, codec, plots
from aekit.cli import main
from aekit.datasets import load
from aekit.estimators.rate_distortion import CODE_STEP, RateDistortionAutoencoder
from aekit.estimators.vqvae import VQVAE
from aekit.nn.quantised import EntropyBottleneck, LogisticMixturePrior, VectorQuantiser, usage_and_perplexity

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    """(training rows, test rows) of the 8x8 digits."""
    return tuple(load("digits", split=split).data for split in ("train", "test"))


@pytest.fixture(scope="module")
def rd(digits):
    return RateDistortionAutoencoder(hidden=(32,), latent=8, epochs=8, prior="factorised", random_state=0,
                                     device="cpu").fit(digits[0])


@pytest.fixture(scope="module")
def vq(digits):
    return VQVAE(hidden=(32,), latent=8, code_dim=2, codebook_size=16, epochs=8, random_state=0,
                 device="cpu").fit(digits[0])


# ---- the parts ------------------------------------------------------------------------------------
def test_prior_gives_each_integer_its_mass_and_the_masses_sum_to_one():
    torch.manual_seed(0)
    prior = LogisticMixturePrior(latent=3, components=3)
    with torch.no_grad():
        prior.location.normal_(0, 3)
        prior.log_scales.normal_(0, 0.5)
    y = torch.arange(-200, 201, dtype=torch.float32)[:, None].expand(-1, 3)
    mass = prior.likelihood(y)
    torch.testing.assert_close(mass.sum(0), torch.ones(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(mass, prior.cdf(y + 0.5) - prior.cdf(y - 0.5), atol=1e-6, rtol=0)
    tables = prior.tables(np.array([-5, -5, -5]), np.array([5, 5, 5]))
    # the coding tables hold the same masses (the tails folded into the end bins), as integers
    inner = mass[196:205].detach().numpy()  # y = -4 .. 4
    for j, table in enumerate(tables):
        assert table.dtype == np.int64 and len(table) == 11
        np.testing.assert_allclose(table[1:-1] / table.sum(), inner[:, j], atol=1e-5)


def test_entropy_bottleneck_decodes_rounded_codes_and_rates_noisy_ones():
    bottleneck = EntropyBottleneck(latent=2, step=0.25)
    x = torch.tensor([[0.1, 0.3], [-0.6, 1.0]])
    assert bottleneck(x).tolist() == [[0.0, 0.25], [-0.5, 1.0]]
    x.requires_grad_(True)
    code, terms = bottleneck.sample(x, torch.Generator().manual_seed(0))
    # the decoder gets the rounded codes, with the identity's gradient; the rate is of noisy ones
    assert torch.equal(code, bottleneck(x))
    code.sum().backward()
    torch.testing.assert_close(x.grad, torch.ones_like(x))
    assert terms["rate"] > 0 and terms["rate"].requires_grad
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(0))
    noisy_rate = bottleneck.prior.bits(x.detach() / 0.25 + noise - 0.5).sum(-1).mean()
    torch.testing.assert_close(terms["rate"], noisy_rate)


def test_vector_quantiser_picks_the_nearest_entry_and_restarts_dead_ones():
    torch.manual_seed(0)
    vq = VectorQuantiser(positions=1, dim=2, codebook_size=4)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [100.0, 100.0]]))
    vq.started.fill_(True)
    assert vq.indices(torch.tensor([[0.9, 0.1], [0.1, 0.2]])).flatten().tolist() == [1, 0]
    vq.train()
    vectors = torch.rand(64, 2)  # never near entry 3: it dies and is restarted among the vectors
    for _ in range(400):
        vq.sample(vectors, torch.Generator().manual_seed(1))
    assert vq.codebook[3].abs().max() <= 1.0
    assert usage_and_perplexity(torch.tensor([5.0, 5.0, 5.0, 5.0])) == (1.0, 4.0)


# ---- the rate-distortion autoencoder --------------------------------------------------------------
def test_rd_codes_are_integers_that_the_codec_keeps(rd, digits):
    X = digits[0][:50]  # training rows: their codes lie within the tables' range
    codes = rd.transform(X)
    np.testing.assert_array_equal(codes / CODE_STEP, np.round(codes / CODE_STEP))
    data = codec.compress(rd, X)
    header = codec.read_header(data)
    assert (header.version, header.bits, header.latent) == (2, 0, 8)
    np.testing.assert_array_equal(codec.decompress(rd, data), rd.reconstruct(X))
    np.testing.assert_array_equal(rd.decode_symbols(rd.code_symbols(X)), rd.reconstruct(X))
    # the payload is the ideal code length under the tables, to the coder's fixed-point rounding of
    # the probabilities and its last 32-bit word
    ideal = rd.bits_per_row(X).sum() / 8
    assert 0.99 * ideal <= header.payload_size <= 1.01 * ideal + 4
    assert {"rate", "recon", "val_rate"} <= set(rd.history_[-1])


def test_rd_test_rows_beyond_the_range_are_clipped(rd, digits):
    X = digits[1]
    symbols = rd.code_symbols(X)
    sizes = np.array([len(t) for t in rd.symbol_tables_])
    assert symbols.min() >= 0 and np.all(symbols.max(0) < sizes)
    np.testing.assert_array_equal(codec.decompress(rd, codec.compress(rd, X)), rd.decode_symbols(symbols))


def test_rd_more_rate_weight_fewer_bits(digits):
    bits = [RateDistortionAutoencoder(hidden=(32,), latent=8, epochs=8, rate_weight=w, random_state=0,
                                      device="cpu").fit(digits[0]).bits_per_row(digits[1]).mean()
            for w in (0.0, 1.0)]
    assert bits[1] < 0.7 * bits[0]


@pytest.mark.parametrize("bad", [-1, -1e-9, float("nan"), "0.1", None])
def test_rate_weight_below_zero_is_refused(digits, bad):
    with pytest.raises(ValueError, match=r"RateDistortionAutoencoder: invalid value rate_weight=.*expected a "
                                         r"number in \[0, inf\)"):
        RateDistortionAutoencoder(rate_weight=bad, epochs=1).fit(digits[0][:20])


@pytest.mark.parametrize("fixture", ["rd", "vq"])
def test_saved_models_decode_the_same_and_samples_look_like_rows(fixture, digits, tmp_path, request):
    model = request.getfixturevalue(fixture)
    data = codec.compress(model, digits[1][:20])
    model.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert codec.model_hash(loaded) == codec.model_hash(model)
    np.testing.assert_array_equal(codec.decompress(loaded, data), codec.decompress(model, data))
    np.testing.assert_array_equal(loaded.transform(digits[1]), model.transform(digits[1]))
    samples = loaded.sample(5, random_state=0)
    assert samples.shape == (5, 64)
    np.testing.assert_array_equal(samples, model.sample(5, random_state=0))


@pytest.mark.parametrize("fixture", ["rd", "vq"])
def test_damaged_files_and_other_models_are_refused(fixture, digits, ae_of_digits, request):
    model = request.getfixturevalue(fixture)
    data = codec.compress(model, digits[1][:6])
    for position in range(0, len(data), 3):
        damaged = bytearray(data)
        damaged[position] ^= 0x10
        with pytest.raises(ValueError, match="checksum mismatch|not aekit|format version|truncated|trailing"):
            codec.decompress(model, bytes(damaged))
    with pytest.raises(ValueError, match="truncated: the header promises"):
        codec.decompress(model, data[:-1])
    other = clone(model).set_params(random_state=1).fit(digits[0])
    with pytest.raises(ValueError, match="made by another model"):
        codec.decompress(other, data)
    with pytest.raises(ValueError, match="made by another model"):
        codec.decompress(model, codec.compress(ae_of_digits, digits[1][:6]))
    with pytest.raises(ValueError, match="made by another model"):
        codec.decompress(ae_of_digits, data)


@pytest.fixture(scope="module")
def ae_of_digits(digits):
    return Autoencoder(hidden=(16,), latent=4, epochs=2, random_state=0, device="cpu").fit(digits[0])


# ---- the VQ-VAE -----------------------------------------------------------------------------------
def test_vq_codes_are_codebook_entries_and_the_history_records_their_use(vq, digits):
    X = digits[1][:30]
    codes = vq.transform(X).reshape(-1, 2)
    codebook = vq.model_.bottleneck.codebook.numpy()
    assert np.all(np.abs(codes[:, None, :] - codebook[None]).sum(-1).min(1) == 0)
    symbols = vq.code_symbols(X)
    assert symbols.shape == (30, 4) and symbols.max() < 16
    np.testing.assert_array_equal(codec.decompress(vq, codec.compress(vq, X)), vq.reconstruct(X))
    last = vq.history_[-1]
    assert 0 < last["codebook_usage"] <= 1 and 1 <= last["perplexity"] <= 16
    assert [len(t) for t in vq.symbol_tables_] == [16] * 4


def test_vq_restarts_keep_the_codebook_in_use(digits):
    usage = {restarts: VQVAE(hidden=(32,), latent=8, code_dim=2, codebook_size=64, epochs=6, restarts=restarts,
                             random_state=0, device="cpu").fit(digits[0]).history_[-1]["codebook_usage"]
             for restarts in (True, False)}
    # without restarts the codebook collapses to a few entries (4 of 64 here)
    assert usage[True] > 0.5 and usage[False] < 0.2


@pytest.mark.parametrize("params, message", [
    ({"latent": 7, "code_dim": 2}, "latent=7 must be a multiple of code_dim=2"),
    ({"decay": 1.0}, "decay=1 would never move the codebook"),
    ({"codebook_size": 1}, "invalid value codebook_size=1")])
def test_vq_parameters_are_checked(digits, params, message):
    with pytest.raises(ValueError, match=message):
        VQVAE(epochs=1, **params).fit(digits[0][:20])


# ---- the CLI --------------------------------------------------------------------------------------
def test_cli_trains_compresses_and_refuses_bad_input(digits, tmp_path, capsys):
    np.save(tmp_path / "train.npy", digits[0][:300])
    np.save(tmp_path / "test.npy", digits[1][:25])
    model, codes, back = tmp_path / "rd", tmp_path / "codes.aek", tmp_path / "back.npy"
    assert main(["train", "rdae", "--data", str(tmp_path / "train.npy"), "--out", str(model), "--epochs", "2",
                 "--set", "hidden=[16]", "--set", "latent=4", "--device", "cpu", "--quiet"]) == 0
    assert main(["compress", "--model", str(model), "--data", str(tmp_path / "test.npy"), "--out", str(codes)]) == 0
    said = capsys.readouterr().out
    assert "25 rows in" in said and "integer codes under the model's own entropy model" in said
    assert main(["decompress", "--model", str(model), "--in", str(codes), "--out", str(back)]) == 0
    np.testing.assert_array_equal(np.load(back), aekit.load(model).reconstruct(np.load(tmp_path / "test.npy")))

    damaged = bytearray(codes.read_bytes())
    damaged[40] ^= 1
    (tmp_path / "flipped.aek").write_bytes(bytes(damaged))
    (tmp_path / "short.aek").write_bytes(codes.read_bytes()[:-3])
    for name, message in [("flipped.aek", "checksum mismatch"), ("short.aek", "truncated")]:
        capsys.readouterr()
        assert main(["decompress", "--model", str(model), "--in", str(tmp_path / name), "--out",
                     str(tmp_path / "x.npy")]) == 2
        assert message in capsys.readouterr().err
    assert main(["train", "rdae", "--data", str(tmp_path / "train.npy"), "--out", str(tmp_path / "bad"),
                 "--set", "rate_weight=-0.5", "--quiet"]) == 2
    assert "invalid value rate_weight=-0.5" in capsys.readouterr().err
    assert not (tmp_path / "x.npy").exists() and not (tmp_path / "bad" / "config.json").exists()


# ---- the picture ----------------------------------------------------------------------------------
def test_rate_distortion_plot_in_bits_per_pixel():
    fig = plots.rate_distortion({"RD": [(98.0, 22.0), (49.0, 20.0)], "VQ-VAE": [(49.0, 19.0)],
                                 "AVIF": [(400.0, float("inf"))]}, pixels=784)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "bits per pixel (log scale)"
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"RD", "VQ-VAE"}  # a curve of infinite PSNRs (lossless) cannot be drawn
    assert lines["RD"].get_xdata().tolist() == pytest.approx([0.5, 1.0])
    assert lines["VQ-VAE"].get_linestyle() == "None"
