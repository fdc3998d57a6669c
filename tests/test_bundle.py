"""The bundle layer (aekit.bundle): what every saved thing is written and read through."""

import json
import pickle

import numpy as np
import pytest
import torch

import aekit._fileio as fileio
from aekit import __version__, bundle

KIND = bundle.Kind("thing", "data.safetensors", "data_sha256", version=2)


def _write(folder, size=3):
    bundle.write(bundle.encode(folder, KIND, {"size": size},
                               {"x": torch.arange(size, dtype=torch.float32), "ids": np.arange(size)}))


def test_round_trip(tmp_path):
    _write(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["config.json", "data.safetensors"]
    config, tensors = bundle.read(tmp_path / "b", KIND)
    assert config["size"] == 3 and config["format_version"] == 2 and config["aekit_version"] == __version__
    assert config["data_sha256"] == bundle.digest((tmp_path / "b" / "data.safetensors").read_bytes())
    assert tensors["x"].tolist() == [0.0, 1.0, 2.0]
    assert tensors["ids"].dtype == torch.int64 and tensors["ids"].tolist() == [0, 1, 2]


def test_an_older_version_is_read(tmp_path):
    _write(tmp_path / "b")
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    (tmp_path / "b" / "config.json").write_text(json.dumps({**config, "format_version": 1}))
    assert bundle.read(tmp_path / "b", KIND)[0]["format_version"] == 1


def test_a_newer_version_is_refused_naming_both(tmp_path):
    _write(tmp_path / "b")
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    (tmp_path / "b" / "config.json").write_text(json.dumps({**config, "format_version": 3}))
    with pytest.raises(ValueError, match=r"config.json: format version 3 .* reads up to 2: upgrade aekit"):
        bundle.read(tmp_path / "b", KIND)


@pytest.mark.parametrize("change", ["truncate", "flip"])
def test_checksum_mismatch_is_refused(tmp_path, change):
    _write(tmp_path / "b")
    data = tmp_path / "b" / "data.safetensors"
    content = bytearray(data.read_bytes())
    if change == "truncate":
        del content[-4:]
    else:
        content[-1] ^= 0xFF
    data.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="data.safetensors: contents do not match the checksum in config.json"):
        bundle.read(tmp_path / "b", KIND)


class _Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('unpickled!')",))


def test_a_pickle_is_refused_not_opened(tmp_path):
    (tmp_path / "thing.pkl").write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ValueError, match="aekit never unpickles"):
        bundle.read(tmp_path / "thing.pkl", KIND)
    # a pickle in place of the tensors, with a matching checksum
    _write(tmp_path / "b")
    payload = pickle.dumps(_Boom())
    (tmp_path / "b" / "data.safetensors").write_bytes(payload)
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    (tmp_path / "b" / "config.json").write_text(json.dumps({**config, "data_sha256": bundle.digest(payload)}))
    with pytest.raises(ValueError, match="data.safetensors: looks like a pickle"):
        bundle.read(tmp_path / "b", KIND)


def test_a_torch_save_archive_is_refused(tmp_path):
    torch.save({"x": torch.ones(2)}, tmp_path / "thing.pt")
    with pytest.raises(ValueError, match="pickle/torch.save file; aekit never unpickles"):
        bundle.read(tmp_path / "thing.pt", KIND)


def test_broken_configs_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="no such thing folder"):
        bundle.read(tmp_path / "none", KIND)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty: no config.json here"):
        bundle.read(tmp_path / "empty", KIND)
    _write(tmp_path / "b")
    config_path = tmp_path / "b" / "config.json"
    for text, message in (("{not json", "config.json: not valid JSON"), ("[1, 2]", "a list, expected an object"),
                          ("{}", r"config.json: missing entries \['format_version'\]"),
                          ('{"format_version": "1"}', "format_version must be an integer"),
                          ('{"format_version": 1}', r"missing entries \['data_sha256'\]")):
        config_path.write_text(text)
        with pytest.raises(ValueError, match=message):
            bundle.read(tmp_path / "b", KIND)
    _write(tmp_path / "b")
    (tmp_path / "b" / "data.safetensors").unlink()
    with pytest.raises(ValueError, match="data.safetensors is missing"):
        bundle.read(tmp_path / "b", KIND)


def test_a_file_is_not_overwritten_by_a_bundle(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="notes.txt is a file: a thing is saved into a folder"):
        _write(tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def fail_on_file(monkeypatch, n):
    """Make the ``n``-th file written from now on fail as a full disk would (before it is renamed)."""
    real_write_temp, calls = fileio._write_temp, []

    def fails(target, write):
        calls.append(target)
        if len(calls) == n:
            raise OSError("disk full")
        return real_write_temp(target, write)

    monkeypatch.setattr(fileio, "_write_temp", fails)


def test_nothing_is_written_when_a_write_fails(tmp_path, monkeypatch):
    """Two bundles written together (as an index and its model): a failure on the last file leaves
    every earlier file as it was, and no temporary file behind."""
    _write(tmp_path / "a", size=3)
    before = {p: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    fail_on_file(monkeypatch, 4)
    first = bundle.encode(tmp_path / "a", KIND, {"size": 5}, {"x": torch.zeros(5)})
    with pytest.raises(OSError, match="disk full"):
        bundle.write(first, bundle.encode(tmp_path / "a" / "inner", KIND, {"size": 1}, {"x": torch.zeros(1)}))
    assert {p: p.read_bytes() for p in (tmp_path / "a").iterdir() if p.is_file()} == before
    assert not list((tmp_path / "a").rglob("*.tmp"))
    assert bundle.read(tmp_path / "a", KIND)[0]["size"] == 3


def test_cpu_tensors_and_digest():
    weights = torch.arange(6.0).reshape(2, 3).T  # not contiguous
    state = bundle.cpu_tensors({"w": weights.requires_grad_()})
    assert state["w"].is_contiguous() and not state["w"].requires_grad
    assert bundle.tensor_bytes({"w": weights}) == bundle.tensor_bytes(state)
    assert bundle.digest(b"ab", b"c") == bundle.digest(b"abc") != bundle.digest(b"ab")
