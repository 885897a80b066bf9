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


@pytest.fixture
def spy_consistency(monkeypatch):
    """Patch a clusterer's training step and the posterior terms' augmentation, for the consistency tests.

    ``install(cls, check)`` returns ``(calls, seen)``: each augmentation call as (input shape, image shape,
    bounds, moved rows), and for each generator step the consistency term beside the KL of the posteriors
    recomputed from the batch and its moved copy; ``check(module, term)`` runs on each term.
    """
    import skdeepgen._posterior_terms as terms

    def install(cls, check):
        calls, seen = [], []
        original_affine, original_step = terms.random_affine, cls._training_step

        def affine_spy(x, image_shape, *bounds_and_generator):
            moved = original_affine(x, image_shape, *bounds_and_generator)
            calls.append((x.shape, image_shape, bounds_and_generator[:-1], moved))
            return moved

        def step_spy(self, ctx, batch, step_name):
            out = original_step(self, ctx, batch, step_name)
            if step_name == "generator":
                with torch.no_grad():
                    p = self._cluster_proba(ctx.module, batch).double()
                    q = self._cluster_proba(ctx.module, calls[-1][3]).double()
                seen.append((out["consistency"].item(), float(torch.sum(p * torch.log(p / q), dim=1).mean())))
                check(ctx.module, out["consistency"])
            return out

        monkeypatch.setattr(terms, "random_affine", affine_spy)
        monkeypatch.setattr(cls, "_training_step", step_spy)
        return calls, seen

    return install
