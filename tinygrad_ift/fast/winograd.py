"""Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2016): a 3x3, stride-1 convolution with 16
multiplications per 2x2 block of outputs instead of 36.

The output is cut into 2x2 tiles; tile t of image n reads the 4x4 window d of the padded input at (2ty, 2tx).
With the three small matrices below, for each input channel c and output channel o,
    y_tile = A^T [ sum_c (G w[o, c] G^T) * (B^T d_c B) ] A        (* elementwise on 4x4),
so each of the 16 positions (i, j) of the 4x4 is one matrix product over the channels: M[ij] = V[ij] @ U[ij]^T,
with V[ij] (tiles, C) the transformed input and U[ij] (O, C) the transformed kernel. The transforms are
additions and subtractions (B and A hold 0 and +-1), so the products, 2.25 times fewer multiplications
than im2col's, are most of the work. Backward: the input gradient is the same convolution of the padded
output gradient with the flipped kernel (channels swapped); the kernel gradient is the transpose of the
forward, dU[ij] = (A dY A^T)[ij]^T @ V[ij], then dW = G^T dU G.

Every pass runs a chunk of images at a time (about CHUNK_BYTES of transformed tiles), so that the copy into a
padded channels-last image, the transforms and the products find their inputs still in the cache; the chunks
are shared out over the threads (slices.py), each product then on one BLAS thread.
"""
from __future__ import annotations

import numpy as np

from ..nn.im2col import pad_channels_last
from .buffer_pool import POOL
from .slices import run_products_on_slices, shared_step

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])  # input transform
# kernel transform G = G_SCALES[:, None] * G_SIGNS, i.e. [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]]
G_SIGNS, G_SCALES = np.array([[1, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 1]]), np.array([1, 0.5, 0.5, 1])
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])  # output transform
FLIPPED = [3, 1, 2, 0]  # G times a reversed kernel row is G's rows in this order: G[:, ::-1] = G[FLIPPED]
MIN_CHANNELS = 16  # with fewer input channels the products are too thin to repay the transforms
CHUNK_BYTES = 4 * 2 ** 20  # transformed tiles per chunk of images, kept in the CPU cache between the passes
MIN_SHARED_TILES = 64  # a chunk handed to a thread of ours has at least this many tiles (rows of its products)


def applies(kernel: tuple, stride: tuple, dilation: tuple, groups: int, channels: int, padding: tuple) -> bool:
    """Whether a convolution runs by F(2x2, 3x3) here: 3x3, stride 1, no dilation or groups, padding <= 2 (the
    input gradient is then a convolution with padding 2 - p), and enough channels."""
    return (kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1
            and channels >= MIN_CHANNELS and max(padding) <= 2)


