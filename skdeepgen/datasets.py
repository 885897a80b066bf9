"""Datasets: real benchmarks (MNIST, Fashion-MNIST, USPS) and the papers' 2-D toy data.

Real-data loaders
-----------------
Each loader reads the dataset's original files from ``<data_home>/<name>/`` and
returns a :class:`sklearn.utils.Bunch` (or ``(X, y)`` with ``return_X_y=True``).
``data_home`` defaults to the ``SKDEEPGEN_DATA`` environment variable, else
``~/skdeepgen_data`` (see :func:`get_data_home`).

Splits (``subset``) and scaling:

- :func:`fetch_mnist`, :func:`fetch_fashion_mnist`: ``"train"`` 60,000 rows,
  ``"test"`` 10,000, ``"all"`` (default) 70,000, training rows first.
  ``data`` is float32 (n, 784), the uint8 pixels divided by 255, so in [0, 1].
- :func:`fetch_usps`: ``"train"`` 7,291 rows, ``"test"`` 2,007, ``"all"``
  (default) 9,298, training rows first. ``data`` is float32 (n, 256),
  ``(v + 1) / 2`` of the file's values ``v`` in [-1, 1], so in [0, 1].
- ``target`` is int64 in 0..9; ``images`` is ``data`` reshaped to 28x28 or
  16x16 (a view sharing its memory).

``"all"`` is the default because clustering is unsupervised and the JGMMN paper
clusters all 70,000 MNIST and 9,298 USPS images.

Files that are missing are downloaded from the canonical homes listed in the
module-level ``_URLS`` (tried in order). Every file, downloaded or found on disk,
is checked against the module-level ``_CHECKSUMS`` registry on each load;
content checksums are of the *decompressed* bytes, so a re-gzipped copy of the
official data is accepted, and the official ``.gz`` digests are accepted too
(Fashion-MNIST is checked against its published ``.gz`` md5s only).

Toy data
--------
:func:`make_jgmmn_gaussians` (4- and 9-component mixtures of the JGMMN paper),
:func:`make_ring_gaussians` (8 Gaussians on a ring), :func:`make_grid_gaussians`
(25 Gaussians on a grid) and :func:`make_swiss_roll_2d`, following Gulrajani et
al. (2017), whose toy setup the GAMN paper uses. The mixtures return ``(X, y)``
with ``X`` float64 (n, 2) and ``y`` the int64 component index; each component gets
``n_samples // n_components`` points (the first ``n_samples % n_components``
one more), shuffled by default.
"""

import gzip
import hashlib
import http.client
import numbers
import os
import tempfile
import urllib.request
import zlib
from io import StringIO

import numpy as np
from sklearn.datasets import make_swiss_roll
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "DatasetChecksumError",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "fetch_usps",
    "get_data_home",
    "make_grid_gaussians",
    "make_jgmmn_gaussians",
    "make_ring_gaussians",
    "make_swiss_roll_2d",
]

_ENV_DATA_HOME = "SKDEEPGEN_DATA"
_DEFAULT_DATA_HOME = os.path.join("~", "skdeepgen_data")
_SUBSETS = ("train", "test", "all")
_DOWNLOAD_TIMEOUT = 60  # seconds per connection attempt

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_USPS_FILES = {"train": "zip.train.gz", "test": "zip.test.gz"}

# Base URLs, tried in order; the file name is appended. Plain http mirrors are
# acceptable because every download is checksum-verified before it is kept.
_URLS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion_mnist": (
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    "usps": ("https://hastie.su.domains/ElemStatLearn/datasets/",),
}

