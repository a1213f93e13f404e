"""Every core op, table-driven: (a) gradcheck in float64 against finite differences, and (b) forward values
and input gradients against PyTorch in float32.

Each row of CASES names an op, how hypothesis draws its inputs (shapes and values), the op written with
tinygrad_ift and with torch, and the tolerances of the torch comparison. Inputs are drawn away from kinks
(relu and abs at 0, ties of max/maximum) instead of tolerating them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F

TF = torch.nn.functional

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = dict(min_side=1, max_side=4)


def floats(low, high):
    """Floats in [low, high], none so tiny that float32 holds them as subnormals (where float32 products
    underflow and the torch comparison would test rounding, not the op): those become 0."""
    return st.floats(low, high).map(lambda v: 0.0 if abs(v) < 1e-30 else v)


def values(data, shape, domain="real"):
    """Draw float64 values of `shape` in a domain that keeps away from the op's kinks."""
    if domain == "distinct":  # no ties, for max/min/maximum
        n = int(np.prod(shape))
        perm = data.draw(st.permutations(range(n)))
        return (np.asarray(perm, dtype=np.float64).reshape(shape) - n / 2) * 0.37
    if domain == "positive":
        elements = floats(0.3, 2.5)
    elif domain == "nonzero":
        elements = st.one_of(floats(-2.5, -0.2), floats(0.2, 2.5))
    elif domain == "unit":
        elements = floats(-0.9, 0.9)
    elif domain == "off_kinks":  # away from the kinks of the piecewise activations (0, +-1, +-3, 6)
        elements = floats(-7.0, 7.0).filter(lambda v: min(abs(v - k) for k in (-3, -1, 0, 1, 3, 6)) > 0.05)
    elif domain == "fractional":  # at least 0.1 from an integer, for floor/ceil/round/trunc
        elements = floats(-2.5, 2.5).filter(lambda v: abs(v - round(v)) > 0.1 and abs(abs(v % 1) - 0.5) > 0.05)
    else:
        elements = floats(-2.5, 2.5)
    return data.draw(hnp.arrays(np.float64, shape, elements=elements))


def shape(data, min_dims=0, max_dims=3):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, **SMALL))


def broadcast_pair(data):
    return data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, **SMALL)).input_shapes


def axis_of(data, ndim):
    """None, one axis (maybe negative) or a tuple of axes."""
    if ndim == 0:
        return None
    return data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
                               .map(tuple)))


@dataclass
class Case:
    name: str
    draw: Callable  # data -> (list of float64 arrays, ours(*tensors), theirs(*torch tensors))
    atol: float = 1e-5
    rtol: float = 1e-4


def unary(name, ours, theirs, domain="real", min_dims=0, **tol):
    return Case(name, lambda d: ([values(d, shape(d, min_dims), domain)], ours, theirs), **tol)


def binary(name, ours, theirs, domain=("real", "real"), **tol):
    def draw(d):
        sa, sb = broadcast_pair(d)
        return [values(d, sa, domain[0]), values(d, sb, domain[1])], ours, theirs
    return Case(name, draw, **tol)


def reduction(name, ours, theirs, domain="real", min_dims=1, min_side=1, **tol):
    def draw(d):
        s = d.draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=min_side, max_side=4))
        axis, keep = axis_of(d, len(s)), d.draw(st.booleans())
        return ([values(d, s, domain)], lambda x: ours(x, axis, keep), lambda x: theirs(x, axis, keep))
    return Case(name, draw, **tol)


def torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def torch_reduce(fn):
    """torch reductions take dim=tuple; None means every dim."""
    return lambda x, axis, keep: fn(x, dim=torch_dims(axis, x.ndim), keepdim=keep)


def _torch_prod(x, axis, keep):
    """torch.prod takes one dim at a time."""
    if axis is None:
        return x.prod().reshape((1,) * x.ndim if keep else ())
    for a in sorted((axis,) if isinstance(axis, int) else axis, reverse=True):
        x = x.prod(a % x.ndim, keepdim=keep)
    return x


def torch_max(x, axis, keep):
    return torch.amax(x, dim=torch_dims(axis, x.ndim), keepdim=keep)


def matmul_case(d):
    kind = d.draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched"]))
    m, k, n, b = (d.draw(st.integers(1, 4)) for _ in range(4))
    shapes = {"vv": ((k,), (k,)), "mv": ((m, k), (k,)), "vm": ((k,), (k, n)), "mm": ((m, k), (k, n)),
              "batched": ((b, 1, m, k), (3, k, n))}[kind]
    return [values(d, s) for s in shapes], lambda a, c: a @ c, lambda a, c: a @ c


def getitem_case(d):
    s = shape(d, min_dims=2, max_dims=3)
    kind = d.draw(st.sampled_from(["slice", "int_array", "label_pick", "mask"]))
    x = values(d, s)
    if kind == "slice":
        idx = (slice(None, None, 2), slice(1, None))
    elif kind == "int_array":  # repeated rows: the backward must accumulate
        idx = np.asarray(d.draw(st.lists(st.integers(0, s[0] - 1), min_size=1, max_size=6)))
    elif kind == "label_pick":  # how cross-entropy picks each row's label logit
        idx = (np.arange(s[0]), np.asarray(d.draw(st.lists(st.integers(0, s[1] - 1),
                                                             min_size=s[0], max_size=s[0]))))
    else:
        idx = x > 0
    t_idx = tuple(torch.as_tensor(i) for i in idx) if isinstance(idx, tuple) and kind != "slice" else \
        (torch.as_tensor(idx) if isinstance(idx, np.ndarray) else idx)
    return [x], lambda a: a[idx], lambda a: a[t_idx]


