"""conv1d, conv3d and conv_transpose2d, built from conv2d and shape ops, so their gradients come from those.

conv1d is conv2d on images one pixel high. conv3d adds up one conv2d per kernel depth offset: offset k
meets the depth slices k·dilation, k·dilation + stride, ..., and those slices, stacked into the batch,
go through conv2d with the kernel's k-th depth slice. The transposed convolution spreads each input pixel
over a kernel-sized patch of the output; that equals an ordinary convolution of the input with `stride - 1`
zeros inserted between its pixels, padded by `dilation * (kernel - 1) - padding` on each side, with the
kernel flipped and its in/out channels swapped.
"""
from __future__ import annotations

from ..tensor import Tensor
from .conv import conv2d, init_conv_parameters
from .im2col import pair
from .module import Module


def _single(value, name: str) -> int:
    """3 or (3,) -> 3."""
    if isinstance(value, int):
        return value
    value = tuple(value)
    if len(value) != 1:
        raise ValueError(f"{name}: expected an int or a 1-tuple, got {value}")
    return value[0]


def triple(value, name: str) -> tuple[int, int, int]:
    """2 -> (2, 2, 2); (1, 2, 3) stays."""
    value = (value,) * 3 if isinstance(value, int) else tuple(value)
    if len(value) != 3:
        raise ValueError(f"{name}: expected an int or a triple of ints, got {value}")
    return value


def depth_slabs(x: Tensor, kernel: int, stride: int, dilation: int):
    """For each kernel depth offset k of a 3-D window over (N, C, D, H, W), the (N·OD, C, H, W) stack of the
    depth slices it meets (one per output depth), and OD."""
    n, c, d, h, w = x.shape
    out_d = (d - dilation * (kernel - 1) - 1) // stride + 1
    slabs = (x[:, :, k * dilation:k * dilation + stride * (out_d - 1) + 1:stride].permute(0, 2, 1, 3, 4)
             .reshape(n * out_d, c, h, w) for k in range(kernel))
    return slabs, out_d


