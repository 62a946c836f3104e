"""Pruning of a trained model: unstructured masks (element, block, N:M) and physical channel removal.

`masks` builds and applies weight masks that fine-tuning cannot undo; `channels` removes whole channels
and returns a smaller model of the same family with its updated spec; `sweep` measures every
(method, granularity, norm, sparsity) point with and without fine-tuning; `figures` draws the curves.
"""
