"""Convolution and pooling on ``(N, C, H, W)`` images: `Conv2d` and `MaxPool2d`.

Both are built on `minigrad.Tensor.sliding_windows`, a view of every window of the
input: a convolution is those windows, laid out as rows of ``C * kh * kw`` values, times
the kernel, in one matrix product for the whole batch; a max pooling is the maximum
over each window. No Python loop runs over positions or images, so the gradient rules
are those of the core operations and cost a few large NumPy calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad import Tensor
from minigrad.nn._layers import _bound_arguments
from minigrad.nn._module import Module, _Planned
from minigrad.nn._more_layers import as_input, check_pair
from minigrad.nn._validation import check_dtype, check_size, make_rng

__all__ = ["Conv2d", "MaxPool2d"]


def _images(layer: Module, x: Tensor, channels: int | None) -> tuple[Tensor, bool]:
    """Return ``x`` as a batch ``(N, C, H, W)`` and whether it was one image ``(C, H, W)``."""
    ok = x.ndim in (3, 4) and (channels is None or x.shape[-3] == channels)
    if not ok:
        c = "C" if channels is None else str(channels)
        raise ValueError(
            f"{layer!r} expects images of shape (N, {c}, H, W) or ({c}, H, W), got shape {x.shape}"
        )
    if x.ndim == 3:
        return x.reshape(1, *x.shape), True
    return x, False


class Conv2d(Module):
    """A 2-D convolution (cross-correlation) of ``(N, C, H, W)`` images (``torch.nn.Conv2d``).

    ``out[n, o, i, j] = bias[o] + sum over c, u, v of
    weight[o, c, u, v] * x_padded[n, c, i * sh + u, j * sw + v]``. ``weight`` has shape
    ``(out_channels, in_channels, kh, kw)`` and ``bias`` ``(out_channels,)``, with
    PyTorch's names, so ``state_dict`` arrays move between the two unchanged. Both start
    as PyTorch's do: uniform on ``[-k, k]`` with ``k = 1 / sqrt(in_channels * kh * kw)``.
    An unbatched image ``(C, H, W)`` gives ``(out_channels, H_out, W_out)``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    kernel_size : int or pair of ints
        ``(kh, kw)``; an int means a square kernel.
    stride : int or pair of ints, default 1
        Step between windows along the height and the width.
    padding : int or pair of ints, default 0
        Zeros added on both sides of the height and the width.
    bias : bool, default True
        Learn a bias per output channel.
    seed : None, int or numpy.random.Generator, optional
        Source of the initial weights, as for `Layer`.
    dtype : {'float64', 'float32'}, optional
        Dtype of the parameters (and of data given to the layer), float64 by default.

    Raises
    ------
    ValueError
        If an argument is invalid; when called, if the input is not ``(N, in_channels,
        H, W)`` or is smaller than the kernel after padding.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn import Conv2d
    >>> conv = Conv2d(3, 8, kernel_size=3, padding=1, seed=0)
    >>> conv.weight.shape, conv.bias.shape
    ((8, 3, 3, 3), (8,))
    >>> conv(np.zeros((2, 3, 16, 16))).shape
    (2, 8, 16, 16)
    >>> Conv2d(3, 8, 3, stride=2, seed=0)(np.zeros((2, 3, 16, 16))).shape
    (2, 8, 7, 7)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: Any = None,
    ) -> None:
        (
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            with_bias,
            dtype_,
        ) = self._checked_arguments(
            in_channels, out_channels, kernel_size, stride, padding, bias, dtype
        )
        rng = make_rng(seed)
        shapes = self._parameter_shapes(
            self.in_channels, self.out_channels, self.kernel_size, with_bias
        )
        # PyTorch's default: kaiming_uniform_ with a = sqrt(5), which is U(-k, k) with
        # k = 1 / sqrt(fan_in), and the same bound for the bias.
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        self.weight = Tensor(rng.uniform(-bound, bound, shapes["weight"]).astype(dtype_))
        if with_bias:
            self.bias = Tensor(rng.uniform(-bound, bound, shapes["bias"]).astype(dtype_))

    @staticmethod
    def _checked_arguments(
        in_channels: object,
        out_channels: object,
        kernel_size: object,
        stride: object,
        padding: object,
        bias: object,
        dtype: object,
    ) -> tuple[int, int, tuple[int, int], tuple[int, int], tuple[int, int], bool, np.dtype[Any]]:
        if not isinstance(bias, (bool, np.bool_)):
            raise ValueError(f"Conv2d: bias must be True or False, got {bias!r}")
        return (
            check_size("Conv2d: in_channels", in_channels),
            check_size("Conv2d: out_channels", out_channels),
            check_pair("Conv2d", "kernel_size", kernel_size, 1),
            check_pair("Conv2d", "stride", stride, 1),
            check_pair("Conv2d", "padding", padding, 0),
            bool(bias),
            check_dtype(dtype),
        )

    @staticmethod
    def _parameter_shapes(
        cin: int, cout: int, kernel: tuple[int, int], bias: bool
    ) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"weight": (cout, cin, *kernel)}
        if bias:
            shapes["bias"] = (cout,)
        return shapes

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        if cls is not Conv2d:
            return None  # a subclass may take other arguments or add parameters
        args = _bound_arguments(cls, config)
        cin, cout, kernel, _, _, bias, dtype = cls._checked_arguments(
            args["in_channels"],
            args["out_channels"],
            args["kernel_size"],
            args["stride"],
            args["padding"],
            args["bias"],
            args["dtype"],
        )
        shapes = cls._parameter_shapes(cin, cout, kernel, bias)
        return iter([(name, (shape, dtype.name)) for name, shape in shapes.items()])

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Convolve ``x`` of shape ``(N, in_channels, H, W)`` (or one image ``(C, H, W)``).

        The windows of the padded input, moved to the last axis and merged into rows of
        ``in_channels * kh * kw`` values, are multiplied by the kernel and the bias
        added in one `minigrad.Tensor.linear` call for the whole batch.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad.nn import Conv2d
        >>> Conv2d(1, 4, 3, seed=0).forward(np.zeros((1, 5, 5))).shape
        (4, 3, 3)
        """
        weight = self.weight
        given = as_input(x, weight.data.dtype)
        images, unbatched = _images(self, given, self.in_channels)
        ph, pw = self.padding
        if ph or pw:
            images = images.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)))
        n, c, h, w = images.shape
        kh, kw = self.kernel_size
        if h < kh or w < kw:
            raise ValueError(
                f"{self}: the input of shape {given.shape} is {h}x{w} after padding, "
                f"smaller than the {kh}x{kw} kernel"
            )
        windows = images.sliding_windows((kh, kw), axis=(2, 3))  # (n, c, h', w', kh, kw)
        sh, sw = self.stride
        if sh != 1 or sw != 1:
            windows = windows[:, :, ::sh, ::sw]
        ho, wo = windows.shape[2], windows.shape[3]
        rows = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, ho, wo, c * kh * kw)
        kernel = weight.reshape(self.out_channels, c * kh * kw).T
        out = rows.linear(kernel, getattr(self, "bias", None)).transpose(0, 3, 1, 2)
        return out.reshape(*out.shape[1:]) if unbatched else out

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments that rebuild the layer.

        Examples
        --------
        >>> from minigrad.nn import Conv2d
        >>> Conv2d(1, 8, 3, padding=1, seed=0).get_config()
        {'in_channels': 1, 'out_channels': 8, 'kernel_size': [3, 3], 'stride': [1, 1], \
'padding': [1, 1], 'bias': True, 'dtype': 'float64'}
        """
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "bias": hasattr(self, "bias"),
            "dtype": self.weight.data.dtype.name,
        }


