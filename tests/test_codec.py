import hashlib
import json
import struct
import zlib

import numpy as np
import pytest
from safetensors.torch import save as safetensors_bytes
from sklearn.base import clone

import aekit
from aekit import Autoencoder, VariationalAutoencoder, codec
from aekit.apps.codec.entropy import bell_table
from aekit.apps.codec.legacy import range_decode_v1, range_encode_v1
from aekit.cli import main
from aekit.datasets import load

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    return load("digits", split="train").data, load("digits", split="test").data


@pytest.fixture(scope="module")
def ae(digits):
    return Autoencoder(hidden=(32,), latent=6, epochs=5, random_state=0, device="cpu").fit(digits[0])


def _expected(estimator, X, bits):
    """Decoding of the quantised codes, computed without the codec's container."""
    symbols = codec.quantise(estimator.transform(X), estimator.code_range_, bits)
    return estimator.inverse_transform(codec.dequantise(symbols, estimator.code_range_, bits))


@pytest.mark.parametrize("bits", [2, 5, 8, 16])
def test_round_trip_decodes_the_quantised_codes(ae, digits, bits):
    X = digits[1][:40]
    data = codec.compress(ae, X, bits=bits)
    np.testing.assert_array_equal(codec.decompress(ae, data), _expected(ae, X, bits))
    # each code moves by at most half a bin (codes beyond the training range are clipped first)
    low, high = ae.code_range_
    codes = ae.transform(X)
    decoded = codec.dequantise(codec.quantise(codes, ae.code_range_, bits), ae.code_range_, bits)
    half_bin = (high - low) / 2**bits / 2
    rounding = 8 * np.finfo(np.float32).eps * np.maximum(np.abs(low), np.abs(high))  # float32 arithmetic
    assert np.all(np.abs(decoded - np.clip(codes, low, high)) <= half_bin + rounding)


def test_more_bits_approach_the_reconstruction(ae, digits):
    X = digits[1][:100]
    errors = [np.abs(codec.decompress(ae, codec.compress(ae, X, bits)) - ae.reconstruct(X)).mean()
              for bits in (2, 4, 8, 16)]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-3
    sizes = [len(codec.compress(ae, X, bits)) for bits in (2, 4, 8)]
    assert sizes == sorted(sizes)


def test_vae_codes_are_its_means(digits):
    vae = VariationalAutoencoder(hidden=(16,), latent=3, epochs=2, random_state=0, device="cpu").fit(digits[0])
    X = digits[1][:20]
    np.testing.assert_array_equal(codec.decompress(vae, codec.compress(vae, X, 10)), _expected(vae, X, 10))


def test_same_model_same_bytes_and_saved_models_decode(ae, digits, tmp_path):
    X = digits[1][:30]
    data = codec.compress(ae, X, 6)
    assert codec.compress(ae, X, 6) == data
    assert codec.compress(clone(ae).fit(digits[0]), X, 6) == data
    ae.save(tmp_path / "m")
    loaded = aekit.load(tmp_path / "m")
    assert codec.model_hash(loaded) == codec.model_hash(ae)
    np.testing.assert_array_equal(codec.decompress(loaded, data), codec.decompress(ae, data))


def test_model_hash_is_the_digest_of_the_class_weights_scaler_and_code_range(ae):
    # containers written before keep their model hash: this is the formula they were written with
    state = {k: v.detach().cpu().contiguous() for k, v in ae.model_.state_dict().items()}
    expected = hashlib.sha256(b"Autoencoder" + safetensors_bytes(state)
                              + json.dumps(ae.scaler_.to_dict(), sort_keys=True).encode()
                              + np.ascontiguousarray(ae.code_range_, "<f4").tobytes()).hexdigest()
    assert codec.model_hash(ae) == expected


def test_header_fields(ae, digits):
    data = codec.compress(ae, digits[1][:7], bits=5)
    assert data[:4] == codec.MAGIC == b"AEKC"
    header = codec.read_header(data)
    assert header == codec.Header(version=codec.FORMAT_VERSION, model=codec.model_hash(ae)[:16], n_rows=7,
                                  latent=6, n_features=64, bits=5, payload_size=len(data) - codec.HEADER_SIZE)
    assert codec.HEADER_SIZE == 32


