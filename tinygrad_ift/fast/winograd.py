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
padded channels-last image, the transforms and the products find their inputs still in the cache, each row
of four transformed positions multiplied right after its transform; the chunks are drawn by our threads
(slices.py), each product then on one BLAS thread. Where the batch is too small to share out that way
(small images with many channels: ResNet's 512x4x4 layers, whose kernel is larger than their activations),
the whole batch is one chunk and the threads share the channels instead: each makes the transformed kernel
of a block of channels and uses it at once, so that U (16/9 of the kernel's size) never goes through memory.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from . import blas_threads
from .buffer_pool import POOL
from .layout import pad_channels_last
from .slices import get_num_threads, run_products_on_slices, shared_matmul, shared_step, sum_in_order, thread_groups

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])  # input transform
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])  # kernel transform
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])  # output transform
KERNEL_TRANSFORM = np.kron(G, G)  # (16, 9): row 4a + b maps a 3x3 kernel w to (G w G^T)[a, b]
FLIPPED = [3, 1, 2, 0]  # G times a reversed kernel row is G's rows in this order: G[:, ::-1] = G[FLIPPED]
MIN_CHANNELS = 128  # with fewer input channels the products are too thin to repay the transforms (shifted.py)
CHUNK_BYTES = 2 * 2 ** 20  # transformed tiles per chunk of images, kept in the CPU cache between the passes
BLOCK_CHANNELS = 64  # by blocks: channels whose transformed kernel a thread makes and uses at once


def applies(kernel: tuple, stride: tuple, dilation: tuple, groups: int, channels: int, padding: tuple) -> bool:
    """Whether a convolution runs by F(2x2, 3x3) here: 3x3, stride 1, no dilation or groups, padding <= 2 (the
    input gradient is then a convolution with padding 2 - p), and enough channels."""
    return (kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1
            and channels >= MIN_CHANNELS and max(padding) <= 2)