class MaxPool2d(Module):
    """The maximum over each window of ``(N, C, H, W)`` images (``torch.nn.MaxPool2d``).

    The output has ``H_out = (H - kh) // sh + 1`` rows (and likewise columns); rows and
    columns that no window reaches are left out, as in PyTorch. The gradient of a window
    goes to its largest element; when several elements tie for the largest, it is split
    evenly between them (minigrad's convention for `minigrad.Tensor.max`), where PyTorch
    gives all of it to one of them. Values are the same; gradients differ only at ties.

    Parameters
    ----------
    kernel_size : int or pair of ints
        ``(kh, kw)``; an int means a square window.
    stride : int or pair of ints, optional
        Step between windows; ``kernel_size`` by default (windows that do not overlap).

    Raises
    ------
    ValueError
        If an argument is invalid; when called, if the input is not ``(N, C, H, W)`` or
        ``(C, H, W)``, or is smaller than the window.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn import MaxPool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> MaxPool2d(2)(x).data
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    >>> MaxPool2d(3, stride=1)(x).shape
    (1, 1, 2, 2)
    """

    def __init__(
        self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
    ) -> None:
        self.kernel_size = check_pair("MaxPool2d", "kernel_size", kernel_size, 1)
        self.stride = (
            self.kernel_size if stride is None else check_pair("MaxPool2d", "stride", stride, 1)
        )

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Pool ``x`` of shape ``(N, C, H, W)`` (or one image ``(C, H, W)``).

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad.nn import MaxPool2d
        >>> MaxPool2d(2).forward(np.zeros((3, 7, 7))).shape
        (3, 3, 3)
        """
        given = as_input(x)
        images, unbatched = _images(self, given, None)
        n, c, h, w = images.shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        if h < kh or w < kw:
            raise ValueError(
                f"{self}: the input of shape {given.shape} is smaller than the {kh}x{kw} window"
            )
        ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
        if (sh, sw) == (kh, kw):
            # Windows that do not overlap are a reshape of the (cropped) images: cheaper
            # than the windows view, forward and backward, with the same result.
            if (ho * kh, wo * kw) != (h, w):
                images = images[:, :, : ho * kh, : wo * kw]
            out = images.reshape(n, c, ho, kh, wo, kw).max(axis=(3, 5))
        else:
            windows = images.sliding_windows((kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
            out = windows.max(axis=(4, 5))
        return out.reshape(c, ho, wo) if unbatched else out

    def get_config(self) -> dict[str, Any]:
        """Return ``kernel_size`` and ``stride``.

        Examples
        --------
        >>> from minigrad.nn import MaxPool2d
        >>> MaxPool2d(2).get_config()
        {'kernel_size': [2, 2], 'stride': [2, 2]}
        """
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}
