"""Small PyTorch network builders shared by the estimators.

The models of skdeepgen (autoencoder, DEC, JGMMN, GANs) are stacks of fully
connected layers.  This module builds them and validates their sizes:

- :func:`make_mlp` builds a :class:`torch.nn.Sequential` multilayer
  perceptron from a tuple of layer widths;
- :func:`make_conv_encoder`, :func:`make_conv_features` and
  :func:`make_conv_decoder` build the small DCGAN-style convolutional
  networks of the GAN papers for image rows;
- :func:`check_layer_sizes` validates user-given hidden-layer tuples such as
  ``encoder_layers=(500, 500, 2000)`` with messages naming the parameter;
- :func:`init_weights` applies the N(0, 0.02) initialization of the GAN
  papers from an optional private :class:`torch.Generator`;
- :func:`count_parameters` and :func:`mlp_flops` measure model size and
  forward cost;
- :class:`Standardize` maps data to zero mean and unit variance and back,
  inside a model, so generators return samples on the data's own scale.

Notes
-----
Layers built by torch draw their default initialization from the *global*
torch RNG.  Estimators that want reproducible networks without side effects
should build them inside :func:`torch.random.fork_rng` after seeding, or
re-initialize them with :func:`init_weights` and a seeded generator::

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = make_mlp((784, 500, 10))
"""

import copy
import itertools
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "Standardize",
    "check_layer_sizes",
    "count_parameters",
    "check_image_shape",
    "init_weights",
    "make_conv_decoder",
    "make_conv_encoder",
    "make_conv_features",
    "make_mlp",
    "mlp_flops",
    "resolve_output_activation",
]

# Factories rather than classes so that "leaky_relu" can carry the 0.2 slope
# of the GAN papers (torch defaults to 0.01).  ``None`` means no module.
_ACTIVATION_FACTORIES = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "identity": None,
}

ACTIVATIONS = tuple(_ACTIVATION_FACTORIES)
"""tuple of str: activation names accepted by :func:`make_mlp`."""

# Layers whose weights follow the N(0, std) initialization of init_weights.
_INIT_TYPES = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


def check_layer_sizes(sizes, param_name, *, min_length=0, auto=None):
    """Validate a sequence of layer widths.

    Parameters
    ----------
    sizes : tuple, list or 1-D ndarray of int
        Layer widths, each a positive integer.  Python bools are rejected
        although they are ints, since ``(True, 64)`` is surely a mistake.
        Empty is allowed by default and means "no hidden layer".
    param_name : str
        Name of the parameter being checked, used in error messages, e.g.
        ``"encoder_layers"``.
    min_length : int, default=0
        Minimum number of entries.
    auto : tuple of int or None, default=None
        What the string ``"auto"`` stands for (an estimator's data-dependent
        default), returned as it is; None accepts no string.

    Returns
    -------
    sizes : tuple of int
        The widths as a tuple of Python ints (numpy integers converted).

    Raises
    ------
    TypeError
        If ``sizes`` is not a tuple, list or 1-D array (a single int or a
        string included), or an entry is not an integer.
    ValueError
        If an entry is not positive or there are fewer than ``min_length``
        entries.

    Examples
    --------
    >>> from skdeepgen.networks import check_layer_sizes
    >>> check_layer_sizes([500, 500, 2000], "encoder_layers")
    (500, 500, 2000)
    >>> check_layer_sizes((), "encoder_layers")
    ()
    >>> check_layer_sizes((64, 0), "encoder_layers")
    Traceback (most recent call last):
    ...
    ValueError: encoder_layers must contain positive integers; got 0 at index 1 in (64, 0).
    """
    if auto is not None and isinstance(sizes, str) and sizes == "auto":
        return tuple(auto)
    if isinstance(sizes, np.ndarray):
        if sizes.ndim != 1:
            raise TypeError(
                f"{param_name} must be a 1-D sequence of positive integers; "
                f"got an array of shape {sizes.shape}."
            )
        items = sizes.tolist()
    elif isinstance(sizes, Sequence) and not isinstance(sizes, (str, bytes)):
        items = list(sizes)
    else:
        hint = (
            f" Use ({sizes!r},) for a single layer."
            if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool)
            else ""
        )
        raise TypeError(
            f"{param_name} must be a tuple or list of positive integers; "
            f"got {sizes!r} of type {type(sizes).__name__}.{hint}"
        )
    for i, size in enumerate(items):
        # bool is a subclass of int; numpy bools are not Integral.
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise TypeError(
                f"{param_name} must contain integers; got {size!r} of type "
                f"{type(size).__name__} at index {i} in {sizes!r}."
            )
        if size <= 0:
            raise ValueError(
                f"{param_name} must contain positive integers; got {size!r} "
                f"at index {i} in {sizes!r}."
            )
    if len(items) < min_length:
        raise ValueError(
            f"{param_name} must have at least {min_length} entries; got "
            f"{len(items)} in {sizes!r}."
        )
    return tuple(int(size) for size in items)


