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

import math
from typing import Iterator

import numpy as np

from . import blas_threads
from .buffer_pool import POOL
from .layout import pad_channels_last
from .slices import get_num_threads, run_products_on_slices, shared_matmul, shared_step, thread_groups

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])  # input transform
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])  # kernel transform
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])  # output transform
KERNEL_TRANSFORM = np.kron(G, G)  # (16, 9): row 4a + b maps a 3x3 kernel w to (G w G^T)[a, b]
FLIPPED = [3, 1, 2, 0]  # G times a reversed kernel row is G's rows in this order: G[:, ::-1] = G[FLIPPED]
MIN_CHANNELS = 128  # with fewer input channels the products are too thin to repay the transforms (shifted.py)
CHUNK_BYTES = 2 * 2 ** 20  # transformed tiles per chunk of images, kept in the CPU cache between the passes
POSITIONS = [slice(k, k + 1) for k in range(4)]  # of a row of the 4x4


def applies(kernel: tuple, stride: tuple, dilation: tuple, groups: int, channels: int, padding: tuple) -> bool:
    """Whether a convolution runs by F(2x2, 3x3) here: 3x3, stride 1, no dilation or groups, padding <= 2 (the
    input gradient is then a convolution with padding 2 - p), and enough channels."""
    return (kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1
            and channels >= MIN_CHANNELS and max(padding) <= 2)