def tiles(out_hw: tuple) -> tuple:
    """How many 2x2 tiles cover an (OH, OW) output: ceil(OH / 2), ceil(OW / 2)."""
    return (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2


def kernel_transform(weight, shared: bool = True):
    """U = G w G^T for every (o, c), as (16, O, C): U[4a + b] holds position (a, b) of each (o, c) kernel.
    One matrix product, KERNEL_TRANSFORM (16, 9) times the kernels as columns (9, O*C), shared out over our
    threads unless `shared` is False (a thread of ours making it for a block of channels)."""
    o, c = weight.shape[:2]
    u = POOL.take(np, (16, o, c), weight.dtype)
    product = shared_matmul if shared else np.matmul
    product(KERNEL_TRANSFORM.astype(weight.dtype), weight.reshape(o * c, 9).T, out=u.reshape(16, o * c))
    return u


def flipped_kernels(u) -> list:
    """The transform of the flipped kernel with swapped channels, W'[c, o] = W[o, c, ::-1, ::-1], as 16 (C, O)
    views of U (16, O, C): U'[4a + b] = U[4 FLIPPED[a] + FLIPPED[b]]^T."""
    return [u[4 * FLIPPED[a] + FLIPPED[b]].T for a in range(4) for b in range(4)]


def kernel_gradient(grad_u, shared: bool = True, out=None):
    """The kernel gradient G^T dU G, (O, C, 3, 3), from dU (16, O, C): the transpose of kernel_transform, into
    `out` if given; shared out over our threads unless `shared` is False."""
    o, c = grad_u.shape[1:]
    grad_w = POOL.empty(np, (o, c, 3, 3), grad_u.dtype) if out is None else out
    product = shared_matmul if shared else np.matmul
    product(grad_u.reshape(16, o * c).T, KERNEL_TRANSFORM.astype(grad_u.dtype), out=grad_w.reshape(o * c, 9))
    return grad_w


def padded_shape(x_shape: tuple, out_hw: tuple) -> tuple:
    """The channels-last buffer (N, 2th + 2, 2tw + 2, C) that holds every tile's 4x4 window of x (N, C, H, W)."""
    th, tw = tiles(out_hw)
    return x_shape[0], 2 * th + 2, 2 * tw + 2, x_shape[1]


def convolve(x, weight, padding: tuple, out_hw: tuple, padded=None):
    """The (N, O, OH, OW) convolution of x (N, C, H, W), zero-padded by `padding`, with the 3x3 kernel weight
    (O, C, 3, 3). `padded`: a buffer of padded_shape to keep the padded input in (for the kernel gradient), or
    None.

    A chunk of images at a time, the chunks drawn by our threads, each with the whole transformed kernel U; or,
    with too few chunks to share out (small images with many channels, where the kernel is the larger
    operand), all images at once and U made and used a block of output channels at a time by each thread."""
    n, c = x.shape[:2]
    tile_hw, out_c, per_image = tiles(out_hw), weight.shape[0], math.prod(tiles(out_hw))
    chunks = _chunks(n, tile_hw, 16 * max(out_c, c) * x.dtype.itemsize)
    out = POOL.empty(np, (n, out_c) + tuple(out_hw), x.dtype)
    if _by_blocks(chunks):
        scratch = POOL.take(np, padded_shape(x.shape, out_hw), x.dtype) if padded is None else padded
        v, products = (POOL.take(np, (16, n * per_image, ch), x.dtype) for ch in (c, out_c))
        input_transform(pad_channels_last(x, padding, scratch), tile_hw, v)
        _products_by_blocks(v, weight, out_c, False, products)
        output_transform(products, tile_hw, out)
        for buffer in (v, products) if padded is not None else (v, products, scratch):
            POOL.give(buffer)
        return out
    u = kernel_transform(weight)

    def work(queue):
        step = chunks[0].stop - chunks[0].start
        scratch = POOL.take(np, (step,) + padded_shape(x.shape, out_hw)[1:], x.dtype) if padded is None else None
        transformed = POOL.take(np, (4, step * per_image, c), x.dtype)  # one row of positions
        products = POOL.take(np, (16, step * per_image, out_c), x.dtype)
        for chunk in queue:
            m = chunk.stop - chunk.start
            images = pad_channels_last(x[chunk], padding, scratch[:m] if padded is None else padded[chunk])
            v, out_tiles = transformed[:, :m * per_image], products[:, :m * per_image]
            for i in input_transform_rows(images, tile_hw, v):  # each row of positions multiplied while in the cache
                for k in range(4):
                    np.matmul(v[k], u[4 * i + k].T, out=out_tiles[4 * i + k])
            output_transform(out_tiles, tile_hw, out[chunk])
        for buffer in (transformed, products) if padded is not None else (transformed, products, scratch):
            POOL.give(buffer)

    run_products_on_slices(work, chunks)
    POOL.give(u)
    return out


def backward(x_padded, grad, weight, padding: tuple, x_hw: tuple, input_grad: bool = True) -> tuple:
    """(grad_x, grad_w) of the convolution of x, padded by `padding` into x_padded (see convolve), with weight
    (O, C, 3, 3), given the output gradient (N, O, OH, OW). Without input_grad, grad_x is None and not computed.

    grad_x is the convolution of the gradient, padded by 2 - p, with the flipped kernel of swapped channels;
    grad_w = G^T dU G, with dU = sum over tiles of (A dY A^T)^T V and V the forward's input tiles. Both read
    the chunk's gradient from one channels-last padded copy. Chunks as in convolve: by blocks of channels when
    too few to share out."""
    n, o, oh, ow = grad.shape
    c = x_padded.shape[3]
    grad_padding = tuple(2 - p for p in padding)
    tile_hw, x_tile_hw = tiles((oh, ow)), tiles(x_hw)
    chunks = _chunks(n, max(tile_hw, x_tile_hw, key=math.prod), 16 * max(o, c) * grad.dtype.itemsize)
    if n == 0:
        return (POOL.empty(np, (n, c) + tuple(x_hw), grad.dtype) if input_grad else None,
                np.zeros((o, c, 3, 3), dtype=grad.dtype))
    if _by_blocks(chunks):
        return _backward_by_blocks(x_padded, grad, weight, padding, x_hw, input_grad)
    u = kernel_transform(weight)
    flipped = flipped_kernels(u)
    grad_x = POOL.empty(np, (n, c) + tuple(x_hw), grad.dtype) if input_grad else None
    step = chunks[0].stop - chunks[0].start
    grad_u_parts = [None] * len(chunks)  # each chunk's share of dU

    def work(queue):
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
            dm = _output_grad_tiles(g, grad_padding, tile_hw, grad_products[:, :count])
            part = grad_u_parts[chunk.start // step] = POOL.take(np, (16, o, c), grad.dtype)
            v = transformed[:, :count]
            for i in input_transform_rows(x_padded[chunk], tile_hw, v):
                for k in range(4):
                    np.matmul(dm[4 * i + k].T, v[k], out=part[4 * i + k])
            if not input_grad:
                continue
            v_grad, x_tiles = grad_transformed[:4, :x_count], products[:, :x_count]  # dm is used up
            for i in input_transform_rows(g, x_tile_hw, v_grad):
                for k in range(4):
                    np.matmul(v_grad[k], flipped[4 * i + k].T, out=x_tiles[4 * i + k])
            output_transform(x_tiles, x_tile_hw, grad_x[chunk])
        for buffer in {id(b): b for b in (transformed, grad_products, grad_transformed, products)}.values():
            POOL.give(buffer)
        POOL.give(grad_images)

    run_products_on_slices(work, chunks)
    POOL.give(u)
    grad_u = sum_in_order(grad_u_parts)
    grad_w = kernel_gradient(grad_u)
    POOL.give(grad_u)
    return grad_x, grad_w


def _backward_by_blocks(x_padded, grad, weight, padding: tuple, x_hw: tuple, input_grad: bool) -> tuple:
    """backward for the whole batch as one chunk: the kernel gradient a block of output channels at a time
    (dU of the block, then its G^T dU G), the input gradient as the flipped convolution a block of input
    channels at a time."""
    n, o = grad.shape[:2]
    c, tile_hw = x_padded.shape[3], tiles(grad.shape[2:])
    count = n * math.prod(tile_hw)
    grad_padding = tuple(2 - p for p in padding)
    grad_images = POOL.take(np, padded_shape(grad.shape, x_hw), grad.dtype)
    g = pad_channels_last(grad, grad_padding, grad_images)
    dm = _output_grad_tiles(g, grad_padding, tile_hw, POOL.take(np, (16, count, o), grad.dtype))
    v = input_transform(x_padded, tile_hw, POOL.take(np, (16, count, c), grad.dtype))
    grad_w = POOL.empty(np, (o, c, 3, 3), grad.dtype)

    def work(queue):
        for block in queue:
            grad_u = POOL.take(np, (16, block.stop - block.start, c), grad.dtype)
            for k in range(16):
                np.matmul(dm[k][:, block].T, v[k], out=grad_u[k])
            kernel_gradient(grad_u, shared=False, out=grad_w[block])
            POOL.give(grad_u)

    run_products_on_slices(work, _channel_blocks(o), per_thread=1)
    grad_x, buffers = None, [dm, v, grad_images]
    if input_grad:  # the convolution of g with the flipped kernel of swapped channels, as in convolve
        x_tile_hw = tiles(x_hw)
        if x_tile_hw == tile_hw:  # dm and v are used up
            v_grad, x_tiles = dm, v
        else:
            v_grad, x_tiles = (POOL.take(np, (16, n * math.prod(x_tile_hw), ch), grad.dtype) for ch in (o, c))
            buffers += [v_grad, x_tiles]
        input_transform(g, x_tile_hw, v_grad)
        _products_by_blocks(v_grad, weight, c, True, x_tiles)
        grad_x = POOL.empty(np, (n, c) + tuple(x_hw), grad.dtype)
        output_transform(x_tiles, x_tile_hw, grad_x)
    for buffer in buffers:
        POOL.give(buffer)
    return grad_x, grad_w


def _products_by_blocks(v, weight, out_c: int, flip: bool, products) -> None:
    """products[k] = v[k] @ U[k]^T for the 16 positions k, with U the transformed kernel (of the flipped kernel
    with swapped channels if flip) made a block of output channels at a time by the thread that uses it."""
    def work(queue):
        for block in queue:
            u = kernel_transform(weight[:, block] if flip else weight[block], shared=False)
            kernels = flipped_kernels(u) if flip else u  # flipped: out channels are the weight's input channels
            for k in range(16):
                np.matmul(v[k], kernels[k].T, out=products[k][:, block])
            POOL.give(u)

    run_products_on_slices(work, _channel_blocks(out_c), per_thread=1)


def _channel_blocks(channels: int) -> list:
    """Slices of BLOCK_CHANNELS channels covering `channels`."""
    return [slice(start, min(start + BLOCK_CHANNELS, channels)) for start in range(0, channels, BLOCK_CHANNELS)]


def _by_blocks(chunks: list) -> bool:
    """Whether a pass runs by blocks of channels: too few chunks of images to share out over our threads (which
    then make every product, each on one BLAS thread)."""
    return len(chunks) > 0 and thread_groups(chunks) == 1 and get_num_threads() > 1 and blas_threads.available()


def _output_grad_tiles(g, grad_padding: tuple, tile_hw: tuple, out):
    """output_grad_transform of the output gradient inside g, its channels-last copy padded by grad_padding (zeros
    beyond an odd OH or OW), into out (16, m*th*tw, O)."""
    (top, left), (th, tw) = grad_padding, tile_hw
    return output_grad_transform(g[:, top:top + 2 * th, left:left + 2 * tw], out)


def input_transform(padded, tile_hw: tuple, out):
    """V = B^T d B for every tile's 4x4 window d of padded images (m, 2th + 2, 2tw + 2, C), into
    out (16, m*th*tw, C); returns out."""
    for _ in input_transform_rows(padded, tile_hw, out):
        pass
    return out


def input_transform_rows(padded, tile_hw: tuple, out) -> Iterator[int]:
    """input_transform one row i of the 4x4 positions at a time: for i = 0..3, writes positions 4i..4i + 3 into
    out (4 positions, (4, m*th*tw, C)) or into out[4i:4i + 4] (all 16), then yields i (the caller can use them
    while they are in the cache). Each row is transformed along the windows' rows first, then along their
    columns."""
    m, c = padded.shape[0], padded.shape[3]
    th, tw = tile_hw
    rows = [padded[:, i:i + 2 * th:2] for i in range(4)]  # (m, th, Wp, C): row i of every tile's window
    row = np.empty((m, th, padded.shape[2], c), dtype=padded.dtype)
    per_position = out.reshape(-1, 4, m, th, tw, c)
    for i in range(4):
        combine(B_T[i:i + 1], rows, [row])
        combine(B_T, [row[:, :, j:j + 2 * tw:2] for j in range(4)], per_position[i % len(per_position)])
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
