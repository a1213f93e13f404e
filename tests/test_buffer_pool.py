"""The scratch-array pool: reuse by shape and dtype, a byte limit, and no aliasing between live convolutions."""
import numpy as np
import pytest

import tinygrad_ift as tg
from tinygrad_ift import nn
from tinygrad_ift.fast.buffer_pool import BufferPool


def test_take_reuses_given_arrays_of_the_same_shape_and_dtype():
    pool = BufferPool(max_bytes=10 ** 6)
    a = pool.take(np, (10, 10), np.float32)
    pool.give(a)
    assert pool.take(np, (10, 10), np.float64) is not a
    assert pool.take(np, (10, 10), np.float32) is a
    assert pool.take(np, (10, 10), np.float32) is not a  # taken already
    pool.give(a[:5])  # views are refused: their memory belongs to another array
    assert pool.take(np, (5, 10), np.float32) is not a


def test_byte_limit_drops_the_oldest():
    pool = BufferPool(max_bytes=1000)
    first, second = np.empty(100, np.float64), np.empty(100, np.float64)  # 800 bytes each
    pool.give(first)
    pool.give(second)
    assert pool.take(np, (100,), np.float64) is second
    assert pool.take(np, (100,), np.float64) is not first


def test_pooled_columns_never_alias_live_ones():
    """Several same-shape convolutions alive in one graph, before and after earlier graphs were freed."""
    tg.manual_seed(0)
    convs = [nn.Conv2d(3, 3, 3, padding=1) for _ in range(3)]
    x = tg.randn(2, 3, 6, 6, requires_grad=True)

    def grads():
        x.grad = None
        for c in convs:
            c.zero_grad()
        h = x
        for c in convs:
            h = c(h).tanh()
        h.sum().backward()
        return [x.grad.numpy().copy()] + [c.weight.grad.numpy().copy() for c in convs]
    first = grads()
    with tg.no_grad():
        convs[0](x)  # its columns go straight back to the pool
    for a, b in zip(first, grads()):
        np.testing.assert_array_equal(a, b)


def test_empty_memory_comes_back_only_when_the_array_and_all_its_views_are_gone():
    pool = BufferPool(max_bytes=64 * 2 ** 20)
    shape = (512, 1024)  # 2 MB of float32: large enough to be recycled
    first = pool.empty(np, shape, np.float32)
    address = first.ctypes.data
    view = first[10:].T
    del first
    second = pool.empty(np, shape, np.float32)  # the view still reads the first block
    assert second.ctypes.data != address
    del view
    third = pool.empty(np, shape, np.float32)
    assert third.ctypes.data == address
    third[:] = 1.0
    assert second.shape == third.shape == shape and third.flags.writeable and third.flags.c_contiguous


def test_small_arrays_are_not_recycled():
    pool = BufferPool()
    small = pool.empty(np, (4, 4), np.float64)
    assert small.base is None and small.shape == (4, 4) and small.dtype == np.float64


@pytest.mark.parametrize("channels", [16, 128])  # the shifted products; Winograd
def test_a_convolution_returns_its_saved_buffer_to_the_pool_after_backward(channels):
    """The padded input that a CPU convolution keeps for backward is reused by the next step (a fresh large array
    costs a page fault per page), not left to the garbage collector."""
    from tinygrad_ift.fast.buffer_pool import POOL
    x = tg.randn(2, channels, 8, 8, requires_grad=True)
    out = tg.nn.functional.conv2d(x, tg.randn(16, channels, 3, 3, requires_grad=True), padding=1)
    saved = out._ctx.x_padded
    out.sum().backward()
    assert out._ctx.released and "x_padded" not in out._ctx.__dict__
    assert any(saved is pooled for pooled in POOL._free.values())