def cat_case(d):
    s = shape(d, min_dims=1)
    axis = d.draw(st.integers(-len(s), len(s) - 1))
    other = list(s)
    other[axis] = d.draw(st.integers(1, 3))
    xs = [values(d, s), values(d, tuple(other))]
    return xs, lambda a, b: tg.cat([a, b], axis=axis), lambda a, b: torch.cat([a, b], dim=axis)


def stack_case(d):
    s = shape(d)
    axis = d.draw(st.integers(-len(s) - 1, len(s)))
    return ([values(d, s), values(d, s)], lambda a, b: tg.stack([a, b], axis=axis),
            lambda a, b: torch.stack([a, b], dim=axis))


def split_case(d):
    s = shape(d, min_dims=1)
    size = d.draw(st.integers(1, s[0]))
    weights = [1.0, -2.0, 3.0, 0.5, 1.5]

    def ours(a):
        return sum((p * w for p, w in zip(tg.split(a, size), weights)),
                   start=tg.zeros(1, dtype=a.dtype, device=a.device)).sum()

    def theirs(a):
        return sum(p * w for p, w in zip(torch.split(a, size), weights)).sum()
    return [values(d, s)], ours, theirs


def pad_case(d):
    s = shape(d, min_dims=1)
    widths = tuple(d.draw(st.integers(0, 2)) for _ in range(2 * min(len(s), 2)))
    return ([values(d, s)], lambda a: tg.pad(a, widths, value=0.5),
            lambda a: torch.nn.functional.pad(a, widths, value=0.5))


def where_case(d):
    sa, sb = broadcast_pair(d)
    xa, xb = values(d, sa), values(d, sb)
    cond = np.broadcast_to(values(d, sa) > 0, np.broadcast_shapes(sa, sb)).copy()
    return ([xa, xb], lambda a, b: tg.where(tg.Tensor(cond, device=a.device), a, b),
            lambda a, b: torch.where(torch.as_tensor(cond), a, b))


def reshape_case(d):
    s = shape(d, min_dims=1)
    new = (-1,) if d.draw(st.booleans()) else tuple(reversed(s))
    return [values(d, s)], lambda a: a.reshape(new), lambda a: a.reshape(new)


def permute_case(d):
    s = shape(d, min_dims=1)
    dims = tuple(d.draw(st.permutations(range(len(s)))))
    return [values(d, s)], lambda a: a.permute(*dims), lambda a: a.permute(*dims)


def expand_case(d):
    s = shape(d, min_dims=1)
    ones = tuple(1 if d.draw(st.booleans()) else n for n in s)
    target = (2,) + s
    return [values(d, ones)], lambda a: a.expand(*target), lambda a: a.expand(*target)


def squeeze_case(d):
    s = shape(d, min_dims=1)
    axis = d.draw(st.integers(0, len(s)))
    return ([values(d, s)], lambda a: a.unsqueeze(axis).squeeze(axis).unsqueeze(-1).squeeze(),
            lambda a: a.unsqueeze(axis).squeeze(axis).unsqueeze(-1).squeeze())


def remainder_case(ours, theirs):
    """a = b (k + f) with f at least 0.1 from an integer, so that a / b stays off the jumps of floor/trunc."""
    def draw(d):
        s = shape(d)
        b = values(d, s, "nonzero")
        fraction = values(d, s, "fractional")
        return [b * fraction, b], ours, theirs
    return Case("remainder" if ours(tg.tensor(-1.0), tg.tensor(3.0)).item() > 0 else "fmod", draw)


def lerp_case(d):
    shapes = d.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, **SMALL)).input_shapes
    xs = [values(d, sh) for sh in shapes]
    return xs, lambda a, b, w: a.lerp(b, w), lambda a, b, w: torch.lerp(a, b, w)


def along_axis(name, ours, theirs, domain="real", min_dims=1, zero=False):
    """An op along one axis (drawn, maybe negative); zero=True puts an exact 0 in the input."""
    def draw(d):
        s = shape(d, min_dims=min_dims)
        axis = d.draw(st.integers(-len(s), len(s) - 1))
        x = values(d, s, domain)
        if zero:
            x.reshape(-1)[d.draw(st.integers(0, x.size - 1))] = 0.0
        return [x], lambda a: ours(a, axis), lambda a: theirs(a, axis)
    return Case(name, draw)


def gather_case(d):
    s = shape(d, min_dims=1)
    axis = d.draw(st.integers(0, len(s) - 1))
    index_shape = tuple(d.draw(st.integers(1, 4)) if i == axis else d.draw(st.integers(1, n)) for i, n in enumerate(s))
    index = d.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, s[axis] - 1)))
    return [values(d, s)], lambda a: a.gather(axis, index), lambda a: torch.gather(a, axis, torch.as_tensor(index))


