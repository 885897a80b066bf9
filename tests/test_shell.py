"""The shell's behaviour, exercised through the simplest model (Autoencoder)."""

import io
import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skdeepgen.base as base_module
from skdeepgen import Autoencoder, TrainingDivergedError
from skdeepgen.metrics import scorers


def small(**params):
    defaults = dict(n_components=2, encoder_layers=(8,), max_epochs=3, batch_size=32, random_state=0)
    defaults.update(params)
    return Autoencoder(**defaults)


def state_equal(a, b):
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ----------------------------------------------------------------- devices
def test_device_auto_resolves_to_available_device(blobs):
    X, _ = blobs
    ae = small().fit(X)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(ae.module_.parameters()).device.type == expected


def test_set_params_device_moves_fitted_model(blobs):
    X, _ = blobs
    ae = small().fit(X)
    Z = ae.transform(X)
    ae.set_params(device=torch.device("cpu"))
    np.testing.assert_allclose(ae.transform(X), Z, rtol=1e-5, atol=1e-6)
    assert next(ae.module_.parameters()).device.type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a CPU-only machine")
def test_cuda_refused_without_cuda(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="device='cuda'.*not available|device='cuda'.*CUDA"):
        small(device="cuda").fit(X)


def test_unknown_device_refused(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="device='tpu-x'"):
        small(device="tpu-x").fit(X)


# ---------------------------------------------------------------- pickling
def test_pickle_and_joblib_round_trip(blobs, tmp_path):
    X, _ = blobs
    ae = small().fit(X)
    Z = ae.transform(X)
    again = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(again.transform(X), Z)
    joblib.dump(ae, tmp_path / "ae.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "ae.joblib").transform(X), Z)
    assert again.history_ == ae.history_ and again.n_iter_ == ae.n_iter_


def test_pickle_holds_cpu_weights_not_the_module(blobs):
    # What makes a CUDA-fitted pickle load without CUDA: only CPU tensors of a
    # state dict travel, and the module is rebuilt on the CPU at unpickling.
    X, _ = blobs
    ae = small().fit(X)
    state = ae.__getstate__()
    assert "module_" not in state
    assert all(t.device.type == "cpu" for t in state["_module_state"].values())
    again = pickle.loads(pickle.dumps(ae))
    assert next(again.module_.parameters()).device.type == "cpu"


def test_unpickling_leaves_global_rng_alone(blobs):
    X, _ = blobs
    data = pickle.dumps(small().fit(X))
    before = torch.get_rng_state()
    pickle.loads(data)
    assert torch.equal(before, torch.get_rng_state())


# ------------------------------------------------------------- save / load
def test_save_load_round_trip(blobs, tmp_path):
    X, _ = blobs
    ae = small().fit(X)
    path = tmp_path / "model.pt"
    ae.save(path)
    loaded = Autoencoder.load(path)
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    assert loaded.get_params() == ae.get_params()
    assert loaded.history_ == ae.history_
    assert loaded.n_features_in_ == ae.n_features_in_


def test_save_load_keeps_feature_names(blobs):
    pd = pytest.importorskip("pandas")
    X, _ = blobs
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    ae = small().fit(df)
    buffer = io.BytesIO()
    ae.save(buffer)
    buffer.seek(0)
    loaded = Autoencoder.load(buffer)
    np.testing.assert_array_equal(loaded.feature_names_in_, ae.feature_names_in_)


def test_load_refuses_other_class(blobs, tmp_path):
    class OtherModel(Autoencoder):
        pass

    X, _ = blobs
    path = tmp_path / "other.pt"
    OtherModel(n_components=2, encoder_layers=(8,), max_epochs=1).fit(X).save(path)
    with pytest.raises(ValueError, match="holds a OtherModel, not a Autoencoder"):
        Autoencoder.load(path)


def test_load_refuses_corrupt_and_foreign_files(blobs, tmp_path):
    X, _ = blobs
    good = tmp_path / "good.pt"
    small().fit(X).save(good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"definitely not a model")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    for path in (truncated, garbage, foreign):
        with pytest.raises(ValueError, match=str(path.name)):
            Autoencoder.load(path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_load_refuses_malicious_pickle(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "skdeepgen-model", "payload": _Exploit(marker)}, path)
    with pytest.raises(ValueError, match="Refused to load"):
        Autoencoder.load(path)
    assert not marker.exists()


# ---------------------------------------------------------- randomness
@pytest.mark.parametrize("random_state", [None, 3, np.random.RandomState(1)])
def test_fit_leaves_global_rng_state_alone(blobs, random_state, assert_rng_untouched):
    X, _ = blobs
    assert_rng_untouched(lambda: small(random_state=random_state, dropout=0.2).fit(X))


def test_same_seed_is_bit_identical_and_seeds_differ(blobs):
    X, _ = blobs
    a = small(random_state=7, dropout=0.1).fit(X)
    b = small(random_state=7, dropout=0.1).fit(X)
    c = small(random_state=8, dropout=0.1).fit(X)
    assert state_equal(a, b)
    assert a.history_[-1]["loss"] == b.history_[-1]["loss"]
    assert not state_equal(a, c)


# ------------------------------------------------------------ divergence
def test_nan_loss_stops_fit_with_clear_error(blobs):
    X, _ = blobs
    ae = small()
    with pytest.raises(TrainingDivergedError, match="epoch 1.*learning_rate"):
        ae.fit(X * 1e25)  # squares overflow float32: the loss is inf
    with pytest.raises(NotFittedError):
        ae.transform(X)
    assert not hasattr(ae, "n_features_in_")


def test_failed_refit_does_not_look_fitted(blobs):
    X, _ = blobs
    ae = small().fit(X)
    with pytest.raises(TrainingDivergedError):
        ae.fit(X * 1e25)
    with pytest.raises(NotFittedError):
        ae.transform(X)


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "make_X, message",
    [
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), "NaN"),
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X), "infinity"),
        (lambda X: X[:0], "0 sample"),
        (lambda X: X[:1], "1 sample"),
        (lambda X: X + 1j, "[Cc]omplex"),
        (lambda X: X.astype(str).astype(object) + "x", "could not convert|convert"),
    ],
)
def test_bad_data_refused_before_training(blobs, make_X, message):
    X, _ = blobs
    with pytest.raises(ValueError, match=message):
        small().fit(make_X(X))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"n_components": 0}, "n_components"),
        ({"encoder_layers": (0,)}, "encoder_layers"),
        ({"encoder_layers": (-5, 3)}, "encoder_layers"),
        ({"encoder_layers": ("a",)}, "encoder_layers"),
        ({"decoder_layers": (4, 0)}, "decoder_layers"),
        ({"precision": "fp16"}, "precision"),
        ({"activation": "swishy"}, "activation"),
        ({"dropout": 1.0}, "dropout"),
        ({"tol": -1.0}, "tol"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ],
)
def test_bad_params_refused_naming_parameter_and_value(blobs, params, name):
    X, _ = blobs
    ae = small(**params)
    with pytest.raises((ValueError, TypeError)) as info:
        ae.fit(X)
    text = str(info.value)
    assert name in text
    assert repr(params[name]).strip("'") in text or str(params[name]) in text
    assert not hasattr(ae, "module_")


