import random

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _few_threads():
    # The suite runs on 2-core machines next to other work; tiny models gain
    # nothing from more threads.
    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, 2))
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def assert_rng_untouched():
    """Call ``fn()`` and assert numpy's, torch's and random's global states did not move."""

    def check(fn):
        np.random.seed(123)
        torch.manual_seed(123)
        random.seed(123)
        np_state, torch_state, py_state = np.random.get_state(), torch.get_rng_state(), random.getstate()
        fn()
        after = np.random.get_state()
        assert all(np.array_equal(a, b) for a, b in zip(np_state, after))
        assert torch.equal(torch_state, torch.get_rng_state())
        assert py_state == random.getstate()

    return check


@pytest.fixture
def blobs():
    """Three well separated blobs in 6 dimensions, scaled to [0, 1]."""
    rng = np.random.RandomState(0)
    centers = rng.uniform(0, 1, size=(3, 6))
    y = np.repeat(np.arange(3), 40)
    X = centers[y] + 0.03 * rng.randn(len(y), 6)
    X = (X - X.min(0)) / (X.max(0) - X.min(0))
    return X, y