@pytest.mark.parametrize("bits", [1, 17, 0, 4.0, True, "8", None])
def test_bits_are_validated(ae, digits, bits):
    with pytest.raises(ValueError, match=r"bits must be an integer in \[2, 16\], got"):
        codec.compress(ae, digits[1][:3], bits=bits)


def test_another_model_is_refused(ae, digits):
    other = clone(ae).set_params(random_state=1).fit(digits[0])
    data = codec.compress(ae, digits[1][:5])
    with pytest.raises(ValueError, match="made by another model: the data needs the model with hash "
                                         f"{codec.model_hash(ae)[:16]}"):
        codec.decompress(other, data)


def test_truncated_or_padded_data_is_refused(ae, digits):
    data = codec.compress(ae, digits[1][:5])
    for end in (codec.HEADER_SIZE, codec.HEADER_SIZE + 1, len(data) - 1):
        with pytest.raises(ValueError, match="truncated: the header promises"):
            codec.decompress(ae, data[:end])
    for end in (2, 10, codec.HEADER_SIZE - 1):
        with pytest.raises(ValueError, match="truncated: .* fewer than the 32-byte header"):
            codec.decompress(ae, data[:end])
    with pytest.raises(ValueError, match="trailing bytes"):
        codec.decompress(ae, data + b"\0")
    with pytest.raises(ValueError, match="not aekit compressed data"):
        codec.decompress(ae, b"\x80\x04 a pickle")
    with pytest.raises(ValueError, match="data must be bytes, got str"):
        codec.decompress(ae, "AEKC")


def test_every_changed_byte_is_caught(ae, digits):
    data = codec.compress(ae, digits[1][:4], bits=8)
    for position in range(len(data)):
        for flip in (0x01, 0x80, 0xFF):
            damaged = bytearray(data)
            damaged[position] ^= flip
            with pytest.raises(ValueError, match="checksum mismatch|not aekit|format version|truncated|trailing"):
                codec.decompress(ae, bytes(damaged))


def test_empty_input(ae):
    data = codec.compress(ae, np.empty((0, 64), np.float32))
    assert codec.read_header(data).n_rows == 0
    assert codec.decompress(ae, data).shape == (0, 64)
    with pytest.raises(ValueError, match="X has 3 features, but Autoencoder is expecting 64"):
        codec.compress(ae, np.empty((0, 3)))


def test_model_without_code_range_is_refused(ae, digits):
    stale = clone(ae).fit(digits[0][:50])
    stale.code_range_ = None  # as loaded from a model saved before code ranges were recorded
    with pytest.raises(ValueError, match="Autoencoder has no code_range_"):
        codec.compress(stale, digits[1][:3])
    with pytest.raises(ValueError, match="not fitted"):
        codec.compress(clone(ae), digits[1][:3])
    generator_only = aekit.GAN(hidden=(8,), latent=2, epochs=1, random_state=0, device="cpu").fit(digits[0][:50])
    with pytest.raises(ValueError, match="GAN cannot compress rows: only an autoencoder"):
        codec.compress(generator_only, digits[1][:3])


@pytest.mark.parametrize("bits", [2, 3, 9, 16])
def test_entropy_coder_round_trips_any_symbols(bits):
    rng = np.random.RandomState(bits)
    top = 2**bits - 1
    cases = [rng.randint(0, top + 1, size=(300, 5)),
             np.clip(rng.normal(top / 2, top / 50 + 0.3, size=(400, 3)).round(), 0, top),  # peaked: carries
             np.full((50, 2), top), np.zeros((1, 1)), np.zeros((0, 4))]
    for symbols in cases:
        symbols = symbols.astype(np.uint16)
        payload = codec.entropy_encode(symbols, bits)
        np.testing.assert_array_equal(codec.entropy_decode(payload, *symbols.shape, bits), symbols)


@pytest.mark.parametrize("bits, digest", [(2, "88bafeeb27616fb2e2d7c6dd675026b9"),
                                           (6, "ae179c883292c7c7e2b43a9139fc85c0"),
                                           (16, "fa5c4799243ecf9f8eb34809fd2167a9")])
def test_legacy_coder_writes_the_bytes_of_format_version_1(bits, digest):
    # files written by earlier versions must keep decoding: the payload of fixed symbols is pinned
    rng = np.random.RandomState(bits)
    symbols = np.clip(rng.normal(2**bits / 2, 2**bits / 8, size=(40, 5)).round(), 0, 2**bits - 1).astype(np.uint16)
    payload = range_encode_v1(symbols, bits)
    assert hashlib.sha256(payload).hexdigest()[:32] == digest
    np.testing.assert_array_equal(range_decode_v1(payload, 40, 5, bits), symbols)


