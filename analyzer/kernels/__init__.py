"""Numba kernels over flat event arrays, and the structures they return."""
