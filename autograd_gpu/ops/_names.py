"""PyTorch's grad_fn name for a result that a composite op built from several nodes.

Printed tensors show ``grad_fn=<...>``, so a composite (clamp with tensor bounds as two
wheres, quantile, einsum) names its last node as PyTorch names the node it ends with. The
node keeps its own backward; only the name changes.
"""


def named(result, name):
    """`result` (a Tensor made by the calling op, never one of its inputs) with its grad_fn
    named `name`; a raw array (backward code calls ops on those) or a result without history
    is returned as it is."""
    fn = getattr(result, "_grad_fn", None)
    if fn is not None:
        fn.name = name
    return result
