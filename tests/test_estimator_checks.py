"""scikit-learn's estimator checks over every public estimator.

Each estimator is checked with tiny networks and few epochs: the checks test
the API contract, not the model's quality.
"""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeepgen import (
    AIMEncoder,
    AMMClustering,
    Autoencoder,
    DECClustering,
    GAMNGenerator,
    IDECClustering,
    JGMMNClustering,
    MMGANClustering,
    SAMMClassifier,
    VariationalAutoencoder,
)

_DEC_SMALL = dict(n_components=2, encoder_layers=(8,), pretrain_epochs=5, max_epochs=3, batch_size=16,
                  n_init=2, update_interval=5, random_state=0)
ESTIMATORS = [
    Autoencoder(n_components=2, encoder_layers=(8,), max_epochs=2, batch_size=16, random_state=0),
    DECClustering(3, **_DEC_SMALL),
    IDECClustering(3, **_DEC_SMALL),
    VariationalAutoencoder(n_components=2, encoder_layers=(8,), max_epochs=2, batch_size=16, random_state=0),
    JGMMNClustering(3, n_components=2, inference_layers=(8,), generator_layers=(8,), pretrain_epochs=5,
                    max_epochs=3, batch_size=16, n_init=2, update_interval=5, random_state=0),
    MMGANClustering(3, latent_dim=2, generator_layers=(8,), discriminator_layers=(8,), max_epochs=2, batch_size=16,
                    random_state=0),
    # A light penalty, a large step and 200 steps: check_clustering's blobs separate (ARI > 0.4) and its
    # noisy rows use all three components (labels from 0).
    AMMClustering(3, latent_dim=2, encoder_layers=(32,), decoder_layers=(32,), discriminator_layers=(32,),
                  gradient_penalty=1.0, max_epochs=40, batch_size=10, learning_rate=5e-3, random_state=0),
    GAMNGenerator(latent_dim=2, mapper_dim=2, generator_layers=(8,), mapper_layers=(8,), n_mapper=2, max_epochs=2,
                  batch_size=16, random_state=0),
    GAMNGenerator(latent_dim=2, mapper_dim=None, generator_layers=(8,), max_epochs=2, batch_size=16, random_state=0),
    AIMEncoder(n_components=2, generator_layers=(8,), discriminator_layers=(8,), encoder_layers=(8,), max_epochs=2,
               batch_size=16, random_state=0),
    # The labels' cross-entropy lets a 10-epoch fit pass check_classifiers_train's accuracy bar (0.83).
    SAMMClassifier(label_weight=1.0, latent_dim=2, encoder_layers=(16,), decoder_layers=(16,),
                   discriminator_layers=(16,), max_epochs=10, batch_size=16, learning_rate=5e-3, random_state=0),
]

# Checks a model cannot pass by design, with the reason. Keep this short.
# Inference is float32; BLAS picks a different matmul kernel for 1 row than
# for 20, so an output can move by a few float32 ulps with the batch its row
# is in (up to 5e-7 here). The check's atol of 1e-7 is below that for
# outputs of order 1 or more (JGMMN's codes in the prior's [-1, 1], AMM's
# latent codes); the other models pass only because their outputs are
# smaller. tests/test_jgmmn.py and tests/test_amm.py check the same
# invariance at float32 tolerance. A row's place in the batch matters too
# (the kernels' blocks and remainders): on an AVX512 AMD EPYC (2026-12-04)
# DEC's and IDEC's probabilities near 0.5 moved by one ulp (6e-8) with the
# rows' order, against the check's rtol of 1e-7; tests/test_dec.py checks
# order invariance at float32 tolerance.
_FLOAT32_BATCHES = {"check_methods_subset_invariance": "float32 rounding depends on the batch's row count"}
_FLOAT32_ORDER = {"check_methods_sample_order_invariance": "float32 rounding depends on the row's place"}
EXPECTED_FAILURES = {
    "JGMMNClustering": _FLOAT32_BATCHES,
    "AMMClustering": _FLOAT32_BATCHES,
    "DECClustering": _FLOAT32_ORDER,
    "IDECClustering": _FLOAT32_ORDER,
    # transform gives AMM's latent codes too (it passed with 2 torch threads, failed by 4.8e-7 with 1).
    # check_classifiers_classes names a binary problem's classes -1 and 1, but -1 marks an unlabelled
    # row in scikit-learn's semi-supervised convention; the check exempts only scikit-learn's own
    # LabelPropagation, LabelSpreading and SelfTrainingClassifier (by name). tests/test_amm.py checks
    # string, object and integer classes.
    "SAMMClassifier": {**_FLOAT32_BATCHES,
                       "check_classifiers_classes": "-1 marks unlabelled rows, not a class"},
}


# With device="auto" the checks run on CUDA where there is a GPU (as on an H200, 2026-12-04); there
# AMM's 40-epoch fit, tuned to separate check_clustering's blobs on the CPU (ARI > 0.4), follows
# another trajectory and does not. benchmarks/check_cuda.py and tests/test_cuda.py check the CUDA
# path itself (fit on the GPU, same outputs on the CPU after pickle and save/load).
CUDA_EXPECTED_FAILURES = {
    "AMMClustering": {"check_clustering": "the tiny fit is tuned to separate the blobs on the CPU"},
}


def _expected_failed_checks(estimator):
    expected = dict(EXPECTED_FAILURES.get(type(estimator).__name__, {}))
    if torch.cuda.is_available():
        expected.update(CUDA_EXPECTED_FAILURES.get(type(estimator).__name__, {}))
    return expected


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