# Accepted digests per file, as (scope, algorithm, hexdigest). scope "content" is
# the gunzipped bytes (robust to recompression), "gz" the file bytes as served.
# A file passes if any one entry matches.
_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            ("content", "md5", "6bbc9ace898e44ae57da46a324031adb"),
            (
                "content",
                "sha256",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            ("gz", "md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ),
        "train-labels-idx1-ubyte.gz": (
            ("content", "md5", "a25bea736e30d166cdddb491f175f624"),
            (
                "content",
                "sha256",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            ("gz", "md5", "d53e105ee54ea40749a09fcbcd1e9432"),
        ),
        "t10k-images-idx3-ubyte.gz": (
            ("content", "md5", "2646ac647ad5339dbf082846283269ea"),
            (
                "content",
                "sha256",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            ("gz", "md5", "9fb629c4189551a2d022fa330f9573f3"),
        ),
        "t10k-labels-idx1-ubyte.gz": (
            ("content", "md5", "27ae3e4e09519cfbb04c329615203637"),
            (
                "content",
                "sha256",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
            ("gz", "md5", "ec29112dd5afa0611ce80d1b7f02629c"),
        ),
    },
    # Only the published digests of the official .gz files are known.
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": (
            ("gz", "md5", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ),
        "train-labels-idx1-ubyte.gz": (
            ("gz", "md5", "25c81989df183df01b3e8a0aad5dffbe"),
        ),
        "t10k-images-idx3-ubyte.gz": (
            ("gz", "md5", "bef4ecab320f06d8554ea6380940ec79"),
        ),
        "t10k-labels-idx1-ubyte.gz": (
            ("gz", "md5", "bb300cfdad3c16e7a12a480ee83cd310"),
        ),
    },
    "usps": {
        "zip.train.gz": (
            (
                "content",
                "sha256",
                "abc9f5c75b997cabe66b5d01727d5a681c69298e1641a8d37b55433a52129dc0",
            ),
            (
                "gz",
                "sha256",
                "66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16",
            ),
        ),
        "zip.test.gz": (
            (
                "content",
                "sha256",
                "6bde17b4f1cd68e0630cd2751d6495b5795d9165ab2dc4a0be8b7002b732f4cc",
            ),
            (
                "gz",
                "sha256",
                "8dacc3c6e136af6c3488de9e5113a7daf140c8c2f1f0b61c54ee02f03f1a962f",
            ),
        ),
    },
}

_FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

_DESCR = {
    "mnist": (
        "MNIST handwritten digits (Y. LeCun, C. Cortes, C. J. C. Burges).\n"
        "28x28 grey-level images, 10 classes; 60,000 training and 10,000 test "
        "images ('all' = training rows then test rows, 70,000).\n"
        "data: float32 (n, 784), pixel / 255 in [0, 1]; target: int64 digit 0-9.\n"
        "Source: the IDX files of http://yann.lecun.com/exdb/mnist/ "
        "(commonly listed as CC BY-SA 3.0)."
    ),
    "fashion_mnist": (
        "Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, 2017; Zalando Research).\n"
        "28x28 grey-level images of clothing, 10 classes; 60,000 training and "
        "10,000 test images ('all' = training rows then test rows, 70,000).\n"
        "data: float32 (n, 784), pixel / 255 in [0, 1]; target: int64 class 0-9 "
        "(names in target_names).\n"
        "Source: https://github.com/zalandoresearch/fashion-mnist (MIT licence)."
    ),
    "usps": (
        "USPS handwritten digits (J. J. Hull, 1994), as distributed with Hastie, "
        "Tibshirani & Friedman, The Elements of Statistical Learning.\n"
        "16x16 deslanted, size-normalised grey-level images, 10 classes; 7,291 "
        "training and 2,007 test images ('all' = training rows then test rows, "
        "9,298).\n"
        "data: float32 (n, 256), (v + 1) / 2 in [0, 1] of the file's values v in "
        "[-1, 1]; target: int64 digit 0-9.\n"
        "Source: https://hastie.su.domains/ElemStatLearn/datasets/zip.train.gz "
        "and zip.test.gz."
    ),
}


class DatasetChecksumError(OSError):
    """A dataset file on disk or downloaded does not match its expected checksum."""


# ---------------------------------------------------------------------------
# data home, files, checksums, downloads
# ---------------------------------------------------------------------------


def get_data_home(data_home=None):
    """Return the folder where skdeepgen's dataset loaders keep their files.

    The folder is not created here; loaders create it when they download.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use. If None, the ``SKDEEPGEN_DATA`` environment variable is
        used when set and non-empty, else ``~/skdeepgen_data``. ``~`` is
        expanded.

    Returns
    -------
    data_home : str
        Absolute path of the data folder. Each dataset lives in a subfolder
        (``mnist/``, ``fashion_mnist/``, ``usps/``) with its original file names.

    Examples
    --------
    >>> from skdeepgen.datasets import get_data_home
    >>> get_data_home("/tmp/my_data")
    '/tmp/my_data'
    """
    if data_home is None:
        data_home = os.environ.get(_ENV_DATA_HOME) or _DEFAULT_DATA_HOME
    return os.path.abspath(os.path.expanduser(os.fspath(data_home)))


def _gunzip(raw, path):
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{path!r} is not a valid gzip file ({exc}); delete it so that it is "
            "downloaded again, or replace it with the original file."
        ) from exc


def _verify(raw, content, path, dataset, filename):
    """Raise DatasetChecksumError unless one registered digest matches."""
    expected = _CHECKSUMS[dataset][filename]
    for scope, algorithm, hexdigest in expected:
        data = content if scope == "content" else raw
        if hashlib.new(algorithm, data).hexdigest() == hexdigest.lower():
            return
    wanted = ", ".join(f"{alg} of the {scope} {hexd}" for scope, alg, hexd in expected)
    raise DatasetChecksumError(
        f"Checksum mismatch for {path!r}: expected {wanted}. The file is corrupted, "
        "truncated or not the original; delete it and call the loader again to "
        "re-download it."
    )


def _download(dataset, filename, folder):
    """Fetch one file from the mirrors into folder, verified, atomically."""
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, filename)
    errors = []
    for base in _URLS[dataset]:
        url = base + filename
        # Same folder as the target so that os.replace is an atomic rename.
        fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder)
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response,
            ):
                while chunk := response.read(1 << 20):
                    out.write(chunk)
            with open(tmp, "rb") as fh:
                raw = fh.read()
            _verify(raw, _gunzip(raw, url), url, dataset, filename)
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; data files are shareable
            os.replace(tmp, target)
            return target
        # URLError, timeouts and checksum errors are OSErrors; a dropped
        # connection can also surface as http.client.IncompleteRead.
        except (OSError, ValueError, http.client.HTTPException) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise OSError(
        f"Could not download {filename!r} to {folder!r}; tried:\n  "
        + "\n  ".join(errors)
    )