def _resolve_activation(activation, param_name):
    """Turn an activation spec into a zero-argument factory, or None.

    Parameters
    ----------
    activation : str, None, nn.Module subclass or nn.Module instance
        See :func:`make_mlp`.
    param_name : str
        Parameter name for error messages.

    Returns
    -------
    factory : callable or None
        Returns a fresh module on each call; None means no module.
    """
    if activation is None:
        return None
    if isinstance(activation, str):
        key = activation.lower()
        if key not in _ACTIVATION_FACTORIES:
            raise ValueError(
                f"Unknown {param_name} {activation!r}; valid names are "
                f"{', '.join(repr(name) for name in ACTIVATIONS)} or None, "
                "or pass a torch.nn.Module class or instance."
            )
        return _ACTIVATION_FACTORIES[key]
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation
    if isinstance(activation, nn.Module):
        # Copy per layer so parametric activations (PReLU) are not shared.
        return lambda: copy.deepcopy(activation)
    raise TypeError(
        f"{param_name} must be a string, None, or a torch.nn.Module class or "
        f"instance; got {activation!r} of type {type(activation).__name__}."
    )


def make_mlp(
    sizes,
    activation="relu",
    batch_norm=False,
    layer_norm=False,
    dropout=0.0,
    output_activation=None,
    bias=True,
):
    """Build a fully connected network as a :class:`torch.nn.Sequential`.

    Every hidden layer is ``Linear -> [BatchNorm1d | LayerNorm] ->
    activation -> [Dropout]``; the last layer is ``Linear`` followed by
    ``output_activation`` if one is given.

    Parameters
    ----------
    sizes : tuple or list of int
        All layer widths, input and output included:
        ``(n_in, h1, ..., n_out)``.  At least two positive integers.
    activation : str, None, nn.Module subclass or instance, default="relu"
        Hidden-layer activation.  One of ``"relu"``, ``"leaky_relu"``
        (negative slope 0.2, as in the GAN papers), ``"elu"``, ``"tanh"``,
        ``"sigmoid"``, ``"selu"``, ``"gelu"``, ``"identity"`` or None (no
        activation module), case-insensitive.  A module class is
        instantiated without arguments for each layer; a module instance is
        deep-copied for each layer.
    batch_norm : bool, default=False
        Add :class:`~torch.nn.BatchNorm1d` after each hidden ``Linear``.
        In training mode it needs batches of more than one sample.
    layer_norm : bool, default=False
        Add :class:`~torch.nn.LayerNorm` after each hidden ``Linear``.
        Mutually exclusive with ``batch_norm``.
    dropout : float, default=0.0
        Dropout probability after each hidden activation, in ``[0, 1)``.
        No :class:`~torch.nn.Dropout` module is added when 0.
    output_activation : str, None, nn.Module subclass or instance, default=None
        Activation after the last ``Linear``, same choices as
        ``activation``, e.g. ``"sigmoid"`` for data in ``[0, 1]`` or
        ``"tanh"`` for a GAN generator on ``[-1, 1]``.
    bias : bool, default=True
        Whether the ``Linear`` layers have a bias.

    Returns
    -------
    mlp : torch.nn.Sequential
        The network, with torch's default initialization drawn from the
        global RNG (see the module notes on reproducibility).

    Raises
    ------
    TypeError
        If ``sizes`` is not a sequence of ints, if a flag is not a bool, or
        if an activation has an unsupported type.
    ValueError
        If ``sizes`` has fewer than two entries or a non-positive one, if
        ``dropout`` is outside ``[0, 1)``, if an activation name is unknown,
        or if both ``batch_norm`` and ``layer_norm`` are set.

    See Also
    --------
    init_weights : Re-initialize with N(0, std) from a private generator.

    Examples
    --------
    >>> import torch
    >>> from skdeepgen.networks import make_mlp
    >>> net = make_mlp((4, 8, 2), activation="leaky_relu", dropout=0.1)
    >>> net
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): LeakyReLU(negative_slope=0.2)
      (2): Dropout(p=0.1, inplace=False)
      (3): Linear(in_features=8, out_features=2, bias=True)
    )
    >>> net(torch.zeros(5, 4)).shape
    torch.Size([5, 2])
    """
    sizes = check_layer_sizes(sizes, "sizes", min_length=2)
    for name, flag in (
        ("batch_norm", batch_norm),
        ("layer_norm", layer_norm),
        ("bias", bias),
    ):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(
                f"{name} must be a bool; got {flag!r} of type {type(flag).__name__}."
            )
    if batch_norm and layer_norm:
        raise ValueError(
            "batch_norm and layer_norm are mutually exclusive; set at most one."
        )
    if isinstance(dropout, (bool, np.bool_)) or not isinstance(dropout, numbers.Real):
        raise TypeError(
            f"dropout must be a float in [0, 1); got {dropout!r} of type "
            f"{type(dropout).__name__}."
        )
    # `not 0 <= p < 1` also rejects NaN.
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
    hidden_act = _resolve_activation(activation, "activation")
    output_act = _resolve_activation(output_activation, "output_activation")

    layers = []
    n_linear = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, bias=bool(bias)))
        if i == n_linear - 1:
            break
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        elif layer_norm:
            layers.append(nn.LayerNorm(n_out))
        if hidden_act is not None:
            layers.append(hidden_act())
        if dropout > 0:
            layers.append(nn.Dropout(float(dropout)))
    if output_act is not None:
        layers.append(output_act())
    return nn.Sequential(*layers)