def scatter_case(accumulate):
    def draw(d):
        s = shape(d, min_dims=1)
        axis = d.draw(st.integers(0, len(s) - 1))
        index_shape = tuple(d.draw(st.integers(1, n)) for n in s)
        if accumulate:  # repeated targets are summed
            index = d.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, s[axis] - 1)))
        else:  # distinct targets along the axis: scatter's result is defined only then
            index_shape = index_shape[:axis] + (min(index_shape[axis], s[axis]),) + index_shape[axis + 1:]
            perm = np.asarray(d.draw(st.permutations(range(s[axis]))))[:index_shape[axis]]
            shape_of = [1] * len(s)
            shape_of[axis] = -1
            index = np.broadcast_to(perm.reshape(shape_of), index_shape).copy()
        src_shape = index_shape  # torch's backward fails when src is larger than index
        method = "scatter_add" if accumulate else "scatter"
        return ([values(d, s), values(d, src_shape)], lambda a, b: getattr(a, method)(axis, index, b),
                lambda a, b: getattr(a, method)(axis, torch.as_tensor(index), b))
    return Case("scatter_add" if accumulate else "scatter", draw)


def scatter_reduce_case(d):
    """Repeated targets; values distinct across both operands (no ties for amax/amin), some exact zeros for prod."""
    s = shape(d, min_dims=1)
    axis = d.draw(st.integers(-len(s), len(s) - 1))
    index_shape = tuple(d.draw(st.integers(1, n + 1)) if i == axis % len(s) else d.draw(st.integers(1, n))
                        for i, n in enumerate(s))
    index = d.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, s[axis] - 1)))
    both = values(d, (int(np.prod(s)) + index.size,), "distinct")
    x, src = both[:np.prod(s)].reshape(s), both[np.prod(s):].reshape(index_shape)
    reduce, include_self = d.draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"])), d.draw(st.booleans())
    if reduce == "prod":  # within +-2: products of up to 5 such values stay small enough that the float64 finite
        # differences of the gradient check round far below its tolerance (values up to +-24 gave 1e-4 errors)
        scale = max(1.0, float(np.abs(both).max()) / 2)
        x, src = x / scale, src / scale
        src.reshape(-1)[d.draw(st.integers(0, src.size - 1))] = 0.0  # a zero member: the product rule without division
    return ([x, src], lambda a, b: a.scatter_reduce(axis, index, b, reduce, include_self=include_self),
            lambda a, b: a.scatter_reduce(axis, torch.as_tensor(index), b, reduce, include_self=include_self))


def shaped(name, ours, theirs, min_dims=1, domain="real", max_dims=3):
    """An op whose only argument is a tensor of at least min_dims dims; ours/theirs get (tensor, shape)."""
    def draw(d):
        s = shape(d, min_dims=min_dims, max_dims=max_dims)
        return [values(d, s, domain)], lambda a: ours(a, s), lambda a: theirs(a, s)
    return Case(name, draw)


def masked_case(d):
    s = shape(d, min_dims=1)
    mask = values(d, s) > 0.5
    return ([values(d, s)], lambda a: a.masked_fill(tg.tensor(mask, device=a.device), -1.5) * 2 + a.masked_select(mask).sum(),
            lambda a: a.masked_fill(torch.as_tensor(mask), -1.5) * 2 + a.masked_select(torch.as_tensor(mask)).sum())


def where_scalars_case(d):
    s = shape(d)
    cond = values(d, s) > 0
    return ([values(d, s)], lambda a: tg.where(tg.tensor(cond, device=a.device), a, 0.5) + tg.where(tg.tensor(cond, device=a.device), 2.0, -1.0) * a,
            lambda a: torch.where(torch.as_tensor(cond), a, 0.5) + torch.where(torch.as_tensor(cond), 2.0, -1.0) * a)


def meshgrid_case(d):
    n, m = d.draw(st.integers(1, 4)), d.draw(st.integers(1, 4))
    indexing = d.draw(st.sampled_from(["ij", "xy"]))
    return ([values(d, (n,)), values(d, (m,))],
            lambda a, b: tg.stack(tg.meshgrid(a, b, indexing=indexing)),
            lambda a, b: torch.stack(torch.meshgrid(a, b, indexing=indexing)))


def conv1d_case(d):
    n, c, length, out, k = (d.draw(st.integers(1, 3)) for _ in range(5))
    groups = d.draw(st.sampled_from([1, c]))
    out *= groups
    stride, padding, dilation = d.draw(st.integers(1, 2)), d.draw(st.integers(0, 2)), d.draw(st.integers(1, 2))
    length = max(length + 2, dilation * (k - 1) + 1)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return ([values(d, (n, c, length)), values(d, (out, c // groups, k)), values(d, (out,))],
            lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw))


def conv3d_case(d):
    n, c = d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2))
    k = (d.draw(st.integers(1, 2)), 2, d.draw(st.integers(1, 2)))
    groups = d.draw(st.sampled_from([1, c]))
    out = d.draw(st.integers(1, 2)) * groups
    kw = dict(stride=(d.draw(st.integers(1, 2)), 1, 2), padding=(d.draw(st.integers(0, 1)), 1, 0),
              dilation=(d.draw(st.integers(1, 2)), 1, 1), groups=groups)
    s = (n, c, d.draw(st.integers(3, 4)), d.draw(st.integers(2, 3)), d.draw(st.integers(2, 3)))
    return ([values(d, s), values(d, (out, c // groups) + k), values(d, (out,))],
            lambda x, w, b: F.conv3d(x, w, b, **kw), lambda x, w, b: TF.conv3d(x, w, b, **kw))


def pool3d_case(kind):
    """max_pool3d (distinct values: no ties) or avg_pool3d with its divisors, ceil_mode in both."""
    def draw(d):
        kernel = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 3)), 2)
        kw = dict(kernel_size=kernel, stride=(d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2)), 1),
                  padding=(d.draw(st.integers(0, kernel[0] // 2)), d.draw(st.integers(0, kernel[1] // 2)), 1),
                  ceil_mode=d.draw(st.booleans()))
        if kind == "avg":
            kw.update(count_include_pad=d.draw(st.booleans()), divisor_override=d.draw(st.sampled_from([None, 3])))
        else:
            kw.update(dilation=(d.draw(st.integers(1, 2)), 1, 1))
        s = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2)), d.draw(st.integers(3, 4)), 3, 3)
        ours, theirs = (F.max_pool3d, TF.max_pool3d) if kind == "max" else (F.avg_pool3d, TF.avg_pool3d)
        return [values(d, s, "distinct")], lambda a: ours(a, **kw), lambda a: theirs(a, **kw)
    return Case(f"{kind}_pool3d", draw)


