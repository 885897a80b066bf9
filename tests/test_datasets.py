"""Tests for skdeepgen.datasets: tiny files written here, no network, no shared data."""

import gzip
import hashlib
import os

import numpy as np
import pytest

import skdeepgen.datasets as ds
from skdeepgen.datasets import (
    DatasetChecksumError,
    fetch_fashion_mnist,
    fetch_mnist,
    fetch_usps,
    get_data_home,
    make_grid_gaussians,
    make_jgmmn_gaussians,
    make_ring_gaussians,
    make_swiss_roll_2d,
)

N_TRAIN, N_TEST = 5, 3
N_USPS_TRAIN, N_USPS_TEST = 4, 2


# ---------------------------------------------------------------------------
# helpers writing tiny files in the original formats
# ---------------------------------------------------------------------------


def _idx_bytes(array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def _usps_text(labels, values):
    rows = [
        " ".join([f"{lab:.4f}"] + [f"{v:.4f}" for v in row]) + " "
        for lab, row in zip(labels, values)
    ]
    return ("\n".join(rows) + "\n").encode("ascii")


def _content_entry(content):
    return (("content", "sha256", hashlib.sha256(content).hexdigest()),)


def _write_gz(folder, name, content):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(gzip.compress(content))


def _idx_dataset(seed):
    rng = np.random.RandomState(seed)
    return {
        "train-images-idx3-ubyte.gz": rng.randint(0, 256, (N_TRAIN, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.randint(0, 10, N_TRAIN),
        "t10k-images-idx3-ubyte.gz": rng.randint(0, 256, (N_TEST, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.randint(0, 10, N_TEST),
    }


def _usps_dataset():
    rng = np.random.RandomState(3)
    # Values on the file's 4-decimal grid so that parsing is exact.
    return {
        "zip.train.gz": (
            rng.randint(0, 10, N_USPS_TRAIN),
            np.round(rng.uniform(-1, 1, (N_USPS_TRAIN, 256)), 4),
        ),
        "zip.test.gz": (
            rng.randint(0, 10, N_USPS_TEST),
            np.round(rng.uniform(-1, 1, (N_USPS_TEST, 256)), 4),
        ),
    }


@pytest.fixture
def tiny_data(tmp_path, monkeypatch):
    """Write tiny MNIST / Fashion-MNIST / USPS files and register their checksums."""
    arrays = {"mnist": _idx_dataset(0), "fashion_mnist": _idx_dataset(1)}
    sources = {}  # uncompressed content per dataset and file, for download tests
    checksums = {}
    for name, files in arrays.items():
        sources[name], checksums[name] = {}, {}
        for fname, arr in files.items():
            content = _idx_bytes(arr)
            _write_gz(tmp_path / name, fname, content)
            sources[name][fname] = content
            checksums[name][fname] = _content_entry(content)
    usps = _usps_dataset()
    sources["usps"], checksums["usps"] = {}, {}
    for fname, (labels, values) in usps.items():
        content = _usps_text(labels, values)
        _write_gz(tmp_path / "usps", fname, content)
        sources["usps"][fname] = content
        checksums["usps"][fname] = _content_entry(content)
    monkeypatch.setattr(ds, "_CHECKSUMS", checksums)
    # Any accidental download attempt fails fast instead of reaching the network.
    monkeypatch.setattr(ds, "_URLS", {k: ("file:///nonexistent/",) for k in checksums})
    monkeypatch.delenv("SKDEEPGEN_DATA", raising=False)
    return {"home": tmp_path, "arrays": arrays, "usps": usps, "sources": sources}


# ---------------------------------------------------------------------------
# data home
# ---------------------------------------------------------------------------


def test_get_data_home_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("SKDEEPGEN_DATA", raising=False)
    assert get_data_home() == os.path.join(os.path.expanduser("~"), "skdeepgen_data")
    monkeypatch.setenv("SKDEEPGEN_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    assert get_data_home(tmp_path / "arg") == str(tmp_path / "arg")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home("~/x") == str(tmp_path / "x")
    assert not (tmp_path / "env").exists()  # not created by a mere lookup


# ---------------------------------------------------------------------------
# MNIST / Fashion-MNIST
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fetch, name", [(fetch_mnist, "mnist"), (fetch_fashion_mnist, "fashion_mnist")]
)
def test_fetch_idx_subsets(tiny_data, fetch, name):
    arrays = tiny_data["arrays"][name]
    home = tiny_data["home"]
    train = fetch(home, subset="train", download_if_missing=False)
    test = fetch(home, subset="test", download_if_missing=False)
    both = fetch(home, download_if_missing=False)  # default subset is "all"

    assert train.data.shape == (N_TRAIN, 784)
    assert test.data.shape == (N_TEST, 784)
    assert both.data.shape == (N_TRAIN + N_TEST, 784)
    for bunch in (train, test, both):
        assert bunch.data.dtype == np.float32
        assert bunch.target.dtype == np.int64
        assert 0.0 <= bunch.data.min() and bunch.data.max() <= 1.0
        assert bunch.images.shape == (len(bunch.data), 28, 28)
        assert np.shares_memory(bunch.images, bunch.data)
        assert len(bunch.feature_names) == 784 and len(bunch.target_names) == 10
        assert isinstance(bunch.DESCR, str) and bunch.DESCR
    assert both.subset == "all" and train.subset == "train"

    expected = arrays["train-images-idx3-ubyte.gz"].reshape(N_TRAIN, -1) / 255.0
    np.testing.assert_allclose(train.data, expected, rtol=1e-6)
    np.testing.assert_array_equal(train.target, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(test.target, arrays["t10k-labels-idx1-ubyte.gz"])
    # "all" is train rows then test rows.
    np.testing.assert_array_equal(both.data, np.concatenate([train.data, test.data]))
    np.testing.assert_array_equal(
        both.target, np.concatenate([train.target, test.target])
    )

    X, y = fetch(home, subset="test", download_if_missing=False, return_X_y=True)
    np.testing.assert_array_equal(X, test.data)
    np.testing.assert_array_equal(y, test.target)


def test_fashion_target_names(tiny_data):
    bunch = fetch_fashion_mnist(tiny_data["home"], subset="test")
    assert (
        bunch.target_names[0] == "T-shirt/top" and bunch.target_names[9] == "Ankle boot"
    )


def test_env_var_is_honoured(tiny_data, monkeypatch):
    monkeypatch.setenv("SKDEEPGEN_DATA", str(tiny_data["home"]))
    X, _ = fetch_mnist(subset="train", download_if_missing=False, return_X_y=True)
    assert X.shape == (N_TRAIN, 784)
    X, _ = fetch_usps(subset="train", download_if_missing=False, return_X_y=True)
    assert X.shape == (N_USPS_TRAIN, 256)


def test_bad_subset(tiny_data):
    with pytest.raises(ValueError, match="subset"):
        fetch_mnist(tiny_data["home"], subset="validation")


def test_checksum_mismatch_raises(tiny_data, monkeypatch):
    entry = (("content", "sha256", "0" * 64),)
    monkeypatch.setitem(ds._CHECKSUMS["mnist"], "t10k-labels-idx1-ubyte.gz", entry)
    with pytest.raises(DatasetChecksumError, match="t10k-labels-idx1-ubyte.gz.*delete"):
        fetch_mnist(tiny_data["home"], subset="test")
    # The train files are still fine.
    fetch_mnist(tiny_data["home"], subset="train")


def test_gz_checksum_accepted(tiny_data, monkeypatch):
    path = tiny_data["home"] / "mnist" / "t10k-labels-idx1-ubyte.gz"
    entry = (("gz", "md5", hashlib.md5(path.read_bytes()).hexdigest()),)
    monkeypatch.setitem(ds._CHECKSUMS["mnist"], "t10k-labels-idx1-ubyte.gz", entry)
    assert fetch_mnist(tiny_data["home"], subset="test").target.shape == (N_TEST,)


def _replace_file(tiny_data, dataset, fname, content, *, compress=True):
    """Overwrite one tiny file and register the new content's checksum."""
    path = tiny_data["home"] / dataset / fname
    path.write_bytes(gzip.compress(content) if compress else content)
    ds._CHECKSUMS[dataset][fname] = (
        ("content", "sha256", hashlib.sha256(content).hexdigest()),
        ("gz", "sha256", hashlib.sha256(path.read_bytes()).hexdigest()),
    )


@pytest.mark.parametrize(
    "fname, content, message",
    [
        # truncated image data
        (
            "train-images-idx3-ubyte.gz",
            _idx_bytes(np.zeros((N_TRAIN, 28, 28)))[:-10],
            "truncated",
        ),
        # wrong magic number
        ("train-images-idx3-ubyte.gz", b"\x01\x02\x03\x04" + bytes(20), "magic"),
        # too short for any header
        ("train-labels-idx1-ubyte.gz", b"\x00\x00", "IDX"),
        # images that are not 28x28
        (
            "train-images-idx3-ubyte.gz",
            _idx_bytes(np.zeros((N_TRAIN, 16, 16))),
            r"\(n, 28, 28\)",
        ),
        # label count differs from the image count
        ("train-labels-idx1-ubyte.gz", _idx_bytes(np.zeros(N_TRAIN + 1)), "labels"),
    ],
)
def test_malformed_idx_raises(tiny_data, fname, content, message):
    _replace_file(tiny_data, "mnist", fname, content)
    with pytest.raises(ValueError, match=message) as info:
        fetch_mnist(tiny_data["home"], subset="train")
    assert fname in str(info.value)


def test_not_gzip_raises(tiny_data):
    fname = "train-labels-idx1-ubyte.gz"
    _replace_file(tiny_data, "mnist", fname, b"plain bytes", compress=False)
    with pytest.raises(ValueError, match="gzip") as info:
        fetch_mnist(tiny_data["home"], subset="train")
    assert fname in str(info.value)


def test_missing_without_download_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(ds, "_URLS", {k: ("file:///nonexistent/",) for k in ds._URLS})
    for fetch, folder in [
        (fetch_mnist, "mnist"),
        (fetch_fashion_mnist, "fashion_mnist"),
        (fetch_usps, "usps"),
    ]:
        with pytest.raises(OSError, match="download_if_missing=False") as info:
            fetch(tmp_path, download_if_missing=False)
        assert str(tmp_path / folder) in str(info.value)
    assert not (tmp_path / "mnist").exists()


def test_download_through_file_url(tiny_data, tmp_path_factory, monkeypatch):
    mirror = tmp_path_factory.mktemp("mirror")
    for fname, content in tiny_data["sources"]["mnist"].items():
        _write_gz(mirror, fname, content)
    # The first mirror is dead: the loader must fall back to the second.
    monkeypatch.setitem(
        ds._URLS, "mnist", ("file:///nonexistent/", mirror.as_uri() + "/")
    )
    home = tmp_path_factory.mktemp("home") / "fresh"  # does not exist yet
    X, y = fetch_mnist(home, return_X_y=True)
    assert X.shape == (N_TRAIN + N_TEST, 784)
    names = sorted(os.listdir(home / "mnist"))
    assert names == sorted(tiny_data["sources"]["mnist"])  # no leftover temp files
    expected = fetch_mnist(tiny_data["home"], return_X_y=True)
    np.testing.assert_array_equal(X, expected[0])
    np.testing.assert_array_equal(y, expected[1])


def test_download_with_bad_checksum_is_not_kept(
    tiny_data, tmp_path_factory, monkeypatch
):
    mirror = tmp_path_factory.mktemp("mirror")
    for fname, (labels, values) in tiny_data["usps"].items():
        _write_gz(
            mirror, fname, _usps_text(labels, -values)
        )  # not the registered content
    monkeypatch.setitem(ds._URLS, "usps", (mirror.as_uri() + "/",))
    home = tmp_path_factory.mktemp("home")
    with pytest.raises(OSError, match="Checksum mismatch"):
        fetch_usps(home)
    assert os.listdir(home / "usps") == []


# ---------------------------------------------------------------------------
# USPS
# ---------------------------------------------------------------------------


def test_fetch_usps(tiny_data):
    home = tiny_data["home"]
    (tr_lab, tr_val), (te_lab, te_val) = (
        tiny_data["usps"]["zip.train.gz"],
        tiny_data["usps"]["zip.test.gz"],
    )
    train = fetch_usps(home, subset="train", download_if_missing=False)
    test = fetch_usps(home, subset="test", download_if_missing=False)
    both = fetch_usps(home, download_if_missing=False)
    assert train.data.shape == (N_USPS_TRAIN, 256)
    assert test.data.shape == (N_USPS_TEST, 256)
    assert both.data.shape == (N_USPS_TRAIN + N_USPS_TEST, 256)
    for bunch in (train, test, both):
        assert bunch.data.dtype == np.float32 and bunch.target.dtype == np.int64
        assert 0.0 <= bunch.data.min() and bunch.data.max() <= 1.0
        assert bunch.images.shape == (len(bunch.data), 16, 16)
    np.testing.assert_allclose(train.data, (tr_val + 1) / 2, atol=1e-6)
    np.testing.assert_array_equal(train.target, tr_lab)
    np.testing.assert_allclose(test.data, (te_val + 1) / 2, atol=1e-6)
    np.testing.assert_array_equal(both.target, np.concatenate([tr_lab, te_lab]))
    np.testing.assert_array_equal(both.data, np.concatenate([train.data, test.data]))
    X, y = fetch_usps(home, subset="train", return_X_y=True)
    np.testing.assert_array_equal(X, train.data)
    np.testing.assert_array_equal(y, train.target)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"1 0.5 0.5\n", "257"),  # too few columns
        (_usps_text([12], np.zeros((1, 256))), "0..9"),  # bad label
        (_usps_text([1], np.full((1, 256), 2.0)), r"\[-1, 1\]"),  # out-of-range values
        (b"1 abc\n", "USPS"),  # not numbers
    ],
)
def test_malformed_usps_raises(tiny_data, content, message):
    _replace_file(tiny_data, "usps", "zip.test.gz", content)
    with pytest.raises(ValueError, match=message) as info:
        fetch_usps(tiny_data["home"], subset="test")
    assert "zip.test.gz" in str(info.value)


# ---------------------------------------------------------------------------
# toy data
# ---------------------------------------------------------------------------

MIXTURES = [
    (make_jgmmn_gaussians, {"n_components": 4}, 4),
    (make_jgmmn_gaussians, {"n_components": 9}, 9),
    (make_ring_gaussians, {}, 8),
    (make_grid_gaussians, {}, 25),
]


@pytest.mark.parametrize("maker, kwargs, n_components", MIXTURES)
def test_mixture_shapes_counts_and_means(maker, kwargs, n_components):
    n = 50 * n_components + 3
    X, y, centers = maker(n, random_state=0, return_centers=True, **kwargs)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert centers.shape == (n_components, 2)
    counts = np.bincount(y, minlength=n_components)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    for k in range(n_components):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.1)


def test_documented_centers():
    _, _, c4 = make_jgmmn_gaussians(
        8, n_components=4, return_centers=True, random_state=0
    )
    np.testing.assert_allclose(c4, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    _, _, c9 = make_jgmmn_gaussians(
        9, n_components=9, return_centers=True, random_state=0
    )
    assert sorted(map(tuple, c9.tolist())) == [
        (a, b) for a in (-2, 0, 2) for b in (-2, 0, 2)
    ]
    _, _, c25 = make_grid_gaussians(25, return_centers=True, random_state=0)
    grid = [-4, -2, 0, 2, 4]
    assert sorted(map(tuple, c25.tolist())) == [(a, b) for a in grid for b in grid]
    _, _, c8 = make_ring_gaussians(8, return_centers=True, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(c8, axis=1), 2.0)
    np.testing.assert_allclose(c8[0], [2, 0], atol=1e-12)
    np.testing.assert_allclose(c8[2], [0, 2], atol=1e-12)


def test_mixture_std_and_unshuffled_order():
    X, y, c = make_ring_gaussians(
        4000, std=0.1, shuffle=False, random_state=1, return_centers=True
    )
    assert np.all(np.diff(y) >= 0)
    np.testing.assert_allclose((X - c[y]).std(axis=0), 0.1, rtol=0.1)


@pytest.mark.parametrize(
    "maker, kwargs",
    [(m, kw) for m, kw, _ in MIXTURES] + [(make_swiss_roll_2d, {})],
)
def test_toy_determinism_and_global_rng(maker, kwargs):
    np.random.seed(123)
    before = np.random.get_state()
    a = maker(100, random_state=7, **kwargs)
    b = maker(100, random_state=7, **kwargs)
    c = maker(100, random_state=8, **kwargs)
    after = np.random.get_state()
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2:] == before[2:]  # same position in the global stream
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_swiss_roll_2d_matches_gulrajani_setup():
    from sklearn.datasets import make_swiss_roll

    X, t = make_swiss_roll_2d(500, random_state=0)
    X3, t3 = make_swiss_roll(500, noise=0.25, random_state=0)
    np.testing.assert_allclose(X, X3[:, [0, 2]] / 7.5)
    np.testing.assert_allclose(t, t3)
    assert X.shape == (500, 2) and X.dtype == np.float64
    X0, t0 = make_swiss_roll_2d(200, noise=0.0, random_state=0)
    np.testing.assert_allclose(
        X0 * 7.5, np.column_stack([t0 * np.cos(t0), t0 * np.sin(t0)])
    )


@pytest.mark.parametrize(
    "maker, kwargs, exc, message",
    [
        (make_ring_gaussians, {"n_samples": 0}, ValueError, "n_samples"),
        (make_ring_gaussians, {"n_samples": 10.5}, TypeError, "n_samples"),
        (make_ring_gaussians, {"n_samples": True}, TypeError, "n_samples"),
        (make_ring_gaussians, {"std": 0.0}, ValueError, "std"),
        (make_ring_gaussians, {"std": -1.0}, ValueError, "std"),
        (make_ring_gaussians, {"std": "big"}, TypeError, "std"),
        (make_ring_gaussians, {"radius": float("inf")}, ValueError, "radius"),
        (make_ring_gaussians, {"n_modes": 0}, ValueError, "n_modes"),
        (make_grid_gaussians, {"n_per_axis": 2.0}, TypeError, "n_per_axis"),
        (make_grid_gaussians, {"spacing": -2.0}, ValueError, "spacing"),
        (make_grid_gaussians, {"std": float("nan")}, ValueError, "std"),
        (make_jgmmn_gaussians, {"n_components": 16}, ValueError, "n_components"),
        (make_jgmmn_gaussians, {"n_samples": -5}, ValueError, "-5"),
        (make_swiss_roll_2d, {"noise": -0.1}, ValueError, "noise"),
        (make_swiss_roll_2d, {"scale": 0}, ValueError, "scale"),
    ],
)
def test_toy_bad_arguments(maker, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        maker(**kwargs)