def resolve_output_activation(output_activation, X):
    """A generator's output activation, with "auto" resolved from the training data.

    Parameters
    ----------
    output_activation : {"auto", "sigmoid"} or None
        "auto" is "sigmoid" when every value of `X` lies in [0, 1] (images
        scaled to [0, 1]) and None (linear) otherwise; other values are
        returned as they are.
    X : ndarray of shape (n_samples, n_features)
        Training data.

    Returns
    -------
    activation : str or None
    """
    if output_activation != "auto":
        return output_activation
    return "sigmoid" if float(X.min()) >= 0 and float(X.max()) <= 1 else None


def check_image_shape(image_shape, n_features, param_name="image_shape"):
    """Validate an image shape ``(channels, height, width)`` for flat rows.

    Parameters
    ----------
    image_shape : tuple of 3 int
        Channels, height and width; height and width must be multiples of 4
        (two stride-2 convolutions).
    n_features : int
        Width of the flat rows, which must equal the product of the shape.
    param_name : str, default="image_shape"
        Name used in error messages.

    Returns
    -------
    image_shape : tuple of 3 int
    """
    shape = check_layer_sizes(image_shape, param_name)
    if len(shape) != 3:
        raise ValueError(f"{param_name} must be (channels, height, width); got {image_shape!r}.")
    if shape[1] % 4 or shape[2] % 4:
        raise ValueError(f"{param_name}: height and width must be multiples of 4; got {image_shape!r}.")
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"{param_name}={image_shape!r} holds {int(np.prod(shape))} values but X has {n_features} features."
        )
    return shape


