"""The matrix product, with NumPy's broadcasting rules."""
from __future__ import annotations

from ..backend import get_array_module
from ..autograd import Function, unbroadcast


class MatMul(Function):
    """a @ b with NumPy's rules: 1-D operands are promoted to matrices, batch dims broadcast.

    d/da = g @ b^T,  d/db = a^T @ g, summed over the batch dims each operand was broadcast along.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        k_a, k_b = a.shape[-1], (b.shape[0] if b.ndim == 1 else b.shape[-2])
        if k_a != k_b:
            raise ValueError(f"shapes {a.shape} and {b.shape} cannot be multiplied "
                             f"({k_a} columns in the first, {k_b} rows in the second)")
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a = a[None, :] if a.ndim == 1 else a
        self.b = b[:, None] if b.ndim == 1 else b
        out = self.a @ self.b
        self.out_shape = out.shape
        if a.ndim == 1 or b.ndim == 1:  # drop the promoted axes again
            out = out.reshape(out.shape[:-2] + out.shape[-2:-1] * (a.ndim > 1) + out.shape[-1:] * (b.ndim > 1))
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        grad = xp.ascontiguousarray(grad.reshape(self.out_shape))  # BLAS needs real strides, not a broadcast view
        grad_a = None
        if self.needs_input_grad[0]:  # not for a network's images
            grad_a = (grad @ xp.swapaxes(self.b, -1, -2)).reshape(grad.shape[:-2] + self.a.shape[-2:])
            grad_a = unbroadcast(grad_a, self.a.shape).reshape(self.a_shape)
        if not self.needs_input_grad[1]:
            return grad_a, None
        if self.b.ndim == 2:  # a matrix, often a weight: one product summing over every row of the batch
            a2, g2 = self.a.reshape(-1, self.a.shape[-1]), grad.reshape(-1, grad.shape[-1])
            if self.b.T.flags.c_contiguous and not self.b.flags.c_contiguous:  # b is W.T, a view of a weight W:
                grad_b = (g2.T @ a2).T  # dW = g^T a made in W's layout, so that W.grad needs no copy
            else:
                grad_b = a2.T @ g2
        else:
            grad_b = (xp.swapaxes(self.a, -1, -2) @ grad).reshape(grad.shape[:-2] + self.b.shape[-2:])
            grad_b = unbroadcast(grad_b, self.b.shape)
        grad_b = grad_b.reshape(self.b_shape)
        return grad_a, grad_b


class Einsum(Function):
    """Einstein summation over explicit subscripts ("ij,jk->ik"; no letter twice in one operand).

    The gradient of operand k is the same kind of sum: the output's gradient contracted with every other
    operand, to k's subscripts; a letter that only k has (summed away inside k alone) comes back by broadcasting.
    """

    def forward(self, *operands, inputs, output):
        xp = get_array_module(operands[0])
        self.operands, self.input_subs, self.output_subs = operands, inputs, output
        return xp.einsum(f"{','.join(inputs)}->{output}", *operands)

    def backward(self, grad):
        xp = get_array_module(grad)
        grads = []
        for k, (subs, operand) in enumerate(zip(self.input_subs, self.operands)):
            others = [(s, o) for j, (s, o) in enumerate(zip(self.input_subs, self.operands)) if j != k]
            available = set(self.output_subs).union(*(s for s, _ in others))
            reachable = "".join(c for c in subs if c in available)
            spec = ",".join([self.output_subs] + [s for s, _ in others]) + "->" + reachable
            g = xp.einsum(spec, grad, *(o for _, o in others))
            sizes = iter(g.shape)  # a broadcast size-1 dim keeps the larger size: the engine sums it back
            shape = [next(sizes) if c in available else 1 for c in subs]
            grads.append(xp.broadcast_to(g.reshape(shape), [n if c in available else operand.shape[i]
                                                           for i, (c, n) in enumerate(zip(subs, shape))]))
        return tuple(grads)
