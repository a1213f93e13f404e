"""DataLoader: seeded shuffling, one gather per batch, device transfer, batch transforms and prefetching."""
from __future__ import annotations

import threading
from queue import Queue
from typing import Any, Callable, Iterator

import numpy as np

from .. import random as _random
from ..backend import Device, device_of, on_device, to_device
from ..tensor import Tensor
from .dataset import Dataset, gather


class DataLoader:
    """Batches of (Tensor x, Tensor y) on `device`: x float32, y int64 labels (or float targets as stored).

    Each epoch's order comes from a generator seeded by (seed, epoch), where seed defaults to a draw from
    the framework RNG at construction, so `manual_seed` fixes it and a resumed run can replay any epoch.
    The `transform` runs on whole batches after the transfer, on that device's array module (augmentation
    runs on the GPU when training there). With prefetch, a background thread gathers the next batch while
    the current one trains; the transform of batch b of epoch e draws from derived_streams(seed, e, b) (see
    tinygrad_ift.random), so results are identical either way, and on a resume. With `num_classes`, integer
    labels are checked to lie in [0, num_classes) on the host, before they move.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 transform: Callable[[Any], Any] | None = None, device: "str | Device" = "cpu",
                 seed: int | None = None, prefetch: bool = True, num_classes: int | None = None):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.transform, self.device, self.prefetch = transform, Device(device), prefetch
        self.num_classes = num_classes
        self.seed = int(_random.generator("cpu").integers(2 ** 31)) if seed is None else seed
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of an epoch (a pure function of seed and epoch)."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def _batches(self, order: np.ndarray) -> Iterator[tuple[Any, Any]]:
        for b in range(len(self)):
            x, y = gather(self.dataset, order[b * self.batch_size:(b + 1) * self.batch_size])
            x, y = (a if device_of(a).is_cuda else np.asarray(a) for a in (x, y))  # arrays already on a GPU stay
            self._check_labels(y, b)
            yield x, y

    def _check_labels(self, y, batch: int) -> None:
        """Integer labels in [0, num_classes), checked on the host before they move (on a GPU an out-of-range
        label would index silently; see nn.functional.cross_entropy)."""
        if self.num_classes is None or not isinstance(y, np.ndarray) or y.dtype.kind not in "iu" or not y.size:
            return
        low, high = y.min(), y.max()
        if low < 0 or high >= self.num_classes:
            raise ValueError(f"DataLoader: labels must be in [0, {self.num_classes}), got values in [{low}, {high}] "
                             f"in batch {batch}")

    def _prefetched(self, order: np.ndarray) -> Iterator[tuple[Any, Any]]:
        queue: Queue = Queue(maxsize=2)
        stop = threading.Event()

        def produce():
            try:
                for item in self._batches(order):
                    if stop.is_set():
                        return
                    queue.put(item)
                queue.put(None)
            except BaseException as err:  # hand the error to the consumer
                queue.put(err)

        worker = threading.Thread(target=produce, daemon=True)
        worker.start()
        try:
            while (item := queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while not queue.empty():
                queue.get_nowait()

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self.order(self.epoch)
        self.epoch += 1
        batches = self._prefetched(order) if self.prefetch else self._batches(order)
        for batch, (x, y) in enumerate(batches):
            x, y = to_device(x, self.device), to_device(y, self.device)
            with on_device(self.device), _random.derived_streams(self.seed, self.epoch - 1, batch):
                if self.transform is not None:
                    x = self.transform(x)
                x = x.astype(np.float32, copy=False)
                if y.dtype.kind in "iub":
                    y = y.astype(np.int64, copy=False)
            yield Tensor._wrap(x, self.device), Tensor._wrap(y, self.device)