def _read_verified(dataset, filename, data_home, download_if_missing):
    """Return (decompressed checksum-verified content, path) of one dataset file."""
    folder = os.path.join(get_data_home(data_home), dataset)
    path = os.path.join(folder, filename)
    if not os.path.isfile(path):
        if not download_if_missing:
            raise FileNotFoundError(
                f"{dataset} file {filename!r} not found at {path!r} and "
                "download_if_missing=False. Put the original file there, set "
                f"data_home or the {_ENV_DATA_HOME} environment variable, or allow "
                "the download."
            )
        _download(dataset, filename, folder)
    with open(path, "rb") as fh:
        raw = fh.read()
    content = _gunzip(raw, path)
    _verify(raw, content, path, dataset, filename)
    return content, path


# ---------------------------------------------------------------------------
# parsers
# ---------------------------------------------------------------------------

# IDX type byte -> big-endian numpy dtype (see http://yann.lecun.com/exdb/mnist/).
_IDX_DTYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


def _parse_idx(content, path):
    """Parse IDX bytes (magic 0x0000TTNN, NN big-endian uint32 dims, data)."""
    if len(content) < 4:
        raise ValueError(f"{path!r} is not an IDX file: only {len(content)} bytes.")
    zero, type_code, ndim = int.from_bytes(content[:2], "big"), content[2], content[3]
    if zero != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{path!r} is not an IDX file: bad magic number 0x{content[:4].hex()}."
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise ValueError(f"{path!r} is truncated: the IDX header needs {header} bytes.")
    dims = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(content) != expected:
        raise ValueError(
            f"{path!r} is malformed: header says shape {dims} ({expected} bytes in "
            f"all) but the file has {len(content)} bytes (truncated or corrupted)."
        )
    return np.frombuffer(content, dtype, offset=header).reshape(dims)


