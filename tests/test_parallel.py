"""Parallel searches on joblib and Dask, and fitting from memory maps."""

import joblib
import numpy as np
import pytest
import torch
from joblib import Parallel, delayed, parallel_config
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

from skdeepgen import Autoencoder, JGMMNClustering, MMGANClustering
from skdeepgen.metrics import scorers


class ThreadProbe(Autoencoder):
    """An Autoencoder that records the torch threads its fit ran with."""

    def _initialize(self, ctx):
        self.fit_threads_ = torch.get_num_threads()


def tiny_ae(**params):
    return Autoencoder(**{"n_components": 2, "encoder_layers": (8,), "max_epochs": 3, "batch_size": 16,
                          "random_state": 0, **params})


def searches(blobs):
    # On the CPU: bitwise equality across processes is a CPU promise. On an H200 (2026-12-04) an
    # MMGAN score moved by 7e-7 relative between a loky worker and the main process.
    X, y = blobs
    jgmmn = JGMMNClustering(3, n_components=2, inference_layers=(8,), generator_layers=(8,), pretrain_epochs=3,
                            max_epochs=2, batch_size=40, n_init=2, random_state=0, device="cpu")
    mmgan = MMGANClustering(3, latent_dim=2, generator_layers=(8,), discriminator_layers=(8,), encoder_layers=(8,),
                            max_epochs=2, batch_size=40, random_state=0, device="cpu")
    return X, y, [
        (tiny_ae(device="cpu"), {"n_components": [2, 3], "learning_rate": [1e-3, 1e-2]}, None),
        (jgmmn, {"kernel": ["gaussian", "imq"], "n_clusters": [2, 3]}, scorers["acc"]),
        (mmgan, {"loss": ["sgan", "crasgan"]}, None),
    ]


# Threads each of two workers gets: joblib and Dask give a worker its share of the cores.
WORKER_THREADS = max(1, joblib.cpu_count() // 2)


def scores(search):
    return np.column_stack([search.cv_results_[f"split{i}_test_score"] for i in range(search.n_splits_)])


def test_grid_search_on_two_loky_workers_scores_like_one_process(blobs):
    X, y, cases = searches(blobs)
    for est, grid, scoring in cases:
        # Bitwise equality needs the same torch thread count per fit: torch's
        # CPU kernels split sums (batch-norm statistics, large reductions) by thread.
        with threadpool_limits(WORKER_THREADS):
            one = GridSearchCV(est, grid, cv=2, scoring=scoring, n_jobs=1).fit(X, y)
        two = GridSearchCV(est, grid, cv=2, scoring=scoring, n_jobs=2).fit(X, y)
        np.testing.assert_array_equal(scores(two), scores(one), err_msg=type(est).__name__)
        assert two.best_params_ == one.best_params_


def _fit(est, X):
    return est.fit(X)


def test_fits_in_workers_use_the_workers_threads_and_come_back_usable(blobs):
    X, _ = blobs
    with parallel_config(backend="loky", n_jobs=2):
        fitted = Parallel()(delayed(_fit)(ThreadProbe(n_components=2, encoder_layers=(8,), max_epochs=3,
                                                      random_state=seed), X) for seed in (0, 1))
    # Each fit ran with the worker's share of the cores (joblib's inner thread limit), not all of them.
    assert [m.fit_threads_ for m in fitted] == [WORKER_THREADS, WORKER_THREADS]
    for seed, model in zip((0, 1), fitted):
        with threadpool_limits(WORKER_THREADS):
            here = ThreadProbe(n_components=2, encoder_layers=(8,), max_epochs=3, random_state=seed).fit(X)
        np.testing.assert_array_equal(model.transform(X), here.transform(X))


def test_grid_search_on_a_dask_local_cluster_scores_like_one_process(blobs):
    distributed = pytest.importorskip("dask.distributed")
    X, y, cases = searches(blobs)
    est, grid, scoring = cases[2]  # batch norm and three networks: the hardest to reproduce
    with threadpool_limits(1):
        one = GridSearchCV(est, grid, cv=2, scoring=scoring, n_jobs=1).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        with parallel_config(backend="dask"):
            on_dask = GridSearchCV(est, grid, cv=2, scoring=scoring, n_jobs=2).fit(X, y)
        threads = client.run(torch.get_num_threads)
    np.testing.assert_array_equal(scores(on_dask), scores(one))
    assert set(threads.values()) == {1}
    np.testing.assert_array_equal(on_dask.best_estimator_.transform(X), one.best_estimator_.transform(X))


@pytest.fixture
def memmapped(tmp_path, blobs):
    X = np.ascontiguousarray(np.tile(blobs[0], (3, 1)), dtype=np.float32)
    np.save(tmp_path / "X.npy", X)
    return X, np.load(tmp_path / "X.npy", mmap_mode="r")


class SharesMemory(Autoencoder):
    def _initialize(self, ctx):
        self.trained_on_the_map_ = np.shares_memory(ctx.X, self._source)


def test_fit_reads_a_read_only_memmap_in_place_and_fits_like_the_array(memmapped):
    X, mm = memmapped
    probe = SharesMemory(n_components=2, encoder_layers=(8,), max_epochs=3, batch_size=32, random_state=0)
    probe._source = mm
    probe.fit(mm)
    assert probe.trained_on_the_map_  # validated without a copy: batches are gathered from the map
    in_memory = tiny_ae(batch_size=32).fit(X)
    on_map = tiny_ae(batch_size=32).fit(mm)
    for key, value in in_memory.module_.state_dict().items():
        assert torch.equal(on_map.module_.state_dict()[key], value), key
    assert [h["loss"] for h in on_map.history_] == [h["loss"] for h in in_memory.history_]
    np.testing.assert_array_equal(on_map.transform(mm), in_memory.transform(X))
    assert not mm.flags.writeable
