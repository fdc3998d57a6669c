import json
import os
import pickle
import stat

import numpy as np
import pytest
import torch

import aekit
from aekit import Autoencoder
from aekit.saving import estimator_from_json, estimator_to_json, params_to_json
from test_bundle import fail_on_file  # tests/ is on sys.path (pytest's rootdir "prepend" import mode)


@pytest.fixture
def saved(blobs, tiny_params, tmp_path):
    est = Autoencoder(**tiny_params).fit(blobs)
    est.save(tmp_path / "m")
    return tmp_path / "m", est


def test_files_written(saved):
    path, est = saved
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((path / "config.json").read_text())
    assert config["class"] == "Autoencoder" and config["model"] == "ae"
    assert config["format_version"] == 1 and config["aekit_version"] == aekit.__version__
    assert config["params"]["latent"] == 4 and config["n_features_in"] == 12


def test_estimator_pickles_in_memory(saved, blobs):
    _, est = saved
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(copy.transform(blobs), est.transform(blobs))


def test_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="no such model folder"):
        aekit.load(tmp_path / "nothing")


def test_missing_weights(saved):
    path, _ = saved
    (path / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="model.safetensors is missing"):
        aekit.load(path)


def test_truncated_weights(saved):
    path, _ = saved
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or was changed"):
        aekit.load(path)


def test_tampered_weights(saved):
    path, _ = saved
    data = bytearray((path / "model.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (path / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or was changed"):
        aekit.load(path)


def test_newer_format_version(saved):
    path, _ = saved
    config = json.loads((path / "config.json").read_text())
    config["format_version"] = 99
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="format version 99 .* upgrade aekit"):
        aekit.load(path)


def test_broken_config(saved):
    path, _ = saved
    (path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json: not valid JSON"):
        aekit.load(path)


def test_an_index_folder_is_named_for_what_it_is(saved, blobs):
    path, model = saved
    for name, index, where in (("index", aekit.CodeIndex(model), "its model is in "),
                               ("codes", aekit.CodeIndex(), "it was built without one")):
        index.add(blobs) if index.estimator is not None else index.add_codes(model.transform(blobs))
        index.save(path.parent / name)
        with pytest.raises(ValueError, match=f"{name}: a code index, not a model; {where}"):
            aekit.load(path.parent / name)


def test_pickle_file_is_refused_not_opened(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    target = tmp_path / "model.pkl"
    target.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="aekit never unpickles"):
        aekit.load(target)


def test_save_unfitted_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        Autoencoder().save(tmp_path / "m")


def test_written_files_get_the_mode_a_new_file_would(saved):
    """Not the private 0600 of a temporary file: the umask decides, as for any file the user writes;
    a file that is replaced keeps its mode."""
    path, est = saved
    umask = os.umask(0o022)
    os.umask(umask)
    assert {stat.S_IMODE(p.stat().st_mode) for p in path.iterdir()} == {0o666 & ~umask}
    (path / "model.safetensors").chmod(0o600)
    est.save(path)
    assert stat.S_IMODE((path / "model.safetensors").stat().st_mode) == 0o600


def test_save_onto_a_file_is_refused_and_leaves_it(saved, tmp_path):
    _, est = saved
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="notes.txt is a file: a model is saved into a folder"):
        est.save(tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_failed_save_keeps_the_earlier_model(saved, blobs, tiny_params, monkeypatch):
    path, est = saved
    other = Autoencoder(**{**tiny_params, "random_state": 1}).fit(blobs)
    fail_on_file(monkeypatch, 2)
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    monkeypatch.undo()
    np.testing.assert_array_equal(aekit.load(path).transform(blobs), est.transform(blobs))
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]


def test_loading_leaves_the_random_stream_alone(saved):
    path, _ = saved
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    aekit.load(path)
    assert torch.equal(torch.rand(3), expected)


def test_parameters_round_trip_through_json():
    detector = aekit.AnomalyDetector(Autoencoder(hidden=(8, 4), latent=2), scores=("reconstruction", "density"))
    value = json.loads(json.dumps(estimator_to_json(detector)))
    assert value["estimator"] == "anomaly" and value["params"]["autoencoder"]["params"]["hidden"] == [8, 4]
    again = estimator_from_json(value)
    assert params_to_json(again) == params_to_json(detector)
    assert again.autoencoder.hidden == (8, 4) and again.scores == ("reconstruction", "density")
    value["params"]["colour"] = "red"
    with pytest.raises(ValueError, match=r"somewhere.json: parameters \['colour'\] are unknown to AnomalyDetector"):
        estimator_from_json(value, "somewhere.json")
