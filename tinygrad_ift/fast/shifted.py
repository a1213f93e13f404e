"""A stride-1 "same" convolution as one matrix product per kernel tap over the padded input: no im2col copy and
no Winograd transforms.

Lay a chunk of zero-padded images channels-last and flat, P (m*Hp*Wp, C): pixel (n, r, s) is row
q = (n*Hp + r)*Wp + s. Output pixel (n, y, x) is given the same row number q, and for kernel tap (i, j) it reads
input row q + i*Wp + j, so for all q at once
    Y = sum over taps (i, j) of P[i*Wp + j:][:rows] @ W[:, :, i, j]^T,
each term one product of a shifted view of P (no copy). Rows whose pixel lies in the padding (x >= OW or
y >= OH) get values that nobody reads. With the output as large as the input (padding (k - 1) / 2), the
backward is the same in reverse on the output gradient padded like the input, G: the input gradient is the
products of shifted G with the flipped kernel (channels swapped), and the kernel gradient of tap (i, j) is
G^T @ P[i*Wp + j:][:rows], with G read on the output's rows (zero where they fall in the padding).

Against Winograd F(2x2, 3x3) this makes 2.25 times more multiplications, but besides the products it makes
few passes over memory: where two threads share a 64-channel 32x32 layer, Winograd's transforms wait on
memory and these products do not (see the README's benchmarks).
"""
from __future__ import annotations

import numpy as np

from .buffer_pool import POOL
from .layout import pad_channels_last
from .slices import run_products_on_slices, shared_step, sum_in_order

CHUNK_BYTES = 2 * 2 ** 20  # padded input, output and one product's scratch per chunk of images
MIN_CHANNELS = 16  # with fewer channels the products are too thin to run near the CPU's speed


def applies(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, groups: int, channels: int) -> bool:
    """No groups, enough channels, and either stride 1, no dilation and padding (k - 1) / 2 (output as large as
    the input), or a 1x1 kernel without padding (any stride: the input is subsampled first)."""
    same_size = stride == (1, 1) and dilation == (1, 1) and all(2 * p == k - 1 for p, k in zip(padding, kernel))
    pointwise = kernel == (1, 1) and padding == (0, 0)
    return groups == 1 and channels >= MIN_CHANNELS and (same_size or pointwise)


def padded_shape(x_shape: tuple, out_hw: tuple, kernel: tuple) -> tuple:
    """The channels-last buffer (N, OH + kh - 1, OW + kw - 1, C) of the padded input (of the subsampled input for
    a strided 1x1 kernel) that convolve fills and backward reads."""
    return x_shape[0], out_hw[0] + kernel[0] - 1, out_hw[1] + kernel[1] - 1, x_shape[1]


def convolve(x, weight, padding: tuple, stride: tuple, padded):
    """The (N, O, OH, OW) convolution of x (N, C, H, W) with weight (O, C, kh, kw); x (subsampled by a 1x1
    kernel's stride) is padded into `padded` ((N, Hp, Wp, C), kept for the backward)."""
    x = x[:, :, ::stride[0], ::stride[1]]
    n, c, h, w = x.shape
    taps = np.ascontiguousarray(weight.transpose(2, 3, 1, 0))  # (kh, kw, C, O): tap (i, j) holds W_ij^T
    out = POOL.empty(np, (n, weight.shape[0], h, w), x.dtype)
    chunks, hp, wp = _chunks(padded.shape, max(c, weight.shape[0]), x.dtype), *padded.shape[1:3]

    def work(queue):
        step = chunks[0].stop - chunks[0].start
        total, scratch = (POOL.take(np, (step * hp * wp, weight.shape[0]), x.dtype) for _ in range(2))
        for chunk in queue:
            images = pad_channels_last(x[chunk], padding, padded[chunk])
            rows = _rows(images.shape, (h, w))
            _tap_products(images.reshape(-1, c), taps, wp, rows, total, scratch)
            _from_rows(total, images.shape, out[chunk])
        POOL.give(total)
        POOL.give(scratch)

    run_products_on_slices(work, chunks)
    return out


