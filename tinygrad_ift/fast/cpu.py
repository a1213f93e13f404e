"""CPU fast paths: NumPy over cache-sized slices of the batch, on all cores, with recycled large arrays.

Each class here subclasses a reference op (or optimiser) and registers itself with `replaces(..., "cpu")`;
tests/test_fast_paths.py checks each against its reference. Why these shapes of work pay off on a CPU:
a chain of NumPy ops over an array larger than the cache streams it from memory once per op, so the chains
below run one cache-sized slice at a time (slices.py, which also shares the slices out over threads); and a
fresh large array costs a page fault per page, so large outputs and scratch arrays come from the buffer pool
(buffer_pool.py).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..nn.conv import Conv2dFunction, _apply_kernel, _grouped_kernel, _matmul_per_group
from ..nn.functional import LinearFunction
from ..nn.im2col import col2im, im2col, output_size
from ..nn.normalization import BatchNormFunction, BatchNormReLUFunction, LayerNormFunction, _update_running_stats
from ..ops import GELUFunction, MatMul, ReLUFunction
from ..ops.elementwise import _INV_SQRT_2, _INV_SQRT_2PI
from ..optim import SGD, Adam, AdamW
from . import replaces, shifted, winograd
from .buffer_pool import MIN_RECYCLED_BYTES, POOL
from .layout import pad_channels_last
from .slices import (batch_slices, map_slices, per_position, run_on_slices, run_products_on_slices, shared_matmul,
                     shared_step, sum_in_order)

COLUMN_CHUNK_BYTES = 8 * 2 ** 20  # conv: columns per chunk (chosen by benchmarks.bench_conv)


# ----- activations -----------------------------------------------------------------------------------------
@replaces(ReLUFunction, "cpu")
class ReLUCPU(ReLUFunction):
    """ReLU a slice of the batch at a time on all cores, into a pooled output."""

    def forward(self, a):
        zero = np.zeros(a.shape[1:], dtype=a.dtype)  # NumPy's maximum is faster against an array than a scalar
        self.out = map_slices(lambda a, out=None: np.maximum(a, zero, out=out), a)
        return self.out

    def backward(self, grad):
        return map_slices(lambda grad, y, out=None: np.multiply(grad, y > 0, out=out), grad, self.out)


@replaces(GELUFunction, "cpu")
class GELUCPU(GELUFunction):
    """The exact GELU a slice of the batch at a time on all cores: the reference's operations in its order, each
    slice's chain run while the slice is in cache (erf, from SciPy, is most of the work and releases the GIL).
    The tanh approximation, and arrays too small to share out, run the reference."""

    def forward(self, a, approximate="none"):
        self.sliced = approximate == "none" and _sliceable(a)
        if not self.sliced:
            return super().forward(a, approximate)
        self.a, self.approximate = a, approximate
        self.cdf, out = POOL.empty(np, a.shape, a.dtype), POOL.empty(np, a.shape, a.dtype)

        def work(group):
            for s in group:
                cdf = self.cdf[s]  # 0.5 (1 + erf(a / sqrt 2))
                np.multiply(a[s], _INV_SQRT_2, out=cdf)
                backend.erf(cdf, out=cdf)
                cdf += 1
                cdf *= 0.5
                np.multiply(a[s], cdf, out=out[s])

        run_on_slices(work, batch_slices(a))
        return out

    def backward(self, grad):
        if not self.sliced or grad.dtype != self.a.dtype or not grad.flags.c_contiguous:
            return super().backward(grad)
        a, dx = self.a, POOL.empty(np, grad.shape, grad.dtype)

        def work(group):
            scratch = np.empty_like(a[group[0]])
            for s in group:
                t = scratch[: s.stop - s.start]  # cdf + a pdf, pdf = e^(-a^2 / 2) / sqrt(2 pi)
                np.multiply(a[s], -0.5, out=t)
                t *= a[s]
                np.exp(t, out=t)
                t *= _INV_SQRT_2PI
                t *= a[s]
                t += self.cdf[s]
                np.multiply(grad[s], t, out=dx[s])

        run_on_slices(work, batch_slices(a))
        return dx


def _sliceable(a) -> bool:
    """Whether a fast path's slices pay off for array a: a large C-contiguous NumPy float array."""
    return (isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.flags.c_contiguous and a.ndim > 0
            and a.nbytes >= MIN_RECYCLED_BYTES)