def conv_transpose2d_case(d):
    n, c, h, w, k = (d.draw(st.integers(1, 3)) for _ in range(5))
    groups = d.draw(st.sampled_from([1, c]))
    out = d.draw(st.integers(1, 2)) * groups
    stride, dilation = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 3))), d.draw(st.integers(1, 2))
    padding = d.draw(st.integers(0, dilation * (k - 1) // 2))  # a positive output size
    output_padding = d.draw(st.integers(0, max(stride[0], dilation) - 1))
    kw = dict(stride=stride, padding=(padding, 0), output_padding=(output_padding, 0), groups=groups,
              dilation=dilation)
    return ([values(d, (n, c, h, w)), values(d, (c, out // groups, k, k)), values(d, (out,))],
            lambda x, wt, b: F.conv_transpose2d(x, wt, b, **kw), lambda x, wt, b: TF.conv_transpose2d(x, wt, b, **kw))


def interpolate_case(mode):
    def draw(d):
        spatial = 2 if mode in ("bilinear", "bicubic") else d.draw(st.integers(1, 2))
        s = tuple(d.draw(st.integers(1, 4)) for _ in range(2 + spatial))
        if d.draw(st.booleans()):
            kw = dict(size=tuple(d.draw(st.integers(1, 6)) for _ in range(spatial)))
        else:
            kw = dict(scale_factor=d.draw(st.sampled_from([0.5, 1.5, 2.0, 3.0])))
            if min(int(n * kw["scale_factor"]) for n in s[2:]) < 1:
                kw = dict(size=s[2:])
        if mode in ("bilinear", "bicubic"):
            kw["align_corners"] = d.draw(st.booleans())
        return [values(d, s)], lambda a: F.interpolate(a, mode=mode, **kw), lambda a: TF.interpolate(a, mode=mode, **kw)
    return Case(f"interpolate_{mode}", draw)


def avg_pool2d_case(d):
    """ceil_mode's partial last windows, with each divisor: the padded window, the real pixels, or an override."""
    kernel = (d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3)))
    padding = tuple(d.draw(st.integers(0, k // 2)) for k in kernel)
    stride = (d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3)))
    s = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2)), d.draw(st.integers(3, 6)), d.draw(st.integers(3, 6)))
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=d.draw(st.booleans()),
              count_include_pad=d.draw(st.booleans()), divisor_override=d.draw(st.sampled_from([None, None, 5])))
    return [values(d, s)], lambda a: F.avg_pool2d(a, **kw), lambda a: TF.avg_pool2d(a, **kw)


def max_unpool2d_case(d):
    """Pool distinct values with indices, then place them back (the gradient flows through both). Windows do not
    overlap: a pixel that wins two windows is placed twice, where torch's gradient (a gather) counts it twice."""
    kernel = d.draw(st.integers(1, 3))
    stride = d.draw(st.sampled_from([None, kernel, kernel + 1]))
    padding = d.draw(st.integers(0, kernel // 2))
    hw = (d.draw(st.integers(kernel, 5)), d.draw(st.integers(kernel, 5)))
    s = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2))) + hw

    def run(a, pool, unpool):
        out, indices = pool(a, kernel, stride, padding, return_indices=True)
        return unpool(out * 2, indices, kernel, stride, padding, output_size=hw)
    return ([values(d, s, "distinct")], lambda a: run(a, F.max_pool2d, F.max_unpool2d),
            lambda a: run(a, TF.max_pool2d, TF.max_unpool2d))


def pad_mode_case(mode):
    def draw(d):
        s = tuple(d.draw(st.integers(2, 4)) for _ in range(d.draw(st.integers(3, 4))))
        limit = 1 if mode == "reflect" else 2
        widths = tuple(d.draw(st.integers(0, limit)) for _ in range(2 * (len(s) - 2)))
        return ([values(d, s)], lambda a: F.pad(a, widths, mode=mode), lambda a: TF.pad(a, widths, mode=mode))
    return Case(f"pad_{mode}", draw)


def unfold_im2col_case(d):
    s = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 3)), d.draw(st.integers(5, 6)), d.draw(st.integers(5, 6)))
    kw = dict(kernel_size=(d.draw(st.integers(1, 3)), d.draw(st.integers(1, 3))), dilation=d.draw(st.integers(1, 2)),
              padding=d.draw(st.integers(0, 1)), stride=(d.draw(st.integers(1, 2)), 1))
    return [values(d, s)], lambda a: F.unfold(a, **kw), lambda a: TF.unfold(a, **kw)