@pytest.mark.parametrize("bits, params, digest", [
    (12, [(2048.25, 500.0, 2), (1000.5, 300.0, 4)], "032d8593803405d8c48f87660a6dd2d4"),
    (16, [(30000.25, 9000.0, 1), (41000.0, 4000.0, 8)], "8799a052a52e48a08d72d6ebdd6673e7")])
def test_full_table_payloads_above_8_bits_still_decode(bits, params, digest):
    # format 2 wrote these (first byte 1: bells over all 2**bits levels) before it split the symbols
    # of more than 8 bits; the digests are of the bytes that encoder wrote
    rng = np.random.RandomState(bits)
    symbols = np.stack([np.clip(rng.normal(loc, scale, 40).round(), 0, 2**bits - 1) for loc, scale, _ in params], 1)
    head = bytes([1]) + b"".join(struct.pack("<ffB", *p) for p in params)
    payload = head + codec.encode_with_tables(symbols.astype(np.int64), [bell_table(2**bits, *p) for p in params])
    assert hashlib.sha256(payload).hexdigest()[:32] == digest
    np.testing.assert_array_equal(codec.entropy_decode(payload, 40, 2, bits), symbols)


def test_symbols_above_8_bits_are_split():
    # the top 8 bits under the fitted bells, the rest uniform: tables of 256 entries, not 2**bits
    rng = np.random.RandomState(0)
    symbols = np.clip(rng.normal(30000, 8000, size=(500, 3)).round(), 0, 2**16 - 1).astype(np.uint16)
    payload = codec.entropy_encode(symbols, 16)
    assert payload[0] == 2
    np.testing.assert_array_equal(codec.entropy_decode(payload, 500, 3, 16), symbols)
    with pytest.raises(ValueError, match="unknown model kind 2"):
        codec.entropy_decode(payload, 500, 3, 8)


def _container_v1(estimator, X, bits):
    """A container as aekit wrote it in format version 1 (header layout unchanged, old coder)."""
    symbols = codec.quantise(estimator.transform(X), estimator.code_range_, bits)
    payload = range_encode_v1(symbols, bits)
    head = struct.pack("<4sB8sIHIBI", b"AEKC", 1, bytes.fromhex(codec.model_hash(estimator))[:8], len(X),
                       estimator.latent, estimator.n_features_in_, bits, len(payload))
    return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload


def test_files_of_format_version_1_still_decode(ae, digits):
    X = digits[1][:30]
    old = _container_v1(ae, X, 6)
    assert codec.read_header(old).version == 1
    np.testing.assert_array_equal(codec.decompress(ae, old), _expected(ae, X, 6))
    assert codec.read_header(codec.compress(ae, X, 6)).version == codec.FORMAT_VERSION == 2


@pytest.mark.parametrize("version", [0, 4, 200])
def test_other_format_versions_are_refused_by_version(ae, digits, version):
    data = bytearray(codec.compress(ae, digits[1][:3]))
    data[4] = version
    data[28:32] = struct.pack("<I", zlib.crc32(bytes(data[32:]), zlib.crc32(bytes(data[:28]))))
    newer = r" \(written by a newer aekit: upgrade\)" if version > 3 else "$"
    with pytest.raises(ValueError,
                       match=rf"container format version {version}; this aekit reads versions 1, 2, 3{newer}"):
        codec.decompress(ae, bytes(data))