# ----- normalisation ---------------------------------------------------------------------------------------
@replaces(BatchNormFunction, "cpu")
class BatchNormCPU(BatchNormFunction):
    """BatchNormFunction over cache-sized slices of the batch, on all cores, with one-pass shifted moments.

    Statistics are over the batch and spatial dims, flattened into the layout (N, C, L); m(.) is the mean
    over n and l. The forward computes y = x * scale + shift with scale = weight * invstd and
    shift = bias - mean * scale, so it writes one array and saves only x.

    Training uses the batch's mean and (biased) variance, which depend on x; weight is constant per channel, so
        dx = scale * (dy - m(dy) - xhat * m(dy * xhat)),
    while in eval the running statistics are constants and dx = scale * dy.
    dweight = sum(dy * xhat) = invstd * sum(dy * (x - mean)), dbias = sum(dy). Every chain of full-size
    ops runs one cache-sized slice of the batch at a time (see slices.py).
    """

    relu = False  # BatchNormReLUCPU: clamp each slice of the output at 0, mask each slice of the gradient

    def forward(self, x, weight=None, bias=None, *, eps, training, running_mean=None, running_var=None,
                momentum=0.1):
        xp = get_array_module(x)
        self.shape, self.training = x.shape, training
        x = x.reshape(x.shape[0], x.shape[1], -1)
        self.slices = batch_slices(x)
        if training:
            mean, var = _batch_moments(x, self.slices)
            if running_mean is not None:
                _update_running_stats(running_mean, running_var, momentum, mean, var, x.shape[0] * x.shape[2])
        else:
            mean, var = running_mean.copy(), running_var  # a copy: training may update the buffer before backward
        invstd = 1.0 / xp.sqrt(var + eps)
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        scale_cl, shift_cl = per_position(scale, x.shape[2]), per_position(shift, x.shape[2])
        out = POOL.empty(xp, x.shape, x.dtype)

        def affine(group):
            for s in group:
                xp.multiply(x[s], scale_cl, out=out[s])
                out[s] += shift_cl
                if self.relu:
                    xp.maximum(out[s], 0, out=out[s])

        run_on_slices(affine, self.slices)
        self.x, self.mean, self.invstd, self.scale = x, mean, invstd, scale
        if self.relu:
            self.out = out
        return out.reshape(self.shape)

    def backward(self, grad):
        xp = get_array_module(grad)
        dy, x = grad.reshape(self.x.shape), self.x
        n, c, length = x.shape
        mean_cl = per_position(self.mean, length)
        grad_in = dy
        if self.relu:  # the gradient through the ReLU, each slice written in the pass that sums it
            dy = POOL.empty(xp, grad_in.shape, grad_in.dtype)

        def sums(group):  # sum(dy) and sum(dy * (x - mean)), per channel
            totals, scratch = _zero_totals(2, x), xp.empty_like(x[group[0]])
            for s in group:
                if self.relu:
                    xp.multiply(grad_in[s], self.out[s] > 0, out=dy[s])
                _accumulate(totals[0], dy[s])
                _accumulate(totals[1], dy[s], _centred(x, s, mean_cl, scratch))
            return totals

        grad_bias, dot = sum(run_on_slices(sums, self.slices)).sum(axis=-1).astype(x.dtype)
        grad_weight = dot * self.invstd
        scale_cl = per_position(self.scale, length)
        if not self.training:
            return (dy * scale_cl).reshape(self.shape), grad_weight, grad_bias
        # dx = dy * scale - (x - mean) * coef - scale * m(dy) = dy * scale - x * coef + const, one op fewer per
        # element. Rounding x * coef loses eps * |mean| / std of the middle term, as storing x in float32 already does.
        count = n * length
        coef = self.scale * self.invstd ** 2 * dot / count  # scale * invstd^2 * m(dy (x - mean))
        coef_cl = per_position(coef, length)
        const_cl = per_position(self.mean * coef - self.scale * grad_bias / count, length)
        dx = POOL.empty(xp, dy.shape, dy.dtype)

        def grad_input(group):
            scratch = xp.empty_like(x[group[0]])
            for s in group:
                x_coef = xp.multiply(x[s], coef_cl, out=scratch[: s.stop - s.start])
                xp.multiply(dy[s], scale_cl, out=dx[s])
                dx[s] -= x_coef
                dx[s] += const_cl

        run_on_slices(grad_input, self.slices)
        return dx.reshape(self.shape), grad_weight, grad_bias