def fold_case(d):
    """Columns for a drawn image size and window geometry; overlapping windows (stride 1) sum."""
    hw = (d.draw(st.integers(5, 6)), d.draw(st.integers(5, 6)))  # the kernel's extent is at most 5
    kw = dict(kernel_size=(d.draw(st.integers(1, 3)), d.draw(st.integers(1, 2))), dilation=d.draw(st.integers(1, 2)),
              padding=d.draw(st.integers(0, 1)), stride=(d.draw(st.integers(1, 2)), 1))
    columns = TF.unfold(torch.zeros(1, 1, *hw), **kw).shape
    s = (d.draw(st.integers(1, 2)), d.draw(st.integers(1, 2)) * columns[1], columns[2])
    return [values(d, s)], lambda a: F.fold(a, hw, **kw), lambda a: TF.fold(a, hw, **kw)


def attention_case(d):
    b, length, source, e, ev = (d.draw(st.integers(1, 4)) for _ in range(5))
    kind = d.draw(st.sampled_from(["plain", "causal", "bool_mask", "float_mask"]))
    mask = None
    if kind == "bool_mask":
        mask = values(d, (length, source)) > -1.0
        mask[:, 0] = True  # every query sees at least one key
    elif kind == "float_mask":
        mask = values(d, (length, source))
    kw = dict(is_causal=kind == "causal", scale=d.draw(st.sampled_from([None, 0.3])))
    q_len = source if kind == "causal" else length
    return ([values(d, (b, q_len, e)), values(d, (b, source, e)), values(d, (b, source, ev))],
            lambda q, k, v: F.scaled_dot_product_attention(
                q, k, v, attn_mask=None if mask is None else tg.tensor(mask, device=q.device).to(
                    dtype=q.dtype if mask.dtype.kind == "f" else np.bool_), **kw),
            lambda q, k, v: TF.scaled_dot_product_attention(
                q, k, v, attn_mask=None if mask is None else torch.tensor(mask).to(
                    q.dtype if mask.dtype.kind == "f" else torch.bool), **kw))


def einsum_case(d):
    equation, shapes = d.draw(st.sampled_from([
        ("ij,jk->ik", ((2, 3), (3, 4))), ("bij,bjk->bik", ((2, 2, 3), (2, 3, 1))), ("i,i->", ((3,), (3,))),
        ("i,j->ij", ((3,), (2,))), ("ij->ji", ((2, 3),)), ("bij->j", ((2, 3, 4),)), ("ij,jk", ((2, 3), (3, 2))),
        ("...ij,...jk->...ik", ((2, 1, 2, 3), (4, 3, 2))), ("bhqd,bhkd->bhqk", ((1, 2, 3, 4), (1, 2, 2, 4))),
        ("ij,kl->", ((2, 2), (1, 3))), ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("bii->bi", ((2, 3, 3),)),
        ("iji,j->ij", ((2, 3, 2), (3,))), ("...ii->...", ((2, 2, 2),)), ("Ij,jK->IK", ((2, 3), (3, 2)))]))
    return ([values(d, sh) for sh in shapes], lambda *xs: tg.einsum(equation, *xs),
            lambda *xs: torch.einsum(equation, *xs))


def softmax_like(name, ours, theirs):
    def draw(d):
        s = shape(d, min_dims=1)
        axis = d.draw(st.integers(-len(s), len(s) - 1))
        return [values(d, s)], lambda x: ours(x, axis), lambda x: theirs(x, axis)
    return Case(name, draw)


