"""Data-parallel fit with torch.distributed: launch this script with torchrun.

On one machine with 2 processes (gloo, CPUs)::

    torchrun --standalone --nproc_per_node 2 examples/distributed_fit.py

On GPUs, one process per GPU (NCCL)::

    torchrun --standalone --nproc_per_node 4 examples/distributed_fit.py --backend nccl

On several machines, the same command on each with ``--nnodes``,
``--node_rank`` and ``--rdzv_endpoint`` instead of ``--standalone`` (see
torchrun's documentation).

Every rank runs this same script: it loads the same data, creates the same
estimator (same ``random_state``) and calls ``fit``. skdeepgen sees the
initialised process group, deals each global minibatch of ``batch_size``
rows out to the ranks and averages gradients after every optimizer step, so
every rank ends with the same fitted model. Only rank 0 prints progress and
saves the model.

Add ``--data-home DIR`` to fit on MNIST read from DIR instead of
scikit-learn's bundled digits.
"""

import argparse

import torch.distributed as dist
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepgen import Autoencoder
from skdeepgen.metrics import cluster_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="gloo", choices=["gloo", "nccl"])
    parser.add_argument("--data-home", default=None, help="fit on MNIST read from this folder")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()

    dist.init_process_group(args.backend)
    rank = dist.get_rank()
    if args.data_home:
        from skdeepgen.datasets import fetch_mnist

        X, y = fetch_mnist(data_home=args.data_home, return_X_y=True)
    else:
        X, y = load_digits(return_X_y=True)
        X = X / 16.0

    # device="auto": under NCCL each rank takes the GPU of its LOCAL_RANK.
    ae = Autoencoder(n_components=10, max_epochs=args.epochs, n_iter_no_change=None, random_state=0,
                     verbose=1).fit(X)
    if rank == 0:
        codes = ae.transform(X)
        labels = KMeans(10, n_init=10, random_state=0).fit_predict(codes)
        print(f"world size {dist.get_world_size()}: final loss {ae.history_[-1]['loss']:.5f}; "
              f"AE+KMeans {cluster_report(y, labels)}")
        ae.save("autoencoder_distributed.pt")  # loads on any machine, GPU or not
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