def backward(x_padded, grad, weight, padding: tuple, stride: tuple, x_hw: tuple, input_grad: bool = True) -> tuple:
    """(grad_x, grad_w) of the convolution of x (N, C, *x_hw), padded into x_padded (N, Hp, Wp, C), given the
    output gradient (N, O, OH, OW). Without input_grad, grad_x is None and not computed."""
    (n, o, h, w), c, (kh, kw) = grad.shape, x_padded.shape[3], weight.shape[2:]
    flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(2, 3, 0, 1))  # (kh, kw, O, C)
    grad_x = POOL.empty(np, (n, c) + tuple(x_hw), grad.dtype) if input_grad else None
    if input_grad and stride != (1, 1):  # a 1x1 kernel's input was subsampled: the skipped pixels get zeros
        grad_x.fill(0)
    picked = grad_x[:, :, ::stride[0], ::stride[1]] if input_grad else None
    chunks, hp, wp = _chunks(x_padded.shape, max(c, o), grad.dtype), *x_padded.shape[1:3]
    first = padding[0] * wp + padding[1]  # G's row of output pixel (0, 0)
    if not chunks:  # an empty batch
        return grad_x, np.zeros(weight.shape, grad.dtype)
    parts = [None] * len(chunks)  # each chunk's kernel gradient, (kh, kw, O, C)

    def work(queue):
        step = chunks[0].stop - chunks[0].start
        grad_images = POOL.take(np, (step, hp, wp, o), grad.dtype)
        total, scratch = (POOL.take(np, (step * hp * wp, c), grad.dtype) for _ in range(2))
        for chunk in queue:
            m = chunk.stop - chunk.start
            g = pad_channels_last(grad[chunk], padding, grad_images[:m]).reshape(-1, o)
            x_rows, rows = x_padded[chunk].reshape(-1, c), _rows((m, hp, wp), (h, w))
            part = parts[chunk.start // step] = POOL.take(np, (kh, kw, o, c), grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    np.matmul(g[first:first + rows].T, x_rows[i * wp + j:][:rows], out=part[i, j])
            if input_grad:
                _tap_products(g, flipped, wp, rows, total, scratch)
                _from_rows(total, (m, hp, wp), picked[chunk])
        for buffer in (grad_images, total, scratch):
            POOL.give(buffer)

    run_products_on_slices(work, chunks)
    grad_taps = sum_in_order(parts)
    grad_w = np.ascontiguousarray(grad_taps.transpose(2, 3, 0, 1))
    POOL.give(grad_taps)
    return grad_x, grad_w


def _tap_products(rows_in, taps, wp: int, rows: int, total, scratch) -> None:
    """total[:rows] = the sum over taps (i, j) of rows_in[i*wp + j:][:rows] @ taps[i, j], for rows_in a chunk of
    padded images (m, Hp, Wp, K) laid as rows (m*Hp*Wp, K) and taps (kh, kw, K, M)."""
    for i in range(taps.shape[0]):
        for j in range(taps.shape[1]):
            shifted = rows_in[i * wp + j:][:rows]
            if i == j == 0:
                np.matmul(shifted, taps[i, j], out=total[:rows])
            else:
                np.matmul(shifted, taps[i, j], out=scratch[:rows])
                total[:rows] += scratch[:rows]


def _rows(images_shape: tuple, out_hw: tuple) -> int:
    """How many rows of a chunk of padded images (m, Hp, Wp, ...) laid as rows reach its last output pixel."""
    m, hp, wp = images_shape[:3]
    return (m - 1) * hp * wp + (out_hw[0] - 1) * wp + out_hw[1]


def _from_rows(total, images_shape: tuple, out) -> None:
    """out (m, M, H, W) = the output pixels' rows of total, (m*Hp*Wp, M) laid like the padded images."""
    m, hp, wp = images_shape[:3]
    out[...] = total[:m * hp * wp].reshape(m, hp, wp, -1)[:, :out.shape[2], :out.shape[3]].transpose(0, 3, 1, 2)


def _chunks(images_shape: tuple, channels: int, dtype) -> list:
    """Slices of the batch of about CHUNK_BYTES of padded images, output and scratch each, or smaller ones that
    share the work out over the threads (slices.shared_step)."""
    n, hp, wp = images_shape[:3]
    per_image = 3 * hp * wp * channels * np.dtype(dtype).itemsize
    step = shared_step(n, max(1, min(n, CHUNK_BYTES // per_image)), hp * wp)
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]