CASES = [
    binary("add", lambda a, b: a + b, lambda a, b: a + b),
    binary("sub", lambda a, b: a - b, lambda a, b: a - b),
    binary("mul", lambda a, b: a * b, lambda a, b: a * b),
    binary("div", lambda a, b: a / b, lambda a, b: a / b, domain=("real", "nonzero")),
    unary("neg", lambda a: -a, lambda a: -a),
    unary("radd_rsub_rmul_rdiv", lambda a: (2 - a) * 3 + 1 / a, lambda a: (2 - a) * 3 + 1 / a, domain="nonzero"),
    unary("pow_scalar", lambda a: a ** 3, lambda a: a ** 3),
    unary("pow_fractional", lambda a: a ** 1.7, lambda a: a ** 1.7, domain="positive"),
    binary("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, domain=("positive", "real"), rtol=1e-3),
    unary("rpow", lambda a: 2.0 ** a, lambda a: 2.0 ** a),
    unary("exp", lambda a: a.exp(), torch.exp),
    unary("log", lambda a: a.log(), torch.log, domain="positive"),
    unary("sqrt", lambda a: a.sqrt(), torch.sqrt, domain="positive"),
    unary("abs", lambda a: a.abs(), torch.abs, domain="nonzero"),
    binary("maximum", tg.maximum, torch.maximum, domain=("distinct", "distinct")),
    binary("minimum", tg.minimum, torch.minimum, domain=("distinct", "distinct")),
    unary("clip", lambda a: a.clip(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), domain="distinct"),
    Case("where", where_case),
    unary("relu", lambda a: a.relu(), torch.relu, domain="nonzero"),
    unary("sigmoid", lambda a: a.sigmoid(), torch.sigmoid),
    unary("tanh", lambda a: a.tanh(), torch.tanh),
    unary("gelu_erf", lambda a: a.gelu(), torch.nn.functional.gelu),
    unary("gelu_tanh", lambda a: a.gelu("tanh"), lambda a: torch.nn.functional.gelu(a, approximate="tanh")),
    softmax_like("softmax", lambda x, ax: x.softmax(ax), lambda x, ax: torch.softmax(x, ax)),
    softmax_like("log_softmax", lambda x, ax: x.log_softmax(ax), lambda x, ax: torch.log_softmax(x, ax)),
    reduction("logsumexp", lambda x, ax, k: x.logsumexp(ax, k), torch_reduce(torch.logsumexp)),
    reduction("sum", lambda x, ax, k: x.sum(ax, k), torch_reduce(torch.sum), min_dims=0),
    reduction("mean", lambda x, ax, k: x.mean(ax, k), torch_reduce(torch.mean), min_dims=0),
    reduction("amax", lambda x, ax, k: x.amax(ax, k), torch_max, domain="distinct"),
    reduction("amin", lambda x, ax, k: x.amin(ax, k),
              lambda x, ax, k: torch.amin(x, dim=torch_dims(ax, x.ndim), keepdim=k), domain="distinct"),
    unary("max_all", lambda a: a.max() * a.min(), lambda a: a.max() * a.min(), domain="distinct"),
    along_axis("max_dim", lambda a, ax: a.max(ax).values, lambda a, ax: a.max(ax).values, "distinct"),
    along_axis("min_dim_keepdim", lambda a, ax: tg.min(a, ax, keepdim=True)[0],
               lambda a, ax: torch.min(a, ax, keepdim=True)[0], "distinct"),
    reduction("var", lambda x, ax, k: x.var(ax, k, correction=0), torch_reduce(
        lambda x, dim, keepdim: torch.var(x, dim=dim, keepdim=keepdim, correction=0))),
    reduction("std", lambda x, ax, k: x.std(ax, k, correction=0) + 0.0, torch_reduce(
        lambda x, dim, keepdim: torch.std(x, dim=dim, keepdim=keepdim, correction=0)), domain="distinct",
        min_side=2),
    Case("matmul", matmul_case),
    Case("reshape", reshape_case),
    unary("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), min_dims=2),
    unary("transpose", lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1), min_dims=1),
    unary("T", lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))), min_dims=1),
    Case("permute", permute_case),
    Case("expand", expand_case),
    Case("squeeze_unsqueeze", squeeze_case),
    Case("getitem", getitem_case),
    Case("cat", cat_case),
    Case("stack", stack_case),
    Case("split", split_case),
    Case("pad", pad_case),
    # trigonometric, hyperbolic, special
    unary("sin", lambda a: a.sin(), torch.sin),
    unary("cos", lambda a: a.cos(), torch.cos),
    unary("tan", lambda a: a.tan(), torch.tan, domain="unit"),
    unary("asin", lambda a: a.asin(), torch.asin, domain="unit"),
    unary("acos", lambda a: a.acos(), torch.acos, domain="unit"),
    unary("atan", lambda a: a.atan(), torch.atan),
    unary("sinh", lambda a: a.sinh(), torch.sinh),
    unary("cosh", lambda a: a.cosh(), torch.cosh),
    unary("erf", lambda a: a.erf(), torch.erf),
    unary("exp2", lambda a: a.exp2(), torch.exp2),
    unary("log2", lambda a: a.log2(), torch.log2, domain="positive"),
    unary("log10", lambda a: a.log10(), torch.log10, domain="positive"),
    unary("rsqrt", lambda a: a.rsqrt(), torch.rsqrt, domain="positive"),
    # rounding: gradient 0
    unary("floor", lambda a: a.floor(), torch.floor, domain="fractional"),
    unary("ceil", lambda a: a.ceil(), torch.ceil, domain="fractional"),
    unary("round", lambda a: a.round(), torch.round, domain="fractional"),
    unary("trunc", lambda a: a.trunc(), torch.trunc, domain="fractional"),
    unary("sign", lambda a: a.sign(), torch.sign, domain="nonzero"),
    binary("floor_divide", lambda a, b: (a * 2.9) // b, lambda a, b: torch.div(a * 2.9, b, rounding_mode="floor"),
           domain=("fractional", "positive")),
    # two operands
    remainder_case(lambda a, b: a % b, lambda a, b: torch.remainder(a, b)),
    remainder_case(lambda a, b: a.fmod(b), lambda a, b: torch.fmod(a, b)),
    binary("copysign", lambda a, b: a.copysign(b), torch.copysign, domain=("nonzero", "nonzero")),
    binary("logaddexp", lambda a, b: a.logaddexp(b), torch.logaddexp),
    Case("lerp", lerp_case),
    unary("lerp_scalar_weight", lambda a: a.lerp(a * a, 0.3), lambda a: torch.lerp(a, a * a, 0.3)),
    # activations
    unary("leaky_relu", lambda a: F.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2), domain="off_kinks"),
    unary("elu", lambda a: F.elu(a, 0.7), lambda a: TF.elu(a, 0.7), domain="off_kinks"),
    unary("selu", F.selu, TF.selu, domain="off_kinks"),
    unary("celu", lambda a: F.celu(a, 1.5), lambda a: TF.celu(a, 1.5), domain="off_kinks"),
    unary("silu", F.silu, TF.silu, domain="off_kinks"),
    unary("mish", F.mish, TF.mish, domain="off_kinks"),
    unary("softplus", lambda a: F.softplus(a, 2.0, 5.0), lambda a: TF.softplus(a, 2.0, 5.0), domain="off_kinks"),
    unary("hardtanh", lambda a: F.hardtanh(a, -2.0, 1.0), lambda a: TF.hardtanh(a, -2.0, 1.0), domain="off_kinks"),
    unary("relu6", F.relu6, TF.relu6, domain="off_kinks"),
    unary("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, domain="off_kinks"),
    unary("hardswish", F.hardswish, TF.hardswish, domain="off_kinks"),
    unary("logsigmoid", F.logsigmoid, TF.logsigmoid, domain="off_kinks"),
    unary("softsign", F.softsign, TF.softsign, domain="off_kinks"),
    softmax_like("softmin", lambda x, ax: F.softmin(x, ax), lambda x, ax: TF.softmin(x, ax)),
    # reductions, scans, sorting
    reduction("prod", lambda x, ax, k: x.prod(ax, k), lambda x, ax, k: _torch_prod(x, ax, k)),
    along_axis("prod_with_a_zero", lambda a, ax: a.prod(ax), lambda a, ax: a.prod(ax), zero=True),
    along_axis("cumsum", lambda a, ax: a.cumsum(ax), torch.cumsum),
    along_axis("cumprod", lambda a, ax: a.cumprod(ax), torch.cumprod),
    along_axis("cumprod_with_a_zero", lambda a, ax: a.cumprod(ax), torch.cumprod, zero=True),
    along_axis("logcumsumexp", lambda a, ax: a.logcumsumexp(ax), torch.logcumsumexp),
    along_axis("cummax", lambda a, ax: a.cummax(ax).values, lambda a, ax: torch.cummax(a, ax).values, "distinct"),
    along_axis("cummin", lambda a, ax: a.cummin(ax).values, lambda a, ax: torch.cummin(a, ax).values, "distinct"),
    along_axis("sort", lambda a, ax: a.sort(ax).values, lambda a, ax: torch.sort(a, ax).values, "distinct"),
    along_axis("sort_descending", lambda a, ax: a.sort(ax, descending=True).values,
               lambda a, ax: torch.sort(a, ax, descending=True).values, "distinct"),
    along_axis("topk", lambda a, ax: a.topk(min(2, a.shape[ax]), ax).values,
               lambda a, ax: torch.topk(a, min(2, a.shape[ax]), ax).values, "distinct"),
    along_axis("topk_smallest", lambda a, ax: a.topk(1, ax, largest=False).values,
               lambda a, ax: torch.topk(a, 1, ax, largest=False).values, "distinct"),
    along_axis("median", lambda a, ax: a.median(ax).values, lambda a, ax: a.median(ax).values, "distinct"),
    unary("median_all", lambda a: a.median(), lambda a: a.median(), domain="distinct"),
    along_axis("kthvalue",
               lambda a, ax: a.kthvalue(a.shape[ax], ax, keepdim=True)[0].squeeze(ax) + a.kthvalue(1, ax)[0],
               lambda a, ax: a.kthvalue(a.shape[ax], ax, keepdim=True)[0].squeeze(ax) + a.kthvalue(1, ax)[0],
               "distinct"),
    reduction("norm", lambda x, ax, k: x.norm(2, ax, k), lambda x, ax, k: torch.linalg.vector_norm(
        x, 2, dim=torch_dims(ax, x.ndim), keepdim=k), domain="nonzero"),
    reduction("norm_p3", lambda x, ax, k: x.norm(3, ax, k), lambda x, ax, k: torch.linalg.vector_norm(
        x, 3, dim=torch_dims(ax, x.ndim), keepdim=k), domain="nonzero"),
    reduction("std_mean", lambda x, ax, k: sum(x.std_mean(ax, k, correction=0)),
              lambda x, ax, k: sum(torch.std_mean(x, dim=torch_dims(ax, x.ndim), keepdim=k, correction=0)),
              domain="distinct", min_side=2),
    # shapes and indexing
    Case("gather", gather_case),
    scatter_case(accumulate=False),
    scatter_case(accumulate=True),
    Case("scatter_reduce", scatter_reduce_case),
    along_axis("index_select", lambda a, ax: a.index_select(ax, np.array([0, 0, a.shape[ax] - 1])),
               lambda a, ax: a.index_select(ax, torch.tensor([0, 0, a.shape[ax] - 1]))),
    Case("masked_fill_select", masked_case),
    Case("where_scalars", where_scalars_case),
    along_axis("flip", lambda a, ax: a.flip(ax), lambda a, ax: a.flip(ax)),
    shaped("flip_all", lambda a, s: a.flip(*range(len(s))), lambda a, s: a.flip(list(range(len(s))))),
    along_axis("roll", lambda a, ax: a.roll(2, ax), lambda a, ax: a.roll(2, ax)),
    shaped("roll_flat", lambda a, s: a.roll(-3), lambda a, s: a.roll(-3), min_dims=0),
    shaped("repeat", lambda a, s: a.repeat(2, *([1, 3] * 2)[:len(s)]), lambda a, s: a.repeat(2, *([1, 3] * 2)[:len(s)]),
           min_dims=0),
    along_axis("repeat_interleave", lambda a, ax: a.repeat_interleave(2, ax),
               lambda a, ax: a.repeat_interleave(2, ax)),
    along_axis("repeat_interleave_counts", lambda a, ax: a.repeat_interleave(np.arange(a.shape[ax]) % 3, ax),
               lambda a, ax: a.repeat_interleave(torch.arange(a.shape[ax]) % 3, ax)),
    along_axis("chunk", lambda a, ax: tg.cat([c * (i + 1) for i, c in enumerate(a.chunk(3, ax))], ax),
               lambda a, ax: torch.cat([c * (i + 1) for i, c in enumerate(a.chunk(3, ax))], ax)),
    shaped("unflatten", lambda a, s: a.flatten().unflatten(0, (-1, s[-1])),
           lambda a, s: a.flatten().unflatten(0, (-1, s[-1]))),
    shaped("tril", lambda a, s: a.tril(-1) + a.tril(1) * 2, lambda a, s: a.tril(-1) + a.tril(1) * 2, min_dims=2),
    shaped("triu", lambda a, s: a.triu() + a.triu(2) * 2, lambda a, s: a.triu() + a.triu(2) * 2, min_dims=2),
    shaped("diag_vector", lambda a, s: a.diag(1) + a.diag(-2).sum(), lambda a, s: a.diag(1) + a.diag(-2).sum(),
           max_dims=1),
    shaped("diag_matrix", lambda a, s: a.diag(-1), lambda a, s: a.diag(-1), min_dims=2, max_dims=2),
    shaped("diagonal", lambda a, s: a.diagonal(1, -1, 0), lambda a, s: a.diagonal(1, -1, 0), min_dims=2),
    Case("meshgrid", meshgrid_case),
    along_axis("unfold", lambda a, ax: a.unfold(ax, min(2, a.shape[ax]), 2),
               lambda a, ax: a.unfold(ax, min(2, a.shape[ax]), 2)),
    # layers
    Case("conv1d", conv1d_case),
    Case("conv_transpose2d", conv_transpose2d_case),
    Case("conv3d", conv3d_case),
    pool3d_case("max"),
    pool3d_case("avg"),
    Case("avg_pool2d", avg_pool2d_case),
    Case("max_unpool2d", max_unpool2d_case),
    interpolate_case("nearest"),
    interpolate_case("bilinear"),
    interpolate_case("nearest-exact"),
    interpolate_case("area"),
    interpolate_case("bicubic"),
    pad_mode_case("reflect"),
    pad_mode_case("replicate"),
    pad_mode_case("circular"),
    Case("unfold_im2col", unfold_im2col_case),
    Case("fold", fold_case),
    Case("scaled_dot_product_attention", attention_case),
    Case("einsum", einsum_case),
    shaped("normalize", lambda a, s: F.normalize(a, dim=-1), lambda a, s: TF.normalize(a, dim=-1), domain="nonzero"),
    shaped("normalize_p1", lambda a, s: F.normalize(a, 1.0, 0), lambda a, s: TF.normalize(a, 1.0, 0),
           domain="nonzero"),
    binary("method_forms", lambda a, b: a.add(b, alpha=2).sub(b).mul(a).div(b.abs() + 1).pow(2).neg(),
           lambda a, b: a.add(b, alpha=2).sub(b).mul(a).div(b.abs() + 1).pow(2).neg(), domain=("real", "nonzero")),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_gradcheck_float64(case, data, device):
    arrays, ours, _ = case.draw(data)
    inputs = [tg.Tensor(a.copy(), requires_grad=True, device=device) for a in arrays]
    assert tg.gradcheck(ours, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_matches_torch_float32(case, data, device):
    arrays, ours, theirs = case.draw(data)
    mine = [tg.Tensor(a.astype(np.float32), requires_grad=True, device=device) for a in arrays]
    ref = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    out, expected = ours(*mine), theirs(*ref)
    assert out.dtype == np.float32
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=case.atol, rtol=case.rtol)
    weights = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    assert out.device == device
    (out * tg.Tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (m, r) in enumerate(zip(mine, ref)):
        assert m.grad is not None and m.grad.shape == m.shape and m.grad.device == device, f"input {i}"
        np.testing.assert_allclose(m.grad.numpy(), r.grad.numpy(), atol=case.atol * 10, rtol=case.rtol * 10,
                                   err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("scale", [1e4, 1e5])
def test_stable_for_huge_logits(fn, scale, device):
    logits = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]]) * scale
    mine = tg.Tensor(logits, requires_grad=True, device=device)
    ref = torch.tensor(logits, requires_grad=True)
    out = getattr(mine, fn)(1)
    expected = getattr(torch, fn)(ref, 1)
    assert np.isfinite(out.detach().numpy()).all()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    assert np.isfinite(mine.grad.numpy()).all()
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), atol=1e-12)


def test_argmax_argmin_and_comparisons_carry_no_gradient(device):
    x = tg.Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True, device=device)
    assert x.argmax(1).tolist() == [1, 0]
    assert x.argmin(axis=1, keepdims=True).tolist() == [[0], [1]]
    assert x.argmax().item() == 3
    assert x.argmax(1).dtype == np.int64 and not x.argmax(1).requires_grad
    for result in (x > 2, x <= 2, x == 5, x != 5, x < x, x >= 1):
        assert result.dtype == np.bool_ and not result.requires_grad
    assert (x > 2).tolist() == [[False, True, False], [True, False, True]]
