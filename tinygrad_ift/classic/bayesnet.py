"""A discrete Bayesian network over a NumPy joint table (one axis per variable), with interventions.

P(query | evidence) sums the joint over the other variables and normalises; P(query | do(X = x)) first
cuts X's incoming edges, replacing X's conditional table by a point mass at x, and rebuilds the joint.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


class BayesNet:
    """Variables with finite domains; `add(name, parents, table)` with table shape (*parent sizes, size)."""

    def __init__(self):
        self.names: list[str] = []
        self.sizes: dict[str, int] = {}
        self.parents: dict[str, tuple[str, ...]] = {}
        self.tables: dict[str, np.ndarray] = {}

    def add(self, name: str, parents: Sequence[str], table: Sequence) -> "BayesNet":
        """P(name | parents): a table whose last axis is `name` and whose rows sum to 1."""
        table = np.asarray(table, dtype=np.float64)
        parents = tuple(parents)
        missing = [p for p in parents if p not in self.sizes]
        if missing:
            raise ValueError(f"BayesNet.add({name!r}): parents {missing} must be added first")
        expected = tuple(self.sizes[p] for p in parents)
        if table.shape[:-1] != expected:
            raise ValueError(f"BayesNet.add({name!r}): table of shape {table.shape} should start with the parents' "
                             f"sizes {expected}")
        if not np.allclose(table.sum(axis=-1), 1.0):
            raise ValueError(f"BayesNet.add({name!r}): each conditional distribution must sum to 1, got sums "
                             f"{table.sum(axis=-1).ravel().tolist()}")
        self.names.append(name)
        self.sizes[name] = table.shape[-1]
        self.parents[name] = parents
        self.tables[name] = table
        return self

    def joint(self, tables: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The joint table, axes in the order variables were added: the product of every P(v | parents)."""
        tables = self.tables if tables is None else tables
        joint = np.ones([self.sizes[n] for n in self.names])
        for name in self.names:
            axes = [self.names.index(v) for v in self.parents[name] + (name,)]
            shape = [1] * len(self.names)
            for axis, size in zip(axes, tables[name].shape):
                shape[axis] = size
            order = np.argsort(axes)  # put the table's axes in the joint's order before reshaping
            joint = joint * np.transpose(tables[name], order).reshape(shape)
        return joint

    def _check(self, assignment: Mapping[str, int]) -> None:
        for name, value in assignment.items():
            if name not in self.sizes:
                raise KeyError(f"BayesNet: unknown variable {name!r}; variables are {self.names}")
            if not 0 <= value < self.sizes[name]:
                raise ValueError(f"BayesNet: {name}={value} is outside 0..{self.sizes[name] - 1}")

    def query(self, query: str | Sequence[str], evidence: Mapping[str, int] | None = None,
              do: Mapping[str, int] | None = None) -> np.ndarray:
        """P(query | evidence) or, with `do`, P(query | do(...), evidence), as a table over the query variables."""
        evidence, do = dict(evidence or {}), dict(do or {})
        query = [query] if isinstance(query, str) else list(query)
        self._check({**evidence, **do, **{q: 0 for q in query}})
        tables = dict(self.tables)
        for name, value in do.items():  # cut incoming edges: a point mass that ignores the parents
            point = np.zeros(self.sizes[name])
            point[value] = 1.0
            tables[name] = np.broadcast_to(point, self.tables[name].shape)
        joint = self.joint(tables)
        index = tuple(evidence.get(n, slice(None)) for n in self.names)
        kept = [n for n in self.names if n not in evidence]
        conditioned = joint[index]
        other = tuple(i for i, n in enumerate(kept) if n not in query)
        marginal = conditioned.sum(axis=other)
        total = marginal.sum()
        if total == 0:
            raise ValueError(f"BayesNet: the evidence {evidence} has probability 0")
        remaining = [n for n in kept if n in query]
        return np.transpose(marginal / total, [remaining.index(q) for q in query])


def student_network() -> BayesNet:
    """The course's network: Study S, Difficulties D, inteRview R, Grade G (three values), honour List L."""
    net = BayesNet()
    net.add("S", [], [0.2, 0.8])
    net.add("D", [], [0.9, 0.1])
    net.add("R", ["S"], [[0.9, 0.1], [0.2, 0.8]])
    net.add("G", ["S", "D"], [[[0.5, 0.3, 0.2], [0.9, 0.08, 0.02]], [[0.1, 0.2, 0.7], [0.3, 0.4, 0.3]]])
    net.add("L", ["G"], [[0.9, 0.1], [0.6, 0.4], [0.01, 0.99]])
    return net
