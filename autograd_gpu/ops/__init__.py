"""Differentiable ops, one file per family, forward and backward side by side."""
