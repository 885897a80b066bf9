"""SAMM probe: its classifier G_y trained on the 1,000 labels alone, without the games.

The reference that tells whether SAMM's two adversarial games add anything to
the labels' cross-entropy (``SAMMClassifier(label_weight=1.0)``). The network
is SAMM's own: the module ``SAMMClassifier`` builds for the given
``--params`` (MLP, or convolutional with ``image_shape``), initialised as in
``fit`` (weights N(0, 0.02)); only G_y (the trunk and its head) is trained,
with the same labelled draw as ``bench_amm.py samm`` (100 rows per class drawn
with the seed), the same minibatches of labelled rows drawn with replacement,
the same Adam settings and as many steps as SAMM takes in ``max_epochs``
epochs over the 60,000 training rows. Accuracy of argmax G_y on the 10,000
test rows. With ``label_shift``, ``label_rotation`` or ``label_scale`` in
``--params`` the labelled images are augmented as ``fit`` augments them::

    python benchmarks/probe_samm_supervised_only.py --seeds 0 1 2 \
        --params '{"image_shape": [1, 28, 28], "max_epochs": 4}' --out samm_supervised_only_conv.json
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import DATA_HOME, machine, write_json  # noqa: E402
from bench_amm import RESULTS, SAMM_PARAMS, _mean_std, labelled_rows  # noqa: E402

from skdeepgen import SAMMClassifier  # noqa: E402
from skdeepgen.datasets import fetch_mnist  # noqa: E402
from skdeepgen.networks import init_weights  # noqa: E402


def run(seed, params, X, y, X_test, y_test, labels_per_class):
    keep = labelled_rows(y, seed, labels_per_class)
    est = SAMMClassifier(random_state=seed, **params)
    est.n_features_in_ = X.shape[1]
    est.classes_ = np.arange(10)
    est._check_params(X)
    module = est._build_module()
    generator = torch.Generator().manual_seed(seed)
    init_weights(module, std=0.02, generator=generator)
    parts = [module.trunk, module.y_head]
    optimizer = torch.optim.Adam([p for m in parts for p in m.parameters()], lr=est.learning_rate,
                                 betas=est.betas_)
    X_l, y_l = torch.from_numpy(X[keep]), torch.from_numpy(y[keep].astype(np.int64))
    steps = est.max_epochs * math.ceil(X.shape[0] / est.batch_size)
    start = time.perf_counter()
    module.train()
    for _ in range(steps):
        pick = torch.randint(len(keep), (est.batch_size,), generator=generator)
        x = X_l[pick]
        x = est._augment_labelled(x, generator)
        mean, _, _ = module.y_logits(module.scaler(x))
        loss = F.cross_entropy(mean, y_l[pick])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    module.eval()
    with torch.no_grad():
        test = torch.from_numpy(X_test)
        predicted = torch.cat([module.y_logits(module.scaler(c))[0].argmax(1) for c in test.split(1000)]).numpy()
    accuracy = float(np.mean(predicted == y_test))
    return {"seed": seed, "steps": steps, "final_loss": float(loss.detach()), "test_accuracy": accuracy,
            "test_error": 1 - accuracy, "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels-per-class", type=int, default=100)
    parser.add_argument("--params", default="{}", help="JSON dict of SAMMClassifier parameters")
    parser.add_argument("--out", default="samm_supervised_only.json")
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    params = {**SAMM_PARAMS, **json.loads(args.params)}
    X, y = fetch_mnist(data_home=DATA_HOME, subset="train", return_X_y=True)
    X_test, y_test = fetch_mnist(data_home=DATA_HOME, subset="test", return_X_y=True)
    result = {"machine": machine(), "command": " ".join(["python", *sys.argv]), "params": params, "runs": []}
    for seed in args.seeds:
        entry = run(seed, params, X, y, X_test, y_test, args.labels_per_class)
        print(json.dumps(entry), flush=True)
        result["runs"].append(entry)
    result["test_error"] = _mean_std([r["test_error"] for r in result["runs"]])
    print("test error", result["test_error"], flush=True)
    write_json(os.path.join(RESULTS, args.out), result)


if __name__ == "__main__":
    main()