def _check_labels(labels, n_rows, path):
    if labels.shape != (n_rows,):
        raise ValueError(
            f"{path!r} holds labels of shape {labels.shape}, expected ({n_rows},)."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path!r} holds labels outside 0..9.")


def _load_idx_subset(dataset, subset, data_home, download_if_missing):
    img_name, lab_name = _IDX_FILES[subset]
    images, img_path = _read_verified(dataset, img_name, data_home, download_if_missing)
    images = _parse_idx(images, img_path)
    labels, lab_path = _read_verified(dataset, lab_name, data_home, download_if_missing)
    labels = _parse_idx(labels, lab_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{img_path!r} holds {images.dtype} data of shape {images.shape}, "
            "expected uint8 images of shape (n, 28, 28)."
        )
    _check_labels(labels, images.shape[0], lab_path)
    return images, labels


def _parse_usps(content, path):
    """Parse ESL zip-code text rows: label then 256 values in [-1, 1]."""
    try:
        table = np.loadtxt(StringIO(content.decode("ascii")), dtype=np.float64, ndmin=2)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path!r} is not a USPS text file: {exc}") from exc
    if table.shape[1] != 257:
        raise ValueError(
            f"{path!r} is malformed: rows have {table.shape[1]} columns, expected 257 "
            "(label then 16x16 values)."
        )
    labels, values = table[:, 0], table[:, 1:]
    if np.any(labels != np.round(labels)):
        raise ValueError(f"{path!r} holds non-integer labels.")
    labels = labels.astype(np.int64)
    _check_labels(labels, table.shape[0], path)
    if values.size and (values.min() < -1 or values.max() > 1):
        raise ValueError(f"{path!r} holds pixel values outside [-1, 1].")
    return values, labels


# ---------------------------------------------------------------------------
# loaders
# ---------------------------------------------------------------------------


def _check_subset(subset):
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}.")
    return ("train", "test") if subset == "all" else (subset,)


def _fetch_idx(
    dataset, data_home, subset, download_if_missing, return_X_y, target_names
):
    parts = [
        _load_idx_subset(dataset, s, data_home, download_if_missing)
        for s in _check_subset(subset)
    ]
    images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    # Divide in float32 so the 70,000 x 784 array is never materialised as float64.
    data = images.reshape(len(images), -1).astype(np.float32)
    data /= np.float32(255.0)
    target = np.concatenate([p[1] for p in parts]).astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 28, 28),
        target_names=np.asarray(target_names),
        feature_names=[f"pixel_{i}" for i in range(data.shape[1])],
        subset=subset,
        DESCR=_DESCR[dataset],
    )


