import numpy as np
import pytest
import torch

SEED = 0


@pytest.fixture
def seed():
    return SEED


@pytest.fixture
def blobs():
    """200 rows of 12 features in [0, 1] with low-dimensional structure: quick to learn."""
    rng = np.random.RandomState(SEED)
    codes = rng.rand(200, 3)
    mixing = rng.rand(3, 12)
    return ((codes @ mixing) / 3).astype(np.float32)


@pytest.fixture
def tiny_params():
    """Small, fast settings shared by tests that only need a trained model, not a good one."""
    return dict(hidden=(16,), latent=4, epochs=3, batch_size=32, random_state=SEED, device="cpu")


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread for modules of tiny networks: a second thread gains nothing there, and on a
    busy machine its synchronisation makes each step many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
