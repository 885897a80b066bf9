"""The CUDA path: fit on a GPU, then use the model on the CPU after pickle and save/load.

Skipped on machines without CUDA (CI has none). benchmarks/check_cuda.py runs
the same round trip for every estimator, with the CPU side in a process that
sees no GPU at all.
"""

import io
import pickle

import numpy as np
import pytest
import torch

from skdeepgen import Autoencoder, MMGANClustering

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _device(model):
    return next(model.module_.parameters()).device.type


@pytest.fixture
def digits():
    from sklearn.datasets import load_digits

    X = load_digits().data[:200] / 16.0
    return X.astype(np.float32)


@pytest.mark.parametrize("make", [
    lambda: Autoencoder(n_components=2, encoder_layers=(16,), max_epochs=2, random_state=0),
    # Convolutions: cuDNN's TF32 (PyTorch's default for them) rounds more than float32.
    lambda: MMGANClustering(10, latent_dim=4, image_shape=(1, 8, 8), conv_channels=(4, 8), max_epochs=2,
                            random_state=0),
], ids=["mlp", "conv"])
def test_fit_on_cuda_use_on_cpu(digits, make):
    model = make().set_params(device="cuda").fit(digits)
    assert _device(model) == "cuda"
    on_gpu = model.transform(digits)

    restored = pickle.loads(pickle.dumps(model))
    assert _device(restored) == "cpu"  # pickles hold CPU tensors only
    restored.set_params(device="cpu")
    np.testing.assert_allclose(restored.transform(digits), on_gpu, rtol=2e-3, atol=2e-4)
    assert _device(restored) == "cpu"

    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    loaded = type(model).load(buffer)
    assert _device(loaded) == "cpu"
    np.testing.assert_allclose(loaded.transform(digits), on_gpu, rtol=2e-3, atol=2e-4)
    if hasattr(model, "predict"):
        agree = np.mean(loaded.predict(digits) == model.predict(digits))
        assert agree >= 0.99


def test_auto_device_moves_an_unpickled_model_back_to_the_gpu(digits):
    model = Autoencoder(n_components=2, encoder_layers=(16,), max_epochs=2, random_state=0).fit(digits)
    assert _device(model) == "cuda"  # device="auto" with a GPU present
    restored = pickle.loads(pickle.dumps(model))
    restored.transform(digits)
    assert _device(restored) == "cuda"
