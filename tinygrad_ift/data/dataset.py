"""Datasets: anything with __len__ and __getitem__; arrays in memory; seeded non-overlapping splits."""
from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np


class Dataset(Protocol):
    """A dataset returns (x, y) for an integer index. One that sets `batched = True` also takes an array of
    indices and returns the whole batch at once (see `gather`)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: Any) -> tuple[Any, Any]: ...


class ArrayDataset:
    """Inputs and targets held as arrays; indexing with an index array returns a whole batch at once."""

    batched = True

    def __init__(self, x: Any, y: Any):
        if len(x) != len(y):
            raise ValueError(f"ArrayDataset: {len(x)} inputs but {len(y)} targets (shapes {np.shape(x)}, "
                             f"{np.shape(y)})")
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        return self.x[index], self.y[index]


class Subset:
    """The items of `dataset` at `indices`, in that order; takes index arrays whatever `dataset` takes."""

    batched = True

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        picked = self.indices[index]
        return self.dataset[int(picked)] if picked.ndim == 0 else gather(self.dataset, picked)


def gather(dataset: Dataset, indices: np.ndarray) -> tuple[Any, Any]:
    """The items at `indices` as one batch (x, y): a single fancy index when the dataset is `batched`,
    else item by item, stacked."""
    if getattr(dataset, "batched", False):
        return dataset[indices]
    items = [dataset[int(i)] for i in indices]
    return np.stack([x for x, _ in items]), np.stack([y for _, y in items])


def random_split(dataset: Dataset, lengths: Sequence[int], seed: int = 0) -> list[Subset]:
    """Disjoint random subsets of the given lengths (which must add up to len(dataset)), fixed by `seed`."""
    if sum(lengths) != len(dataset):
        raise ValueError(f"random_split: lengths {list(lengths)} add up to {sum(lengths)}, "
                         f"but the dataset has {len(dataset)} items")
    order = np.random.default_rng(seed).permutation(len(dataset))
    bounds = np.cumsum([0, *lengths])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