def fetch_mnist(
    data_home=None, *, subset="all", download_if_missing=True, return_X_y=False
):
    """Load the MNIST handwritten digits (70,000 images of 28x28 pixels).

    Reads the four original IDX files (``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``) from ``<data_home>/mnist/``, downloading the
    missing ones when allowed. Checksums are verified on every load.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Data folder; see :func:`get_data_home`.
    subset : {"all", "train", "test"}, default="all"
        ``"train"``: the 60,000 training images; ``"test"``: the 10,000 test
        images; ``"all"``: both, training rows first (70,000).
    download_if_missing : bool, default=True
        If False, raise an :class:`OSError` when a file is missing instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (n_samples, 784), dtype float32
            Pixel intensities divided by 255, in [0, 1], row-major.
        target : ndarray of shape (n_samples,), dtype int64
            The digit, 0 to 9.
        images : ndarray of shape (n_samples, 28, 28), dtype float32
            ``data`` reshaped (a view sharing its memory).
        target_names : ndarray of shape (10,)
            The digits 0 to 9.
        feature_names : list of str
            ``"pixel_0"`` to ``"pixel_783"``.
        subset : str
            The ``subset`` argument.
        DESCR : str
            Description of the dataset.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` arrays above.

    Raises
    ------
    OSError
        If a file is missing and cannot (or may not) be downloaded.
    DatasetChecksumError
        If a file does not match the registered checksums.
    ValueError
        If a file is not valid gzip / IDX data.

    Examples
    --------
    >>> from skdeepgen.datasets import fetch_mnist
    >>> X, y = fetch_mnist(subset="test", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype, y.dtype  # doctest: +SKIP
    ((10000, 784), dtype('float32'), dtype('int64'))
    """
    return _fetch_idx(
        "mnist", data_home, subset, download_if_missing, return_X_y, np.arange(10)
    )


def fetch_fashion_mnist(
    data_home=None, *, subset="all", download_if_missing=True, return_X_y=False
):
    """Load Fashion-MNIST (70,000 images of clothing, 28x28 pixels, 10 classes).

    Reads the four original IDX files (same names as MNIST's) from
    ``<data_home>/fashion_mnist/``, downloading the missing ones when allowed.
    The published md5 digests of the official ``.gz`` files are verified on
    every load.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Data folder; see :func:`get_data_home`.
    subset : {"all", "train", "test"}, default="all"
        ``"train"``: the 60,000 training images; ``"test"``: the 10,000 test
        images; ``"all"``: both, training rows first (70,000).
    download_if_missing : bool, default=True
        If False, raise an :class:`OSError` when a file is missing instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (n_samples, 784), dtype float32
            Pixel intensities divided by 255, in [0, 1], row-major.
        target : ndarray of shape (n_samples,), dtype int64
            The class index, 0 to 9.
        images : ndarray of shape (n_samples, 28, 28), dtype float32
            ``data`` reshaped (a view sharing its memory).
        target_names : ndarray of shape (10,)
            Class names, ``"T-shirt/top"`` to ``"Ankle boot"``.
        feature_names : list of str
            ``"pixel_0"`` to ``"pixel_783"``.
        subset : str
            The ``subset`` argument.
        DESCR : str
            Description of the dataset.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` arrays above.

    Raises
    ------
    OSError
        If a file is missing and cannot (or may not) be downloaded.
    DatasetChecksumError
        If a file does not match the registered checksums.
    ValueError
        If a file is not valid gzip / IDX data.

    Examples
    --------
    >>> from skdeepgen.datasets import fetch_fashion_mnist
    >>> bunch = fetch_fashion_mnist(subset="train")  # doctest: +SKIP
    >>> bunch.images.shape  # doctest: +SKIP
    (60000, 28, 28)
    """
    return _fetch_idx(
        "fashion_mnist",
        data_home,
        subset,
        download_if_missing,
        return_X_y,
        _FASHION_MNIST_CLASSES,
    )


