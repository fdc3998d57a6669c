import numpy as np
import pytest
import torch

import aekit
from aekit import Autoencoder, StackedAutoencoder
from aekit.training import loop

SMALL = dict(hidden=(24, 12), latent=6, pretrain_epochs=2, epochs=2, batch_size=64, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def digits():
    return aekit.datasets.load("digits", split="train").data[:400]


def _encoder_linears(est):
    return [m for m in est.model_.encoder if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("mode", ["greedy", "phases"])
@pytest.mark.parametrize("tied", [True, False])
def test_each_phase_changes_only_its_own_layer(mode, tied, digits, monkeypatch):
    snapshots = []
    original_fit = loop.Trainer.fit

    def recording_fit(trainer, X, X_val=None):
        before = {name: p.detach().clone() for name, p in est_model().named_parameters()}
        result = original_fit(trainer, X, X_val)
        after = dict(est_model().named_parameters())
        snapshots.append({name for name, value in before.items() if not torch.equal(value, after[name])})
        return result

    holder = {}

    def est_model():
        return holder["est"].model_

    original_build = Autoencoder._build_net

    def build_and_remember(self, *args):
        net = original_build(self, *args)
        holder["est"] = self
        self.model_ = net
        return net

    monkeypatch.setattr(loop.Trainer, "fit", recording_fit)
    monkeypatch.setattr(Autoencoder, "_build_net", build_and_remember)
    est = StackedAutoencoder(**SMALL, tied=tied, pretrain=mode).fit(digits)
    # encoder: Linear, act, Linear, act, Linear, act; decoder mirrors with layer 3 first
    n_layers = 3
    for phase in range(n_layers):
        expected = {f"encoder.{2 * phase}.weight", f"encoder.{2 * phase}.bias",
                    f"decoder.{2 * (n_layers - 1 - phase)}.bias"}
        if not tied:
            expected.add(f"decoder.{2 * (n_layers - 1 - phase)}.weight")
        assert snapshots[phase] == expected, (phase, snapshots[phase])
    assert len(snapshots[n_layers]) == len(dict(est.model_.named_parameters()))  # fine-tuning moves all


def test_history_records_each_phase(digits):
    est = StackedAutoencoder(**SMALL).fit(digits)
    phases = [r["phase"] for r in est.history_]
    assert phases == ["layer 1"] * 2 + ["layer 2"] * 2 + ["layer 3"] * 2 + ["fine-tune"] * 2
    assert all("val_loss" in r for r in est.history_)


def test_greedy_and_phases_agree(digits):
    greedy = StackedAutoencoder(**SMALL, pretrain="greedy").fit(digits)
    phases = StackedAutoencoder(**SMALL, pretrain="phases").fit(digits)
    np.testing.assert_allclose(greedy.transform(digits), phases.transform(digits), rtol=1e-4, atol=1e-5)


def test_tied_has_about_half_the_parameters(digits):
    tied = StackedAutoencoder(**SMALL, tied=True).fit(digits)
    untied = StackedAutoencoder(**SMALL, tied=False).fit(digits)
    weights = 64 * 24 + 24 * 12 + 12 * 6
    assert untied.n_parameters_ - tied.n_parameters_ == weights
    assert 0.45 < tied.n_parameters_ / untied.n_parameters_ < 0.6


def test_pretraining_phases_can_be_denoising_sparse_contractive(digits):
    est = StackedAutoencoder(**SMALL, noise="masking", sparsity="l1", contractive_weight=0.01).fit(digits)
    for record in est.history_:
        assert {"recon", "sparsity", "contractive"} <= set(record)


def test_stacked_save_load_and_resume(digits, tmp_path):
    params = dict(SMALL, epochs=4, checkpoint_dir=str(tmp_path / "ckpt"))
    reference = StackedAutoencoder(**{**SMALL, "epochs": 4}).fit(digits)
    StackedAutoencoder(**{**params, "epochs": 2}).fit(digits)
    resumed = StackedAutoencoder(**params).fit(digits, resume=True)
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    resumed.save(tmp_path / "m")
    np.testing.assert_array_equal(aekit.load(tmp_path / "m").transform(digits), resumed.transform(digits))


def test_pretrain_needs_mlp(digits):
    with pytest.raises(ValueError, match="pretrain='greedy' needs arch='mlp'"):
        Autoencoder(arch="conv", pretrain="greedy", image_shape=(1, 8, 8), epochs=1).fit(digits)
