import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from aekit import Autoencoder, VariationalAutoencoder, saving
from aekit.estimators._fitting import check_resumable
from aekit.training import Checkpoint, LearningRateSchedule, Trainer, TrainingDivergedError, load_checkpoint


class BlowsUpAtStep(torch.nn.Module):
    """A one-weight model whose loss turns NaN from a given step on: divergence on demand."""

    def __init__(self, bad_step):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(3))
        self.bad_step = bad_step
        self.steps = 0

    def loss_terms(self, batch):
        if self.training:
            self.steps += 1
        loss = ((batch * self.weight).sum(1) - 1).square().mean()
        return {"recon": loss * float("nan") if self.steps >= self.bad_step else loss}


def test_divergence_keeps_last_good_checkpoint_and_weights(tmp_path):
    model = BlowsUpAtStep(bad_step=7)  # 2 steps per epoch: epoch 4 diverges
    trainer = Trainer(model, {"main": torch.optim.SGD(model.parameters(), lr=0.01)}, epochs=10,
                      batch_size=4, generators={"shuffle": torch.Generator().manual_seed(0)},
                      callbacks=[Checkpoint(tmp_path)])
    X = torch.rand(8, 3)
    with pytest.raises(TrainingDivergedError,
                       match="training diverged at epoch 4: recon, loss = nan; kept the weights of epoch 3"):
        trainer.fit(X)
    tensors, info = load_checkpoint(tmp_path / "last.safetensors")
    assert info["epoch"] == 3 and len(info["history"]) == 3
    assert torch.equal(tensors["model.weight"], model.weight.detach())
    assert torch.isfinite(model.weight).all()


def _weights(est):
    return {k: v.clone() for k, v in est.model_.state_dict().items()}


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(blobs, tmp_path):
    params = dict(hidden=(16,), latent=3, batch_size=16, random_state=0, device="cpu",
                  checkpoint_dir=str(tmp_path))
    reference = Autoencoder(**params, epochs=6).fit(blobs)
    Autoencoder(**params, epochs=3).fit(blobs)          # "interrupted" after 3 epochs
    resumed = Autoencoder(**params, epochs=6).fit(blobs, resume=True)
    assert [r["epoch"] for r in resumed.history_] == list(range(1, 7))
    for name, value in _weights(reference).items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name


def test_resume_refuses_a_checkpoint_of_other_parameters(blobs, tmp_path):
    common = dict(hidden=(16,), checkpoint_dir=str(tmp_path), random_state=0, device="cpu")
    Autoencoder(**common, latent=3, epochs=1).fit(blobs)
    with pytest.raises(ValueError, match="latent: 3 there, 4 now"):
        Autoencoder(**common, latent=4, epochs=2).fit(blobs, resume=True)


def test_a_checkpoint_without_a_newer_parameter_had_its_default(tmp_path):
    """A checkpoint written before a parameter existed resumes while that parameter keeps its default."""
    vae = VariationalAutoencoder(checkpoint_dir=str(tmp_path), random_state=0)
    current = saving.params_to_json(vae)
    older = {k: v for k, v in current.items() if not k.startswith(("sparsity", "contractive"))}
    check_resumable(vae, older, current)
    with pytest.raises(ValueError, match="contractive_weight: 0.0 there, 0.5 now"):
        check_resumable(vae, older, saving.params_to_json(vae.set_params(contractive_weight=0.5)))


def test_resume_needs_a_seed_and_a_folder(blobs, tmp_path):
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir and an integer random_state"):
        Autoencoder(epochs=1, checkpoint_dir=str(tmp_path)).fit(blobs, resume=True)
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        Autoencoder(epochs=1, random_state=0).fit(blobs, resume=True)


@pytest.mark.parametrize("kind, factors", [
    ("linear", [1, 0.75, 0.5, 0.25]),
    ("cosine", [0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]),
])
def test_lr_schedule_sets_each_epochs_rate_from_the_initial_one(kind, factors):
    model = BlowsUpAtStep(bad_step=math.inf)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    rates = []

    class RecordRate:
        def on_epoch_end(self, trainer, record):
            rates.append(optimizer.param_groups[0]["lr"])

    shuffle = torch.Generator().manual_seed(0)
    Trainer(model, {"main": optimizer}, epochs=4, batch_size=4, generators={"shuffle": shuffle},
            callbacks=[LearningRateSchedule(kind), RecordRate()]).fit(torch.rand(8, 3))
    assert rates == pytest.approx([0.1 * f for f in factors])


def test_resume_mid_schedule_equals_an_uninterrupted_run(blobs, tmp_path, monkeypatch):
    params = dict(hidden=(16,), latent=3, batch_size=16, random_state=0, device="cpu", epochs=6, lr_schedule="cosine")
    reference = Autoencoder(**params).fit(blobs)
    original, epochs_started = Trainer._train_epoch, []

    def crash_in_the_fourth_epoch(self, X):
        epochs_started.append(self.epoch)
        if len(epochs_started) == 4:
            raise KeyboardInterrupt
        return original(self, X)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "_train_epoch", crash_in_the_fourth_epoch)
        with pytest.raises(KeyboardInterrupt):
            Autoencoder(**params, checkpoint_dir=str(tmp_path)).fit(blobs)
    resumed = Autoencoder(**params, checkpoint_dir=str(tmp_path)).fit(blobs, resume=True)
    for name, value in _weights(reference).items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
    constant = Autoencoder(**{**params, "lr_schedule": None}).fit(blobs)
    assert constant.history_[-1]["loss"] != reference.history_[-1]["loss"]


# Slows every epoch down (numerics untouched) so that the test can kill the run mid-way.
_SLOW_TRAINING = """
import sys, time, numpy as np
from aekit import Autoencoder
from aekit.training import loop
original = loop.Trainer._train_epoch
def slow(self, X):
    time.sleep(0.4)
    return original(self, X)
loop.Trainer._train_epoch = slow
X = np.load(sys.argv[1])
Autoencoder(hidden=(16,), latent=3, batch_size=16, random_state=0, device="cpu", epochs=12,
            checkpoint_dir=sys.argv[2]).fit(X)
"""


def test_resume_after_sigkill_matches_uninterrupted_run(blobs, tmp_path):
    np.save(tmp_path / "X.npy", blobs)
    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_TRAINING, str(tmp_path / "X.npy"), str(ckpt)])
    path = ckpt / "last.safetensors"
    deadline = time.time() + 60
    while time.time() < deadline:
        if path.exists() and load_checkpoint(path)[1]["epoch"] >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = load_checkpoint(path)[1]["epoch"]
    assert 3 <= killed_at < 12, "the run was not interrupted mid-way"

    params = dict(hidden=(16,), latent=3, batch_size=16, random_state=0, device="cpu", epochs=12)
    resumed = Autoencoder(**params, checkpoint_dir=str(ckpt)).fit(blobs, resume=True)
    reference = Autoencoder(**params).fit(blobs)
    for name, value in reference.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name]), name