def test_wrong_number_of_features_refused(blobs):
    X, _ = blobs
    ae = small().fit(X)
    for method in (ae.transform, ae.score):
        with pytest.raises(ValueError, match="X has 5 features, but Autoencoder is expecting 6"):
            method(X[:, :5])
    with pytest.raises(ValueError, match="n_components=2"):
        ae.inverse_transform(np.zeros((3, 4)))


def test_callers_arrays_are_not_modified(blobs):
    X, _ = blobs
    X32 = X.astype(np.float32)
    copies = X.copy(), X32.copy()
    ae = small().fit(X)
    ae.transform(X)
    small().fit(X32).transform(X32)
    np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(X32, copies[1])


# ------------------------------------------------------------- inference
def test_single_row_and_dtype(blobs):
    X, _ = blobs
    ae = small().fit(X)
    assert ae.transform(X[:1]).shape == (1, 2)
    assert ae.transform(X).dtype == np.float64
    assert ae.transform(X.astype(np.float32)).dtype == np.float32


def test_batched_inference_equals_one_pass(blobs, monkeypatch):
    X, _ = blobs
    ae = small().fit(X)
    whole = ae.transform(X)
    monkeypatch.setattr(base_module, "_INFERENCE_ROWS", 7)
    np.testing.assert_allclose(ae.transform(X), whole, rtol=1e-5, atol=1e-6)


def test_inference_runs_without_grad(blobs):
    X, _ = blobs
    ae = small().fit(X)
    seen = []
    ae.module_.encoder.register_forward_hook(lambda m, i, o: seen.append(torch.is_grad_enabled()))
    ae.transform(X)
    assert seen and not any(seen)


def test_readonly_memmap_fit_equals_in_memory_fit(blobs, tmp_path):
    X, _ = blobs
    X32 = X.astype(np.float32)
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=X32.shape)
    mm[:] = X32
    mm.flush()
    readonly = np.memmap(path, dtype=np.float32, mode="r", shape=X32.shape)
    assert state_equal(small().fit(readonly), small().fit(X32))


# --------------------------------------------------- loop: output, history
def test_verbose_zero_prints_nothing_and_one_prints_epochs(blobs, capsys):
    X, _ = blobs
    small(verbose=0).fit(X)
    assert capsys.readouterr().out == ""
    small(verbose=1, max_epochs=3).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all("loss=" in line and "epoch" in line for line in lines)


def test_history_records_each_epoch(blobs):
    X, _ = blobs
    ae = small(max_epochs=4, n_iter_no_change=None).fit(X)
    assert ae.n_iter_ == 4 == len(ae.history_)
    assert [r["epoch"] for r in ae.history_] == [1, 2, 3, 4]
    assert all({"loss", "seconds"} <= set(r) for r in ae.history_)
    assert ae.history_[-1]["loss"] < ae.history_[0]["loss"]


