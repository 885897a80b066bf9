"""scikit-learn's estimator checks over every public estimator.

Each estimator is checked with tiny networks and few epochs: the checks test
the API contract, not the model's quality.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeepgen import (
    Autoencoder,
    DECClustering,
    IDECClustering,
    JGMMNClustering,
    MMGANClustering,
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
]

# Checks a model cannot pass by design, with the reason. Keep this short.
EXPECTED_FAILURES = {
    "JGMMNClustering": {
        # Inference is float32; BLAS picks a different matmul kernel for 1 row
        # than for 20, so a row's code can move by a few float32 ulps with the
        # batch it is in (up to 5e-7 here). The check's atol of 1e-7 is below
        # that for JGMMN's codes, which are of order 1 (the prior's [-1, 1]);
        # the other models pass only because their outputs are smaller.
        # tests/test_jgmmn.py checks the same invariance at float32 tolerance.
        "check_methods_subset_invariance": "float32 rounding depends on the batch's row count",
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