def fetch_usps(
    data_home=None, *, subset="all", download_if_missing=True, return_X_y=False
):
    """Load the USPS handwritten digits (9,298 images of 16x16 pixels).

    Reads ``zip.train.gz`` and ``zip.test.gz`` (the text files of *The Elements
    of Statistical Learning*: one row per image, the label then 256 values in
    [-1, 1]) from ``<data_home>/usps/``, downloading the missing ones when
    allowed. Checksums are verified on every load.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Data folder; see :func:`get_data_home`.
    subset : {"all", "train", "test"}, default="all"
        ``"train"``: the 7,291 training images; ``"test"``: the 2,007 test
        images; ``"all"``: both, training rows first (9,298).
    download_if_missing : bool, default=True
        If False, raise an :class:`OSError` when a file is missing instead of
        downloading it.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (n_samples, 256), dtype float32
            ``(v + 1) / 2`` of the file's values ``v``, so in [0, 1] with 0 for
            the background, matching MNIST's convention.
        target : ndarray of shape (n_samples,), dtype int64
            The digit, 0 to 9.
        images : ndarray of shape (n_samples, 16, 16), dtype float32
            ``data`` reshaped (a view sharing its memory).
        target_names : ndarray of shape (10,)
            The digits 0 to 9.
        feature_names : list of str
            ``"pixel_0"`` to ``"pixel_255"``.
        subset : str
            The ``subset`` argument.
        DESCR : str
            Description of the dataset.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` arrays above.

    Raises
    ------
    OSError
        If a file is missing and cannot (or may not) be downloaded.
    DatasetChecksumError
        If a file does not match the registered checksums.
    ValueError
        If a file is not valid gzip / USPS text data.

    Examples
    --------
    >>> from skdeepgen.datasets import fetch_usps
    >>> X, y = fetch_usps(return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (9298, 256)
    """
    values, labels = [], []
    for s in _check_subset(subset):
        filename = _USPS_FILES[s]
        content, path = _read_verified("usps", filename, data_home, download_if_missing)
        v, lab = _parse_usps(content, path)
        values.append(v)
        labels.append(lab)
    data = ((np.concatenate(values) + 1.0) / 2.0).astype(np.float32)
    target = np.concatenate(labels)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 16, 16),
        target_names=np.arange(10),
        feature_names=[f"pixel_{i}" for i in range(data.shape[1])],
        subset=subset,
        DESCR=_DESCR["usps"],
    )


# ---------------------------------------------------------------------------
# toy data
# ---------------------------------------------------------------------------


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int, got {value!r} of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}.")
    return int(value)