def test_early_stopping_stops(blobs):
    X, _ = blobs
    # A relative tol of 1 can never be met: stop after the patience runs out.
    ae = small(max_epochs=50, tol=1.0, n_iter_no_change=2).fit(X)
    assert ae.n_iter_ == 3


def test_bf16_precision_trains_and_predicts_float32(blobs):
    X, _ = blobs
    ae = small(precision="bf16").fit(X)
    Z = ae.transform(X.astype(np.float32))
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    assert small(precision="auto").fit(X).n_iter_ >= 1


# ----------------------------------------------------------- composition
def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = make_pipeline(small(max_epochs=5), KMeans(3, n_init=3, random_state=0))
    labels = pipe.fit(X).predict(X)
    assert labels.shape == (len(X),)
    search = GridSearchCV(pipe, {"autoencoder__n_components": [2, 3]}, scoring=scorers["acc"], cv=2)
    search.fit(X, y)
    assert set(search.cv_results_["param_autoencoder__n_components"]) == {2, 3}
    clone(search.best_estimator_)


def test_invalid_layers_on_refit_leave_estimator_unfitted(blobs):
    X, _ = blobs
    ae = small().fit(X)
    ae.set_params(encoder_layers=(0,))
    with pytest.raises(ValueError, match="encoder_layers"):
        ae.fit(X[:, :4])
    assert not hasattr(ae, "n_features_in_") and not hasattr(ae, "module_")


def test_load_refuses_junk_stream():
    with pytest.raises(ValueError, match="skdeepgen model file"):
        Autoencoder.load(io.BytesIO(b"junk"))


@pytest.mark.parametrize("n_samples, batch_size, expected", [(10, 1, 10), (10, 3, 3), (11, 5, 2), (12, 5, 3)])
def test_batcher_covers_the_data(n_samples, batch_size, expected):
    from skdeepgen._training import Batcher

    X = np.arange(n_samples * 2, dtype=np.float32).reshape(n_samples, 2)
    batcher = Batcher(X, batch_size, torch.device("cpu"), torch.Generator().manual_seed(0))
    batches = list(batcher)
    assert len(batches) == expected == len(batcher)
    for index, batch, n_global in batches:
        np.testing.assert_array_equal(batch[:, 0].numpy() // 2, index.numpy())
        assert n_global == len(index)
    rows = torch.cat([batch for _, batch, _ in batches])[:, 0].numpy() // 2
    assert len(set(rows.tolist())) == len(rows)  # no row twice in an epoch
    assert len(rows) >= n_samples - 1


@pytest.mark.parametrize("n_samples, batch_size, world_size, expected", [(20, 8, 2, 3), (19, 8, 2, 2), (20, 6, 3, 3)])
def test_batcher_deals_each_global_batch_to_the_ranks(n_samples, batch_size, world_size, expected):
    from skdeepgen._training import Batcher

    X = np.arange(n_samples, dtype=np.float32).reshape(n_samples, 1)
    single = list(Batcher(X, batch_size, torch.device("cpu"), torch.Generator().manual_seed(3)))
    shards = [list(Batcher(X, batch_size, torch.device("cpu"), torch.Generator().manual_seed(3), r, world_size))
              for r in range(world_size)]
    assert all(len(s) == expected for s in shards)
    for k in range(expected):
        # The ranks' rows of step k are exactly the single-process batch k, split.
        together = np.sort(np.concatenate([s[k][1][:, 0].numpy() for s in shards]))
        if k < len(single):
            np.testing.assert_array_equal(together, np.sort(single[k][1][:, 0].numpy()))
        assert {s[k][2] for s in shards} == {len(together)}
        assert all(len(s[k][0]) >= 2 for s in shards)
    # The read-only (memory-map) path gathers the same rows.
    X_ro = X.copy()
    X_ro.flags.writeable = False
    gathered = list(Batcher(X_ro, batch_size, torch.device("cpu"), torch.Generator().manual_seed(3), 1, world_size))
    for (i_a, b_a, _), (i_b, b_b, _) in zip(gathered, shards[1]):
        assert torch.equal(i_a, i_b) and torch.equal(b_a, b_b)


def test_make_adam_matches_default_adam():
    from skdeepgen._training import make_adam

    torch.manual_seed(0)
    a = torch.nn.Linear(4, 3)
    b = torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = make_adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    x = torch.randn(8, 4)
    for _ in range(5):
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
    torch.testing.assert_close(a.weight, b.weight, rtol=1e-5, atol=1e-6)


def test_fit_flushes_denormals_and_restores_the_setting(blobs):
    from skdeepgen._runtime import _denormals_flushed

    X, _ = blobs
    seen = []
    ae = small(max_epochs=1)
    original = ae._training_step

    def spy(ctx, batch, step_name):
        seen.append(_denormals_flushed())
        return original(ctx, batch, step_name)

    ae._training_step = spy
    assert not _denormals_flushed()
    ae.fit(X)
    assert seen and all(seen)
    assert not _denormals_flushed()
    torch.set_flush_denormal(True)
    try:
        small(max_epochs=1).fit(X)
        assert _denormals_flushed()  # a caller's own setting is kept
    finally:
        torch.set_flush_denormal(False)