def tiles(out_hw: tuple) -> tuple:
    """How many 2x2 tiles cover an (OH, OW) output: ceil(OH / 2), ceil(OW / 2)."""
    return (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2


def kernel_transform(weight):
    """U = G w G^T for every (o, c), as (16, O, C): U[4a + b] holds position (a, b) of each (o, c) kernel.
    One matrix product, KERNEL_TRANSFORM (16, 9) times the kernels as columns (9, O*C)."""
    o, c = weight.shape[:2]
    u = POOL.take(np, (16, o, c), weight.dtype)
    shared_matmul(KERNEL_TRANSFORM.astype(weight.dtype), weight.reshape(o * c, 9).T, out=u.reshape(16, o * c))
    return u


def flipped_kernels(u) -> list:
    """The transform of the flipped kernel with swapped channels, W'[c, o] = W[o, c, ::-1, ::-1], as 16 (C, O)
    views of U (16, O, C): U'[4a + b] = U[4 FLIPPED[a] + FLIPPED[b]]^T."""
    return [u[4 * FLIPPED[a] + FLIPPED[b]].T for a in range(4) for b in range(4)]


def kernel_gradient(grad_u):
    """The kernel gradient G^T dU G, (O, C, 3, 3), from dU (16, O, C): the transpose of kernel_transform."""
    o, c = grad_u.shape[1:]
    grad_w = POOL.empty(np, (o, c, 3, 3), grad_u.dtype)
    shared_matmul(grad_u.reshape(16, o * c).T, KERNEL_TRANSFORM.astype(grad_u.dtype), out=grad_w.reshape(o * c, 9))
    return grad_w


def padded_shape(x_shape: tuple, out_hw: tuple) -> tuple:
    """The channels-last buffer (N, 2th + 2, 2tw + 2, C) that holds every tile's 4x4 window of x (N, C, H, W)."""
    th, tw = tiles(out_hw)
    return x_shape[0], 2 * th + 2, 2 * tw + 2, x_shape[1]


def convolve(x, kernels, padding: tuple, out_hw: tuple, padded=None):
    """The (N, O, OH, OW) convolution of x (N, C, H, W), zero-padded by `padding`, with the transformed kernel:
    16 (O, C) matrices `kernels` (U's, or views of them), a chunk of images at a time. `padded`: a buffer of
    padded_shape to keep the padded input in (for the kernel gradient), or None."""
    n, tile_hw, out_c = x.shape[0], tiles(out_hw), kernels[0].shape[0]
    chunks = _chunks(n, tile_hw, 16 * max(out_c, x.shape[1]) * x.dtype.itemsize)
    out = POOL.empty(np, (n, out_c) + tuple(out_hw), x.dtype)

    def work(queue, by_position):
        step, per_image = chunks[0].stop - chunks[0].start, tile_hw[0] * tile_hw[1]
        scratch = POOL.take(np, (step,) + padded_shape(x.shape, out_hw)[1:], x.dtype) if padded is None else None
        transformed = POOL.take(np, (4, step * per_image, x.shape[1]), x.dtype)  # one row of positions
        products = POOL.take(np, (16, step * per_image, out_c), x.dtype)
        for chunk in queue:
            m = chunk.stop - chunk.start
            images = pad_channels_last(x[chunk], padding, scratch[:m] if padded is None else padded[chunk])
            v, out_tiles = transformed[:, :m * per_image], products[:, :m * per_image]
            for i in input_transform(images, tile_hw, v):
                for_positions(lambda k: np.matmul(v[k], kernels[4 * i + k].T, out=out_tiles[4 * i + k]), by_position)
            output_transform(out_tiles, tile_hw, out[chunk])
        for buffer in (transformed, products) if padded is not None else (transformed, products, scratch):
            POOL.give(buffer)

    _run_chunks(work, chunks)
    return out


def backward(x_padded, grad, u, padding: tuple, x_hw: tuple, input_grad: bool = True) -> tuple:
    """(grad_x, grad_w) of the convolution of x, padded by `padding` into x_padded (see convolve), with the kernel
    transformed into u (16, O, C), given the output gradient (N, O, OH, OW); one pass over chunks of images.
    Without input_grad, grad_x is None and not computed.

    grad_x is the convolution of the gradient, padded by 2 - p, with the flipped kernel of swapped channels;
    grad_w = G^T dU G, with dU = sum over tiles of (A dY A^T)^T V and V the forward's input tiles. Both read
    the chunk's gradient from one channels-last padded copy."""
    n, o, oh, ow = grad.shape
    c = x_padded.shape[3]
    grad_padding = tuple(2 - p for p in padding)
    tile_hw, x_tile_hw = tiles((oh, ow)), tiles(x_hw)
    flipped = flipped_kernels(u)
    chunks = _chunks(n, max(tile_hw, x_tile_hw, key=math.prod), 16 * max(o, c) * grad.dtype.itemsize)
    grad_x = POOL.empty(np, (n, c) + tuple(x_hw), grad.dtype) if input_grad else None

    step = chunks[0].stop - chunks[0].start if chunks else 0
    grad_u_parts = [None] * len(chunks)  # each chunk's share of dU, summed in chunk order below

    def work(queue, by_position):
        per_image, x_per_image = tile_hw[0] * tile_hw[1], x_tile_hw[0] * x_tile_hw[1]
        grad_images = POOL.take(np, (step,) + padded_shape(grad.shape, x_hw)[1:], grad.dtype)
        transformed = POOL.take(np, (4, step * per_image, c), grad.dtype)  # one row of positions at a time
        grad_products = POOL.take(np, (16, step * per_image, o), grad.dtype)
        products = POOL.take(np, (16, step * x_per_image, c), grad.dtype)
        grad_transformed = grad_products if x_per_image <= per_image else POOL.take(np, (4, step * x_per_image, o),
                                                                                    grad.dtype)
        for chunk in queue:
            m = chunk.stop - chunk.start
            count, x_count = m * per_image, m * x_per_image
            g = pad_channels_last(grad[chunk], grad_padding, grad_images[:m])
            (top, left), (th, tw) = grad_padding, tile_hw  # the gradient inside g, zeros beyond an odd OH or OW
            dm = output_grad_transform(g[:, top:top + 2 * th, left:left + 2 * tw], grad_products[:, :count])
            part = grad_u_parts[chunk.start // step] = POOL.take(np, (16, o, c), grad.dtype)
            v = transformed[:, :count]
            for i in input_transform(x_padded[chunk], tile_hw, v):
                for_positions(lambda k: np.matmul(dm[4 * i + k].T, v[k], out=part[4 * i + k]), by_position)
            if not input_grad:
                continue
            v_grad, x_tiles = grad_transformed[:4, :x_count], products[:, :x_count]  # dm is used up
            for i in input_transform(g, x_tile_hw, v_grad):
                for_positions(lambda k: np.matmul(v_grad[k], flipped[4 * i + k].T, out=x_tiles[4 * i + k]),
                              by_position)
            output_transform(x_tiles, x_tile_hw, grad_x[chunk])
        for buffer in {id(b): b for b in (transformed, grad_products, grad_transformed, products)}.values():
            POOL.give(buffer)
        POOL.give(grad_images)

    if n == 0:
        return grad_x, np.zeros((o, c, 3, 3), dtype=grad.dtype)
    _run_chunks(work, chunks)
    grad_u, *others = grad_u_parts
    for other in others:  # in chunk order: the same sum on every run
        grad_u += other
        POOL.give(other)
    grad_w = kernel_gradient(grad_u)
    POOL.give(grad_u)
    return grad_x, grad_w


def _run_chunks(work, chunks: list) -> None:
    """work(queue, by_position) over the chunks of a pass, every matrix product on one BLAS thread: chunks drawn
    by our threads (by_position False), or, too few to share (one chunk of small images with many channels),
    all taken here, with each pass of products split by position over our threads (by_position True).
    Products on several BLAS threads would leave those threads spinning, after the pass, for cores that our
    threads need (see blas_threads)."""
    if chunks and thread_groups(chunks) == 1 and get_num_threads() > 1 and blas_threads.available():
        work(iter(chunks), True)
    else:
        run_products_on_slices(lambda queue: work(queue, False), chunks)


def for_positions(product, by_position: bool) -> None:
    """product(k) for the 4 positions k of a row: here, or by_position drawn by our threads."""
    if by_position:
        run_products_on_slices(lambda queue: [product(k) for part in queue for k in range(part.start, part.stop)],
                               POSITIONS, per_thread=1)
    else:
        for k in range(4):
            product(k)


def input_transform(padded, tile_hw: tuple, out) -> Iterator[int]:
    """V = B^T d B for every tile's 4x4 window d of padded images (m, 2th + 2, 2tw + 2, C), one row i of the 4x4
    positions at a time: for i = 0..3, writes positions 4i..4i + 3 into out (4, m*th*tw, C), then yields i (the
    caller uses them while they are in the cache). Each row is transformed along the windows' rows first, then
    along their columns."""
    m, c = padded.shape[0], padded.shape[3]
    th, tw = tile_hw
    rows = [padded[:, i:i + 2 * th:2] for i in range(4)]  # (m, th, Wp, C): row i of every tile's window
    row = np.empty((m, th, padded.shape[2], c), dtype=padded.dtype)
    per_position = out.reshape(4, m, th, tw, c)
    for i in range(4):
        combine(B_T[i:i + 1], rows, [row])
        combine(B_T, [row[:, :, j:j + 2 * tw:2] for j in range(4)], per_position)
        yield i


def output_transform(products, tile_hw: tuple, out) -> None:
    """y = A^T M A for every tile, from the products M (16, m*th*tw, O), into out (m, O, OH, OW): first
    channels-last, where a tile's pixels are runs of O numbers, then one transposing copy."""
    th, tw = tile_hw
    m, o, oh, ow = out.shape
    per_position = products.reshape(4, 4, m, th, tw, o)
    row = np.empty((4, m, th, tw, o), dtype=products.dtype)
    tile_out = np.empty((2, 2, m, th, tw, o), dtype=products.dtype)  # pixel (2ty + a, 2tx + b) of each tile
    for a in range(2):
        combine(A_T[a:a + 1], per_position, [row])
        combine(A_T, row, tile_out[a])
    channels_last = tile_out.transpose(2, 3, 0, 4, 1, 5).reshape(m, 2 * th, 2 * tw, o)  # a copy
    out[...] = channels_last[:, :oh, :ow].transpose(0, 3, 1, 2)


def output_grad_transform(grad, out):
    """A dY A^T for every 2x2 tile of the channels-last output gradient (m, 2th, 2tw, O) (zeros beyond an odd
    OH or OW), into out (16, m*th*tw, O)."""
    m, rows, columns, o = grad.shape
    th, tw = rows // 2, columns // 2
    a = A_T.T
    row = np.empty((m, th, columns, o), dtype=grad.dtype)
    per_position = out.reshape(4, 4, m, th, tw, o)
    for i in range(4):
        combine(a[i:i + 1], [grad[:, 0::2], grad[:, 1::2]], [row])
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
    step = shared_step(n, max(1, min(n, CHUNK_BYTES // (per_image * bytes_per_tile))), per_image)
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]