@replaces(BatchNormReLUFunction, "cpu")
class BatchNormReLUCPU(BatchNormCPU, BatchNormReLUFunction):
    """relu(batch_norm(x)) in BatchNormCPU's passes: each slice of the output is clamped at 0 while still in cache,
    and each slice of the gradient masked by y > 0 in the pass that sums it (no pass of a ReLU of its own)."""

    relu = True


@replaces(LayerNormFunction, "cpu")
class LayerNormCPU(LayerNormFunction):
    """LayerNorm a slice of the batch at a time on all cores. Each row's statistics are its own, so every slice
    makes the reference's operations in its order; backward sums the weight's and bias's gradients slice by
    slice (in float64) instead of through full-size products summed afterwards."""

    def forward(self, x, weight=None, bias=None, *, axes, eps):
        x = np.ascontiguousarray(x) if isinstance(x, np.ndarray) else x  # e.g. after a transpose: one copy
        self.sliced = _sliceable(x) and x.ndim > len(axes)  # a batch dim to slice
        if not self.sliced:
            return super().forward(x, weight, bias, axes=axes, eps=eps)
        self.axes, self.weight, self.slices = axes, weight, batch_slices(x)
        self.xhat = POOL.empty(np, x.shape, x.dtype)
        self.invstd = np.empty(x.shape[:x.ndim - len(axes)] + (1,) * len(axes), dtype=x.dtype)
        out = self.xhat if weight is None else POOL.empty(np, x.shape, x.dtype)

        def work(group):
            for s in group:
                xhat = self.xhat[s]
                np.subtract(x[s], x[s].mean(axis=axes, keepdims=True), out=xhat)
                self.invstd[s] = 1.0 / np.sqrt(np.square(xhat).mean(axis=axes, keepdims=True) + eps)
                xhat *= self.invstd[s]
                if weight is not None:
                    np.multiply(xhat, weight, out=out[s])
                    out[s] += bias

        run_on_slices(work, self.slices)
        return out

    def backward(self, grad):
        if not self.sliced or grad.dtype != self.xhat.dtype:
            return super().backward(grad)
        grad = np.ascontiguousarray(grad)  # e.g. through MLP-Mixer's transposes: one copy, then cache-sized slices
        weight, axes, dx = self.weight, self.axes, POOL.empty(np, grad.shape, grad.dtype)
        batch_axes = tuple(range(grad.ndim - len(axes)))

        def work(group):
            sums = np.zeros((2,) + grad.shape[grad.ndim - len(axes):])  # the weight's and the bias's gradients
            scratch = np.empty((2,) + grad[group[0]].shape, dtype=grad.dtype)
            for s in group:
                g, xhat = grad[s], self.xhat[s]
                dxhat, product = (buffer[: s.stop - s.start] for buffer in scratch)
                if weight is None:
                    dxhat = g
                else:
                    np.multiply(g, weight, out=dxhat)
                    sums[0] += np.multiply(g, xhat, out=product).sum(axis=batch_axes)
                    sums[1] += g.sum(axis=batch_axes)
                m_dxhat_xhat = np.multiply(dxhat, xhat, out=product).mean(axis=axes, keepdims=True)
                np.subtract(dxhat, dxhat.mean(axis=axes, keepdims=True), out=dx[s])
                dx[s] -= np.multiply(xhat, m_dxhat_xhat, out=product)
                dx[s] *= self.invstd[s]
            return sums

        sums = sum(run_on_slices(work, self.slices)).astype(grad.dtype)
        return dx if weight is None else (dx, sums[0], sums[1])


def _centred(x, s: slice, mean_cl, scratch):
    """x[s] - mean, per position, written into the front of a slice-sized scratch array."""
    return get_array_module(x).subtract(x[s], mean_cl, out=scratch[: s.stop - s.start])