def tiles(out_hw: tuple) -> tuple:
    """How many 2x2 tiles cover an (OH, OW) output: ceil(OH / 2), ceil(OW / 2)."""
    return (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2


def kernel_transform(weight):
    """U = G w G^T for every (o, c), as (16, O, C): row o of U[4a + b] holds position (a, b) of each
    (o, c) kernel. G is G_SIGNS with its rows scaled, so this is additions, then one product by the scales."""
    per_position = np.ascontiguousarray(weight.transpose(2, 3, 0, 1))  # (3 i, 3 j, O, C)
    by_rows = np.empty((4,) + per_position.shape[1:], dtype=weight.dtype)
    combine(G_SIGNS, per_position, by_rows)
    u = np.empty((4, 4) + weight.shape[:2], dtype=weight.dtype)
    for a in range(4):
        combine(G_SIGNS, by_rows[a], u[a])
    u *= np.outer(G_SCALES, G_SCALES).astype(weight.dtype)[:, :, None, None]
    return u.reshape(16, *weight.shape[:2])


def flipped_kernel_transform(u):
    """The transform (16, C, O) of the flipped kernel with swapped channels, W'[c, o] = W[o, c, ::-1, ::-1],
    from U (16, O, C): U'[4a + b] = U[4 FLIPPED[a] + FLIPPED[b]]^T, as a view of a reordered copy."""
    order = [4 * FLIPPED[a] + FLIPPED[b] for a in range(4) for b in range(4)]
    return u[order].transpose(0, 2, 1)


def kernel_gradient(grad_u):
    """The kernel gradient G^T dU G, (O, C, 3, 3), from dU (16, O, C)."""
    scaled = grad_u.reshape(4, 4, *grad_u.shape[1:]) * np.outer(G_SCALES, G_SCALES).astype(grad_u.dtype)[
        :, :, None, None]
    by_rows = np.empty((3,) + scaled.shape[1:], dtype=grad_u.dtype)
    combine(G_SIGNS.T, scaled, by_rows)
    grad_w = np.empty((3, 3) + grad_u.shape[1:], dtype=grad_u.dtype)
    for i in range(3):
        combine(G_SIGNS.T, by_rows[i], grad_w[i])
    return np.ascontiguousarray(grad_w.transpose(2, 3, 0, 1))


def padded_shape(x_shape: tuple, out_hw: tuple) -> tuple:
    """The channels-last buffer (N, 2th + 2, 2tw + 2, C) that holds every tile's 4x4 window of x (N, C, H, W)."""
    th, tw = tiles(out_hw)
    return x_shape[0], 2 * th + 2, 2 * tw + 2, x_shape[1]


def convolve(x, u, padding: tuple, out_hw: tuple, padded=None):
    """The (N, O, OH, OW) convolution of x (N, C, H, W), zero-padded by `padding`, with the transformed kernel
    u (16, O, C), a chunk of images at a time. `padded`: a buffer of padded_shape to keep the padded input in
    (for the kernel gradient), or None."""
    n, tile_hw = x.shape[0], tiles(out_hw)
    chunks = _chunks(n, tile_hw, 16 * max(u.shape[1:]) * x.dtype.itemsize)
    out = POOL.empty(np, (n, u.shape[1]) + tuple(out_hw), x.dtype)

    def work(group):
        step, per_image = group[0].stop - group[0].start, tile_hw[0] * tile_hw[1]
        scratch = POOL.take(np, (step,) + padded_shape(x.shape, out_hw)[1:], x.dtype) if padded is None else None
        transformed = POOL.take(np, (16, step * per_image, x.shape[1]), x.dtype)
        products = POOL.take(np, (16, step * per_image, u.shape[1]), x.dtype)
        for chunk in group:
            m = chunk.stop - chunk.start
            images = pad_channels_last(x[chunk], padding, scratch[:m] if padded is None else padded[chunk])
            v = input_transform(images, tile_hw, transformed[:, :m * per_image])
            output_transform(np.matmul(v, u.transpose(0, 2, 1), out=products[:, :m * per_image]), tile_hw,
                             out[chunk])
        for buffer in (transformed, products) if padded is not None else (transformed, products, scratch):
            POOL.give(buffer)

    run_products_on_slices(work, chunks)
    return out


def kernel_grad(padded, grad):
    """The kernel gradient (O, C, 3, 3) from the padded input (see convolve) and the output gradient
    (N, O, OH, OW): dU = sum over tiles of (A dY A^T)^T V, a chunk of images at a time, then G^T dU G."""
    n, o, oh, ow = grad.shape
    tile_hw, c = tiles((oh, ow)), padded.shape[3]
    chunks = _chunks(n, tile_hw, 16 * max(o, c) * grad.dtype.itemsize)

    def work(group):
        step, per_image = group[0].stop - group[0].start, tile_hw[0] * tile_hw[1]
        transformed = POOL.take(np, (16, step * per_image, c), grad.dtype)
        grad_products = POOL.take(np, (16, step * per_image, o), grad.dtype)
        grad_u, term = np.zeros((16, o, c), dtype=grad.dtype), np.empty((16, o, c), dtype=grad.dtype)
        for chunk in group:
            count = (chunk.stop - chunk.start) * per_image
            v = input_transform(padded[chunk], tile_hw, transformed[:, :count])
            dm = output_grad_transform(grad[chunk], tile_hw, grad_products[:, :count])
            grad_u += np.matmul(dm.transpose(0, 2, 1), v, out=term)
        POOL.give(transformed)
        POOL.give(grad_products)
        return grad_u

    return kernel_gradient(sum(run_products_on_slices(work, chunks), np.zeros((16, o, c), dtype=grad.dtype)))


def input_transform(padded, tile_hw: tuple, out):
    """V = B^T d B for every tile's 4x4 window d of padded images (m, 2th + 2, 2tw + 2, C), into
    out (16, m*th*tw, C): first along the windows' rows, then along their columns."""
    m, c = padded.shape[0], padded.shape[3]
    th, tw = tile_hw
    rows = [padded[:, i:i + 2 * th:2] for i in range(4)]  # (m, th, Wp, C): row i of every tile's window
    by_rows = np.empty((4, m, th, padded.shape[2], c), dtype=padded.dtype)
    combine(B_T, rows, by_rows)
    per_position = out.reshape(4, 4, m, th, tw, c)
    for i, row in enumerate(by_rows):
        combine(B_T, [row[:, :, j:j + 2 * tw:2] for j in range(4)], per_position[i])
    return out


def output_transform(products, tile_hw: tuple, out) -> None:
    """y = A^T M A for every tile, from the products M (16, m*th*tw, O), into out (m, O, OH, OW)."""
    th, tw = tile_hw
    m, o, oh, ow = out.shape
    per_position = products.reshape(4, 4, m, th, tw, o)
    by_rows = np.empty((2, 4, m, th, tw, o), dtype=products.dtype)
    combine(A_T, per_position, by_rows)
    tile_out = np.empty((2, 2, m, th, tw, o), dtype=products.dtype)
    for a in range(2):
        combine(A_T, by_rows[a], tile_out[a])
    by_pixel = tile_out.transpose(2, 5, 3, 0, 4, 1)  # (m, o, ty, a, tx, b): pixel (2ty + a, 2tx + b)
    if (oh, ow) == (2 * th, 2 * tw):
        out.reshape(by_pixel.shape)[...] = by_pixel
    else:
        out[...] = by_pixel.reshape(m, o, 2 * th, 2 * tw)[:, :, :oh, :ow]


def output_grad_transform(grad, tile_hw: tuple, out):
    """A dY A^T for every 2x2 tile of the output gradient (m, O, OH, OW), into out (16, m*th*tw, O); the rows
    and columns beyond an odd OH or OW count as zeros."""
    m, o, oh, ow = grad.shape
    th, tw = tile_hw
    channels_last = np.zeros((m, 2 * th, 2 * tw, o), dtype=grad.dtype) if (oh, ow) != (2 * th, 2 * tw) else \
        np.empty((m, 2 * th, 2 * tw, o), dtype=grad.dtype)
    channels_last[:, :oh, :ow] = grad.transpose(0, 2, 3, 1)
    a = A_T.T
    by_rows = np.empty((4, m, th, 2 * tw, o), dtype=grad.dtype)
    combine(a, [channels_last[:, i::2] for i in range(2)], by_rows)
    per_position = out.reshape(4, 4, m, th, tw, o)
    for i, row in enumerate(by_rows):
        combine(a, [row[:, :, j::2] for j in range(2)], per_position[i])
    return out


def combine(matrix, inputs, outs) -> None:
    """outs[i] = sum_j matrix[i, j] inputs[j], for a matrix of 0 and +-1 entries: one NumPy pass per term."""
    for row, out in zip(matrix, outs):
        terms = [(sign, x) for sign, x in zip(row, inputs) if sign]
        (sign, first), rest = terms[0], terms[1:]
        if not rest:
            np.multiply(first, sign, out=out)
            continue
        (second_sign, second), rest = rest[0], rest[1:]
        if sign > 0:
            (np.add if second_sign > 0 else np.subtract)(first, second, out=out)
        else:
            (np.subtract if second_sign > 0 else np.add)(second, first, out=out)
            if second_sign < 0:
                np.negative(out, out=out)
        for term_sign, x in rest:
            (np.add if term_sign > 0 else np.subtract)(out, x, out=out)


def _chunks(n: int, tile_hw: tuple, bytes_per_tile: int) -> list:
    """Slices of the batch, each about CHUNK_BYTES of transformed tiles (at least one image), or smaller ones
    that share the work out over the threads (slices.shared_step)."""
    per_image = tile_hw[0] * tile_hw[1]
    step = shared_step(n, max(1, min(n, CHUNK_BYTES // (per_image * bytes_per_tile))), per_image, MIN_SHARED_TILES)
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]
