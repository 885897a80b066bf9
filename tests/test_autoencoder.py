"""Autoencoder training options: input dropout (denoising) and the optimizer.

The shell's behaviour through the Autoencoder is in test_shell.py.
"""

import numpy as np
import pytest
import torch

from skdeepgen import Autoencoder, DECClustering, TrainingDivergedError


def ae(**params):
    defaults = dict(n_components=2, encoder_layers=(16,), max_epochs=5, batch_size=16, random_state=0)
    defaults.update(params)
    return Autoencoder(**defaults)


def test_input_dropout_changes_training_not_inference(blobs):
    X, _ = blobs
    plain, noisy = ae(device="cpu").fit(X), ae(input_dropout=0.3, device="cpu").fit(X)
    assert plain.history_[-1]["loss"] != noisy.history_[-1]["loss"]
    # Inference never corrupts: two transforms agree, and match the encoder on clean input.
    np.testing.assert_array_equal(noisy.transform(X), noisy.transform(X))
    with torch.no_grad():
        clean = noisy.module_.encoder(torch.from_numpy(X.astype(np.float32))).numpy()
    np.testing.assert_allclose(noisy.transform(X), clean, rtol=1e-5, atol=1e-6)


def test_input_dropout_is_seeded(blobs):
    X, _ = blobs
    a, b = ae(input_dropout=0.3).fit(X), ae(input_dropout=0.3).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_corrupt_zeroes_the_given_fraction_and_rescales():
    from skdeepgen._training import TrainContext
    from skdeepgen.autoencoder import corrupt

    ctx = TrainContext(module=None, device=torch.device("cpu"), autocast_dtype=None,
                       generator=torch.Generator().manual_seed(0), rng=np.random.RandomState(0), X=None)
    out = corrupt(ctx, torch.ones(200, 500), 0.2)
    assert abs(float((out == 0).float().mean()) - 0.2) < 0.01
    assert torch.all((out == 0) | torch.isclose(out, torch.tensor(1.25)))


@pytest.mark.parametrize("value", [1.0, -0.1])
def test_input_dropout_range_checked(blobs, value):
    with pytest.raises(ValueError, match="The 'input_dropout' parameter of Autoencoder"):
        ae(input_dropout=value).fit(blobs[0])



def test_sgd_optimizer_is_used_and_trains(blobs):
    X, _ = blobs
    sgd = ae(optimizer="sgd", learning_rate=1.0, max_epochs=20).fit(X)
    adam = ae(max_epochs=20).fit(X)
    assert sgd.history_[-1]["loss"] < sgd.history_[0]["loss"]
    assert sgd.history_[-1]["loss"] != adam.history_[-1]["loss"]


def test_bad_optimizer_refused(blobs):
    with pytest.raises(ValueError, match="The 'optimizer' parameter of Autoencoder must be a str among"):
        ae(optimizer="rmsprop").fit(blobs[0])


def test_dec_pretraining_uses_its_optimizer(blobs):
    X, _ = blobs
    common = dict(n_components=2, encoder_layers=(16,), pretrain_epochs=5, max_epochs=1, batch_size=16,
                  n_init=2, random_state=0)
    sgd = DECClustering(3, pretrain_optimizer="sgd", pretrain_learning_rate=0.1, **common).fit(X)
    adam = DECClustering(3, **common).fit(X)
    assert [r["loss"] for r in sgd.pretrain_history_] != [r["loss"] for r in adam.pretrain_history_]
    assert (sgd.pretrain_optimizer_, sgd.pretrain_learning_rate_) == ("sgd", 0.1)


@pytest.mark.parametrize(
    "n_features, scale, expected",
    [(120, 1.0, ("sgd", 1.0)),   # image-like: many features in [0, 1]
     (6, 1.0, ("adam", 1e-3)),   # few features
     (120, 2.0, ("adam", 1e-3))],  # outside [0, 1]
)
def test_dec_auto_pretraining_recipe(n_features, scale, expected):
    X = np.random.RandomState(0).rand(60, n_features) * scale
    dec = DECClustering(3, n_components=2, encoder_layers=(8,), pretrain_epochs=1, max_epochs=1, batch_size=16,
                        n_init=1, random_state=0).fit(X)
    assert (dec.pretrain_optimizer_, dec.pretrain_learning_rate_) == expected


def test_dec_explicit_learning_rate_kept_with_auto_optimizer(blobs):
    dec = DECClustering(3, n_components=2, encoder_layers=(8,), pretrain_epochs=1, max_epochs=1, batch_size=16,
                        n_init=1, pretrain_learning_rate=0.02, random_state=0).fit(blobs[0])
    assert (dec.pretrain_optimizer_, dec.pretrain_learning_rate_) == ("adam", 0.02)


def test_dec_pretraining_divergence_names_dec_parameters(blobs):
    X, _ = blobs
    # SGD at 1.0, the MNIST recipe, on 6 features in [0, 1]: too large a step.
    dec = DECClustering(3, n_components=2, encoder_layers=(16,), pretrain_epochs=20, pretrain_optimizer="sgd",
                        pretrain_learning_rate=1.0, batch_size=16, random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"pretraining diverged \(pretrain_optimizer='sgd', "
                                                    r"pretrain_learning_rate=1.0\).*MinMaxScaler"):
        dec.fit(X)
    assert not hasattr(dec, "module_")