def _check_real(name, value, *, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = type(value).__name__
        raise TypeError(f"{name} must be a real number, got {value!r} of type {kind}.")
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {bound} number, got {value!r}.")
    return float(value)


def _sample_mixture(centers, std, n_samples, shuffle, random_state, return_centers):
    """Balanced isotropic Gaussian mixture around ``centers``."""
    rng = check_random_state(random_state)
    n_components = len(centers)
    # Balanced counts (as make_blobs) so label counts are exact, not random.
    counts = np.full(n_components, n_samples // n_components)
    counts[: n_samples % n_components] += 1
    y = np.repeat(np.arange(n_components, dtype=np.int64), counts)
    X = centers[y] + std * rng.standard_normal((n_samples, 2))
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    if return_centers:
        return X, y, centers.copy()
    return X, y


def _grid_centers(n_per_axis, spacing):
    coords = spacing * (np.arange(n_per_axis) - (n_per_axis - 1) / 2.0)
    # Component k = i * n_per_axis + j sits at (coords[i], coords[j]).
    return np.array([(a, b) for a in coords for b in coords], dtype=np.float64)


def make_grid_gaussians(
    n_samples=1000,
    *,
    n_per_axis=5,
    spacing=2.0,
    std=0.05,
    shuffle=True,
    random_state=None,
    return_centers=False,
):
    """Sample the 2-D Gaussian mixture laid out on a square grid ("25 Gaussians").

    With the defaults, 25 components with means on ``{-4, -2, 0, 2, 4}^2`` and
    standard deviation 0.05: the grid of VEEGAN (Srivastava et al., 2017) and
    AIM. Gulrajani et al. (2017), whose toy data GAMN uses, draw the same
    mixture then divide by 2.828; pass ``spacing=2 / 2.828, std=0.05 / 2.828``
    for that scale.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points, split evenly over the components.
    n_per_axis : int, default=5
        Components per axis; there are ``n_per_axis ** 2`` components.
    spacing : float, default=2.0
        Distance between neighbouring means; the grid is centred on the origin.
    std : float, default=0.05
        Standard deviation of each (isotropic) component.
    shuffle : bool, default=True
        Shuffle the points; if False they come sorted by component.
    random_state : int, RandomState instance or None, default=None
        Seed or generator (see :func:`sklearn.utils.check_random_state`); None
        uses numpy's global RandomState as scikit-learn does.
    return_centers : bool, default=False
        Also return the component means.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    y : ndarray of shape (n_samples,), dtype int64
        Component of each point; component ``i * n_per_axis + j`` has mean
        ``(c[i], c[j])`` where
        ``c = spacing * (arange(n_per_axis) - (n_per_axis - 1) / 2)``.
    centers : ndarray of shape (n_per_axis ** 2, 2)
        The means, only if ``return_centers`` is True.

    Examples
    --------
    >>> from skdeepgen.datasets import make_grid_gaussians
    >>> X, y = make_grid_gaussians(n_samples=100, random_state=0)
    >>> X.shape, int(y.max())
    ((100, 2), 24)
    """
    n_samples = _check_int("n_samples", n_samples)
    n_per_axis = _check_int("n_per_axis", n_per_axis)
    spacing = _check_real("spacing", spacing)
    std = _check_real("std", std)
    centers = _grid_centers(n_per_axis, spacing)
    return _sample_mixture(
        centers, std, n_samples, shuffle, random_state, return_centers
    )


def make_jgmmn_gaussians(
    n_samples=2000,
    *,
    n_components=4,
    spacing=2.0,
    std=0.2,
    shuffle=True,
    random_state=None,
    return_centers=False,
):
    """Sample the 4- or 9-component 2-D Gaussian mixtures of the JGMMN paper.

    JGMMN (section 5.1) draws 2,000 points from a 2-D Gaussian mixture with 4
    components ("Synthetic Data-1") and one with 9 components ("Synthetic
    Data-2") but does not give their means or standard deviations (they are
    only shown in its figure 2). We use means on a centred square grid with
    ``spacing`` between neighbours, i.e. ``(+-1, +-1)`` for 4 components and
    ``{-2, 0, 2}^2`` for 9 with the defaults, and an isotropic ``std`` of 0.2,
    so that the components are well separated (10 standard deviations apart).

    Parameters
    ----------
    n_samples : int, default=2000
        Number of points (2,000 in the paper), split evenly over the components.
    n_components : {4, 9}, default=4
        Number of components: 4 on a 2x2 grid, 9 on a 3x3 grid.
    spacing : float, default=2.0
        Distance between neighbouring means.
    std : float, default=0.2
        Standard deviation of each (isotropic) component.
    shuffle : bool, default=True
        Shuffle the points; if False they come sorted by component.
    random_state : int, RandomState instance or None, default=None
        Seed or generator (see :func:`sklearn.utils.check_random_state`); None
        uses numpy's global RandomState as scikit-learn does.
    return_centers : bool, default=False
        Also return the component means.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    y : ndarray of shape (n_samples,), dtype int64
        Component of each point, indexed as in :func:`make_grid_gaussians`.
    centers : ndarray of shape (n_components, 2)
        The means, only if ``return_centers`` is True.

    Examples
    --------
    >>> from skdeepgen.datasets import make_jgmmn_gaussians
    >>> X, y, centers = make_jgmmn_gaussians(n_components=4, random_state=0,
    ...                                      return_centers=True)
    >>> centers.tolist()
    [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    """
    n_samples = _check_int("n_samples", n_samples)
    if isinstance(n_components, bool) or n_components not in (4, 9):
        raise ValueError(f"n_components must be 4 or 9, got {n_components!r}.")
    spacing = _check_real("spacing", spacing)
    std = _check_real("std", std)
    centers = _grid_centers(2 if n_components == 4 else 3, spacing)
    return _sample_mixture(
        centers, std, n_samples, shuffle, random_state, return_centers
    )


def make_ring_gaussians(
    n_samples=1000,
    *,
    n_modes=8,
    radius=2.0,
    std=0.02,
    shuffle=True,
    random_state=None,
    return_centers=False,
):
    """Sample Gaussians evenly spaced on a circle ("8 Gaussians").

    With the defaults, the 8-Gaussian ring of Gulrajani et al. (2017) (used by
    GAMN) before their final division by 1.414: means at radius 2 and angles
    ``2 * pi * k / 8``, standard deviation 0.02. Pass
    ``radius=2 / 1.414, std=0.02 / 1.414`` to reproduce their scale exactly.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points, split evenly over the modes.
    n_modes : int, default=8
        Number of components.
    radius : float, default=2.0
        Distance of the means from the origin.
    std : float, default=0.02
        Standard deviation of each (isotropic) component.
    shuffle : bool, default=True
        Shuffle the points; if False they come sorted by component.
    random_state : int, RandomState instance or None, default=None
        Seed or generator (see :func:`sklearn.utils.check_random_state`); None
        uses numpy's global RandomState as scikit-learn does.
    return_centers : bool, default=False
        Also return the component means.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    y : ndarray of shape (n_samples,), dtype int64
        Component of each point; component ``k`` has mean
        ``radius * (cos(2 pi k / n_modes), sin(2 pi k / n_modes))``.
    centers : ndarray of shape (n_modes, 2)
        The means, only if ``return_centers`` is True.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepgen.datasets import make_ring_gaussians
    >>> X, y = make_ring_gaussians(n_samples=80, random_state=0)
    >>> X.shape, [int(c) for c in np.bincount(y)]
    ((80, 2), [10, 10, 10, 10, 10, 10, 10, 10])
    """
    n_samples = _check_int("n_samples", n_samples)
    n_modes = _check_int("n_modes", n_modes)
    radius = _check_real("radius", radius)
    std = _check_real("std", std)
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    centers = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    return _sample_mixture(
        centers, std, n_samples, shuffle, random_state, return_centers
    )


def make_swiss_roll_2d(n_samples=1000, *, noise=0.25, scale=7.5, random_state=None):
    """Sample the 2-D Swiss roll of Gulrajani et al. (2017), used by GAMN.

    Draws :func:`sklearn.datasets.make_swiss_roll` with the given 3-D ``noise``,
    keeps columns 0 and 2 (``t cos t``, ``t sin t``, the spiral) and divides by
    ``scale``; with the defaults this is exactly their setup (noise 0.25, then
    ``/ 7.5``), so points lie roughly within [-1.6, 2]^2 and the noise standard
    deviation is about 0.033 in the returned units.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    noise : float, default=0.25
        Standard deviation of the Gaussian noise added before dividing by
        ``scale``; 0 for points exactly on the spiral.
    scale : float, default=7.5
        Divisor applied to the coordinates.
    random_state : int, RandomState instance or None, default=None
        Seed or generator (see :func:`sklearn.utils.check_random_state`); None
        uses numpy's global RandomState as scikit-learn does.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), dtype float64
        The points.
    t : ndarray of shape (n_samples,), dtype float64
        Position of each point along the spiral (angle in radians, in
        [1.5 pi, 4.5 pi]); the Swiss roll has no components.

    Examples
    --------
    >>> from skdeepgen.datasets import make_swiss_roll_2d
    >>> X, t = make_swiss_roll_2d(n_samples=50, random_state=0)
    >>> X.shape, t.shape
    ((50, 2), (50,))
    """
    n_samples = _check_int("n_samples", n_samples)
    noise = _check_real("noise", noise, allow_zero=True)
    scale = _check_real("scale", scale)
    X, t = make_swiss_roll(
        n_samples, noise=noise, random_state=check_random_state(random_state)
    )
    return X[:, [0, 2]] / scale, t
