"""Slice-by-slice passes, on one thread or several: the same numbers as one whole-array op, in slice order."""
import threading
import time

import numpy as np
import pytest

import tinygrad_ift as tg
from tinygrad_ift.fast import blas_threads
from tinygrad_ift.fast.slices import batch_slices, map_slices, run_on_slices, run_products_on_slices


@pytest.mark.parametrize("shape", [(0, 3), (1, 5), (7, 3, 5), (256, 64, 8, 8)])
def test_batch_slices_cover_dim_0_once_in_order(shape):
    slices = batch_slices(np.empty(shape, np.float32))
    covered = [i for s in slices for i in range(s.start, s.stop)]
    assert covered == list(range(shape[0]))
    assert all(s.stop > s.start for s in slices) or shape[0] == 0


@pytest.mark.parametrize("threads", [3], indirect=True)
def test_run_on_slices_returns_results_in_slice_order(threads):
    slices = [slice(i, i + 1) for i in range(40)]
    results = run_on_slices(lambda group: [s.start for s in group], slices)
    assert len(results) == 3
    assert [i for part in results for i in part] == list(range(40))


@pytest.mark.skipif(not blas_threads.available(), reason="without a settable BLAS thread count one thread takes all")
@pytest.mark.parametrize("threads", [3], indirect=True)
def test_products_passes_hand_each_slice_to_one_thread_once_and_a_slowed_thread_takes_fewer(threads):
    """The threads draw the slices from one queue: each slice is taken once, by whichever thread asks first, so a
    thread held up (here the one that draws the first slice) takes fewer than its third."""
    taken, lock = [], threading.Lock()

    def work(queue):
        for s in queue:
            with lock:
                taken.append((s.start, threading.get_ident()))
            time.sleep(0.1 if s.start == 0 else 0.002)  # as a product would, lets the other threads draw meanwhile

    run_products_on_slices(work, [slice(i, i + 1) for i in range(40)])
    assert sorted(start for start, _ in taken) == list(range(40))
    slowed = dict(taken)[0]
    assert sum(thread == slowed for _, thread in taken) < 40 // 3


@pytest.mark.parametrize("threads", [1], indirect=True)
def test_one_thread_runs_all_slices_as_one_group(threads):
    assert run_on_slices(lambda group: len(group), [slice(i, i + 1) for i in range(40)]) == [40]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_num_threads_rejects_anything_but_a_positive_int(bad):
    before = tg.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        tg.set_num_threads(bad)
    assert tg.get_num_threads() == before


@pytest.mark.parametrize("shape", [(3, 4), (64, 128, 16, 16), (33, 100, 7)])
def test_map_slices_equals_the_whole_array_op(shape, threads):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(map_slices(lambda a, out=None: np.maximum(a, 0, out=out), a), np.maximum(a, 0))
    product = map_slices(lambda a, b, out=None: np.multiply(a, b > 0, out=out), a, b)
    np.testing.assert_array_equal(product, a * (b > 0))
    assert product.dtype == np.float32 and product.shape == shape


def test_relu_on_a_large_batch_matches_the_formula(threads):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((64, 128, 16, 16)).astype(np.float32)  # 8 MB: split into slices
    g_np = rng.standard_normal(x_np.shape).astype(np.float32)
    x = tg.Tensor(x_np, requires_grad=True)
    y = x.relu()
    y.backward(tg.Tensor(g_np))
    np.testing.assert_array_equal(y.numpy(), np.maximum(x_np, 0))
    np.testing.assert_array_equal(x.grad.numpy(), g_np * (x_np > 0))