def test_entropy_coder_is_near_the_entropy():
    # symbols drawn from a discretised Gaussian that fills the range the way trained codes do
    bits, n = 8, 4000
    levels = np.arange(2**bits)
    pmf = np.exp(-0.5 * ((levels - 127.5) / 36) ** 2)
    pmf /= pmf.sum()
    rng = np.random.RandomState(0)
    symbols = rng.choice(levels, size=(n // 4, 4), p=pmf).astype(np.uint16)
    entropy_bytes = n * -(pmf * np.log2(pmf)).sum() / 8
    assert entropy_bytes < len(codec.entropy_encode(symbols, bits)) < 1.03 * entropy_bytes
    # one row is coded under the prior: about its code length, plus the first byte (which model) and
    # up to 4 bytes of the coder's last 32-bit word
    row = rng.choice(levels, size=(1, 32), p=pmf).astype(np.uint16)
    assert len(codec.entropy_encode(row, bits)) <= 1.05 * -np.log2(pmf[row]).sum() / 8 + 5


def test_tables_of_one_symbol_take_no_bits():
    symbols = np.array([[0, 1], [0, 0], [0, 1]])
    tables = [np.array([7]), np.array([1, 3])]
    payload = codec.encode_with_tables(symbols, tables)
    assert payload == codec.encode_with_tables(symbols[:, 1:], tables[1:])
    np.testing.assert_array_equal(codec.decode_with_tables(payload, 3, tables), symbols)


def test_building_blocks_reject_bad_input():
    with pytest.raises(ValueError, match=r"integers in \[0, 4\)"):
        codec.entropy_encode(np.array([[4]]), 2)
    with pytest.raises(ValueError, match="2-D array of integers"):
        codec.entropy_encode(np.array([[0.5]]), 2)
    with pytest.raises(ValueError, match=r"codes must have shape \(n_samples, 2\) to match code_range, got \(1, 3\)"):
        codec.quantise(np.zeros((1, 3)), np.zeros((2, 2)), 4)
    with pytest.raises(ValueError, match=r"code_range must have shape \(2, latent\), got \(3,\)"):
        codec.dequantise(np.zeros((1, 3)), np.zeros(3), 4)


def test_cli_round_trip_and_errors(ae, digits, tmp_path, capsys):
    ae.save(tmp_path / "model")
    np.save(tmp_path / "X.npy", digits[1][:25])
    codes, out = tmp_path / "codes.aek", tmp_path / "back.npy"
    assert main(["compress", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "X.npy"),
                 "--out", str(codes), "--bits", "6"]) == 0
    assert f"wrote {codes}: 25 rows in {codes.stat().st_size} bytes" in capsys.readouterr().out
    assert main(["decompress", "--model", str(tmp_path / "model"), "--in", str(codes), "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out), _expected(ae, digits[1][:25], 6))

    damaged = bytearray(codes.read_bytes())
    damaged[-1] ^= 1
    (tmp_path / "bad.aek").write_bytes(bytes(damaged))
    other = clone(ae).set_params(random_state=1).fit(digits[0])
    other.save(tmp_path / "other")
    for argv, message in [
        (["decompress", "--model", str(tmp_path / "model"), "--in", str(tmp_path / "bad.aek")],
         f"aekit: error: {tmp_path / 'bad.aek'}: checksum mismatch"),
        (["decompress", "--model", str(tmp_path / "other"), "--in", str(codes)], "made by another model"),
        (["decompress", "--model", str(tmp_path / "model"), "--in", str(tmp_path / "none.aek")],
         "none.aek: no such file"),
        (["compress", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "X.npy"), "--bits", "1"],
         "bits must be an integer in [2, 16], got 1"),
    ]:
        capsys.readouterr()
        assert main([*argv, "--out", str(tmp_path / "x")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def _resealed(data, payload):
    """``data``'s header over another payload, with its length and checksum made right: what only a
    deliberately made file has."""
    head = bytearray(data[:codec.HEADER_SIZE - 4])
    head[24:28] = struct.pack("<I", len(payload))
    return bytes(head) + struct.pack("<I", zlib.crc32(payload, zlib.crc32(bytes(head)))) + payload


def test_a_deliberately_made_payload_is_refused_with_a_sentence(ae, digits):
    data = codec.compress(ae, digits[1][:20], bits=6)
    payload = data[codec.HEADER_SIZE:]
    for bad, message in [(b"\x07" + payload[1:], "damaged payload: unknown model kind 7"),
                         (payload + bytes(range(1, 13)), "damaged payload: .*left over after the last row"),
                         (b"", "damaged payload: unknown model kind None")]:
        with pytest.raises(ValueError, match=message):
            codec.decompress(ae, _resealed(data, bad))
    fitted = codec.compress(ae, digits[1], bits=6)  # enough rows for fitted bells: 9 bytes a dimension
    with pytest.raises(ValueError, match="damaged payload: 5 bytes, fewer than the model of 6 dimensions"):
        codec.decompress(ae, _resealed(fitted, fitted[codec.HEADER_SIZE:codec.HEADER_SIZE + 5]))