def _batch_moments(x, slices: list) -> tuple:
    """Per-channel mean and biased variance of x (N, C, L), in one pass over cache-sized slices.

    Each slice adds sum(x - k) and sum((x - k)^2) in float64, shifted by k, the mean of the first sample's
    positions. Then var = m((x - k)^2) - m(x - k)^2 does not cancel: unlike E[x^2] - mean^2 in float32,
    which loses everything when |mean| >> std, here m(x - k) is about one std or smaller.
    """
    xp = get_array_module(x)
    shift = x[0].mean(axis=1)
    shift_cl = per_position(shift, x.shape[2])

    def sums(group):
        totals, scratch = _zero_totals(2, x), xp.empty_like(x[group[0]])
        for s in group:
            shifted = _centred(x, s, shift_cl, scratch)
            _accumulate(totals[0], shifted)
            _accumulate(totals[1], shifted, shifted)
        return totals

    total, squares = sum(run_on_slices(sums, slices)).sum(axis=-1) / (x.shape[0] * x.shape[2])
    return (shift + total).astype(x.dtype), xp.maximum(squares - total ** 2, 0).astype(x.dtype)


SHORT_ROWS = 64  # below this many positions per channel, per-channel sums go over the batch first


def _zero_totals(count: int, x):
    """Zeroed float64 accumulators for `count` per-channel sums over slices of x (N, C, L); see _accumulate."""
    length = x.shape[2] if x.shape[2] < SHORT_ROWS else 1
    return get_array_module(x).zeros((count, x.shape[1], length), dtype=np.float64)


def _accumulate(total, *blocks) -> None:
    """total += the product of the blocks (n, C, L), summed over n, and over l unless total is (C, L).

    einsum runs its inner loop along the output, so summing each short row of L (16 on a 4x4 map) is
    slower than summing over n into a (C, L) total, whose L columns are added at the very end.
    """
    subscripts = ",".join(["ncl"] * len(blocks)) + ("->cl" if total.shape[1] == blocks[0].shape[2] else "->c")
    total += get_array_module(total).einsum(subscripts, *blocks).reshape(total.shape)


# ----- matrix products -------------------------------------------------------------------------------------
@replaces(LinearFunction, "cpu")
class LinearCPU(LinearFunction):
    """LinearFunction's products shared out over our threads (slices.shared_matmul)."""

    def forward(self, x, weight, bias=None):
        self.shared = isinstance(x, np.ndarray) and x.dtype == weight.dtype
        if not self.shared:
            return super().forward(x, weight, bias)
        self.x_shape, self.x2, self.weight = x.shape, x.reshape(-1, x.shape[-1]), weight  # x2: a copy if x is strided
        out = shared_matmul(self.x2, weight.T)
        if bias is not None:
            out = out + bias if bias.dtype != out.dtype else np.add(out, bias, out=out)
        return out.reshape(x.shape[:-1] + weight.shape[:1])

    def backward(self, grad):
        if not self.shared:
            return super().backward(grad)
        g2 = np.ascontiguousarray(grad).reshape(-1, grad.shape[-1])  # real strides for BLAS, not a broadcast view
        wanted = self.needs_input_grad
        grad_x = shared_matmul(g2, self.weight).reshape(self.x_shape) if wanted[0] else None
        return grad_x, shared_matmul(g2.T, self.x2) if wanted[1] else None, g2.sum(axis=0)


@replaces(MatMul, "cpu")
class MatMulCPU(MatMul):
    """MatMul of two matrices with its products shared out over our threads (slices.shared_matmul); stacks of
    matrices, and vectors, run the reference."""

    def forward(self, a, b):
        self.shared = isinstance(a, np.ndarray) and a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]
        if not self.shared:
            return super().forward(a, b)
        self.a, self.b = a, b
        return shared_matmul(a, b)

    def backward(self, grad):
        if not self.shared:
            return super().backward(grad)
        a, b, grad = self.a, self.b, np.ascontiguousarray(grad)  # real strides, not a broadcast view, for BLAS
        grad_a = shared_matmul(grad, b.T) if self.needs_input_grad[0] else None
        if not self.needs_input_grad[1]:
            return grad_a, None
        if b.T.flags.c_contiguous and not b.flags.c_contiguous:  # b is W.T: dW = g^T a made in W's layout
            return grad_a, shared_matmul(grad.T, a).T
        return grad_a, shared_matmul(a.T, grad)