def _conv_stack(image_shape, channels, act, batch_norm):
    """``Unflatten -> [Conv(4x4, stride 2) -> (BN) -> act] * k -> Flatten`` layers and their output width."""
    c, h, w = image_shape
    layers = [nn.Unflatten(1, (c, h, w))]
    for i, (n_in, n_ch) in enumerate(zip((c, *channels[:-1]), channels)):
        layers.append(nn.Conv2d(n_in, n_ch, 4, stride=2, padding=1))
        if batch_norm and i > 0:  # DCGAN: no normalisation on the discriminator's input layer
            layers.append(nn.BatchNorm2d(n_ch))
        layers.append(act())
    scale = 2 ** len(channels)
    layers.append(nn.Flatten())
    return layers, channels[-1] * (h // scale) * (w // scale)


def make_conv_features(image_shape, channels=(64, 128), activation="leaky_relu", batch_norm=False):
    """The convolutional trunk of a discriminator: flat image rows to flat feature maps.

    ``Conv(4x4, stride 2) -> [BN] -> act`` for each entry of `channels` (each
    halves the height and width; no batch normalisation on the first, as in
    DCGAN), then ``Flatten``: AIM's ``D_feature`` for MNIST (64 and 128
    channels, batch normalisation on the second).

    Parameters
    ----------
    image_shape : tuple of 3 int
        ``(channels, height, width)`` of the input; rows arrive flat.
    channels : tuple of int, default=(64, 128)
        Output channels of the convolutions.
    activation : str, default="leaky_relu"
        Activation after each convolution (as in :func:`make_mlp`).
    batch_norm : bool, default=False
        Batch normalisation after every convolution but the first.

    Returns
    -------
    net : torch.nn.Sequential
        Maps ``(n, prod(image_shape))`` to ``(n, n_out)``.
    n_out : int
        ``channels[-1] * (height / 2^k) * (width / 2^k)`` for k convolutions.

    Examples
    --------
    >>> import torch
    >>> from skdeepgen.networks import make_conv_features
    >>> net, n_out = make_conv_features((1, 28, 28), batch_norm=True)
    >>> n_out, net(torch.zeros(2, 784)).shape
    (6272, torch.Size([2, 6272]))
    """
    layers, n_out = _conv_stack(image_shape, channels, _resolve_activation(activation, "activation"), batch_norm)
    return nn.Sequential(*layers), n_out


def make_conv_encoder(image_shape, n_out, channels=(64, 128), hidden=1024, activation="leaky_relu"):
    """A convolutional network from flat image rows to ``n_out`` values.

    ``Conv(4x4, stride 2) -> act`` for each entry of `channels` (each halves
    the height and width), then ``Linear -> act -> Linear(n_out)``: the
    discriminator of InfoGAN's MNIST experiments, used by the GAN papers
    skdeepgen follows for image data.

    Parameters
    ----------
    image_shape : tuple of 3 int
        ``(channels, height, width)`` of the input; rows arrive flat.
    n_out : int
        Output width.
    channels : tuple of int, default=(64, 128)
        Output channels of the convolutions.
    hidden : int, default=1024
        Width of the dense hidden layer.
    activation : str, default="leaky_relu"
        Hidden activation (as in :func:`make_mlp`).

    Returns
    -------
    net : torch.nn.Sequential
        Maps ``(n, prod(image_shape))`` to ``(n, n_out)``.
    """
    act = _resolve_activation(activation, "activation")
    layers, width = _conv_stack(image_shape, channels, act, batch_norm=False)
    layers += [nn.Linear(width, hidden), act(), nn.Linear(hidden, n_out)]
    return nn.Sequential(*layers)


def make_conv_decoder(n_in, image_shape, channels=(128, 64), hidden=1024, batch_norm=True,
                      output_activation=None):
    """A transposed-convolutional network from ``n_in`` values to flat image rows.

    ``Linear -> [BN] -> ReLU`` twice (to ``hidden``, then to a
    ``channels[0]`` x h/4 x w/4 map), then ``ConvTranspose(4x4, stride 2)``
    layers that double the height and width, the last one to the image's
    channels followed by `output_activation`: InfoGAN's MNIST generator.

    Parameters
    ----------
    n_in : int
        Input width (the latent dimension).
    image_shape : tuple of 3 int
        ``(channels, height, width)`` of the output; rows leave flat.
    channels : tuple of int, default=(128, 64)
        Channels of the feature maps before each transposed convolution.
    hidden : int, default=1024
        Width of the first dense layer.
    batch_norm : bool, default=True
        Batch normalisation after every hidden layer.
    output_activation : str or None, default=None
        As in :func:`make_mlp`.

    Returns
    -------
    net : torch.nn.Sequential
        Maps ``(n, n_in)`` to ``(n, prod(image_shape))``.
    """
    c, h, w = image_shape
    scale = 2 ** len(channels)
    out_act = _resolve_activation(output_activation, "output_activation")

    def norm(n, conv=False):
        if not batch_norm:
            return []
        return [nn.BatchNorm2d(n) if conv else nn.BatchNorm1d(n)]

    first = channels[0] * (h // scale) * (w // scale)
    layers = [nn.Linear(n_in, hidden), *norm(hidden), nn.ReLU(), nn.Linear(hidden, first), *norm(first), nn.ReLU(),
              nn.Unflatten(1, (channels[0], h // scale, w // scale))]
    for n_ch, n_next in zip(channels, (*channels[1:], c)):
        layers.append(nn.ConvTranspose2d(n_ch, n_next, 4, stride=2, padding=1))
        if n_next != c:
            layers += [*norm(n_next, conv=True), nn.ReLU()]
    if out_act is not None:
        layers.append(out_act())
    layers.append(nn.Flatten())
    return nn.Sequential(*layers)


def _check_generator(generator):
    """Return a torch.Generator (or None) from a generator, seed or None."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(
        generator, (bool, np.bool_)
    ):
        return torch.Generator().manual_seed(int(generator))
    raise TypeError(
        "generator must be None, an int seed or a torch.Generator; got "
        f"{generator!r} of type {type(generator).__name__}."
    )


@torch.no_grad()
def init_weights(module, std=0.02, generator=None):
    """Initialize weights with N(0, std) and biases with zeros, in place.

    Applies to every :class:`~torch.nn.Linear`, ``Conv{1,2,3}d`` and
    ``ConvTranspose{1,2,3}d`` submodule (``module`` itself included), as
    in DCGAN (Radford et al., 2016) and the GAN papers that followed.
    Normalization layers and other modules keep their parameters.
    Uninitialized lazy parameters are skipped.

    Parameters
    ----------
    module : torch.nn.Module
        Network to initialize.
    std : float, default=0.02
        Standard deviation of the weights, positive and finite.
    generator : torch.Generator, int or None, default=None
        Source of randomness.  With a generator (or an int seed, turned into
        a fresh CPU generator) the global torch RNG is neither used nor
        advanced, so results depend only on the generator.  None uses the
        global RNG.  Values are drawn on the generator's device and copied
        to each parameter's device, so a CPU generator also works for a
        model on GPU.

    Returns
    -------
    module : torch.nn.Module
        The same module, for chaining.

    Raises
    ------
    TypeError
        If ``module`` is not a Module, or ``generator`` or ``std`` has a
        wrong type.
    ValueError
        If ``std`` is not positive and finite.

    Examples
    --------
    >>> import torch
    >>> from skdeepgen.networks import init_weights, make_mlp
    >>> a = init_weights(make_mlp((3, 4, 2)), generator=0)
    >>> b = init_weights(make_mlp((3, 4, 2)), generator=0)
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    >>> bool((a[0].bias == 0).all())
    True
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module; got {type(module).__name__}."
        )
    if isinstance(std, (bool, np.bool_)) or not isinstance(std, numbers.Real):
        raise TypeError(f"std must be a float; got {std!r}.")
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std must be positive and finite; got {std!r}.")
    generator = _check_generator(generator)

    for sub in module.modules():
        if not isinstance(sub, _INIT_TYPES):
            continue
        weight = sub.weight
        if not nn.parameter.is_lazy(weight):
            if generator is None:
                weight.normal_(0.0, float(std))
            else:
                # Draw where the generator lives, then move: a CPU generator
                # cannot sample directly into a CUDA tensor.
                draws = torch.empty(
                    weight.shape, dtype=weight.dtype, device=generator.device
                )
                draws.normal_(0.0, float(std), generator=generator)
                weight.copy_(draws)
        bias = sub.bias
        if bias is not None and not nn.parameter.is_lazy(bias):
            bias.zero_()
    return module


def count_parameters(module, trainable_only=False):
    """Count the scalar parameters of a module.

    Parameters shared between submodules are counted once.

    Parameters
    ----------
    module : torch.nn.Module
        Network to inspect.
    trainable_only : bool, default=False
        Count only parameters with ``requires_grad=True``.

    Returns
    -------
    n_params : int
        Number of scalar parameters.

    Examples
    --------
    >>> from skdeepgen.networks import count_parameters, make_mlp
    >>> count_parameters(make_mlp((4, 8, 2)))  # 4*8+8 + 8*2+2
    58
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module; got {type(module).__name__}."
        )
    return int(
        sum(
            p.numel()
            for p in module.parameters()
            if p.requires_grad or not trainable_only
        )
    )


def mlp_flops(sizes):
    """Floating-point operations of one forward pass per sample of an MLP.

    Counts ``2 * n_in * n_out`` for each ``Linear`` layer (one multiply and
    one add per weight), the usual convention for FLOP/s benchmarks.  Bias
    additions, activations and normalizations are ignored: they are
    ``O(width)`` against ``O(width**2)`` for the matrix products.  A
    training step (forward and backward) costs about three times this.

    Parameters
    ----------
    sizes : tuple or list of int
        All layer widths, ``(n_in, h1, ..., n_out)``, as for
        :func:`make_mlp`.

    Returns
    -------
    flops : int
        Forward FLOPs per sample; multiply by the number of samples.

    Examples
    --------
    >>> from skdeepgen.networks import mlp_flops
    >>> mlp_flops((784, 500, 10))  # 2 * (784*500 + 500*10)
    794000
    """
    sizes = check_layer_sizes(sizes, "sizes", min_length=2)
    return 2 * sum(n_in * n_out for n_in, n_out in itertools.pairwise(sizes))


class Standardize(nn.Module):
    """Per-feature standardisation held inside a model, with its inverse.

    ``forward(x) = (x - shift) / scale`` and ``inverse(u) = u * scale +
    shift``. The two vectors are buffers, so they move with the model between
    devices and travel in its ``state_dict`` (pickles, ``save``/``load``).
    A generator trained in the standardised space returns samples on the
    data's own scale through :meth:`inverse`, which a scaler in front of the
    estimator in a Pipeline could not do for ``sample``.

    Parameters
    ----------
    n_features : int
        Number of features; the map starts as the identity.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skdeepgen.networks import Standardize
    >>> X = np.array([[0.0, 10.0], [2.0, 30.0]], dtype=np.float32)
    >>> scaler = Standardize(2).fit_(X)
    >>> scaler(torch.from_numpy(X))
    tensor([[-1., -1.],
            [ 1.,  1.]])
    >>> scaler.inverse(scaler(torch.from_numpy(X)))
    tensor([[ 0., 10.],
            [ 2., 30.]])
    """

    #: Rows read at a time by :meth:`fit_`, so a memory-mapped X is streamed.
    _CHUNK = 65536

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("shift", torch.zeros(int(n_features)))
        self.register_buffer("scale", torch.ones(int(n_features)))

    @torch.no_grad()
    def fit_(self, X):
        """Set the map from the mean and standard deviation of each column of X.

        Columns with a standard deviation below 1e-8 (constant ones) keep a
        scale of 1. X is read in chunks of rows, in float64.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Data.

        Returns
        -------
        self : Standardize
        """
        total = np.zeros(X.shape[1])
        squares = np.zeros(X.shape[1])
        for start in range(0, X.shape[0], self._CHUNK):
            chunk = np.asarray(X[start:start + self._CHUNK], dtype=np.float64)
            total += chunk.sum(axis=0)
            squares += (chunk**2).sum(axis=0)
        mean = total / X.shape[0]
        std = np.sqrt(np.maximum(squares / X.shape[0] - mean**2, 0.0))
        std[std < 1e-8] = 1.0
        self.shift.copy_(torch.from_numpy(mean))
        self.scale.copy_(torch.from_numpy(std))
        return self

    def forward(self, x):
        return (x - self.shift) / self.scale

    def inverse(self, u):
        """Map standardised values back to the data's scale."""
        return u * self.scale + self.shift