def unstack_depth(images: Tensor, n: int, out_d: int) -> Tensor:
    """(N·OD, C, H, W) from depth_slabs' batch order back to (N, C, OD, H, W)."""
    return images.reshape(n, out_d, *images.shape[1:]).permute(0, 2, 1, 3, 4)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D cross-correlation over (N, C, D, H, W), as torch.nn.functional.conv3d; weight
    (out_channels, in_channels/groups, kd, kh, kw)."""
    if input.ndim != 5 or weight.ndim != 5:
        raise ValueError(f"conv3d: expected input (N, C, D, H, W) and weight (out_channels, in_channels/groups, kd, "
                         f"kh, kw), got shapes {input.shape} and {weight.shape}")
    (sd, sh, sw), (pd, ph, pw), (dd, dh, dw) = (triple(v, "conv3d") for v in (stride, padding, dilation))
    kd = weight.shape[2]
    if input.shape[2] + 2 * pd < dd * (kd - 1) + 1:
        raise ValueError(f"conv3d: kernel depth extent {dd * (kd - 1) + 1} is larger than the padded input depth "
                         f"{input.shape[2] + 2 * pd} (input {input.shape}, weight {weight.shape})")
    x = input.pad((0, 0, 0, 0, pd, pd)) if pd else input
    slabs, out_d = depth_slabs(x, kd, sd, dd)
    out = None
    for k, images in enumerate(slabs):
        part = conv2d(images, weight[:, :, k], None, (sh, sw), (ph, pw), (dh, dw), groups)
        out = part if out is None else out + part
    out = unstack_depth(out, input.shape[0], out_d)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation over (N, C, L), as torch.nn.functional.conv1d; weight (out, in/groups, k)."""
    if input.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"conv1d: expected input (N, C, L) and weight (out_channels, in_channels/groups, k), "
                         f"got shapes {input.shape} and {weight.shape}")
    stride, padding, dilation = (_single(v, "conv1d") for v in (stride, padding, dilation))
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), (0, padding), (1, dilation), groups)
    return out.squeeze(2)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transpose (gradient) of conv2d, as torch.nn.functional.conv_transpose2d; weight has shape
    (in_channels, out_channels/groups, kh, kw); output size (H - 1) stride - 2 padding + dilation (k - 1)
    + output_padding + 1."""
    if input.ndim != 4 or weight.ndim != 4 or input.shape[1] != weight.shape[0]:
        raise ValueError(f"conv_transpose2d: expected input (N, C, H, W) and weight (C, out_channels/groups, kh, kw) "
                         f"with the same C, got shapes {input.shape} and {weight.shape}")
    stride, padding, dilation, output_padding = pair(stride), pair(padding), pair(dilation), pair(output_padding)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than stride {stride} "
                         f"or dilation {dilation}")
    if input.shape[1] % groups:
        raise ValueError(f"conv_transpose2d: in_channels {input.shape[1]} is not divisible by groups={groups}")
    n, c, h, w = input.shape
    (sh, sw), (kh, kw) = stride, weight.shape[2:]
    out_hw = tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                   zip((h, w), stride, padding, dilation, (kh, kw), output_padding))
    if min(out_hw) < 1:
        raise ValueError(f"conv_transpose2d: the output size {out_hw} is not positive (input {input.shape}, weight "
                         f"{weight.shape}, stride {stride}, padding {padding}, dilation {dilation})")
    if sh > 1 or sw > 1:  # stride - 1 zeros between pixels
        spread = input.reshape(n, c, h, 1, w, 1).pad((0, sw - 1, 0, 0, 0, sh - 1))
        input = spread.reshape(n, c, h * sh, w * sw)[:, :, :(h - 1) * sh + 1, :(w - 1) * sw + 1]
    (ph, pw), (dh, dw), (oh, ow) = padding, dilation, output_padding
    edge_h, edge_w = dh * (kh - 1) - ph, dw * (kw - 1) - pw  # negative widths crop
    input = input.pad((edge_w, edge_w + ow, edge_h, edge_h + oh))
    c_in, c_out_per_group = weight.shape[:2]
    kernel = weight.reshape(groups, c_in // groups, c_out_per_group, kh, kw).permute(0, 2, 1, 3, 4)
    kernel = kernel.reshape(groups * c_out_per_group, c_in // groups, kh, kw).flip(2, 3)
    return conv2d(input, kernel, bias, 1, 0, dilation, groups)


class Conv1d(Module):
    """1-D convolution layer with PyTorch's arguments and default initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        self.kernel_size, self.stride = (_single(kernel_size, "Conv1d"),), (_single(stride, "Conv1d"),)
        self.padding, self.dilation = (_single(padding, "Conv1d"),), (_single(dilation, "Conv1d"),)
        init_conv_parameters(self, "Conv1d", in_channels, out_channels, groups,
                             (out_channels, in_channels // groups) + self.kernel_size, bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + (f", padding={self.padding}" if self.padding != (0,) else ""))


class Conv3d(Module):
    """3-D convolution layer with PyTorch's arguments and default initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        self.kernel_size, self.stride = triple(kernel_size, "Conv3d"), triple(stride, "Conv3d")
        self.padding, self.dilation = triple(padding, "Conv3d"), triple(dilation, "Conv3d")
        init_conv_parameters(self, "Conv3d", in_channels, out_channels, groups,
                             (out_channels, in_channels // groups) + self.kernel_size, bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"


class ConvTranspose2d(Module):
    """Transposed 2-D convolution layer; weight (in_channels, out_channels/groups, kh, kw) as in PyTorch."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1):
        super().__init__()
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
        self.output_padding, self.dilation = pair(output_padding), pair(dilation)
        init_conv_parameters(self, "ConvTranspose2d", in_channels, out_channels, groups,
                             (in_channels, out_channels // groups) + self.kernel_size, bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                self.groups, self.dilation)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