# ----- convolution -----------------------------------------------------------------------------------------
@replaces(Conv2dFunction, "cpu")
class Conv2dCPU(Conv2dFunction):
    """Conv2dFunction a chunk of the batch at a time, whose columns (about COLUMN_CHUNK_BYTES) stay in the CPU
    cache between the copy that writes them and the product that reads them; padded images and columns come
    from the buffer pool.

    dW = grad^T cols and db = grad summed over n, y, x. dx: with stride 1 it is the correlation of the padded
    output gradient with the kernel of the transposed convolution (a "full" convolution: no column gradient
    to scatter); otherwise the column gradient grad W is scattered back by col2im.

    Instead, 3x3 stride-1 convolutions with many channels (ResNet's from 128 on) run by Winograd's F(2x2, 3x3)
    (winograd.py): 2.25 times fewer multiplications; other stride-1 convolutions that keep the image's size,
    and 1x1 convolutions of any stride, by one product per kernel tap over the padded images (shifted.py): no
    columns to copy.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        kh, kw = weight.shape[2:]
        self.kernel, self.stride, self.padding, self.dilation = (kh, kw), stride, padding, dilation
        self.groups, self.x_shape, self.weight, self.has_bias = groups, x.shape, weight, bias is not None
        self.out_hw = tuple(output_size(*axis) for axis in zip((h, w), self.kernel, stride, padding, dilation))
        self.winograd = winograd.applies(self.kernel, stride, dilation, groups, c, padding)
        self.shifted = not self.winograd and shifted.applies(self.kernel, stride, padding, dilation, groups, c)
        if self.winograd:
            self.x_padded = POOL.take(xp, winograd.padded_shape(x.shape, self.out_hw), x.dtype)
            out = winograd.convolve(x, weight, padding, self.out_hw, self.x_padded)
            return out if bias is None else _add_bias(out, bias)
        if self.shifted:
            self.x_padded = POOL.take(xp, shifted.padded_shape(x.shape, self.out_hw, self.kernel), x.dtype)
            out = shifted.convolve(x, weight, padding, stride, self.x_padded)
            return out if bias is None else _add_bias(out, bias)
        self.x_padded = POOL.take(xp, (n, h + 2 * padding[0], w + 2 * padding[1], c), x.dtype)
        self.w = _grouped_kernel(weight, groups)  # (G, O/G, kh*kw*C/G), ordered as the columns
        out = POOL.empty(xp, (n, weight.shape[0]) + self.out_hw, x.dtype)
        rows = self.out_hw[0] * self.out_hw[1]
        chunks = _chunks(n, rows, _chunk_size(rows * kh * kw * c * x.dtype.itemsize, n, weight.nbytes))

        def work(queue):  # padding a chunk just before its im2col finds it still in cache
            step = chunks[0].stop - chunks[0].start
            columns = POOL.take(xp, (step * rows, groups, kh * kw * c // groups), x.dtype)
            for chunk in queue:
                padded = pad_channels_last(x[chunk], padding, self.x_padded[chunk])
                out[chunk] = _apply_kernel(self.w, im2col(padded, self.kernel, stride, dilation, groups, columns),
                                           self.out_hw)
            POOL.give(columns)

        run_products_on_slices(work, chunks)
        return out if bias is None else _add_bias(out, bias)

    def backward(self, grad):
        xp = get_array_module(grad)
        n, out_c, oh, ow = grad.shape
        _, c, h, w = self.x_shape
        groups, (kh, kw) = self.groups, self.kernel
        full_padding = tuple(d * (k - 1) - p for d, k, p in zip(self.dilation, self.kernel, self.padding))
        grad_bias = grad.sum(axis=(0, 2, 3)) if self.has_bias else None
        need_x = self.needs_input_grad[0]
        if self.winograd:
            return winograd.backward(self.x_padded, grad, self.weight, self.padding, self.x_shape[2:],
                                     need_x) + (grad_bias,)
        if self.shifted:
            return shifted.backward(self.x_padded, grad, self.weight, self.padding, self.stride, self.x_shape[2:],
                                    need_x) + (grad_bias,)
        by_correlation = need_x and self.stride == (1, 1) and min(full_padding) >= 0
        per_image = max(oh * ow * c, h * w * out_c * by_correlation) * kh * kw * grad.dtype.itemsize
        chunks = _chunks(n, oh * ow, _chunk_size(per_image, n, self.weight.nbytes))
        if by_correlation:
            transposed = _grouped_kernel(_transposed_kernel(self.weight, groups), groups)  # (G, C/G, kh*kw*O/G)
        grad_x = POOL.empty(xp, self.x_shape, grad.dtype) if need_x else None
        step = chunks[0].stop - chunks[0].start if chunks else 0
        grad_w_parts = [None] * len(chunks) or [xp.zeros_like(self.w)]  # each chunk's share

        def work(queue):
            columns = POOL.take(xp, (step * oh * ow, groups, kh * kw * c // groups), grad.dtype)
            if by_correlation:
                grad_padded = POOL.take(xp, (step, oh + 2 * full_padding[0], ow + 2 * full_padding[1], out_c),
                                        grad.dtype)
                grad_columns = POOL.take(xp, (step * h * w, groups, kh * kw * out_c // groups), grad.dtype)
            for chunk in queue:
                m = chunk.stop - chunk.start
                cols = im2col(self.x_padded[chunk], self.kernel, self.stride, self.dilation, groups, columns)
                g = xp.ascontiguousarray(grad[chunk].transpose(1, 0, 2, 3)).reshape(groups, out_c // groups, -1)
                part = grad_w_parts[chunk.start // step] = POOL.take(xp, self.w.shape, xp.result_type(g, cols))
                _matmul_per_group(g, cols.transpose(1, 0, 2), out=part)
                if by_correlation:
                    g_padded = pad_channels_last(grad[chunk], full_padding, grad_padded)
                    g_cols = im2col(g_padded, self.kernel, (1, 1), self.dilation, groups, grad_columns)
                    grad_x[chunk] = _apply_kernel(transposed, g_cols, (h, w))
                elif need_x:
                    d_cols = _matmul_per_group(g.transpose(0, 2, 1), self.w).transpose(1, 0, 2)  # (m*OH*OW, G, K)
                    grad_x[chunk] = col2im(d_cols, (m, c, h, w), self.kernel, self.stride, self.padding,
                                           self.dilation)
            for scratch in (columns, grad_padded, grad_columns) if by_correlation else (columns,):
                POOL.give(scratch)

        run_products_on_slices(work, chunks)
        grad_w = sum_in_order(grad_w_parts).reshape(out_c, kh, kw, c // groups).transpose(0, 3, 1, 2)
        return grad_x, grad_w, grad_bias

    def release(self) -> None:
        """The padded input goes back to the pool, after backward or once this node is freed (under no_grad)."""
        if "x_padded" in self.__dict__:
            POOL.give(self.__dict__.pop("x_padded"))
        super().release()

    __del__ = release


def _add_bias(out, bias):
    """out += bias per channel (dim 1), in place."""
    out += bias.reshape(1, -1, 1, 1)
    return out


def _chunk_size(bytes_per_image: int, n: int, kernel_bytes: int) -> int:
    """How many images per chunk keep the columns near the chunk budget (at least 1, at most n if n > 0). The
    budget is at least twice the kernel's size: every chunk adds a kernel-sized weight gradient."""
    budget = max(COLUMN_CHUNK_BYTES, 2 * kernel_bytes)
    return max(1, min(n, budget // max(1, bytes_per_image)))


def _chunks(n: int, rows_per_image: int, step: int) -> list:
    """Slices of `step` images covering a batch of n, or smaller ones that share the work out over the threads
    (slices.shared_step)."""
    step = shared_step(n, step, rows_per_image)
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _transposed_kernel(weight, groups: int):
    """The (C, O/G, kh, kw) kernel whose correlation with the output gradient gives the input gradient:
    W'[g*C/G + c, o, i, j] = W[g*O/G + o, c, kh-1-i, kw-1-j] (flipped in space, channels swapped per group)."""
    out_c, c_per_group, kh, kw = weight.shape
    per_group = weight.reshape(groups, out_c // groups, c_per_group, kh, kw)[..., ::-1, ::-1]
    return per_group.swapaxes(1, 2).reshape(groups * c_per_group, out_c // groups, kh, kw)

# ----- optimisers ------------------------------------------------------------------------------------------
def _flat_views(*arrays):
    """1-D views of C-contiguous arrays (None if any is not contiguous: the reference then runs)."""
    if not all(a.flags.c_contiguous for a in arrays):
        return None
    return [a.reshape(-1) for a in arrays]


@replaces(Adam, "cpu")
class AdamCPU(Adam):
    """Adam's update in place, a cache-sized slice at a time on all cores, with one scratch slice: the same
    operations in the same order as the reference, without its five parameter-sized temporaries."""

    def update(self, param, grad, state, group) -> None:
        flat = _flat_views(param.data, grad)
        if group["amsgrad"] or flat is None:  # `self` is the user's optimiser, an Adam but not an AdamCPU
            return Adam.update(self, param, grad, state, group)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param.data), exp_avg_sq=np.zeros_like(param.data))
        state["step"] += 1
        p, g = flat
        m, v = state["exp_avg"].reshape(-1), state["exp_avg_sq"].reshape(-1)
        sqrt_correction2 = math.sqrt(1 - beta2 ** state["step"])
        step_size = lr / (1 - beta1 ** state["step"])
        decoupled = self.decoupled_weight_decay

        def work(group_slices):
            size = group_slices[0].stop - group_slices[0].start
            scratch, decayed = np.empty(size, dtype=p.dtype), np.empty(size, dtype=p.dtype) if wd else None
            for s in group_slices:
                t, gs = scratch[: s.stop - s.start], g[s]
                if wd and decoupled:
                    p[s] *= 1 - lr * wd
                elif wd:  # L2: the gradient plus wd p
                    gs = np.multiply(p[s], wd, out=decayed[: s.stop - s.start])
                    gs += g[s]
                m[s] *= beta1
                np.multiply(gs, 1 - beta1, out=t)
                m[s] += t
                v[s] *= beta2
                np.multiply(gs, 1 - beta2, out=t)
                t *= gs
                v[s] += t
                np.sqrt(v[s], out=t)
                t /= sqrt_correction2
                t += eps
                np.divide(m[s], t, out=t)
                t *= step_size
                p[s] -= t

        run_on_slices(work, batch_slices(p))


@replaces(AdamW, "cpu")
class AdamWCPU(AdamW, AdamCPU):
    """AdamW with AdamCPU's update (which reads the decoupled weight decay from the optimiser)."""


@replaces(SGD, "cpu")
class SGDCPU(SGD):
    """SGD's update in place, a cache-sized slice at a time on all cores, without parameter-sized temporaries."""

    def update(self, param, grad, state, group) -> None:
        flat = _flat_views(param.data, grad)
        momentum, dampening, wd, lr = group["momentum"], group["dampening"], group["weight_decay"], group["lr"]
        if group["nesterov"] or flat is None:  # `self` is the user's optimiser, an SGD but not an SGDCPU
            return SGD.update(self, param, grad, state, group)
        p, g = flat
        first = momentum and "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = np.empty_like(param.data)
        buf = state["momentum_buffer"].reshape(-1) if momentum else None

        def work(group_slices):
            scratch = np.empty(group_slices[0].stop - group_slices[0].start, dtype=p.dtype)
            for s in group_slices:
                t = scratch[: s.stop - s.start]
                if wd:  # the gradient with weight decay
                    np.multiply(p[s], wd, out=t)
                    t += g[s]
                else:
                    t[...] = g[s]
                if momentum:
                    if first:
                        buf[s] = t
                    else:
                        buf[s] *= momentum
                        if dampening:
                            t *= 1 - dampening
                        buf[s] += t
                    np.multiply(buf[s], lr, out=t)
                else:
                    t *= lr
                p[s] -= t

        run_on_slices(work, batch_slices(p))
